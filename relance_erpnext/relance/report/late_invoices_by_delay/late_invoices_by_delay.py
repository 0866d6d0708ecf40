# Copyright (c) 2026, relance_erpnext contributors
# For license information, please see license.txt
"""Late invoices by delay bucket, with their last and next follow-up. The figures are the core's
(`dunning.overview`): an invoice is aged by its oldest unpaid due date and counts for what is due and
unpaid; totals are per currency, never EUR and CAD added together."""

import frappe
from frappe import _
from frappe.utils import getdate, today

from relance_erpnext.dunning.dates import AGEING_BUCKETS, DEFAULT_BUCKETS
from relance_erpnext.dunning.models import ZERO
from relance_erpnext.dunning.overview import build_overview
from relance_erpnext.dunning.planner import next_steps
from relance_erpnext.dunning.reasons import describe
from relance_erpnext.services import desk
from relance_erpnext.services.mapping import LIVE_STATUSES, to_float


def execute(filters=None):
	return LateInvoicesByDelay(frappe._dict(filters or {})).run()


class LateInvoicesByDelay:
	def __init__(self, filters):
		self.filters = filters
		self.as_of = getdate(filters.as_of or today())
		self.bounds = AGEING_BUCKETS if filters.buckets == "30/60/90" else DEFAULT_BUCKETS
		self.language = "fr" if (frappe.local.lang or "").startswith("fr") else "en"

	def run(self):
		from relance_erpnext.services.runner import make_plan

		if not self.filters.company:
			frappe.throw(_("Please select a company"))
		book, result = make_plan(self.filters.company, self.as_of)
		overview = build_overview(
			self.as_of, book.customers, book.invoices, [result], book.promises, self.bounds
		)
		self.buckets = overview.buckets
		step_labels = desk.step_labels()
		reasons = {
			s.invoice: describe(s.reason, s.detail, self.language, step_labels) for s in result.skipped
		}
		last = self.last_actions([inv.id for inv in book.invoices])
		scenario_of = {inv.id: book.scenario_of(inv) for inv in book.invoices}
		holds = {h.invoice: h for h in overview.holds}
		promised = {}
		for promise in book.promises:
			for invoice in promise.invoices:
				if invoice not in promised or promise.due < promised[invoice]:
					promised[invoice] = promise.due
		rows = []
		for item in overview.late:
			hold = holds.get(item.invoice)
			rows.append(
				self.row(item.invoice, item.customer, item.customer_name, item.due, item.days_late)
				| {
					"bucket": item.bucket,
					"currency": item.currency,
					"late_amount": to_float(item.late_amount),
					"outstanding": to_float(item.outstanding),
					"next_action": step_labels.get(item.next_step) or reasons.get(item.invoice, ""),
					"next_action_date": item.next_day,
					"promise": promised.get(item.invoice),
					"hold": self.hold_text(item.hold, hold.reason if hold else ""),
				}
			)
		if self.filters.include_not_due:
			late = {item.invoice for item in overview.late}
			rows += self.not_due_rows(book, result, late, step_labels, reasons)
		rows = [row for row in rows if self.keep(row, scenario_of, last)]
		for row in rows:
			row["last_action"], row["last_action_date"] = last.get(row["sales_invoice"], ("", None))
		rows.sort(key=lambda r: (-r["days_late"], r["sales_invoice"]))
		return self.columns(), self.by_customer(rows), None, self.chart(rows), self.summary(rows)

	def hold_text(self, kind: str, reason: str) -> str:
		if not kind:
			return ""
		text = _("In dispute") if kind == "dispute" else _("On hold")
		return f"{text} — {reason}" if reason else text

	def by_customer(self, rows: list[dict]) -> list[dict]:
		"""One line per customer and currency (its overdue and outstanding totals, its oldest delay, its
		last and next action), its invoices below it; customers by their oldest delay. Amounts add
		up within a currency only, so there is no grand total row."""
		groups: dict[tuple[str, str], list[dict]] = {}
		for row in rows:
			groups.setdefault((row["customer"], row["currency"]), []).append(row)
		out = []
		for (customer, currency), invoices in groups.items():  # rows come oldest delay first
			last = max(
				(r for r in invoices if r.get("last_action_date")),
				key=lambda r: r["last_action_date"],
				default=None,
			)
			upcoming = min(
				(r for r in invoices if r.get("next_action_date")),
				key=lambda r: r["next_action_date"],
				default=None,
			)
			out.append(
				{
					"sales_invoice": None,
					"customer": customer,
					"customer_name": invoices[0]["customer_name"],
					"currency": currency,
					"days_late": max(r["days_late"] for r in invoices),
					"late_amount": round(sum(r["late_amount"] for r in invoices), 2),
					"outstanding": round(sum(r["outstanding"] for r in invoices), 2),
					"last_action": last["last_action"] if last else "",
					"last_action_date": last["last_action_date"] if last else None,
					"next_action": upcoming["next_action"] if upcoming else "",
					"next_action_date": upcoming["next_action_date"] if upcoming else None,
					"promise": min((r["promise"] for r in invoices if r.get("promise")), default=None),
					"hold": "; ".join(dict.fromkeys(r["hold"] for r in invoices if r.get("hold"))),
					"indent": 0,
				}
			)
			out += [row | {"indent": 1} for row in invoices]
		return out

	def row(self, invoice, customer, customer_name, due, days_late):
		return {
			"sales_invoice": invoice,
			"customer": customer,
			"customer_name": customer_name,
			"due_date": due,
			"days_late": days_late,
		}

	def not_due_rows(self, book, result, late: set, step_labels: dict, reasons: dict) -> list[dict]:
		upcoming = next_steps(result)
		rows = []
		for inv in book.invoices:
			if inv.id in late or inv.cancelled or inv.outstanding <= ZERO:
				continue
			customer = book.customers.get(inv.customer)
			step, day = upcoming.get(inv.id, ("", None))
			rows.append(
				self.row(inv.id, inv.customer, customer.name if customer else inv.customer, inv.due, 0)
				| {
					"bucket": _("Not due"),
					"currency": inv.currency,
					"late_amount": 0.0,
					"outstanding": to_float(inv.outstanding),
					"next_action": step_labels.get(step) or reasons.get(inv.id, ""),
					"next_action_date": day,
				}
			)
		return rows

	def keep(self, row, scenario_of: dict, last: dict) -> bool:
		if self.filters.customer and row["customer"] != self.filters.customer:
			return False
		scenario = scenario_of.get(row["sales_invoice"], "")
		if self.filters.scenario and scenario != self.filters.scenario:
			return False
		if self.filters.level and last.get(row["sales_invoice"], ("", None))[0] != self.filters.level:
			return False
		return True

	def last_actions(self, invoices: list[str]) -> dict:
		"""The last step taken on or before the report's day, per invoice."""
		if not invoices:
			return {}
		log = frappe.qb.DocType("Follow-up Log")
		line = frappe.qb.DocType("Follow-up Log Invoice")
		rows = (
			frappe.qb.from_(line)
			.join(log)
			.on(line.parent == log.name)
			.select(line.sales_invoice, log.step_label, log.step, log.log_date)
			.where(
				line.sales_invoice.isin(invoices)
				& log.status.isin(LIVE_STATUSES)
				& log.step.isnotnull()
				& (log.log_date <= self.as_of)
			)
			.orderby(log.log_date)
			.orderby(log.creation)
			.run(as_dict=True)
		)
		return {row.sales_invoice: (row.step_label or row.step, row.log_date) for row in rows}

	def columns(self):
		return [
			{
				"fieldname": "sales_invoice",
				"label": _("Sales Invoice"),
				"fieldtype": "Link",
				"options": "Sales Invoice",
				"width": 150,
			},
			{
				"fieldname": "customer",
				"label": _("Customer"),
				"fieldtype": "Link",
				"options": "Customer",
				"width": 180,
			},
			{"fieldname": "due_date", "label": _("Due Date"), "fieldtype": "Date", "width": 100},
			{"fieldname": "days_late", "label": _("Days Late"), "fieldtype": "Int", "width": 80},
			{"fieldname": "bucket", "label": _("Delay"), "fieldtype": "Data", "width": 80},
			{
				"fieldname": "late_amount",
				"label": _("Overdue"),
				"fieldtype": "Currency",
				"options": "currency",
				"width": 120,
			},
			{
				"fieldname": "outstanding",
				"label": _("Outstanding"),
				"fieldtype": "Currency",
				"options": "currency",
				"width": 120,
			},
			{
				"fieldname": "currency",
				"label": _("Currency"),
				"fieldtype": "Link",
				"options": "Currency",
				"width": 70,
			},
			{"fieldname": "last_action", "label": _("Last Action"), "fieldtype": "Data", "width": 160},
			{
				"fieldname": "last_action_date",
				"label": _("Last Action Date"),
				"fieldtype": "Date",
				"width": 100,
			},
			{"fieldname": "next_action", "label": _("Next Action"), "fieldtype": "Data", "width": 200},
			{
				"fieldname": "next_action_date",
				"label": _("Next Action Date"),
				"fieldtype": "Date",
				"width": 100,
			},
			{"fieldname": "promise", "label": _("Promised For"), "fieldtype": "Date", "width": 100},
			{"fieldname": "hold", "label": _("Dispute or Hold"), "fieldtype": "Data", "width": 200},
		]

	def totals(self, rows) -> dict[str, dict[str, float]]:
		"""Overdue amount per currency and bucket (the rows shown, after the filters)."""
		totals: dict[str, dict[str, float]] = {}
		for row in rows:
			if row["bucket"] not in self.buckets:
				continue  # not yet due
			per_bucket = totals.setdefault(row["currency"], dict.fromkeys(self.buckets, 0.0))
			per_bucket[row["bucket"]] += row["late_amount"]
		return totals

	def chart(self, rows):
		totals = self.totals(rows)
		return {
			"data": {
				"labels": [_("{0} days").format(label) for label in self.buckets],
				"datasets": [
					{"name": currency, "values": list(per_bucket.values())}
					for currency, per_bucket in sorted(totals.items())
				],
			},
			"type": "bar",
			"fieldtype": "Currency",
		}

	def summary(self, rows):
		return [
			{
				"label": _("{0} days late").format(label),
				"value": value,
				"datatype": "Currency",
				"currency": currency,
				"indicator": "Red" if value else "Green",
			}
			for currency, per_bucket in sorted(self.totals(rows).items())
			for label, value in per_bucket.items()
		]
