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
		postal_buttons(frm);
		if (frm.doc.channel === "phone" && frm.doc.status === "Planned") {
			frm.add_custom_button(__("Record the Answer"), () =>
				frappe.require("/assets/relance_erpnext/js/relance_forms.js", () =>
					relance_erpnext.forms.record_answer({
						customer: frm.doc.customer,
						company: frm.doc.company,
						invoices: frm.doc.invoices.map((row) => row.sales_invoice),
						log: frm.doc.name,
						after: () => frm.reload_doc(),
					})
				)
			).addClass("btn-primary");
		}
	},
});

// A letter printed by a run is posted by a person: its step counts from that day; a registered
// letter then comes back as delivered or returned (the avis de réception)
function postal_buttons(frm) {
	const method = "relance_erpnext.relance.doctype.follow_up_log.follow_up_log.";
	if (frm.doc.status === "To Post") {
		frm.add_custom_button(__("Mark as Posted"), () =>
			frappe.require("/assets/relance_erpnext/js/relance_forms.js", () =>
				relance_erpnext.forms.mark_posted([frm.doc]).then(() => frm.reload_doc())
			)
		);
	}
	if (frm.doc.status === "Posted" && frm.doc.channel === "registered_letter") {
		const record = (returned) =>
			frappe.prompt(
				[
					{
						fieldname: "delivered_on",
						fieldtype: "Date",
						label: returned ? __("Returned On") : __("Delivered On"),
						default: frappe.datetime.get_today(),
						reqd: 1,
					},
					{ fieldname: "acknowledgement", fieldtype: "Attach", label: __("Avis de réception (Scan)") },
				],
				(values) =>
					frappe
						.call({
							method: method + "mark_delivered",
							args: { name: frm.doc.name, returned: returned ? 1 : 0, ...values },
						})
						.then(() => frm.reload_doc()),
				returned ? __("Letter Returned") : __("Letter Delivered")
			);
		frm.add_custom_button(__("Delivered"), () => record(false), __("Avis de réception"));
		frm.add_custom_button(__("Returned"), () => record(true), __("Avis de réception"));
	}
}
