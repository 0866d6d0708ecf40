// Copyright (c) 2026, relance_erpnext contributors
// For license information, please see license.txt

frappe.ui.form.on("Relance Run", {
	refresh(frm) {
		// A finished run is a record: starting another is done from a new run or today's preview
		const today_preview = frm.doc.dry_run && frm.doc.run_date === frappe.datetime.get_today();
		if (frm.is_new() || today_preview) {
			frm.add_custom_button(__("Preview"), () => start(frm, 1));
			frm.add_custom_button(__("Run Now"), () =>
				frappe.confirm(
					__(
						"Record today's follow-ups for {0}? With review before sending, they wait as Planned.",
						[frm.doc.company]
					),
					() => start(frm, 0)
				)
			);
		}
		if (frm.doc.letters_pdf) {
			frm.add_custom_button(__("Print Letters"), () => window.open(frm.doc.letters_pdf));
		}
		// The summary is made on load from the stored plan, in the reader's language
		const summary = frm.doc.__onload && frm.doc.__onload.summary_html;
		if (summary) {
			frm.dashboard.add_section(summary, __("Summary"));
		}
		if (!frm.is_new() && ["Queued", "Running"].includes(frm.doc.status)) {
			frm.dashboard.set_headline(
				__("This run is waiting for a background worker. Reload to see its result.")
			);
		}
	},
});

// Queue a run (dry run: preview) on the form's company and date; show the run it creates
function start(frm, dry_run) {
	if (!frm.doc.company) {
		frappe.msgprint(__("Please select a company"));
		return;
	}
	frappe
		.call({
			method: "relance_erpnext.relance.doctype.relance_run.relance_run.start",
			args: {
				company: frm.doc.company,
				as_of: frm.doc.run_date || frappe.datetime.get_today(),
				dry_run: dry_run,
			},
			freeze: true,
		})
		.then((r) => {
			frappe.show_alert({
				message: dry_run ? __("Preview ready") : __("Run queued"),
				indicator: dry_run ? "green" : "blue",
			});
			frappe.set_route("Form", "Relance Run", r.message);
		});
}
