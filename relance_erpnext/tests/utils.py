"""Factories for the Frappe tests: real ERPNext documents on the test company (no fakes)."""

from __future__ import annotations

import frappe
from frappe.utils import add_days, getdate

COMPANY = "_Test Company"
AS_OF = getdate("2026-06-15")  # inside the bundled reference-rate tables


def make_customer(name: str, customer_type: str = "Company", email: str | None = None, **extra) -> str:
	if frappe.db.exists("Customer", name):
		return name
	doc = frappe.get_doc(
		{
			"doctype": "Customer",
			"customer_name": name,
			"customer_type": customer_type,
			"customer_group": frappe.db.get_value("Customer Group", {"is_group": 0}, "name"),
			"territory": frappe.db.get_value("Territory", {"is_group": 0}, "name"),
			"language": "fr",
			**extra,
		}
	).insert(ignore_permissions=True)
	if email:
		contact = frappe.get_doc(
			{
				"doctype": "Contact",
				"first_name": name,
				"email_ids": [{"email_id": email, "is_primary": 1}],
				"links": [{"link_doctype": "Customer", "link_name": doc.name}],
			}
		).insert(ignore_permissions=True)
		frappe.db.set_value(
			"Customer", doc.name, {"customer_primary_contact": contact.name, "email_id": email}
		)
	return doc.name


def make_invoice(customer: str, amount: float, days_late: int, as_of=AS_OF, submit: bool = True, **extra):
	"""A submitted Sales Invoice of `amount` due `days_late` days before `as_of`."""
	from erpnext.accounts.doctype.sales_invoice.test_sales_invoice import create_sales_invoice

	due = add_days(as_of, -days_late)
	invoice = create_sales_invoice(
		customer=customer,
		company=COMPANY,
		posting_date=add_days(due, -30),
		qty=1,
		rate=amount,
		do_not_save=True,
		**extra,
	)
	invoice.set_posting_time = 1
	invoice.payment_schedule = []
	invoice.due_date = due
	invoice.insert(ignore_permissions=True)
	if submit:
		invoice.submit()
	return invoice


def pay(invoice_name: str, amount: float | None = None, day=AS_OF):
	from erpnext.accounts.doctype.payment_entry.payment_entry import get_payment_entry

	payment = get_payment_entry("Sales Invoice", invoice_name)
	payment.posting_date = day
	payment.reference_no = f"VIR-{invoice_name}"
	payment.reference_date = day
	if amount is not None:
		payment.paid_amount = amount
		payment.received_amount = amount
		payment.references[0].allocated_amount = amount
	payment.insert(ignore_permissions=True)
	payment.submit()
	return payment


def make_user(email: str, roles: list[str]) -> str:
	if not frappe.db.exists("User", email):
		frappe.get_doc(
			{
				"doctype": "User",
				"email": email,
				"first_name": email.split("@")[0],
				"send_welcome_email": 0,
				"roles": [{"role": role} for role in roles],
			}
		).insert(ignore_permissions=True)
	return email
