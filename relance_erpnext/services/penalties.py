"""Late-payment penalties billed on their own Sales Invoice, outside VAT, once the late invoice is paid.

The paid invoice is never edited (C. com. L441-10: penalties are due without a reminder; they are
claimed by a separate document). The figures come from the core (`charges.penalty_claim`); this
module only reads ERPNext and writes the draft invoice for an accountant to check and submit.
"""

from __future__ import annotations

from datetime import date

import frappe
from frappe import _
from frappe.utils import formatdate, getdate, today

from relance_erpnext.dunning.charges import penalty_claim
from relance_erpnext.dunning.models import ActionLine
from relance_erpnext.services import repository
from relance_erpnext.services.mapping import to_float


def penalty_line(doc, as_of: date) -> ActionLine | None:
	"""The penalties owed on one submitted Sales Invoice, as the core computes them."""
	invoice = repository.load_invoice(doc)
	if invoice is None:
		return None
	customer = repository.load_customer(doc.customer, doc.company)
	notice_day, notice_days = repository.formal_notice_of(doc.name)
	return penalty_claim(invoice, customer, as_of, repository.load_rates(), notice_day, notice_days)


def existing_penalty_invoice(sales_invoice: str) -> str | None:
	return frappe.db.get_value(
		"Sales Invoice", {"relance_penalty_for": sales_invoice, "docstatus": ("<", 2)}, "name"
	)


@frappe.whitelist()
def make_penalty_invoice(sales_invoice: str, as_of: str | None = None) -> str:
	"""Create (as a draft) the penalty invoice of a Sales Invoice paid late; return its name.

	Returns the existing one when it was already billed: the `relance_penalty_for` field is unique, so
	the database itself refuses a second penalty invoice for the same invoice."""
	frappe.has_permission("Sales Invoice", "create", throw=True)
	doc = frappe.get_doc("Sales Invoice", sales_invoice)
	doc.check_permission("read")
	existing = existing_penalty_invoice(sales_invoice)
	if existing:
		return existing
	settings = frappe.get_cached_doc("Relance Settings")
	if not settings.bill_penalties:
		frappe.throw(_("Billing late-payment penalties is turned off in Relance Settings."))
	if not settings.penalty_item:
		frappe.throw(_("Relance Settings: set the Penalty Item used on penalty invoices."))
	if doc.docstatus != 1 or doc.is_return or doc.get("relance_penalty_for"):
		frappe.throw(_("Only a submitted sales invoice (not a return, not a penalty invoice) has penalties."))
	if doc.outstanding_amount > 0:
		frappe.throw(
			_(
				"Invoice {0} is not fully paid yet: its reminders already claim the penalties. "
				"A penalty invoice is made once it is paid."
			).format(sales_invoice)
		)
	day = getdate(as_of or today())
	line = penalty_line(doc, day)
	if line is None:
		frappe.throw(_("No late-payment penalty is due on invoice {0}.").format(sales_invoice))
	return build_penalty_invoice(doc, line, day, settings).name


def build_penalty_invoice(doc, line: ActionLine, day: date, settings, ignore_permissions: bool = False):
	lang = (
		"fr" if (frappe.db.get_value("Customer", doc.customer, "language") or "fr").startswith("fr") else "en"
	)
	rows = []
	if line.interest > 0:
		rows.append(
			(
				line.interest,
				_("Late-payment interest on invoice {0} (due {1}), {2} days late", lang=lang).format(
					doc.name, formatdate(line.due, "dd/MM/yyyy"), line.days_late
				),
			)
		)
	if line.indemnity > 0:
		rows.append(
			(
				line.indemnity,
				_("Fixed recovery indemnity on invoice {0} (C. com. art. L441-10, D441-5)", lang=lang).format(
					doc.name
				),
			)
		)
	penalty = frappe.new_doc("Sales Invoice")
	penalty.update(
		{
			"company": doc.company,
			"customer": doc.customer,
			"currency": doc.currency,
			"conversion_rate": doc.conversion_rate,
			"selling_price_list": doc.selling_price_list,
			"debit_to": doc.debit_to,
			"set_posting_time": 1,
			"posting_date": day,
			"due_date": day,  # penalties are payable on receipt
			"relance_penalty_for": doc.name,
			# Penalties and the fixed indemnity are not the price of a supply: no VAT is charged on
			# them (CGI art. 256; BOI-TVA-BASE-10-10-10, indemnities without consideration)
			"remarks": _(
				"Late-payment interest and the fixed recovery indemnity are outside the scope of VAT "
				"(no supply in return).",
				lang=lang,
			),
		}
	)
	for amount, description in rows:
		penalty.append(
			"items",
			{
				"item_code": settings.penalty_item,
				"item_name": description[:140],
				"description": description,
				"qty": 1,
				"rate": to_float(amount),
				"income_account": settings.penalty_income_account or None,
				"cost_center": doc.items[0].cost_center if doc.items else None,
			},
		)
	penalty.set_missing_values()
	penalty.insert(ignore_permissions=ignore_permissions)  # keep_outside_vat runs on validate
	log_penalty_invoice(doc, penalty, line, day)
	return penalty


def log_penalty_invoice(doc, penalty, line: ActionLine, day: date) -> None:
	log = frappe.new_doc("Follow-up Log")
	log.update(
		{
			"customer": doc.customer,
			"company": doc.company,
			"log_date": day,
			"entry_type": "Automatic",
			"channel": "note",
			"status": "Done",
			"currency": doc.currency,
			"subject": _("Late-payment penalties billed on {0}").format(penalty.name),
		}
	)
	log.append(
		"invoices",
		{
			"sales_invoice": doc.name,
			"due_date": line.due,
			"days_late": line.days_late,
			"outstanding": 0,
			"interest": to_float(line.interest),
			"indemnity": to_float(line.indemnity),
			"interest_from": line.interest_from,
			"currency": doc.currency,
		},
	)
	log.insert(ignore_permissions=True)


def bill_penalties_after_payment(invoices: list[str], day: date) -> None:
	"""Called when a payment settles invoices: a draft penalty invoice for each one paid late, when
	Relance Settings say so. Never blocks the payment: a failure is logged for the accountant."""
	settings = frappe.get_cached_doc("Relance Settings")
	if not settings.bill_penalties or not settings.penalty_item:
		return
	for name in invoices:
		if existing_penalty_invoice(name):
			continue
		savepoint = "relance_penalty"
		frappe.db.savepoint(savepoint)
		try:
			doc = frappe.get_doc("Sales Invoice", name)
			if doc.outstanding_amount > 0 or doc.is_return or doc.get("relance_penalty_for"):
				continue
			line = penalty_line(doc, day)
			if line is not None:
				build_penalty_invoice(doc, line, day, settings, ignore_permissions=True)
		except Exception:
			frappe.db.rollback(save_point=savepoint)
			frappe.log_error(title=_("Penalty invoice for {0} could not be made").format(name))


def keep_outside_vat(doc, method=None):
	"""Sales Invoice validate hook: a penalty invoice carries no tax template and no tax rows.

	ERPNext fills them on every save from the customer's tax rule or the company's default (and adds
	the rows when Accounts Settings say so), after this app built the invoice without them."""
	if not doc.get("relance_penalty_for"):
		return
	if not (doc.get("taxes") or doc.get("taxes_and_charges") or any(i.item_tax_template for i in doc.items)):
		return
	doc.taxes_and_charges = None
	doc.set("taxes", [])
	for item in doc.items:
		item.item_tax_template = None
		item.item_tax_rate = "{}"
	doc.calculate_taxes_and_totals()
