"""A payment closes the follow-up of what it pays; a cancelled payment reopens it."""

from __future__ import annotations

import frappe
from frappe import _
from frappe.utils import getdate

from relance_erpnext.services.mapping import LIVE_STATUSES as LIVE


def _paid_invoices(doc) -> list[str]:
	if doc.doctype == "Payment Entry":
		return sorted(
			{
				ref.reference_name
				for ref in doc.get("references") or []
				if ref.reference_doctype == "Sales Invoice" and ref.reference_name
			}
		)
	if doc.doctype == "Sales Invoice" and doc.is_return and doc.return_against:
		return [doc.return_against]
	return []


def on_payment_submit(doc, method=None):
	from relance_erpnext.services.penalties import bill_penalties_after_payment

	invoices = _paid_invoices(doc)
	close_or_reopen(doc, invoices, closing=True)
	if invoices and doc.doctype == "Payment Entry":
		bill_penalties_after_payment(invoices, getdate(doc.posting_date))


def on_payment_cancel(doc, method=None):
	invoices = _paid_invoices(doc)
	close_or_reopen(doc, invoices, closing=False)
	_drop_draft_penalty_invoices(invoices)


def _drop_draft_penalty_invoices(invoices: list[str]) -> None:
	"""The payment is undone: a penalty invoice not yet submitted no longer applies."""
	if not invoices:
		return
	for name in frappe.get_all(
		"Sales Invoice", filters={"relance_penalty_for": ("in", invoices), "docstatus": 0}, pluck="name"
	):
		frappe.delete_doc("Sales Invoice", name, ignore_permissions=True)


def close_or_reopen(doc, invoices: list[str], closing: bool):
	if not invoices:
		return
	rows = frappe.get_all(
		"Sales Invoice",
		filters={"name": ("in", invoices), "docstatus": 1},
		fields=["name", "customer", "company", "currency", "outstanding_amount", "relance_level"],
	)
	followed = set(
		frappe.get_all(
			"Follow-up Log Invoice",
			filters={"sales_invoice": ("in", invoices), "parenttype": "Follow-up Log"},
			pluck="sales_invoice",
		)
	)
	day = getdate(doc.get("posting_date"))
	for row in rows:
		if closing and row.outstanding_amount > 0:
			continue
		if row.name not in followed and not row.relance_level:
			continue  # never followed up: nothing to close or reopen
		level = _("Paid") if closing else _("Reopened")
		frappe.db.set_value(
			"Sales Invoice",
			row.name,
			{"relance_level": level, "relance_next_action_date": None},
			update_modified=False,
		)
		log = frappe.new_doc("Follow-up Log")
		log.update(
			{
				"customer": row.customer,
				"company": row.company,
				"log_date": day,
				"entry_type": "Automatic",
				"channel": "note",
				"status": "Done",
				"currency": row.currency,
				"outcome": "Paid" if closing else "",
				"subject": (
					_("Paid by {0} {1}") if closing else _("Payment {0} {1} cancelled: follow-up resumes")
				).format(_(doc.doctype), doc.name),
			}
		)
		log.append(
			"invoices",
			{"sales_invoice": row.name, "outstanding": row.outstanding_amount, "currency": row.currency},
		)
		log.insert(ignore_permissions=True)
		if closing:
			_close_commitments(row.name)


def _close_commitments(invoice: str):
	"""Promises and payment plans whose invoices are all paid are kept / completed."""
	for doctype, status, done in (
		("Payment Promise", "Open", "Kept"),
		("Payment Arrangement", "Active", "Completed"),
	):
		parents = frappe.get_all(
			"Payment Promise Invoice",
			filters={"sales_invoice": invoice, "parenttype": doctype},
			pluck="parent",
		)
		for parent in parents:
			if frappe.db.get_value(doctype, parent, "status") != status:
				continue
			others = frappe.get_all(
				"Payment Promise Invoice",
				filters={"parent": parent, "parenttype": doctype},
				pluck="sales_invoice",
			)
			still_open = frappe.get_all(
				"Sales Invoice",
				filters={"name": ("in", others), "outstanding_amount": (">", 0), "docstatus": 1},
				limit=1,
			)
			if not still_open:
				frappe.db.set_value(doctype, parent, "status", done)


def on_invoice_cancel(doc, method=None):
	"""A cancelled invoice leaves the follow-up: its planned steps are cancelled."""
	lines = frappe.get_all(
		"Follow-up Log Invoice",
		filters={"sales_invoice": doc.name, "parenttype": "Follow-up Log"},
		fields=["name", "parent"],
	)
	for line in lines:
		if frappe.db.get_value("Follow-up Log", line.parent, "status") in ("Planned", "To Post"):
			frappe.db.set_value("Follow-up Log", line.parent, "status", "Cancelled")
			frappe.db.set_value("Follow-up Log Invoice", line.name, "dedupe_key", None)
