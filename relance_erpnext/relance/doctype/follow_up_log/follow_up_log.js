// Copyright (c) 2026, relance_erpnext contributors
// For license information, please see license.txt

frappe.ui.form.on("Follow-up Log", {
	refresh(frm) {
		if (frm.is_new() || frm.doc.status !== "Planned") return;
		frm.add_custom_button(__("Send Now"), () => {
			frappe.confirm(__("Send this follow-up now?"), () => {
				frappe
					.call({
						method: "relance_erpnext.relance.doctype.follow_up_log.follow_up_log.send_now",
						args: { names: [frm.doc.name] },
						freeze: true,
						freeze_message: __("Sending…"),
					})
					.then(() => frm.reload_doc());
			});
		});
	},
});
