// Copyright (c) 2026, relance_erpnext contributors
// For license information, please see license.txt

frappe.listview_settings["Follow-up Log"] = {
	add_fields: ["status", "channel", "grand_total", "currency", "customer_name", "registered_letter_number"],

	get_indicator(doc) {
		const colors = {
			Planned: "orange",
			"To Post": "orange",
			Posted: "blue",
			Sent: "green",
			Delivered: "green",
			Returned: "red",
			Done: "blue",
			Failed: "red",
			Cancelled: "gray",
			Unknown: "yellow",
		};
		return [__(doc.status), colors[doc.status] || "gray", "status,=," + doc.status];
	},

	onload(listview) {
		// The day's printed letters, posted: each registered letter with its number
		listview.page.add_actions_menu_item(__("Mark as Posted"), () => {
			const to_post = listview.get_checked_items().filter((doc) => doc.status === "To Post");
			if (!to_post.length) {
				frappe.msgprint(__("Select letters whose status is To Post."));
				return;
			}
			frappe.require("/assets/relance_erpnext/js/relance_forms.js", () =>
				relance_erpnext.forms.mark_posted(to_post).then(() => {
					listview.clear_checked_items();
					listview.refresh();
				})
			);
		});
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
