// Copyright (c) 2026, relance_erpnext contributors
// For license information, please see license.txt

// Customer: the "Relance" buttons and the follow-up history (uses relance_forms.js).

frappe.ui.form.on("Customer", {
	refresh(frm) {
		if (frm.is_new()) return;
		const forms = relance_erpnext.forms;
		const open_invoices = () =>
			frappe.db.get_list("Sales Invoice", {
				filters: { customer: frm.doc.name, docstatus: 1, outstanding_amount: [">", 0] },
				fields: ["name", "company", "due_date", "outstanding_amount", "currency"],
				order_by: "due_date asc",
				limit: 100,
			});
		forms.add_buttons(frm, open_invoices, (invoices) =>
			invoices.length ? invoices[0].company : frappe.defaults.get_user_default("Company")
		);
		frm.add_custom_button(
			__("Statement of Overdue Invoices"),
			() => forms.open_print(frm, "Relevé des factures échues"),
			forms.group()
		);
		forms.show_follow_up(frm, "relance_erpnext.services.desk.customer_follow_up");
	},
});
