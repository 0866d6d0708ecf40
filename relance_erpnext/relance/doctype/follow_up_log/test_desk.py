# Copyright (c) 2026, relance_erpnext contributors
# For license information, please see license.txt
"""The follow-up where people work: on the invoice and the customer (where it stands, which scenario
and why, the history with each invoice's own figures) and in their timelines."""

import frappe

from relance_erpnext.services.desk import customer_follow_up, invoice_follow_up
from relance_erpnext.services.runner import run_for_company, send_logs
from relance_erpnext.tests.compat import IntegrationTestCase
from relance_erpnext.tests.utils import (
	AS_OF,
	COMPANY,
	make_company,
	make_customer,
	make_invoice,
	make_outgoing_email_account,
)


def timeline(doctype: str, name: str) -> list[str]:
	return frappe.get_all(
		"Comment",
		filters={"reference_doctype": doctype, "reference_name": name, "comment_type": "Info"},
		pluck="content",
	)


class TestDesk(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_company()
		make_outgoing_email_account()

	def setUp(self):
		frappe.db.set_single_value(
			"Relance Settings", {"review_before_sending": 1, "min_gap_days": 0, "catch_up": "by_due_date"}
		)

	def test_the_invoice_shows_its_own_figures_its_scenario_and_the_letters_in_its_timeline(self):
		customer = make_customer("_Relance Desk Facture", email="desk@client.example")
		first = make_invoice(customer, 1200, days_late=9)
		second = make_invoice(customer, 300, days_late=8)
		run_for_company(COMPANY, AS_OF)
		log = frappe.db.get_value("Follow-up Log", {"customer": customer})
		send_logs([log])
		shown = invoice_follow_up(first.name)
		self.assertEqual(shown["scenario"]["scenario"], "standard")
		self.assertEqual(shown["scenario"]["source"], "the default scenario")
		self.assertIsNone(shown["hold"])
		(row,) = shown["history"]
		# this invoice's 1 200 € and its own penalties and indemnity, not the letter's total
		self.assertAlmostEqual(row.claimed, 1200 + row.interest + 40, places=2)
		self.assertLess(row.claimed, frappe.db.get_value("Follow-up Log", log, "grand_total"))
		for invoice in (first.name, second.name):
			(entry,) = timeline("Sales Invoice", invoice)
			self.assertIn(log, entry)
		self.assertEqual(len(timeline("Customer", customer)), 1)
		# The customer's form lists its overdue invoices with their stage
		listed = {inv.name: inv.relance_level for inv in customer_follow_up(customer)["invoices"]}
		self.assertEqual(set(listed), {first.name, second.name})
		self.assertTrue(all(listed.values()))

	def test_a_dispute_shows_with_its_reason_on_the_form_and_in_the_timeline(self):
		customer = make_customer("_Relance Desk Litige", email="litige@client.example")
		invoice = make_invoice(customer, 500, days_late=12)
		doc = frappe.get_doc("Sales Invoice", invoice.name)
		doc.update(
			{
				"relance_hold": 1,
				"relance_hold_kind": "Dispute",
				"relance_hold_reason": "Conteste la quantité livrée",
			}
		)
		doc.save(ignore_permissions=True)  # on a submitted invoice: allowed on submit
		shown = invoice_follow_up(invoice.name)
		self.assertEqual(
			(shown["hold"]["kind"], shown["hold"]["reason"], shown["hold"]["on"]),
			("Dispute", "Conteste la quantité livrée", "invoice"),
		)
		(entry,) = timeline("Sales Invoice", invoice.name)
		self.assertIn("Conteste la quantité livrée", entry)
		doc.reload()
		doc.relance_hold = 0
		doc.save(ignore_permissions=True)
		self.assertEqual(len(timeline("Sales Invoice", invoice.name)), 2)
		self.assertIsNone(invoice_follow_up(invoice.name)["hold"])

	def test_the_scenario_says_where_it_comes_from(self):
		customer = make_customer("_Relance Desk Scenario", email="scenario@client.example")
		invoice = make_invoice(customer, 400, days_late=3)
		frappe.db.set_value("Customer", customer, "relance_scenario", "clients_douteux")
		self.assertEqual(
			invoice_follow_up(invoice.name)["scenario"],
			{
				"scenario": "clients_douteux",
				"source": "set on the customer",
				"label": frappe.db.get_value("Dunning Scenario", "clients_douteux", "scenario_name"),
			},
		)
		frappe.db.set_value("Sales Invoice", invoice.name, "relance_scenario", "preventif")
		self.assertEqual(invoice_follow_up(invoice.name)["scenario"]["source"], "set on the invoice")
