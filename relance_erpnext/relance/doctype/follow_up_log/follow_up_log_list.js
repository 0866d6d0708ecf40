// Copyright (c) 2026, relance_erpnext contributors
// For license information, please see license.txt

frappe.listview_settings["Follow-up Log"] = {
	add_fields: ["status", "channel", "grand_total", "currency"],

	get_indicator(doc) {
		const colors = {
			Planned: "orange",
			Sent: "green",
			Done: "blue",
			Failed: "red",
			Cancelled: "gray",
			Unknown: "yellow",
		};
		return [__(doc.status), colors[doc.status] || "gray", "status,=," + doc.status];
	},

	onload(listview) {
		// Review before sending: send the Planned logs that are ticked
		listview.page.add_actions_menu_item(__("Send"), () => {
			const planned = listview
				.get_checked_items()
				.filter((doc) => doc.status === "Planned")
				.map((doc) => doc.name);
			if (!planned.length) {
				frappe.msgprint(__("Select follow-ups whose status is Planned."));
				return;
			}
			frappe.confirm(__("Send {0} planned follow-up(s) now?", [planned.length]), () => {
				frappe
					.call({
						method: "relance_erpnext.relance.doctype.follow_up_log.follow_up_log.send_now",
						args: { names: planned },
						freeze: true,
						freeze_message: __("Sending…"),
					})
					.then((r) => {
						frappe.show_alert({
							message: __("{0} follow-up(s) sent", [r.message || 0]),
							indicator: "green",
						});
						listview.clear_checked_items();
						listview.refresh();
					});
			});
		});
	},
};
