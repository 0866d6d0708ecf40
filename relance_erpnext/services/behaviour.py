"""How each customer pays, read from ERPNext in bulk, and the doubtful customers' rule applied to the
Customer (the figures and the rule are the core's: dunning/behaviour.py)."""

from __future__ import annotations

from datetime import date, timedelta

import frappe
from frappe import _
from frappe.query_builder.functions import Max
from frappe.utils import getdate, today

from relance_erpnext.dunning.behaviour import (
	WINDOW_DAYS,
	DoubtfulRule,
	InvoiceRecord,
	PaymentBehaviour,
	doubtful,
	payment_behaviour,
	verdict_text,
)
from relance_erpnext.services.mapping import GONE_STATUSES, site_language, to_decimal


def behaviours(customers: list[str], as_of: date) -> dict[str, PaymentBehaviour]:
	"""Each customer's payment behaviour over the twelve months before `as_of`: four queries in all."""
	if not customers:
		return {}
	start = as_of - timedelta(days=WINDOW_DAYS)
	si = frappe.qb.DocType("Sales Invoice")
	invoices = (
		frappe.qb.from_(si)
		.select(si.name, si.customer, si.due_date, si.outstanding_amount)
		.where(
			(si.docstatus == 1)
			& (si.is_return == 0)
			& si.customer.isin(customers)
			& (si.due_date > start)
			& (si.due_date <= as_of)
		)
		.run(as_dict=True)
	)
	settled = settled_days([row.name for row in invoices if row.outstanding_amount <= 0])
	records: dict[str, list[InvoiceRecord]] = {c: [] for c in customers}
	for row in invoices:
		on = settled.get(row.name) if row.outstanding_amount <= 0 else None
		if row.outstanding_amount <= 0 and on is None:
			on = getdate(row.due_date)  # settled without a payment entry (a credit note, a write-off)
		records[row.customer].append(InvoiceRecord(getdate(row.due_date), on))
	promise = frappe.qb.DocType("Payment Promise")
	broken: dict[str, list[date]] = {}
	for row in (
		frappe.qb.from_(promise)
		.select(promise.customer, promise.promised_date)
		.where((promise.status == "Broken") & promise.customer.isin(customers))
		.run(as_dict=True)
	):
		broken.setdefault(row.customer, []).append(getdate(row.promised_date))
	log = frappe.qb.DocType("Follow-up Log")
	last = dict(
		frappe.qb.from_(log)
		.select(log.customer, Max(log.log_date))
		.where(log.customer.isin(customers) & log.status.isin(GONE_STATUSES) & (log.log_date <= as_of))
		.groupby(log.customer)
		.run()
	)
	return {
		c: payment_behaviour(records[c], as_of, broken.get(c, ()), getdate(last[c]) if last.get(c) else None)
		for c in customers
	}


def settled_days(invoices: list[str]) -> dict[str, date]:
	"""The day each paid invoice was settled: its last payment (Payment Ledger, not undone)."""
	if not invoices:
		return {}
	ple = frappe.qb.DocType("Payment Ledger Entry")
	rows = (
		frappe.qb.from_(ple)
		.select(ple.against_voucher_no, Max(ple.posting_date))
		.where(
			(ple.against_voucher_type == "Sales Invoice")
			& ple.against_voucher_no.isin(invoices)
			& (ple.voucher_no != ple.against_voucher_no)
			& (ple.delinked == 0)
		)
		.groupby(ple.against_voucher_no)
		.run()
	)
	return {name: getdate(day) for name, day in rows}


def as_dict(behaviour: PaymentBehaviour) -> dict:
	return {
		"invoices": behaviour.invoices,
		"paid_late": behaviour.paid_late,
		"share_late": float(behaviour.share_late),
		"average_days_late": float(behaviour.average_days_late),
		"broken_promises": behaviour.broken_promises,
		"last_contact": behaviour.last_contact,
	}


DOUBTFUL_SCENARIO = "clients_douteux"  # the built-in one (seed 003)


def doubtful_scenario(settings) -> str:
	return settings.doubtful_scenario or DOUBTFUL_SCENARIO


def doubtful_rule(settings) -> DoubtfulRule | None:
	if not settings.doubtful_rule_enabled:
		return None
	return DoubtfulRule(
		min_invoices=int(settings.doubtful_min_invoices or 3),
		average_days_late=to_decimal(settings.doubtful_average_days_late or 30),
		share_late=to_decimal(settings.doubtful_share_late or 50),
		broken_promises=int(settings.doubtful_broken_promises or 2),
	)


def apply_doubtful_rule(company: str, as_of: date) -> list[str]:
	"""Move the company's customers to the doubtful customers' scenario and back as the rule says,
	each move a note in the customer's follow-up with its reason. A scenario chosen by a person is
	left alone: the rule only moves customers without one, or those it moved itself."""
	settings = frappe.get_cached_doc("Relance Settings")
	rule = doubtful_rule(settings)
	if rule is None:
		return []
	start = as_of - timedelta(days=WINDOW_DAYS)
	customers = frappe.get_all(
		"Sales Invoice",
		filters={"company": company, "docstatus": 1, "due_date": (">", start)},
		pluck="customer",
		distinct=True,
	)
	fields = ["name", "relance_scenario", "relance_scenario_by_rule"]
	rows = frappe.get_all("Customer", filters={"name": ("in", customers or [""])}, fields=fields)
	# and those the rule moved, even without an invoice in the window any more (they move back)
	listed = {row.name for row in rows}
	rows += [
		row
		for row in frappe.get_all("Customer", filters={"relance_scenario_by_rule": 1}, fields=fields)
		if row.name not in listed
	]
	candidates = [r for r in rows if not r.relance_scenario or r.relance_scenario_by_rule]
	seen = behaviours([r.name for r in candidates], as_of)
	language = site_language()
	moved = []
	for row in candidates:
		verdict = doubtful(seen[row.name], rule)
		now_doubtful = bool(row.relance_scenario_by_rule)
		if verdict.doubtful == now_doubtful:
			continue
		scenario = doubtful_scenario(settings) if verdict.doubtful else None
		frappe.db.set_value(
			"Customer",
			row.name,
			{"relance_scenario": scenario, "relance_scenario_by_rule": int(verdict.doubtful)},
		)
		why = verdict_text(verdict, language) if verdict.doubtful else _("pays on time again", language)
		note = (
			_("Moved to the scenario {0}: {1}", language).format(scenario, why)
			if verdict.doubtful
			else _("Back to the usual scenario: {0}", language).format(why)
		)
		frappe.get_doc(
			{
				"doctype": "Follow-up Log",
				"customer": row.name,
				"company": company,
				"log_date": as_of,
				"entry_type": "Automatic",
				"channel": "note",
				"status": "Done",
				"answer": note,
			}
		).insert(ignore_permissions=True)
		moved.append(row.name)
	return moved


@frappe.whitelist()
def customer_behaviour(name: str) -> dict:
	frappe.get_doc("Customer", name).check_permission("read")
	return as_dict(behaviours([name], getdate(today()))[name])
