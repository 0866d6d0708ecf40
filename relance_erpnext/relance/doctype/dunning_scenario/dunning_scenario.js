// Copyright (c) 2026, relance_erpnext contributors
// For license information, please see license.txt

frappe.ui.form.on("Dunning Scenario", {
	refresh(frm) {
		if (frm.is_new()) return;
		frm.add_custom_button(__("Preview"), () => preview(frm));
	},
});

// What this scenario would send on a day, for one company, and why its other invoices wait
function preview(frm) {
	const dialog = new frappe.ui.Dialog({
		title: __("Preview of {0}", [frm.doc.scenario_name || frm.doc.name]),
		size: "extra-large",
		fields: [
			{
				fieldname: "company",
				label: __("Company"),
				fieldtype: "Link",
				options: "Company",
				reqd: 1,
				default: frappe.defaults.get_user_default("Company"),
			},
			{ fieldname: "col", fieldtype: "Column Break" },
			{
				fieldname: "as_of",
				label: __("Date"),
				fieldtype: "Date",
				reqd: 1,
				default: frappe.datetime.get_today(),
			},
			{ fieldname: "sec", fieldtype: "Section Break" },
			{ fieldname: "result", fieldtype: "HTML" },
		],
		primary_action_label: __("Preview"),
		primary_action(values) {
			frappe
				.call({
					method: "relance_erpnext.relance.doctype.dunning_scenario.dunning_scenario.preview",
					args: { company: values.company, as_of: values.as_of, scenario: frm.doc.name },
					freeze: true,
				})
				.then((r) => dialog.fields_dict.result.$wrapper.html(r.message.summary));
		},
	});
	dialog.show();
}
