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
	return {
		"scenario": with_label(applied_scenario(company, None, customer)),
		"hold": hold_of(customer, "customer"),
		"invoices": invoices,
		"history": history,
	}
