// Copyright (c) 2026, relance_erpnext contributors
// For license information, please see license.txt

// What the Sales Invoice and Customer forms share: the "Relance" buttons and the follow-up history.
// Loaded before sales_invoice.js and customer.js (hooks.py, doctype_js).

frappe.provide("relance_erpnext.forms");

relance_erpnext.forms = {
	group: () => __("Relance"),

	// The channel codes of the Follow-up Log, as words
	channel_label(channel) {
		const labels = {
			email: __("Email"),
			letter: __("Letter"),
			registered_letter: __("Registered Letter"),
			phone: __("Phone Call"),
			escalation: __("Escalation"),
			meeting: __("Meeting"),
			note: __("Note"),
		};
		return labels[channel] || __(channel || "");
	},

	// A new document of `doctype`, prefilled, with one row per invoice in its `invoices` table
	new_doc(doctype, values, invoices) {
		frappe.model.with_doctype(doctype, () => {
			const doc = frappe.model.get_new_doc(doctype);
			Object.assign(doc, values);
			(invoices || []).forEach((row) => {
				Object.assign(frappe.model.add_child(doc, "invoices"), row);
			});
			frappe.set_route("Form", doctype, doc.name);
		});
	},

	log_rows(invoices) {
		return invoices.map((inv) => ({
			sales_invoice: inv.name,
			due_date: inv.due_date,
			outstanding: inv.outstanding_amount,
			currency: inv.currency,
		}));
	},

	// A call made, or an answer received, about these invoices
	new_log(customer, company, channel, invoices) {
		relance_erpnext.forms.new_doc(
			"Follow-up Log",
			{
				customer: customer,
				company: company,
				channel: channel,
				status: "Done",
				entry_type: "Manual",
				log_date: frappe.datetime.get_today(),
				currency: invoices.length ? invoices[0].currency : undefined,
			},
			relance_erpnext.forms.log_rows(invoices)
		);
	},

	new_promise(customer, company, invoices) {
		const amount = invoices.reduce((sum, inv) => sum + flt(inv.outstanding_amount), 0);
		relance_erpnext.forms.new_doc(
			"Payment Promise",
			{
				customer: customer,
				company: company,
				made_on: frappe.datetime.get_today(),
				amount: amount || undefined,
			},
			invoices.map((inv) => ({ sales_invoice: inv.name }))
		);
	},

	// Hold or dispute: the follow-up skips the invoice (or every invoice of the customer)
	hold_dialog(frm) {
		const dialog = new frappe.ui.Dialog({
			title: __("Put Follow-up on Hold"),
			fields: [
				{
					fieldname: "relance_hold_kind",
					fieldtype: "Select",
					label: __("Hold Kind"),
					options: [
						{ value: "Hold", label: __("Hold") },
						{ value: "Dispute", label: __("Dispute") },
					],
					default: frm.doc.relance_hold_kind || "Hold",
					reqd: 1,
				},
				{
					fieldname: "relance_hold_reason",
					fieldtype: "Small Text",
					label: __("Hold Reason"),
					default: frm.doc.relance_hold_reason,
					reqd: 1,
				},
				{
					fieldname: "relance_hold_until",
					fieldtype: "Date",
					label: __("On Hold Until"),
					default: frm.doc.relance_hold_until,
					description: __("Empty: until lifted by hand"),
				},
			],
			primary_action_label: __("Put on Hold"),
			primary_action(values) {
				dialog.hide();
				relance_erpnext.forms.set_hold(frm, {
					relance_hold: 1,
					relance_hold_kind: values.relance_hold_kind,
					relance_hold_reason: values.relance_hold_reason,
					relance_hold_until: values.relance_hold_until || null,
				});
			},
		});
		dialog.show();
	},

	set_hold(frm, values) {
		if (frm.is_dirty()) {
			frappe.msgprint(__("Save the document first."));
			return;
		}
		frappe.db.set_value(frm.doctype, frm.doc.name, values).then(() => frm.reload_doc());
	},

	lift_hold(frm) {
		frappe.confirm(__("Resume the follow-up of {0}?", [frm.doc.name]), () =>
			relance_erpnext.forms.set_hold(frm, {
				relance_hold: 0,
				relance_hold_reason: "",
				relance_hold_until: null,
			})
		);
	},

	// The letter the next run would send (changes nothing)
	preview_dialog(frm) {
		frappe.prompt(
			[
				{
					fieldname: "as_of",
					fieldtype: "Date",
					label: __("As Of"),
					default: frappe.datetime.get_today(),
					reqd: 1,
				},
			],
			(values) => {
				frappe
					.call({
						method: "relance_erpnext.relance.print_format.utils.preview_letter",
						args: { doctype: frm.doctype, name: frm.doc.name, as_of: values.as_of },
						freeze: true,
						freeze_message: __("Planning the follow-up…"),
					})
					.then((r) => relance_erpnext.forms.show_preview(r.message));
			},
			__("Preview Letter"),
			__("Preview")
		);
	},

	show_preview(preview) {
		const esc = frappe.utils.escape_html;
		let html = "";
		(preview.letters || []).forEach((letter) => {
			html += `<div class="relance-preview-head">
				<b>${esc(letter.step)}</b> · ${esc(relance_erpnext.forms.channel_label(letter.channel))} ·
				${format_currency(letter.total, letter.currency)} · ${esc(letter.invoices.join(", "))}
			</div>
			<div class="relance-preview-letter">${letter.html}</div>`;
		});
		if (!html) {
			html = `<p>${__("No follow-up is planned on {0}.", [
				frappe.datetime.str_to_user(preview.as_of),
			])}</p>`;
		}
		if ((preview.skipped || []).length) {
			html += `<p class="text-muted">${__("Not followed up")}</p><ul>`;
			preview.skipped.forEach((s) => {
				html += `<li>${esc(s.invoice)}: ${esc(s.reason)}</li>`;
			});
			html += "</ul>";
		}
		if ((preview.errors || []).length) {
			html += `<p class="text-danger">${__("Errors")}</p><ul>`;
			preview.errors.forEach((e) => (html += `<li>${esc(e)}</li>`));
			html += "</ul>";
		}
		const dialog = new frappe.ui.Dialog({
			title: __("Preview Letter"),
			size: "extra-large",
			fields: [{ fieldname: "preview", fieldtype: "HTML" }],
		});
		dialog.fields_dict.preview.$wrapper.html(
			`<style>
				.relance-preview-head { margin: 8px 0; }
				.relance-preview-letter { border: 1px solid var(--border-color); padding: 15mm 20mm;
					margin-bottom: 16px; background: #fff; color: #1a1a1a; font-size: 10pt; }
				.relance-preview-letter .recipient { margin-left: 90mm; width: 80mm; }
				.relance-preview-letter .place, .relance-preview-letter .signature { margin-left: 90mm; }
				.relance-preview-letter th.num { text-align: right; }
			</style>${html}`
		);
		dialog.show();
	},

	// Where the follow-up stands, on top of the form whatever its tab: a hold or dispute and its
	// reason, or the stage and the next reminder, and the scenario with where it comes from. In the
	// Relance tab: the history (an invoice's own figures on an invoice) and, on a customer, its
	// overdue invoices with their stage
	show_follow_up(frm, method) {
		if (frm.is_new()) return;
		frappe.call({ method: method, args: { name: frm.doc.name } }).then(({ message: f }) => {
			if (!f) return;
			const esc = frappe.utils.escape_html;
			const day = (d) => (d ? frappe.datetime.str_to_user(d) : "");
			const scenario = __("Scenario {0} ({1})", [f.scenario.label, f.scenario.source]);
			let state = "";
			let color = "blue";
			if (f.hold) {
				const what = f.hold.kind === "Dispute" ? __("In dispute") : __("Follow-up on hold");
				const where =
					f.hold.on === "customer" && frm.doctype !== "Customer" ? __("(customer)") : "";
				const until = f.hold.until ? __("until {0}", [day(f.hold.until)]) : "";
				state = [what, where, until].filter(Boolean).join(" ");
				if (f.hold.reason) state += " — " + f.hold.reason;
				color = "red";
			} else if (f.stage || f.next_date) {
				state = [
					f.stage ? __("Stage: {0}", [f.stage]) : "",
					f.next_date ? __("next reminder on {0}", [day(f.next_date)]) : "",
				]
					.filter(Boolean)
					.join(", ");
				color = f.overdue ? "orange" : "blue";
			}
			frm.dashboard.set_headline_alert(
				`<div class="indicator ${color}">${esc([state, scenario].filter(Boolean).join(" · "))}</div>`
			);
			const html =
				relance_erpnext.forms.behaviour_block(f.behaviour) +
				relance_erpnext.forms.overdue_table(f.invoices) +
				relance_erpnext.forms.history_table(frm, f.history);
			const field = frm.get_field("relance_follow_up_html");
			if (field) {
				field.$wrapper.html(html || `<p class="text-muted">${__("No follow-up yet.")}</p>`);
			} else if (html) {
				frm.dashboard.add_section(html, __("Follow-up History"));
			}
		});
	},

	// How the customer pays, over the last twelve months
	behaviour_block(b) {
		if (!b) return "";
		const stat = (label, value) =>
			`<div class="col-sm-2"><div class="text-muted small">${label}</div><div class="h5">${value}</div></div>`;
		return `<h5>${__("How This Customer Pays (Twelve Months)")}</h5>
			<div class="row relance-behaviour" style="margin-bottom: 12px">
				${stat(__("Invoices Due"), b.invoices)}
				${stat(__("Paid Late"), `${b.paid_late} (${b.share_late} %)`)}
				${stat(__("Average Days Late"), format_number(b.average_days_late, null, 1))}
				${stat(__("Broken Promises"), b.broken_promises)}
				${stat(__("Last Contact"), b.last_contact ? frappe.datetime.str_to_user(b.last_contact) : "—")}
			</div>`;
	},

	overdue_table(invoices) {
		if (!invoices || !invoices.length) return "";
		const esc = frappe.utils.escape_html;
		const day = (d) => (d ? frappe.datetime.str_to_user(d) : "");
		const rows = invoices
			.map(
				(inv) => `<tr>
					<td><a href="${frappe.utils.get_form_link("Sales Invoice", inv.name)}">${esc(inv.name)}</a></td>
					<td>${day(inv.due_date)}</td>
					<td class="text-right">${format_currency(inv.outstanding_amount, inv.currency)}</td>
					<td>${esc(
						inv.relance_hold
							? inv.relance_hold_kind === "Dispute"
								? __("In dispute")
								: __("On hold")
							: inv.relance_level || ""
					)}</td>
					<td>${day(inv.relance_last_action_date)}</td>
					<td>${day(inv.relance_next_action_date)}</td>
				</tr>`
			)
			.join("");
		return `<h5>${__("Overdue Invoices")}</h5>
			<table class="table table-sm table-hover relance-overdue">
				<thead><tr>
					<th>${__("Invoice")}</th><th>${__("Due Date")}</th>
					<th class="text-right">${__("Outstanding")}</th><th>${__("Stage")}</th>
					<th>${__("Last Reminder")}</th><th>${__("Next Reminder")}</th>
				</tr></thead>
				<tbody>${rows}</tbody>
			</table>`;
	},

	history_table(frm, history) {
		if (!history || !history.length) return "";
		const esc = frappe.utils.escape_html;
		const rows = history
			.map(
				(log) => `<tr>
					<td>${frappe.datetime.str_to_user(log.log_date)}</td>
					<td><a href="${frappe.utils.get_form_link("Follow-up Log", log.name)}">${esc(
					log.step_label || relance_erpnext.forms.channel_label(log.channel)
				)}</a></td>
					<td>${esc(relance_erpnext.forms.channel_label(log.channel))}</td>
					<td>${esc(__(log.status))}</td>
					<td>${esc(log.outcome ? __(log.outcome) : "")}</td>
					<td class="text-right">${log.claimed ? format_currency(log.claimed, log.currency) : ""}</td>
				</tr>`
			)
			.join("");
		const claimed =
			frm.doctype === "Sales Invoice" ? __("Claimed for this Invoice") : __("Total Claimed");
		return `<h5>${__("Follow-up History")}</h5>
			<table class="table table-sm table-hover relance-history">
				<thead><tr>
					<th>${__("Date")}</th><th>${__("Step")}</th><th>${__("Channel")}</th>
					<th>${__("Status")}</th><th>${__("Outcome")}</th>
					<th class="text-right">${claimed}</th>
				</tr></thead>
				<tbody>${rows}</tbody>
			</table>`;
	},

	// The day's letters posted at once: the day, and each registered letter's number (one field
	// per registered letter: the proof the law asks for)
	mark_posted(logs) {
		return new Promise((resolve) => {
			const esc = frappe.utils.escape_html;
			const registered = logs.filter((log) => log.channel === "registered_letter");
			const simple = logs.filter((log) => log.channel !== "registered_letter");
			const fields = [
				{
					fieldname: "posted_on",
					fieldtype: "Date",
					label: __("Posted On"),
					default: frappe.datetime.get_today(),
					reqd: 1,
				},
				...registered.map((log, i) => ({
					fieldname: `number_${i}`,
					fieldtype: "Data",
					label: __("Registered letter number – {0} ({1})", [log.customer_name || log.customer, log.name]),
					default: log.registered_letter_number || "",
					reqd: 1,
				})),
			];
			if (simple.length) {
				fields.push({
					fieldname: "letters",
					fieldtype: "HTML",
					options: `<p class="text-muted">${__("Letters")}: ${simple
						.map((log) => esc(`${log.customer_name || log.customer} (${log.name})`))
						.join(", ")}</p>`,
				});
			}
			const dialog = new frappe.ui.Dialog({
				title: __("Mark as Posted"),
				fields: fields,
				primary_action_label: __("Mark as Posted"),
				primary_action(values) {
					const entries = [
						...registered.map((log, i) => ({
							name: log.name,
							posted_on: values.posted_on,
							registered_letter_number: values[`number_${i}`],
						})),
						...simple.map((log) => ({ name: log.name, posted_on: values.posted_on })),
					];
					frappe
						.call({
							method: "relance_erpnext.relance.doctype.follow_up_log.follow_up_log.mark_posted",
							args: { entries: entries },
							freeze: true,
						})
						.then(() => {
							dialog.hide();
							resolve();
						});
				},
			});
			dialog.show();
		});
	},

	// The print view of this document in one of the Relance print formats
	open_print(frm, print_format) {
		const params = new URLSearchParams({
			doctype: frm.doctype,
			name: frm.doc.name,
			format: print_format,
			no_letterhead: 0,
			_lang: frappe.boot.lang,
		});
		window.open(`/printview?${params.toString()}`, "_blank");
	},

	// Every button of the "Relance" group, for the invoices `get_invoices()` resolves to
	add_buttons(frm, get_invoices, company) {
		const group = relance_erpnext.forms.group();
		const customer = frm.doc.customer || frm.doc.name;
		const with_invoices = (callback) =>
			get_invoices().then((invoices) => callback(invoices, company(invoices)));

		frm.add_custom_button(
			__("Log a Call"),
			() =>
				with_invoices((invoices, co) =>
					relance_erpnext.forms.new_log(customer, co, "phone", invoices)
				),
			group
		);
		frm.add_custom_button(
			__("Record the Answer"),
			() =>
				with_invoices((invoices, co) =>
					relance_erpnext.forms.record_answer({
						customer: customer,
						company: co,
						invoices: invoices.map((inv) => inv.name),
						after: () => frm.reload_doc(),
					})
				),
			group
		);
		frm.add_custom_button(
			__("Record a Promise"),
			() =>
				with_invoices((invoices, co) =>
					relance_erpnext.forms.new_promise(customer, co, invoices)
				),
			group
		);
		if (frm.doc.relance_hold) {
			frm.add_custom_button(__("Lift Hold"), () => relance_erpnext.forms.lift_hold(frm), group);
		} else {
			frm.add_custom_button(
				__("Put on Hold"),
				() => relance_erpnext.forms.hold_dialog(frm),
				group
			);
		}
		frm.add_custom_button(
			__("Preview Letter"),
			() => relance_erpnext.forms.preview_dialog(frm),
			group
		);
	},
};
