# Copyright (c) 2026, relance_erpnext contributors
# For license information, please see license.txt
"""One conversation per customer, on a real site: one log a day at the most advanced step with every
invoice at its own step, a first run after install that starts with a first contact, and what a
person logged by hand read back by the next run."""

import re

import frappe
from frappe.utils import add_days

from relance_erpnext.services.runner import make_plan, run_for_company
from relance_erpnext.tests.compat import IntegrationTestCase
from relance_erpnext.tests.utils import (
	AS_OF,
	COMPANY,
	make_address,
	make_company,
	make_customer,
	make_invoice,
	make_outgoing_email_account,
)

# What only a letter following an earlier reminder may say
EARLIER = ("Malgré", "précédent", "nos relances", "déjà écrit")


def plain(html: str) -> str:
	return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html or ""))


def logs_of(customer: str) -> list:
	names = frappe.get_all(
		"Follow-up Log", filters={"customer": customer, "entry_type": "Automatic"}, pluck="name"
	)
	return [frappe.get_doc("Follow-up Log", name) for name in names]


class TestConversation(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_company()
		make_outgoing_email_account()

	def setUp(self):
		frappe.db.set_single_value(
			"Relance Settings", {"review_before_sending": 1, "min_gap_days": 0, "catch_up": "first_contact"}
		)

	def test_first_run_after_install_starts_with_a_first_contact(self):
		"""A book never followed up: an invoice 35 days late gets the courteous reminder, not a mise en
		demeure, together with the customer's other overdue invoice; the next steps count from it."""
		customer = make_customer("_Relance Conv Premier", email="premier@client.example")
		old = make_invoice(customer, 1200, days_late=35)
		recent = make_invoice(customer, 480, days_late=2)
		run_for_company(COMPANY, AS_OF)
		(log,) = logs_of(customer)
		self.assertEqual((log.step, log.channel), ("rappel_courtois", "email"))
		self.assertEqual(
			sorted((row.sales_invoice, row.step) for row in log.invoices),
			sorted([(old.name, "rappel_courtois"), (recent.name, "rappel_courtois")]),
		)
		text = plain(log.message)
		self.assertIn("Sauf erreur", text)
		for phrase in EARLIER:
			self.assertNotIn(phrase, text)
		# The formal reminder comes six days after the first contact (standard: day 1, then day 7)
		for days, expected in ((5, "relance_formelle@2026-06-21"), (1, "relance_formelle@2026-06-21")):
			_book, later = make_plan(COMPANY, add_days(AS_OF, days))
			reasons = {s.invoice: (s.reason, s.detail) for s in later.skipped}
			self.assertEqual(reasons[old.name], ("waiting_next_step", expected))
			self.assertNotIn(customer, {a.customer for a in later.actions})
		_book, week = make_plan(COMPANY, add_days(AS_OF, 6))
		(action,) = [a for a in week.actions if a.customer == customer]
		self.assertEqual(action.step, "relance_formelle")

	def test_one_log_per_customer_and_currency_at_its_most_advanced_step(self):
		"""By due date, three invoices at three steps: one registered letter, each invoice at its own
		step in the log (its own line in the history)."""
		frappe.db.set_single_value("Relance Settings", "catch_up", "by_due_date")
		customer = make_customer("_Relance Conv Groupe", email="groupe@client.example")
		make_address(customer)
		invoices = {
			make_invoice(customer, 2400, days_late=35).name: "mise_en_demeure",
			make_invoice(customer, 300, days_late=9).name: "relance_formelle",
			make_invoice(customer, 480, days_late=2).name: "rappel_courtois",
		}
		run_for_company(COMPANY, AS_OF)
		(log,) = logs_of(customer)
		self.assertEqual((log.step, log.channel), ("mise_en_demeure", "registered_letter"))
		self.assertEqual({row.sales_invoice: row.step for row in log.invoices}, invoices)
		self.assertEqual(log.total_outstanding, 3180)
		# The same day again: nothing more for this customer
		run_for_company(COMPANY, AS_OF)
		self.assertEqual(len(logs_of(customer)), 1)

	def test_a_reminder_logged_by_hand_is_read_back_and_cited(self):
		"""The courteous email went out by hand on 9 June: the run of the 15th sends the formal reminder
		(not a first contact) and cites that email."""
		customer = make_customer("_Relance Conv Manuel", email="manuel@client.example")
		invoice = make_invoice(customer, 900, days_late=10)
		frappe.get_doc(
			{
				"doctype": "Follow-up Log",
				"customer": customer,
				"company": COMPANY,
				"entry_type": "Manual",
				"channel": "email",
				"status": "Sent",
				"log_date": add_days(AS_OF, -6),
				"step": "rappel_courtois",
				"currency": "EUR",
				"invoices": [{"sales_invoice": invoice.name, "step": "rappel_courtois", "outstanding": 900}],
			}
		).insert(ignore_permissions=True)
		run_for_company(COMPANY, AS_OF)
		(log,) = logs_of(customer)
		self.assertEqual((log.step, log.channel), ("relance_formelle", "email"))
		self.assertIn("courriel du 9 juin 2026", plain(log.message))

	def credit_note(self, invoice, amount: float):
		"""A credit note made from the invoice (Create › Return / Credit Note), keeping its own
		outstanding as ERPNext 15.71 does by default ("Update Outstanding for Self")."""
		from erpnext.accounts.doctype.sales_invoice.sales_invoice import make_sales_return

		note = make_sales_return(invoice.name)
		note.update_outstanding_for_self = 1
		note.items[0].qty = -1
		note.items[0].rate = amount
		note.set_posting_time = 1
		note.posting_date = add_days(AS_OF, -1)
		note.insert(ignore_permissions=True)
		note.submit()
		return note

	def test_a_credit_note_made_from_the_invoice_settles_it(self):
		"""The invoice stays open in ERPNext (its credit note has its own outstanding): the run counts the
		credit note against it, and reminds only what is left, or nothing."""
		frappe.db.set_single_value("Relance Settings", "catch_up", "by_due_date")
		settled = make_customer("_Relance Conv Avoir Total", email="avoir1@client.example")
		full = make_invoice(settled, 450, days_late=16)
		self.credit_note(full, 450)
		self.assertEqual(
			frappe.db.get_value("Sales Invoice", full.name, "outstanding_amount"), 450
		)  # ERPNext's
		part = make_customer("_Relance Conv Avoir Partiel", email="avoir2@client.example")
		half = make_invoice(part, 600, days_late=9)
		self.credit_note(half, 200)
		run_for_company(COMPANY, AS_OF)
		self.assertEqual(logs_of(settled), [])  # nothing owed: no call, no 40 €
		_book, plan = make_plan(COMPANY, AS_OF)
		self.assertIn({s.invoice: s.reason for s in plan.skipped}.get(full.name), ("paid", "credits_cover"))
		(log,) = logs_of(part)
		(row,) = log.invoices
		self.assertEqual((row.sales_invoice, row.outstanding), (half.name, 400))  # 600 - the 200 credit note
		# the letter shows the credit note where it lowered the base of the interest
		self.assertIn("avoir de 200,00", plain(log.message).replace("\u202f", " ").replace("\xa0", " "))
