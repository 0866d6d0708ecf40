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


class TestFollowUpDesk(IntegrationTestCase):
	"""The follow-up screen's lines on a known book; its reads do not grow with the book."""

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_company()
		make_outgoing_email_account()

	def setUp(self):
		frappe.db.set_single_value(
			"Relance Settings", {"review_before_sending": 1, "min_gap_days": 0, "catch_up": "by_due_date"}
		)
		# Only this test's customers: the lines of other tests' companies' invoices are not ours
		frappe.db.delete("Follow-up Log")
		frappe.db.delete("Follow-up Log Invoice")

	def lines_of(self, as_of, customers) -> dict:
		from relance_erpnext.services.desk import follow_up_lines

		found = follow_up_lines(COMPANY, str(as_of))["lines"]
		return {line["customer"]: line for line in found if line["customer"] in customers}

	def test_lines_stages_and_next_actions(self):
		from frappe.utils import add_days

		formal = make_customer("_Relance Ecran Formel", email="ecran1@client.example")
		disputed = make_customer("_Relance Ecran Litige", email="ecran2@client.example")
		first = make_invoice(formal, 1200, days_late=9)
		second = make_invoice(formal, 300, days_late=2)
		held = make_invoice(disputed, 800, days_late=20)
		frappe.db.set_value(
			"Sales Invoice",
			held.name,
			{"relance_hold": 1, "relance_hold_kind": "Dispute", "relance_hold_reason": "Quantité"},
		)
		# Before any run: today's step is the next action, the stage is "not reminded yet"
		before = self.lines_of(AS_OF, {formal, disputed})
		self.assertEqual(set(before), {formal, disputed})
		line = before[formal]
		self.assertTrue(line["today"])
		self.assertEqual(line["total_due"], 1500)
		self.assertEqual(line["stage"], "")
		self.assertEqual(line["next"]["step"], "Relance formelle")  # the most advanced step due today
		self.assertEqual({inv["invoice"] for inv in line["invoices"]}, {first.name, second.name})
		self.assertTrue(before[disputed]["dispute"])
		self.assertFalse(before[disputed]["today"])
		# After the day's run: planned, stage and last action are today's, the next step is later
		run_for_company(COMPANY, AS_OF)
		self.assertEqual(self.lines_of(AS_OF, {formal})[formal]["planned"], 1)
		later = self.lines_of(add_days(AS_OF, 1), {formal})[formal]
		self.assertFalse(later["today"])
		self.assertEqual(later["stage"], "Relance formelle")
		self.assertEqual(later["last"]["date"], AS_OF)
		self.assertGreater(later["next"]["date"], add_days(AS_OF, 1))
		# To do today: only the lines with an action today
		from relance_erpnext.services.desk import follow_up_lines

		today = follow_up_lines(COMPANY, str(AS_OF), to_do_today=1)["lines"]
		self.assertTrue(all(line["today"] for line in today))

	def test_the_reads_do_not_grow_with_the_book(self):
		from relance_erpnext.benchmark import _QueryCounter
		from relance_erpnext.services.desk import follow_up_lines

		customer = make_customer("_Relance Ecran Volume", email="volume@client.example")
		make_invoice(customer, 100, days_late=5)
		follow_up_lines(COMPANY, str(AS_OF))  # settings and scenarios in the cache, as on a desk in use
		with _QueryCounter() as few:
			follow_up_lines(COMPANY, str(AS_OF))
		for i in range(12):
			other = make_customer(f"_Relance Ecran Volume {i}", email=f"v{i}@client.example")
			make_invoice(other, 100 + i, days_late=3 + i)
		with _QueryCounter() as many:
			follow_up_lines(COMPANY, str(AS_OF))
		self.assertEqual(many.count, few.count, (few.count, many.count))
