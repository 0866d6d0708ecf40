"""What the Sales Invoice and Customer forms show of the follow-up (public/js/relance_forms.js):
where it stands (hold or dispute and why, stage, next reminder), which scenario applies and where
that comes from, and the history with each invoice's own figures. A few queries per form, never one
per invoice."""

from __future__ import annotations

import frappe
from frappe import _
from frappe.utils import getdate, today

HOLD_FIELDS = ("relance_hold", "relance_hold_kind", "relance_hold_reason", "relance_hold_until")


def applied_scenario(company: str | None, own: str | None, customer) -> dict:
	"""The scenario the run uses (repository.load_book, Book.scenario_of: the invoice's, the
	customer's, its group's, the company's, the default) and where it comes from, in words."""
	if own:
		return {"scenario": own, "source": _("set on the invoice")}
	if customer.relance_scenario:
		return {"scenario": customer.relance_scenario, "source": _("set on the customer")}
	group = frappe.db.get_value("Customer Group", customer.customer_group, "relance_scenario")
	if group:
		return {
			"scenario": group,
			"source": _("from the customer group {0}").format(customer.customer_group),
		}
	settings = frappe.get_cached_doc("Relance Settings")
	by_company = next((row.scenario for row in settings.company_scenarios if row.company == company), None)
	if by_company:
		return {"scenario": by_company, "source": _("the default of {0}").format(company)}
	return {"scenario": settings.default_scenario or "standard", "source": _("the default scenario")}


def with_label(applied: dict) -> dict:
	applied["label"] = (
		frappe.db.get_value("Dunning Scenario", applied["scenario"], "scenario_name") or applied["scenario"]
	)
	return applied


def hold_of(row, on: str) -> dict | None:
	if not row.relance_hold:
		return None
	until = getdate(row.relance_hold_until) if row.relance_hold_until else None
	if until and until < getdate(today()):
		return None  # ended: the run follows up again
	return {
		"kind": row.relance_hold_kind or "Hold",
		"reason": row.relance_hold_reason or "",
		"until": until,
		"on": on,
	}


def customer_row(name: str):
	return frappe.db.get_value(
		"Customer",
		name,
		["name", "customer_name", "customer_group", "relance_scenario", *HOLD_FIELDS],
		as_dict=True,
	)


@frappe.whitelist()
def invoice_follow_up(name: str) -> dict:
	invoice = frappe.get_doc("Sales Invoice", name)
	invoice.check_permission("read")
	customer = customer_row(invoice.customer)
	line = frappe.qb.DocType("Follow-up Log Invoice")
	log = frappe.qb.DocType("Follow-up Log")
	history = (
		frappe.qb.from_(line)
		.join(log)
		.on(line.parent == log.name)
		.select(
			log.name,
			log.log_date,
			log.channel,
			log.status,
			log.outcome,
			log.currency,
			log.step_label,
			line.step,
			line.outstanding,
			line.interest,
			line.indemnity,
		)
		.where((line.sales_invoice == name) & (line.parenttype == "Follow-up Log"))
		.orderby(log.log_date, order=frappe.qb.desc)
		.limit(20)
		.run(as_dict=True)
	)
	for row in history:
		# This invoice's own figures, not the whole letter's (which may list other invoices)
		row.claimed = (row.outstanding or 0) + (row.interest or 0) + (row.indemnity or 0)
	return {
		"scenario": with_label(applied_scenario(invoice.company, invoice.relance_scenario, customer)),
		"hold": hold_of(invoice, "invoice") or hold_of(customer, "customer"),
		"stage": invoice.relance_level,
		"last_date": invoice.relance_last_action_date,
		"next_date": invoice.relance_next_action_date,
		"overdue": invoice.outstanding_amount > 0 and getdate(invoice.due_date) < getdate(today()),
		"history": history,
	}


@frappe.whitelist()
def customer_follow_up(name: str) -> dict:
	frappe.get_doc("Customer", name).check_permission("read")
	customer = customer_row(name)
	invoices = frappe.get_all(
		"Sales Invoice",
		filters={
			"customer": name,
			"docstatus": 1,
			"is_return": 0,
			"outstanding_amount": (">", 0),
			"due_date": ("<", today()),
		},
		fields=[
			"name",
			"company",
			"due_date",
			"outstanding_amount",
			"currency",
			"relance_level",
			"relance_last_action_date",
			"relance_next_action_date",
			"relance_hold",
			"relance_hold_kind",
			"relance_hold_reason",
		],
		order_by="due_date asc",
		limit=200,
	)
	history = frappe.get_all(
		"Follow-up Log",
		filters={"customer": name},
		fields=["name", "log_date", "channel", "status", "outcome", "currency", "step_label", "grand_total"],
		order_by="log_date desc",
		limit=20,
	)
	for row in history:
		row.claimed = row.grand_total
	company = invoices[0].company if invoices else frappe.defaults.get_user_default("Company")
	from relance_erpnext.services.behaviour import as_dict, behaviours

	return {
		"behaviour": as_dict(behaviours([name], getdate(today()))[name]),
		"scenario": with_label(applied_scenario(company, None, customer)),
		"hold": hold_of(customer, "customer"),
		"invoices": invoices,
		"history": history,
	}


# The follow-up screen (relance/page/follow_up_desk) ------------------------------------------------


def step_labels() -> dict[str, str]:
	"""Step key → its label, as the scenarios name it (in French for the built-in ones); read once per
	request or job."""
	labels = getattr(frappe.local, "relance_step_labels", None)
	if labels is None:
		rows = frappe.get_all(
			"Dunning Scenario Step", filters={"parenttype": "Dunning Scenario"}, fields=["step_key", "label"]
		)
		labels = frappe.local.relance_step_labels = {row.step_key: row.label or row.step_key for row in rows}
	return labels


@frappe.whitelist()
def follow_up_lines(
	company: str,
	as_of: str | None = None,
	to_do_today: int = 0,
	stage: str | None = None,
	account_manager: str | None = None,
) -> dict:
	"""One line per customer and currency with overdue invoices: the invoices (each its stage, last and
	next step), the total due, the customer's stage (its most advanced step so far), the last action
	and the next one (today's when the plan has one), an open promise or dispute, the phone number.
	The same bulk reads as the daily run (no query per customer or invoice) and the core's overview."""
	from relance_erpnext.dunning.dates import DEFAULT_BUCKETS
	from relance_erpnext.dunning.overview import build_overview
	from relance_erpnext.services.mapping import channel_label, to_float
	from relance_erpnext.services.runner import make_plan

	frappe.has_permission("Follow-up Log", "read", throw=True)
	as_of = getdate(as_of or today())
	book, result = make_plan(company, as_of)
	overview = build_overview(as_of, book.customers, book.invoices, [result], book.promises, DEFAULT_BUCKETS)
	labels = step_labels()
	invoice_of = {inv.id: inv for inv in book.invoices}

	last_by_invoice: dict[str, object] = {}
	for entry in book.history:
		if entry.day <= as_of and (
			entry.invoice not in last_by_invoice or entry.day >= last_by_invoice[entry.invoice].day
		):
			last_by_invoice[entry.invoice] = entry
	today_action = {(a.customer, a.currency): a for a in result.actions if a.channel != "escalation"}
	promises: dict[tuple[str, str], dict] = {}
	for promise in book.promises:
		for invoice in promise.invoices:
			inv = invoice_of.get(invoice)
			key = (inv.customer, inv.currency) if inv else None
			if key and promise.due >= as_of and (key not in promises or promise.due < promises[key]["due"]):
				promises[key] = {"due": promise.due, "amount": to_float(promise.amount)}
	holds = {h.invoice: h for h in overview.holds}

	lines: dict[tuple[str, str], dict] = {}
	for item in overview.late:
		key = (item.customer, item.currency)
		customer = book.customers.get(item.customer)
		line = lines.setdefault(
			key,
			{
				"customer": item.customer,
				"customer_name": item.customer_name,
				"currency": item.currency,
				"phone": customer.phone if customer else "",
				"email": customer.email if customer else "",
				"account_manager": customer.account_manager if customer else "",
				"invoices": [],
				"total_due": 0.0,
				"outstanding": 0.0,
				"oldest_days_late": 0,
				"dispute": False,
				"hold": False,
				"last": None,
				"next": None,
				"promise": promises.get(key),
			},
		)
		last = last_by_invoice.get(item.invoice)
		hold = holds.get(item.invoice)
		line["invoices"].append(
			{
				"invoice": item.invoice,
				"due": item.due,
				"days_late": item.days_late,
				"late_amount": to_float(item.late_amount),
				"outstanding": to_float(item.outstanding),
				"stage": labels.get(last.step, last.step) if last else "",
				"last_date": last.day if last else None,
				"next_step": labels.get(item.next_step, item.next_step),
				"next_date": item.next_day,
				"hold": item.hold,
				"hold_reason": hold.reason if hold else "",
			}
		)
		line["total_due"] += to_float(item.late_amount)
		line["outstanding"] += to_float(item.outstanding)
		line["oldest_days_late"] = max(line["oldest_days_late"], item.days_late)
		line["dispute"] |= item.hold == "dispute"
		line["hold"] |= item.hold == "hold"
		if last and (not line["last"] or last.day > line["last"]["date"]):
			line["last"] = {
				"date": last.day,
				"step": labels.get(last.step, last.step),
				"channel": channel_label(last.channel),
			}
		if item.next_day and (not line["next"] or item.next_day < line["next"]["date"]):
			line["next"] = {"date": item.next_day, "step": labels.get(item.next_step, item.next_step)}
	for key, line in lines.items():
		action = today_action.get(key)
		if action:
			line["next"] = {
				"date": as_of,
				"step": action.step_label,
				"channel": channel_label(action.channel),
			}
		line["today"] = bool(action)
		line["stage"] = max(
			(inv for inv in line["invoices"] if inv["stage"]),
			key=lambda inv: inv["last_date"],
			default={"stage": ""},
		)["stage"]
		line["total_due"] = round(line["total_due"], 2)
		line["outstanding"] = round(line["outstanding"], 2)

	planned = planned_logs(company)
	for key, line in lines.items():
		line["planned"] = planned.get(key, 0)
	rows = sorted(lines.values(), key=lambda line: (not line["today"], -line["oldest_days_late"]))
	if int(to_do_today or 0):
		rows = [line for line in rows if line["today"]]
	if stage:
		rows = [line for line in rows if line["stage"] == stage or (line["next"] or {}).get("step") == stage]
	if account_manager:
		rows = [line for line in rows if line["account_manager"] == account_manager]
	return {
		"as_of": as_of,
		"lines": rows,
		"stages": sorted(set(labels.values())),
		"provisional": bool(result.provisional),
	}


WRITTEN_CHANNELS = ("email", "letter", "registered_letter")


def planned_logs(company: str) -> dict[tuple[str, str], int]:
	"""Follow-up Logs waiting to be sent (review before sending), per customer and currency."""
	from frappe.query_builder.functions import Count

	log = frappe.qb.DocType("Follow-up Log")
	rows = (
		frappe.qb.from_(log)
		.select(log.customer, log.currency, Count(log.name).as_("n"))
		.where((log.company == company) & (log.status == "Planned") & log.channel.isin(WRITTEN_CHANNELS))
		.groupby(log.customer, log.currency)
		.run(as_dict=True)
	)
	return {(row.customer, row.currency): row.n for row in rows}


@frappe.whitelist()
def send_planned(company: str, customers: str | list) -> int:
	"""Send (or print, for letters) the planned written follow-ups of these customers now."""
	from relance_erpnext.services.runner import send_logs

	customers = frappe.parse_json(customers) if isinstance(customers, str) else customers
	names = frappe.get_all(
		"Follow-up Log",
		filters={
			"company": company,
			"customer": ("in", customers),
			"status": "Planned",
			"channel": ("in", WRITTEN_CHANNELS),
		},
		pluck="name",
	)
	for name in names:
		frappe.get_doc("Follow-up Log", name).check_permission("write")
	return send_logs(names)
