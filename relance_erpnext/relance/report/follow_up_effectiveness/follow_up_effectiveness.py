# Copyright (c) 2026, relance_erpnext contributors
# For license information, please see license.txt

"""What each follow-up step achieves, for the finance lead.

For every step of a scenario, over the reminders sent (or calls made) between two dates:

- Invoices Reminded: invoices that received this step;
- Paid Afterwards: those fully settled after this step and before the next reminder of the same
  invoice (the step that closed the invoice gets the credit, not every step before it);
- Avg. Days to Pay: from the reminder to the settlement, for those invoices;
- Amount Reminded: the outstanding amounts the reminders stated; Amount Recovered: the payments
  received after the reminder and before the next one (at most the amount reminded);
- Recovery Rate: Amount Recovered / Amount Reminded.

And the company's DSO over the period: receivables at the end of the period / net credit sales of
the period x days in the period.

Bulk: a fixed handful of queries, whatever the number of invoices.
"""

from collections import defaultdict
from datetime import date

import frappe
from frappe import _
from frappe.query_builder.functions import Max, Sum
from frappe.utils import flt, getdate

from relance_erpnext.services.mapping import (
	GONE_STATUSES,
	channel_label,
)

SENT_STATUSES = GONE_STATUSES
NEVER = date.max


def execute(filters=None):
	return FollowUpEffectiveness(frappe._dict(filters or {})).run()


class FollowUpEffectiveness:
	def __init__(self, filters):
		if not filters.company:
			frappe.throw(_("Please select a company"))
		self.filters = filters
		self.company = filters.company
		self.to_date = getdate(filters.to_date or frappe.utils.today())
		self.from_date = getdate(filters.from_date or frappe.utils.add_months(self.to_date, -3))
		if self.from_date > self.to_date:
			frappe.throw(_("From Date must be before To Date"))
		self.currency = frappe.get_cached_value("Company", self.company, "default_currency")

	def run(self):
		reminders = self.reminders()
		in_period = [
			r
			for r in reminders
			if self.from_date <= r.log_date <= self.to_date
			and (not self.filters.scenario or r.scenario == self.filters.scenario)
		]
		invoices = sorted({r.sales_invoice for r in in_period})
		reminder_days = defaultdict(set)
		for r in reminders:
			reminder_days[r.sales_invoice].add(r.log_date)
		payments = self.payments(invoices)
		settled = self.settled_on(invoices)
		rows = self.rows(in_period, reminder_days, payments, settled)
		summary = self.summary(rows, len(invoices))
		return self.columns(), rows, None, self.chart(rows), summary

	# Queries ---------------------------------------------------------------------------------

	def reminders(self) -> list:
		"""Every step sent (or call made) for the company, one row per invoice of each log."""
		log = frappe.qb.DocType("Follow-up Log")
		line = frappe.qb.DocType("Follow-up Log Invoice")
		rows = (
			frappe.qb.from_(line)
			.join(log)
			.on(line.parent == log.name)
			.select(
				line.sales_invoice,
				line.outstanding,
				line.currency,
				log.log_date,
				log.scenario,
				log.step,
				log.step_label,
				log.channel,
			)
			.where(
				(line.parenttype == "Follow-up Log")
				& (log.company == self.company)
				& log.status.isin(SENT_STATUSES)
				& log.step.isnotnull()
				& (log.step != "")
			)
			.run(as_dict=True)
		)
		for row in rows:
			row.log_date = getdate(row.log_date)
		return rows

	def payments(self, invoices: list[str]) -> dict[str, list[tuple[date, float]]]:
		"""Money received against each invoice (payments and journal entries, not credit notes)."""
		if not invoices:
			return {}
		ple = frappe.qb.DocType("Payment Ledger Entry")
		out = defaultdict(list)
		for row in (
			frappe.qb.from_(ple)
			.select(ple.against_voucher_no, ple.posting_date, ple.amount_in_account_currency)
			.where(
				(ple.against_voucher_type == "Sales Invoice")
				& ple.against_voucher_no.isin(invoices)
				& (ple.voucher_type != "Sales Invoice")
				& (ple.delinked == 0)
			)
			.run(as_dict=True)
		):
			out[row.against_voucher_no].append(
				(getdate(row.posting_date), -flt(row.amount_in_account_currency))
			)
		return out

	def settled_on(self, invoices: list[str]) -> dict[str, date]:
		"""The day each fully settled invoice was settled: its last ledger entry (a payment, a journal
		entry or a credit note)."""
		if not invoices:
			return {}
		closed = frappe.get_all(
			"Sales Invoice",
			filters={"name": ("in", invoices), "docstatus": 1, "outstanding_amount": ("<=", 0)},
			pluck="name",
		)
		if not closed:
			return {}
		ple = frappe.qb.DocType("Payment Ledger Entry")
		rows = (
			frappe.qb.from_(ple)
			.select(ple.against_voucher_no, Max(ple.posting_date).as_("day"))
			.where(
				(ple.against_voucher_type == "Sales Invoice")
				& ple.against_voucher_no.isin(closed)
				& (ple.voucher_no != ple.against_voucher_no)
				& (ple.delinked == 0)
			)
			.groupby(ple.against_voucher_no)
			.run(as_dict=True)
		)
		return {row.against_voucher_no: getdate(row.day) for row in rows}

	def receivables_at(self, day: date) -> float:
		ple = frappe.qb.DocType("Payment Ledger Entry")
		result = (
			frappe.qb.from_(ple)
			.select(Sum(ple.amount))
			.where(
				(ple.company == self.company)
				& (ple.account_type == "Receivable")
				& (ple.party_type == "Customer")
				& (ple.delinked == 0)
				& (ple.posting_date <= day)
			)
			.run()
		)
		return flt(result[0][0]) if result else 0.0

	def credit_sales(self) -> float:
		"""Sales invoices (less credit notes) posted to receivables during the period."""
		ple = frappe.qb.DocType("Payment Ledger Entry")
		result = (
			frappe.qb.from_(ple)
			.select(Sum(ple.amount))
			.where(
				(ple.company == self.company)
				& (ple.account_type == "Receivable")
				& (ple.party_type == "Customer")
				& (ple.voucher_type == "Sales Invoice")
				& (ple.delinked == 0)
				& (ple.posting_date >= self.from_date)
				& (ple.posting_date <= self.to_date)
			)
			.run()
		)
		return flt(result[0][0]) if result else 0.0

	def step_order(self) -> dict[tuple[str, str], int]:
		return {
			(row.parent, row.step_key): row.idx
			for row in frappe.get_all(
				"Dunning Scenario Step",
				filters={"parenttype": "Dunning Scenario"},
				fields=["parent", "step_key", "idx"],
			)
		}

	# Figures ---------------------------------------------------------------------------------

	def rows(self, reminders, reminder_days, payments, settled) -> list[dict]:
		groups: dict[tuple, dict] = {}
		for r in reminders:
			key = (r.scenario or "", r.step, r.currency or self.currency)
			group = groups.setdefault(
				key,
				{
					"scenario": r.scenario,
					"step": r.step,
					"step_label": r.step_label or r.step,
					"channel": r.channel,
					"currency": r.currency or self.currency,
					"invoices": set(),
					"paid": 0,
					"days": [],
					"amount_reminded": 0.0,
					"amount_recovered": 0.0,
				},
			)
			if r.sales_invoice in group["invoices"]:
				continue  # one reminder per invoice and step
			group["invoices"].add(r.sales_invoice)
			until = min((d for d in reminder_days[r.sales_invoice] if d > r.log_date), default=NEVER)
			reminded = flt(r.outstanding)
			received = sum(
				amount for day, amount in payments.get(r.sales_invoice, ()) if r.log_date <= day < until
			)
			group["amount_reminded"] += reminded
			group["amount_recovered"] += max(min(received, reminded), 0.0)
			day = settled.get(r.sales_invoice)
			if day and r.log_date <= day < until:
				group["paid"] += 1
				group["days"].append((day - r.log_date).days)
		order = self.step_order()
		rows = []
		for key in sorted(groups, key=lambda k: (k[0], order.get((k[0], k[1]), 999), k[1], k[2])):
			group = groups[key]
			reminded = len(group["invoices"])
			rows.append(
				{
					"scenario": group["scenario"],
					"step": group["step"],
					"step_label": group["step_label"],
					"channel": group["channel"],
					"channel_label": channel_label(group["channel"]),
					"currency": group["currency"],
					"reminded": reminded,
					"paid": group["paid"],
					"paid_share": flt(100 * group["paid"] / reminded, 1) if reminded else 0.0,
					"avg_days": flt(sum(group["days"]) / len(group["days"]), 1) if group["days"] else None,
					"amount_reminded": flt(group["amount_reminded"], 2),
					"amount_recovered": flt(group["amount_recovered"], 2),
					"recovery_rate": flt(100 * group["amount_recovered"] / group["amount_reminded"], 1)
					if group["amount_reminded"]
					else 0.0,
				}
			)
		return rows

	def dso(self) -> tuple[float | None, float, float, int]:
		days = (self.to_date - self.from_date).days + 1
		receivables = self.receivables_at(self.to_date)
		sales = self.credit_sales()
		value = flt(receivables / sales * days, 1) if sales > 0 else None
		return value, receivables, sales, days

	def summary(self, rows, invoices: int) -> list[dict]:
		dso, receivables, sales, days = self.dso()
		reminded = sum(row["amount_reminded"] for row in rows)
		recovered = sum(row["amount_recovered"] for row in rows)
		return [
			{
				"label": _("DSO over {0} days").format(days),
				"value": frappe.format(dso, {"fieldtype": "Float", "precision": 1})
				if dso is not None
				else _("No sales"),
				"datatype": "Data",
				"indicator": "Blue",
			},
			{
				"label": _("Receivables on {0}").format(frappe.format(self.to_date, "Date")),
				"value": receivables,
				"datatype": "Currency",
				"currency": self.currency,
			},
			{
				"label": _("Credit Sales of the Period"),
				"value": sales,
				"datatype": "Currency",
				"currency": self.currency,
			},
			{"label": _("Invoices Reminded"), "value": invoices, "datatype": "Int"},
			{
				"label": _("Recovery Rate"),
				"value": flt(100 * recovered / reminded, 1) if reminded else 0,
				"datatype": "Percent",
				"indicator": "Green",
			},
		]

	def chart(self, rows):
		return {
			"data": {
				"labels": [row["step_label"] for row in rows],
				"datasets": [{"name": _("Recovery Rate"), "values": [row["recovery_rate"] for row in rows]}],
			},
			"type": "bar",
			"fieldtype": "Percent",
			"colors": ["#29cd42"],
		}

	def columns(self):
		return [
			{"fieldname": "step_label", "label": _("Step"), "fieldtype": "Data", "width": 200},
			{
				"fieldname": "scenario",
				"label": _("Scenario"),
				"fieldtype": "Link",
				"options": "Dunning Scenario",
				"width": 120,
			},
			{"fieldname": "channel_label", "label": _("Channel"), "fieldtype": "Data", "width": 130},
			{"fieldname": "reminded", "label": _("Invoices Reminded"), "fieldtype": "Int", "width": 130},
			{"fieldname": "paid", "label": _("Paid Afterwards"), "fieldtype": "Int", "width": 120},
			{"fieldname": "paid_share", "label": _("Paid (%)"), "fieldtype": "Percent", "width": 90},
			{
				"fieldname": "avg_days",
				"label": _("Avg. Days to Pay"),
				"fieldtype": "Float",
				"precision": 1,
				"width": 120,
			},
			{
				"fieldname": "amount_reminded",
				"label": _("Amount Reminded"),
				"fieldtype": "Currency",
				"options": "currency",
				"width": 130,
			},
			{
				"fieldname": "amount_recovered",
				"label": _("Amount Recovered"),
				"fieldtype": "Currency",
				"options": "currency",
				"width": 130,
			},
			{"fieldname": "recovery_rate", "label": _("Recovery Rate"), "fieldtype": "Percent", "width": 110},
			{
				"fieldname": "currency",
				"label": _("Currency"),
				"fieldtype": "Link",
				"options": "Currency",
				"hidden": 1,
			},
		]
