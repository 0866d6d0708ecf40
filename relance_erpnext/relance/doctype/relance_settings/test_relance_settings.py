# Copyright (c) 2026, relance_erpnext contributors
# For license information, please see license.txt
"""Late-payment penalties billed on their own invoice, outside VAT, after a late payment."""

import frappe
from frappe.utils import add_days, flt

from relance_erpnext.services.penalties import make_penalty_invoice
from relance_erpnext.tests.compat import IntegrationTestCase
from relance_erpnext.tests.utils import (
	ABBR,
	AS_OF,
	COMPANY,
	make_company,
	make_customer,
	make_invoice,
	make_penalty_item,
	pay,
)


def penalty_invoices(invoice: str) -> list[str]:
	return frappe.get_all(
		"Sales Invoice", filters={"relance_penalty_for": invoice, "docstatus": ("<", 2)}, pluck="name"
	)


class TestPenaltyInvoice(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_company()
		make_penalty_item()

	def setUp(self):
		self.customer = make_customer(
			f"_Relance Pen {self._testMethodName[5:40]}", email="pen@client.example"
		)
		self.settings(bill_penalties=1)

	def settings(self, **values):
		doc = frappe.get_doc("Relance Settings")
		doc.update(
			{"penalty_item": make_penalty_item(), "penalty_income_account": f"Sales - {ABBR}", **values}
		)
		doc.save(ignore_permissions=True)

	def test_a_late_payment_makes_a_draft_penalty_invoice_outside_vat(self):
		invoice = make_invoice(self.customer, 1200, days_late=7)
		pay(invoice.name, day=AS_OF)
		names = penalty_invoices(invoice.name)
		self.assertEqual(len(names), 1)
		penalty = frappe.get_doc("Sales Invoice", names[0])
		self.assertEqual(penalty.docstatus, 0)  # a draft, for the accountant to check and submit
		# 1200 x 12.15 % x 7 / 365 = 2.796 -> 2.80 ; FR business paid late: 40 EUR
		self.assertEqual([flt(item.rate) for item in penalty.items], [2.80, 40.0])
		self.assertEqual([item.item_code for item in penalty.items], [make_penalty_item()] * 2)
		self.assertEqual(penalty.taxes, [])
		self.assertEqual(flt(penalty.grand_total), 42.80)
		self.assertIn(invoice.name, penalty.items[0].description)
		# The paid invoice itself is untouched
		self.assertEqual(flt(frappe.db.get_value("Sales Invoice", invoice.name, "grand_total")), 1200)
		# Asking again gives the same invoice; the database refuses a second one
		self.assertEqual(make_penalty_invoice(invoice.name), penalty.name)
		copy = frappe.copy_doc(penalty)
		copy.relance_penalty_for = invoice.name
		with self.assertRaises(frappe.UniqueValidationError):
			copy.insert(ignore_permissions=True)
		# The penalty invoice can be submitted as it is
		penalty.submit()
		self.assertEqual(flt(penalty.outstanding_amount), 42.80)

	def test_cancelling_the_payment_drops_the_draft(self):
		invoice = make_invoice(self.customer, 500, days_late=20)
		payment = pay(invoice.name, day=AS_OF)
		self.assertEqual(len(penalty_invoices(invoice.name)), 1)
		payment.cancel()
		self.assertEqual(penalty_invoices(invoice.name), [])

	def test_no_penalty_when_paid_on_time_unpaid_or_turned_off(self):
		on_time = make_invoice(self.customer, 300, days_late=0)
		pay(on_time.name, day=AS_OF)
		self.assertEqual(penalty_invoices(on_time.name), [])
		with self.assertRaises(frappe.ValidationError):
			make_penalty_invoice(on_time.name)
		unpaid = make_invoice(self.customer, 300, days_late=10)
		with self.assertRaises(frappe.ValidationError):
			make_penalty_invoice(unpaid.name)
		self.settings(bill_penalties=0)
		late = make_invoice(self.customer, 300, days_late=10)
		pay(late.name, day=AS_OF)
		self.assertEqual(penalty_invoices(late.name), [])

	def test_a_partial_then_final_payment_counts_each_segment(self):
		# 1200 due on AS_OF - 10; 600 paid on AS_OF - 6, 600 on AS_OF:
		# 1200 x 4 days + 600 x 6 days = 8,400 x 12.15 % / 365 = 2.796 -> 2.80
		invoice = make_invoice(self.customer, 1200, days_late=10)
		pay(invoice.name, 600, day=add_days(AS_OF, -6))
		self.assertEqual(penalty_invoices(invoice.name), [])  # not settled yet
		pay(invoice.name, 600, day=AS_OF)
		penalty = frappe.get_doc("Sales Invoice", penalty_invoices(invoice.name)[0])
		self.assertEqual([flt(item.rate) for item in penalty.items], [2.80, 40.0])

	def test_consumers_owe_no_penalty_without_notice(self):
		consumer = make_customer(f"_Relance Pen Mme {self._testMethodName}", customer_type="Individual")
		invoice = make_invoice(consumer, 700, days_late=15)
		pay(invoice.name, day=AS_OF)
		self.assertEqual(penalty_invoices(invoice.name), [])

	def test_settings_need_a_non_stock_penalty_item(self):
		doc = frappe.get_doc("Relance Settings")
		doc.bill_penalties = 1
		doc.penalty_item = None
		with self.assertRaises(frappe.ValidationError):
			doc.save(ignore_permissions=True)

	def test_no_vat_even_where_erpnext_would_apply_it(self):
		template = make_default_vat_template()
		rule = frappe.get_doc(
			{
				"doctype": "Tax Rule",
				"tax_type": "Sales",
				"customer": self.customer,
				"company": COMPANY,
				"sales_tax_template": template,
			}
		).insert(ignore_permissions=True)
		self.addCleanup(rule.delete, ignore_permissions=True)
		# ERPNext itself puts the VAT on an invoice for this customer made the same way...
		ordinary = frappe.new_doc("Sales Invoice")
		ordinary.update(
			{
				"company": COMPANY,
				"customer": self.customer,
				# in euros, whatever the site's default price list is in (USD on a fresh v16 site)
				"currency": "EUR",
				"conversion_rate": 1,
				"plc_conversion_rate": 1,
				"items": [{"item_code": make_penalty_item(), "qty": 1, "rate": 10}],
			}
		)
		ordinary.set_missing_values()
		self.assertEqual(ordinary.taxes_and_charges, template)
		# ...but never on the penalties
		invoice = make_invoice(self.customer, 1000, days_late=10)
		pay(invoice.name, day=AS_OF)
		penalty = frappe.get_doc("Sales Invoice", penalty_invoices(invoice.name)[0])
		self.assertEqual((penalty.taxes_and_charges, penalty.taxes), (None, []))
		self.assertEqual(flt(penalty.total_taxes_and_charges), 0)
		self.assertEqual(flt(penalty.grand_total), flt(sum(item.amount for item in penalty.items)))
		# Even with ERPNext set to add the template's rows on save, and after someone adds VAT by hand
		settings = frappe.get_doc("Accounts Settings")
		self.addCleanup(
			frappe.db.set_single_value,
			"Accounts Settings",
			"add_taxes_from_taxes_and_charges_template",
			settings.add_taxes_from_taxes_and_charges_template,
		)
		frappe.db.set_single_value("Accounts Settings", "add_taxes_from_taxes_and_charges_template", 1)
		penalty.taxes_and_charges = template
		penalty.save(ignore_permissions=True)
		penalty.submit()
		self.assertEqual((penalty.taxes_and_charges, penalty.taxes), (None, []))
		self.assertEqual(flt(penalty.grand_total), flt(sum(item.amount for item in penalty.items)))


def make_default_vat_template() -> str:
	"""TVA 20 % as the test company's default sales tax template (created once)."""
	name = frappe.db.get_value(
		"Sales Taxes and Charges Template", {"company": COMPANY, "title": "_Relance TVA"}
	)
	if name:
		return name
	account = frappe.db.get_value("Account", {"account_name": "_Relance TVA collectée", "company": COMPANY})
	if not account:
		account = (
			frappe.get_doc(
				{
					"doctype": "Account",
					"account_name": "_Relance TVA collectée",
					"company": COMPANY,
					"parent_account": f"Duties and Taxes - {ABBR}",
					"account_type": "Tax",
					"tax_rate": 20,
				}
			)
			.insert(ignore_permissions=True)
			.name
		)
	return (
		frappe.get_doc(
			{
				"doctype": "Sales Taxes and Charges Template",
				"title": "_Relance TVA",
				"company": COMPANY,
				"is_default": 1,
				"taxes": [
					{
						"charge_type": "On Net Total",
						"account_head": account,
						"rate": 20,
						"description": "TVA 20 %",
					}
				],
			}
		)
		.insert(ignore_permissions=True)
		.name
	)
