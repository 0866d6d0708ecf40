"""Factories for the Frappe tests: real ERPNext documents on the test company (no fakes)."""

from __future__ import annotations

import frappe
from frappe.utils import add_days, getdate

COMPANY = "_Relance Test SAS"
ABBR = "RTS"
ITEM = "_Relance Prestation"
AS_OF = getdate("2026-06-15")  # inside the bundled reference-rate tables


def make_company() -> str:
	"""A French company in EUR (the French rules need France), with its standard chart of accounts."""
	if not frappe.db.exists("Company", COMPANY):
		frappe.get_doc(
			{
				"doctype": "Company",
				"company_name": COMPANY,
				"abbr": ABBR,
				"default_currency": "EUR",
				"country": "France",
				"create_chart_of_accounts_based_on": "Standard Template",
				"chart_of_accounts": "Standard",
			}
		).insert(ignore_permissions=True)
	if not frappe.db.exists("Item", ITEM):
		frappe.get_doc(
			{
				"doctype": "Item",
				"item_code": ITEM,
				"item_group": frappe.db.get_value("Item Group", {"is_group": 0}, "name"),
				"stock_uom": "Nos",
				"is_stock_item": 0,
			}
		).insert(ignore_permissions=True)
	return COMPANY


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
	"""A submitted Sales Invoice of `amount` (EUR) due `days_late` days before `as_of`."""
	make_company()
	due = add_days(as_of, -days_late)
	invoice = frappe.get_doc(
		{
			"doctype": "Sales Invoice",
			"company": COMPANY,
			"customer": customer,
			"currency": "EUR",
			"conversion_rate": 1,
			"set_posting_time": 1,
			"posting_date": add_days(due, -30),
			"due_date": due,
			"debit_to": f"Debtors - {ABBR}",
			"items": [
				{
					"item_code": ITEM,
					"qty": 1,
					"rate": amount,
					"income_account": f"Sales - {ABBR}",
					"cost_center": f"Main - {ABBR}",
				}
			],
			**extra,
		}
	)
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


def make_outgoing_email_account() -> str:
	"""A default outgoing account: Frappe queues mail only when one exists (nothing is sent in tests)."""
	name = "_Relance Outgoing"
	if not frappe.db.exists("Email Account", name):
		frappe.get_doc(
			{
				"doctype": "Email Account",
				"email_account_name": name,
				"email_id": "relance@example.com",
				"enable_outgoing": 1,
				"default_outgoing": 1,
				"smtp_server": "127.0.0.1",
				"smtp_port": 2525,
				"no_smtp_authentication": 1,
			}
		).insert(ignore_permissions=True)
	return name


def make_address(customer: str) -> str:
	"""A billing address, made the customer's primary one (letters need a postal address)."""
	name = frappe.db.get_value("Customer", customer, "customer_primary_address")
	if name:
		return name
	address = frappe.get_doc(
		{
			"doctype": "Address",
			"address_title": customer,
			"address_type": "Billing",
			"address_line1": "8 rue des Lilas",
			"city": "Lyon",
			"pincode": "69003",
			"country": "France",
			"links": [{"link_doctype": "Customer", "link_name": customer}],
		}
	).insert(ignore_permissions=True)
	frappe.db.set_value("Customer", customer, "customer_primary_address", address.name)
	return address.name


PENALTY_ITEM = "_Relance Pénalités de retard"


def make_penalty_item() -> str:
	make_company()
	if not frappe.db.exists("Item", PENALTY_ITEM):
		frappe.get_doc(
			{
				"doctype": "Item",
				"item_code": PENALTY_ITEM,
				"item_group": frappe.db.get_value("Item Group", {"is_group": 0}, "name"),
				"stock_uom": "Nos",
				"is_stock_item": 0,
			}
		).insert(ignore_permissions=True)
	return PENALTY_ITEM
