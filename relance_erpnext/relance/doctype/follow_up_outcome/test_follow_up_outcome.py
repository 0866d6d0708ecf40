# Copyright (c) 2026, relance_erpnext contributors
# For license information, please see license.txt
"""Outcomes that act (seed 004): what the customer answered changes the follow-up, visibly."""

import frappe
from frappe.utils import add_days, getdate, today

from relance_erpnext.services.outcomes import create_default_outcomes, record_answer
from relance_erpnext.services.runner import make_plan, run_for_company
from relance_erpnext.tests.compat import IntegrationTestCase
from relance_erpnext.tests.utils import (
	AS_OF,
	COMPANY,
	make_company,
	make_customer,
	make_invoice,
	make_outgoing_email_account,
)


def reasons(day) -> dict[str, str]:
	_book, plan = make_plan(COMPANY, day)
	return {s.invoice: s.reason for s in plan.skipped} | {
		line.invoice: "action:" + line.step for a in plan.actions for line in a.lines
	}


class TestOutcomesThatAct(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_company()
		make_outgoing_email_account()
		create_default_outcomes()

	def setUp(self):
		frappe.db.set_single_value(
			"Relance Settings", {"review_before_sending": 1, "min_gap_days": 0, "catch_up": "by_due_date"}
		)

	def test_every_outcome_of_seed_004_exists_with_its_answer(self):
		outcomes = {o.name: o for o in frappe.get_all("Follow-up Outcome", fields=["*"])}
		for name in ("Invoice Not Received", "Cheque Lost", "Signatory Absent", "Cash-flow Problems"):
			self.assertTrue(outcomes[name].standard_answer, name)
		self.assertEqual(outcomes["Promise to Pay"].effect, "promise")
		self.assertEqual(outcomes["Dispute"].effect, "dispute")
		self.assertEqual(outcomes["Promise to Pay"].code, "promise")

	def test_a_promise_pauses_then_escalates_when_broken(self):
		customer = make_customer("_Relance Reponse Promesse", email="promesse@client.example")
		invoice = make_invoice(customer, 900, days_late=10)
		done = record_answer(
			customer,
			COMPANY,
			[invoice.name],
			"Promise to Pay",
			str(add_days(AS_OF, 5)),
			900,
			"Virement vendredi",
		)
		self.assertEqual(
			frappe.db.get_value("Payment Promise", done["promise"], "promised_date"), add_days(AS_OF, 5)
		)
		self.assertEqual(frappe.db.get_value("Follow-up Log", done["log"], "outcome"), "Promise to Pay")
		self.assertEqual(reasons(AS_OF)[invoice.name], "promise_pending")
		_book, later = make_plan(COMPANY, add_days(AS_OF, 6))
		notes = {line.invoice: line.notes for a in later.actions for line in a.lines}
		self.assertIn("promise_broken", notes[invoice.name])

	def test_a_dispute_holds_the_invoices_and_tells_the_account_manager(self):
		customer = make_customer("_Relance Reponse Litige", email="litige2@client.example")
		invoice = make_invoice(customer, 450, days_late=8)
		done = record_answer(customer, COMPANY, [invoice.name], "Dispute", None, None, "Quantité contestée")
		held = frappe.db.get_value(
			"Sales Invoice", invoice.name, ["relance_hold", "relance_hold_kind", "relance_hold_reason"]
		)
		self.assertEqual(held, (1, "Dispute", "Quantité contestée"))
		self.assertEqual(reasons(AS_OF)[invoice.name], "disputed")
		self.assertTrue(frappe.db.exists("ToDo", {"reference_name": done["log"], "status": "Open"}))

	def test_invoice_not_received_emails_it_again_and_times_the_next_step_from_today(self):
		customer = make_customer("_Relance Reponse Non Recue", email="nonrecue@client.example")
		invoice = make_invoice(customer, 1200, days_late=9)
		run_for_company(COMPANY, AS_OF)  # the formal reminder (day 7), planned
		done = record_answer(
			customer, COMPANY, [invoice.name], "Invoice Not Received", None, None, "Jamais reçue"
		)
		self.assertEqual(done["email"], "nonrecue@client.example")
		queued = frappe.get_all(
			"Email Queue",
			filters={"reference_doctype": "Follow-up Log", "reference_name": done["log"]},
			fields=["name", "attachments"],
		)
		self.assertEqual(len(queued), 1)
		self.assertIn(invoice.name, queued[0].attachments)  # the invoice's PDF goes with it
		# The exchange is the invoice's latest reminder: the next step (the call, day 15 by due date)
		# comes no earlier than its spacing from today
		self.assertTrue(frappe.db.exists("ToDo", {"reference_name": done["log"]}))  # call back
		soon = reasons(getdate(today()))
		self.assertNotIn("action:appel", soon.get(invoice.name, ""))
