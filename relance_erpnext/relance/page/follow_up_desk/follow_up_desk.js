// Copyright (c) 2026, relance_erpnext contributors
// For license information, please see license.txt

// The follow-up desk: one line per customer and currency with overdue invoices (expandable), what
// is due, where the follow-up stands, what comes next and when, and the actions of the morning.
// Data: relance_erpnext.services.desk.follow_up_lines (the daily run's bulk reads and the core).

frappe.pages["follow-up-desk"].on_page_load = function (wrapper) {
	const page = frappe.ui.make_app_page({
		parent: wrapper,
		title: __("Follow-up Desk"),
		single_column: true,
	});
	frappe.require("/assets/relance_erpnext/js/relance_forms.js", () => {
		wrapper.follow_up_desk = new FollowUpDesk(page);
	});
};

frappe.pages["follow-up-desk"].on_page_show = function (wrapper) {
	if (wrapper.follow_up_desk) wrapper.follow_up_desk.apply_route_options();
};

class FollowUpDesk {
	constructor(page) {
		this.page = page;
		this.lines = [];
		this.open = new Set();
		this.make_filters();
		this.make_actions();
		this.$body = $(`<div class="relance-desk"></div>`).appendTo(page.main);
		this.apply_route_options();
	}

	// A link (a workspace shortcut, a URL such as ?company=…&to_do_today=1) sets the filters
	apply_route_options() {
		const options = frappe.route_options || {};
		frappe.route_options = null;
		for (const field of ["company", "as_of", "to_do_today", "stage", "account_manager"]) {
			if (options[field] !== undefined) this[field].set_value(options[field]);
		}
		this.refresh();
	}

	make_filters() {
		const refresh = () => this.refresh();
		this.company = this.page.add_field({
			fieldname: "company",
			label: __("Company"),
			fieldtype: "Link",
			options: "Company",
			default: frappe.defaults.get_user_default("Company"),
			change: refresh,
		});
		this.as_of = this.page.add_field({
			fieldname: "as_of",
			label: __("Date"),
			fieldtype: "Date",
			default: frappe.datetime.get_today(),
			change: refresh,
		});
		this.to_do_today = this.page.add_field({
			fieldname: "to_do_today",
			label: __("To Do Today"),
			fieldtype: "Check",
			change: refresh,
		});
		this.stage = this.page.add_field({
			fieldname: "stage",
			label: __("Stage"),
			fieldtype: "Select",
			options: [""],
			change: refresh,
		});
		this.account_manager = this.page.add_field({
			fieldname: "account_manager",
			label: __("Account Manager"),
			fieldtype: "Link",
			options: "User",
			change: refresh,
		});
	}

	make_actions() {
		this.page.set_primary_action(__("Send or Print Now"), () => this.send(this.selected()));
		this.page.add_action_item(__("Put on Hold"), () => this.hold(this.selected(), "Hold"));
		this.page.add_action_item(__("Put in Dispute"), () => this.hold(this.selected(), "Dispute"));
		this.page.add_inner_button(__("Refresh"), () => this.refresh());
	}

	refresh() {
		// Filters set one after the other each refresh: only the latest answer is shown
		const request = (this.request = (this.request || 0) + 1);
		const company = this.company.get_value();
		if (!company) {
			this.$body.html(`<p class="text-muted">${__("Please select a company")}</p>`);
			return;
		}
		frappe
			.call({
				method: "relance_erpnext.services.desk.follow_up_lines",
				args: {
					company: company,
					as_of: this.as_of.get_value(),
					to_do_today: this.to_do_today.get_value() ? 1 : 0,
					stage: this.stage.get_value() || null,
					account_manager: this.account_manager.get_value() || null,
				},
				freeze: true,
			})
			.then(({ message }) => {
				if (request !== this.request) return;
				this.lines = message.lines;
				const current = this.stage.get_value();
				this.stage.df.options = ["", ...message.stages];
				this.stage.refresh();
				this.stage.set_input(current || "");
				this.render(message);
			});
	}

	selected() {
		const keys = this.$body
			.find("input.relance-select:checked")
			.map((_, el) => $(el).attr("data-key"))
			.get();
		return this.lines.filter((line) => keys.includes(this.key(line)));
	}

	key(line) {
		return `${line.customer}\u0000${line.currency}`;
	}

	render(message) {
		const esc = frappe.utils.escape_html;
		const day = (d) => (d ? frappe.datetime.str_to_user(d) : "");
		if (!this.lines.length) {
			this.$body.html(`<p class="text-muted" style="padding: 15px">${__("Nothing overdue.")}</p>`);
			return;
		}
		const total = {};
		this.lines.forEach((l) => (total[l.currency] = (total[l.currency] || 0) + l.total_due));
		const totals = Object.entries(total)
			.map(([currency, amount]) => format_currency(amount, currency))
			.join(" · ");
		const rows = this.lines
			.map((line) => {
				const key = this.key(line);
				const badges = [
					line.today ? `<span class="indicator-pill orange">${__("Today")}</span>` : "",
					line.dispute ? `<span class="indicator-pill red">${__("In dispute")}</span>` : "",
					line.hold ? `<span class="indicator-pill grey">${__("On hold")}</span>` : "",
					line.promise
						? `<span class="indicator-pill blue">${__("Promise {0}", [
								day(line.promise.due),
						  ])}</span>`
						: "",
				].join(" ");
				const invoices = this.open.has(key)
					? line.invoices
							.map(
								(inv) => `<tr class="relance-invoice text-muted">
							<td></td>
							<td colspan="2"><a href="${frappe.utils.get_form_link(
								"Sales Invoice",
								inv.invoice
							)}">${esc(inv.invoice)}</a> · ${__("due {0}", [day(inv.due)])} · ${__(
									"{0} days late",
									[inv.days_late]
								)}</td>
							<td class="text-right">${format_currency(inv.late_amount, line.currency)}</td>
							<td>${esc(
								inv.hold
									? (inv.hold === "dispute" ? __("In dispute") : __("On hold")) +
											(inv.hold_reason ? " — " + inv.hold_reason : "")
									: inv.stage
							)}</td>
							<td>${day(inv.last_date)}</td>
							<td>${esc(inv.next_step)} ${day(inv.next_date)}</td>
							<td></td>
						</tr>`
							)
							.join("")
					: "";
				return `<tr class="relance-line" data-key="${esc(key)}">
					<td><input type="checkbox" class="relance-select" data-key="${esc(key)}"></td>
					<td><a class="relance-toggle" data-key="${esc(key)}">${
						this.open.has(key) ? "▾" : "▸"
					} ${line.invoices.length}</a></td>
					<td><a href="${frappe.utils.get_form_link("Customer", line.customer)}"><b>${esc(
					line.customer_name
				)}</b></a><br><span class="text-muted">${esc(line.phone || "")}</span> ${badges}</td>
					<td class="text-right"><b>${format_currency(line.total_due, line.currency)}</b></td>
					<td>${esc(line.stage || __("Not reminded yet"))}</td>
					<td>${line.last ? `${day(line.last.date)}<br><span class="text-muted">${esc(line.last.step)}</span>` : ""}</td>
					<td>${
						line.next
							? `${day(line.next.date)}<br><span class="text-muted">${esc(line.next.step)}${
									line.next.channel ? " (" + esc(line.next.channel) + ")" : ""
							  }</span>`
							: ""
					}</td>
					<td class="text-right">${this.row_menu(line)}</td>
				</tr>${invoices}`;
			})
			.join("");
		this.$body.html(`
			<div style="padding: 10px 15px" class="text-muted">${__("{0} customers, {1} overdue", [
				this.lines.length,
				totals,
			])}${message.provisional ? " · " + __("interest provisional (reference rates missing)") : ""}</div>
			<table class="table table-hover relance-desk-table" style="margin: 0">
				<thead><tr>
					<th style="width: 30px"></th><th style="width: 50px">${__("Invoices")}</th>
					<th>${__("Customer")}</th><th class="text-right">${__("Due")}</th>
					<th>${__("Stage")}</th><th>${__("Last Action")}</th><th>${__("Next Action")}</th><th></th>
				</tr></thead>
				<tbody>${rows}</tbody>
			</table>`);
		this.bind();
	}

	row_menu(line) {
		const key = frappe.utils.escape_html(this.key(line));
		const item = (action, label) =>
			`<li><a class="dropdown-item relance-action" data-action="${action}" data-key="${key}">${label}</a></li>`;
		return `<div class="dropdown">
			<button class="btn btn-xs btn-default dropdown-toggle" data-toggle="dropdown" data-bs-toggle="dropdown">${__(
				"Actions"
			)}</button>
			<ul class="dropdown-menu dropdown-menu-right">
				${line.planned ? item("send", __("Send or Print Now ({0})", [line.planned])) : ""}
				${item("answer", __("Record an Answer"))}
				${item("promise", __("Note a Promise"))}
				${item("hold", __("Put on Hold"))}
				${item("dispute", __("Put in Dispute"))}
				${item("statement", __("Open the Statement"))}
			</ul></div>`;
	}

	bind() {
		const line_of = (el) => this.lines.find((l) => this.key(l) === $(el).attr("data-key"));
		this.$body.find(".relance-toggle").on("click", (e) => {
			const key = $(e.currentTarget).attr("data-key");
			this.open.has(key) ? this.open.delete(key) : this.open.add(key);
			this.render({ provisional: false });
		});
		this.$body.find(".relance-action").on("click", (e) => {
			const line = line_of(e.currentTarget);
			const action = $(e.currentTarget).attr("data-action");
			const forms = relance_erpnext.forms;
			const company = this.company.get_value();
			const invoices = line.invoices.map((inv) => ({
				name: inv.invoice,
				due_date: inv.due,
				outstanding_amount: inv.outstanding,
				currency: line.currency,
			}));
			if (action === "send") this.send([line]);
			if (action === "answer")
				forms.record_answer({
					customer: line.customer,
					company: company,
					invoices: line.invoices.map((inv) => inv.invoice),
					after: () => this.refresh(),
				});
			if (action === "promise") forms.new_promise(line.customer, company, invoices);
			if (action === "hold") this.hold([line], "Hold");
			if (action === "dispute") this.hold([line], "Dispute");
			if (action === "statement") {
				const params = new URLSearchParams({
					doctype: "Customer",
					name: line.customer,
					format: "Relevé des factures échues",
					no_letterhead: 0,
					_lang: frappe.boot.lang,
				});
				window.open(`/printview?${params.toString()}`, "_blank");
			}
		});
	}

	send(lines) {
		if (!lines.length) {
			frappe.msgprint(__("Select the customers first."));
			return;
		}
		const waiting = lines.reduce((n, line) => n + (line.planned || 0), 0);
		if (!waiting) {
			frappe.msgprint(__("No follow-up of these customers is waiting to be sent."));
			return;
		}
		frappe.confirm(__("Send or print {0} follow-up(s) now?", [waiting]), () =>
			frappe
				.call({
					method: "relance_erpnext.services.desk.send_planned",
					args: {
						company: this.company.get_value(),
						customers: lines.map((line) => line.customer),
					},
					freeze: true,
				})
				.then(({ message }) => {
					frappe.show_alert({ message: __("{0} sent", [message]), indicator: "green" });
					this.refresh();
				})
		);
	}

	hold(lines, kind) {
		if (!lines.length) {
			frappe.msgprint(__("Select the customers first."));
			return;
		}
		frappe.prompt(
			[
				{ fieldname: "reason", fieldtype: "Small Text", label: __("Reason"), reqd: 1 },
				{ fieldname: "until", fieldtype: "Date", label: __("Until") },
			],
			(values) =>
				Promise.all(
					[...new Set(lines.map((line) => line.customer))].map((customer) =>
						frappe.db.set_value("Customer", customer, {
							relance_hold: 1,
							relance_hold_kind: kind,
							relance_hold_reason: values.reason,
							relance_hold_until: values.until || null,
						})
					)
				).then(() => this.refresh()),
			kind === "Dispute" ? __("Put in Dispute") : __("Put on Hold")
		);
	}
}
