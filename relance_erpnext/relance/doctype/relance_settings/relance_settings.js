// Copyright (c) 2026, relance_erpnext contributors
// For license information, please see license.txt

frappe.ui.form.on("Relance Settings", {
	refresh(frm) {
		if (frm.doc.rates_missing) {
			// Seen by anyone opening the settings: the reminders go out, their interest provisional
			frm.dashboard.set_headline_alert(
				`<div class="text-danger">${frappe.utils.escape_html(frm.doc.rates_missing)} — ${__(
					"reminders go out with provisional interest until the rates are added below"
				)}</div>`
			);
		}
		// How far each table goes, above the table
		frappe.call("relance_erpnext.services.rates.coverage").then(({ message: tables }) => {
			if (!tables || !tables.length) return;
			const lines = tables.map((t) =>
				t.open_ended
					? __("{0}: known, open-ended", [t.label])
					: __("{0}: known until {1}", [t.label, frappe.datetime.str_to_user(t.until)])
			);
			frm.set_df_property(
				"reference_rates",
				"description",
				lines.map((line) => frappe.utils.escape_html(line)).join("<br>")
			);
		});
		frm.add_custom_button(__("Update the Rates Now"), () =>
			frappe
				.call("relance_erpnext.services.rates.update_now")
				.then((r) => {
					frappe.show_alert({ message: r.message.log || __("Rates checked"), indicator: "blue" });
					frm.reload_doc();
				})
		);
	},
});
