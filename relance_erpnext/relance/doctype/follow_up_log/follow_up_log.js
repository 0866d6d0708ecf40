// Copyright (c) 2026, relance_erpnext contributors
// For license information, please see license.txt

// Channels whose letter this app sends or prints; a call or an escalation is done by a person
const WRITTEN_CHANNELS = ["email", "letter", "registered_letter"];

frappe.ui.form.on("Follow-up Log", {
	refresh(frm) {
		if (frm.is_new()) return;
		if (frm.doc.status === "Planned" && WRITTEN_CHANNELS.includes(frm.doc.channel)) {
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
		}
		if (frm.doc.channel === "email" && frm.doc.status !== "Planned") {
			show_email_status(frm);
		}
	},
});

// "Sent" on the log means handed to Frappe's email queue: say whether the queue has sent it yet
function show_email_status(frm) {
	frappe
		.call({
			method: "relance_erpnext.relance.doctype.follow_up_log.follow_up_log.email_status",
			args: { name: frm.doc.name },
		})
		.then(({ message: queue }) => {
			if (!queue) return;
			const when = frappe.datetime.str_to_user(queue.when);
			const text = {
				queued: [__("Email queued, not sent yet"), "orange"],
				sent: [__("Email sent on {0}", [when]), "green"],
				failed: [__("Email not sent: {0}", [queue.error || queue.status]), "red"],
			}[queue.state];
			frm.dashboard.set_headline_alert(
				`<div class="indicator ${text[1]}">${frappe.utils.escape_html(text[0])}</div>`
			);
		});
}
