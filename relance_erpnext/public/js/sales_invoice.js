// Copyright (c) 2026, relance_erpnext contributors
// For license information, please see license.txt

// Sales Invoice: the "Relance" buttons and the follow-up history (uses relance_forms.js).

frappe.ui.form.on("Sales Invoice", {
	setup(frm) {
		// ERPNext's own Dunning (Create › Dunning) beside the app's Relance misleads: its button is
		// added by ERPNext's controller after this script's refresh, so it is left out where it is made
		if (!frappe.boot.relance?.hide_erpnext_dunning) return;
		const add_custom_button = frm.add_custom_button.bind(frm);
		frm.add_custom_button = (label, click, group) =>
			label === __("Dunning") && group === __("Create")
				? null
				: add_custom_button(label, click, group);
	},
	refresh(frm) {
		if (frm.doc.docstatus !== 1 || frm.doc.is_return) return;
		const forms = relance_erpnext.forms;
		if (flt(frm.doc.outstanding_amount) > 0) {
			const invoice = {
				name: frm.doc.name,
				due_date: frm.doc.due_date,
				outstanding_amount: frm.doc.outstanding_amount,
				currency: frm.doc.currency,
			};
			forms.add_buttons(
				frm,
				() => Promise.resolve([invoice]),
				() => frm.doc.company
			);
		}
		frm.add_custom_button(
			__("Penalty Claim"),
			() => forms.open_print(frm, "Réclamation des pénalités"),
			forms.group()
		);
		if (flt(frm.doc.outstanding_amount) <= 0 && !frm.doc.relance_penalty_for) {
			frm.add_custom_button(
				__("Bill Late-payment Penalties"),
				() =>
					frappe
						.call({
							method: "relance_erpnext.services.penalties.make_penalty_invoice",
							args: { sales_invoice: frm.doc.name },
							freeze: true,
						})
						.then((r) => frappe.set_route("Form", "Sales Invoice", r.message)),
				forms.group()
			);
		}
		forms.show_follow_up(frm, "relance_erpnext.services.desk.invoice_follow_up");
	},
});
