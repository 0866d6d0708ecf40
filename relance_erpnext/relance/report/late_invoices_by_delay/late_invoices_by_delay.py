# Copyright (c) 2026, relance_erpnext contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.utils import getdate, today

from relance_erpnext.dunning.dates import AGEING_BUCKETS, DEFAULT_BUCKETS, NOT_DUE, bucket, bucket_labels
from relance_erpnext.dunning.planner import next_steps
from relance_erpnext.dunning.reasons import describe
from relance_erpnext.services.mapping import to_float


def execute(filters=None):
	return LateInvoicesByDelay(frappe._dict(filters or {})).run()


class LateInvoicesByDelay:
	def __init__(self, filters):
		self.filters = filters
		self.as_of = getdate(filters.as_of or today())
		self.bounds = AGEING_BUCKETS if filters.buckets == "30/60/90" else DEFAULT_BUCKETS

	def run(self):
		from relance_erpnext.services.runner import make_plan

		if not self.filters.company:
			frappe.throw(_("Please select a company"))
		book, result = make_plan(self.filters.company, self.as_of)
		upcoming = next_steps(result)
		last = self.last_actions([inv.id for inv in book.invoices])
		labels = {s.invoice: _(describe(s.reason, s.detail, "en")) for s in result.skipped}
		rows = []
		for inv in book.invoices:
			customer = book.customers.get(inv.customer)
			if self.filters.customer and inv.customer != self.filters.customer:
				continue
			scenario = inv.scenario or (customer.scenario if customer else None) or ""
			if self.filters.scenario and scenario and scenario != self.filters.scenario:
				continue
			late = (self.as_of - inv.due).days
			delay = bucket(late, self.bounds)
			if delay == NOT_DUE and not self.filters.include_not_due:
				continue
			last_step, last_date = last.get(inv.id, ("", None))
			if self.filters.level and last_step != self.filters.level:
				continue
			step, day = upcoming.get(inv.id, ("", None))
			rows.append(
				{
					"sales_invoice": inv.id,
					"customer": inv.customer,
					"customer_name": customer.name if customer else inv.customer,
					"due_date": inv.due,
					"days_late": late,
					"bucket": _("Not due") if delay == NOT_DUE else delay,
					"currency": inv.currency,
					"outstanding": to_float(inv.outstanding),
					"last_action": last_step,
					"last_action_date": last_date,
					"next_action": step or labels.get(inv.id, ""),
					"next_action_date": day,
				}
			)
		rows.sort(key=lambda r: (-r["days_late"], r["sales_invoice"]))
		return self.columns(), rows, None, self.chart(rows), self.summary(rows)

	def last_actions(self, invoices: list[str]) -> dict:
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
				& log.status.isin(["Planned", "Sent", "Done", "Unknown"])
				& log.step.isnotnull()
			)
			.orderby(log.log_date)
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
				"hidden": 1,
			},
			{"fieldname": "last_action", "label": _("Last Action"), "fieldtype": "Data", "width": 160},
			{
				"fieldname": "last_action_date",
				"label": _("Last Action Date"),
				"fieldtype": "Date",
				"width": 100,
			},
			{"fieldname": "next_action", "label": _("Next Action"), "fieldtype": "Data", "width": 160},
			{
				"fieldname": "next_action_date",
				"label": _("Next Action Date"),
				"fieldtype": "Date",
				"width": 100,
			},
		]

	def totals(self, rows):
		totals = {label: 0.0 for label in bucket_labels(self.bounds)}
		for row in rows:
			if row["bucket"] in totals:
				totals[row["bucket"]] += row["outstanding"]
		return totals

	def chart(self, rows):
		totals = self.totals(rows)
		return {
			"data": {
				"labels": list(totals),
				"datasets": [{"name": _("Outstanding"), "values": list(totals.values())}],
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
				"indicator": "Red",
			}
			for label, value in self.totals(rows).items()
		]
