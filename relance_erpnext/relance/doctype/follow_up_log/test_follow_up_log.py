# Copyright (c) 2026, relance_erpnext contributors
# For license information, please see license.txt
"""The daily run end to end on real Sales Invoices and Payment Entries."""

import json

import frappe
from frappe.utils import add_days

from relance_erpnext.services.runner import make_plan, run_for_company, send_logs
from relance_erpnext.tests.compat import IntegrationTestCase, change_settings
from relance_erpnext.tests.utils import (
	AS_OF,
	COMPANY,
	make_company,
	make_customer,
	make_invoice,
	make_outgoing_email_account,
	make_user,
	pay,
)


def logs_for(invoice: str) -> list[dict]:
	return frappe.db.sql(
		"""select log.name, log.status, log.step, log.channel from `tabFollow-up Log` log
		join `tabFollow-up Log Invoice` line on line.parent = log.name
		where line.sales_invoice = %s order by log.creation""",
		invoice,
		as_dict=True,
	)


class TestDailyRun(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_company()
		make_outgoing_email_account()

	def setUp(self):
		# One customer per test: a test's invoices never join another test's letter
		self.customer = make_customer(f"_Relance {self._testMethodName}", email="compta@client.example")
		self.consumer = make_customer(
			f"_Relance Mme {self._testMethodName}", customer_type="Individual", email="dupont@example.fr"
		)
		frappe.db.delete("Follow-up Log")
		frappe.db.delete("Follow-up Log Invoice")
		frappe.db.delete("Payment Promise")
		# Each step at the delay its test gives, first contact or not: the calendar by due date
		frappe.db.set_single_value(
			"Relance Settings", {"review_before_sending": 1, "min_gap_days": 0, "catch_up": "by_due_date"}
		)

	def test_dry_run_plans_and_changes_nothing(self):
		invoice = make_invoice(self.customer, 1200, days_late=7)
		run = frappe.get_doc("Relance Run", run_for_company(COMPANY, AS_OF, dry_run=True))
		plan = json.loads(run.plan_json)
		lines = {
			line["invoice"]: (action["step"], line)
			for action in plan["actions"]
			for line in action["invoices"]
		}
		step, line = lines[invoice.name]
		self.assertEqual(step, "relance_formelle")
		self.assertEqual(line["days_late"], 7)
		self.assertEqual(line["outstanding"], "1200.00")
		# 1200 x 12.15 % x 7 / 365 = 2.796 -> 2.80 ; FR business: 40 EUR indemnity
		self.assertEqual((line["interest"], line["indemnity"]), ("2.80", "40.00"))
		self.assertEqual(logs_for(invoice.name), [])

	def test_run_records_then_sends_once(self):
		invoice = make_invoice(self.customer, 500, days_late=1)
		run_for_company(COMPANY, AS_OF)
		logs = logs_for(invoice.name)
		self.assertEqual(
			[(log.status, log.step, log.channel) for log in logs], [("Planned", "rappel_courtois", "email")]
		)
		# A second run the same day plans nothing new for this invoice
		run_for_company(COMPANY, AS_OF)
		self.assertEqual(len(logs_for(invoice.name)), 1)
		queued = frappe.db.count("Email Queue")
		self.assertEqual(send_logs([logs[0].name]), 1)
		self.assertEqual(frappe.db.get_value("Follow-up Log", logs[0].name, "status"), "Sent")
		self.assertEqual(frappe.db.count("Email Queue"), queued + 1)
		# The letter as a PDF, then the invoice, attached to the email
		queue = frappe.get_last_doc(
			"Email Queue", filters={"reference_doctype": "Follow-up Log", "reference_name": logs[0].name}
		)
		attachments = json.loads(queue.attachments)
		self.assertEqual(
			[(a["doctype"], a["name"], a.get("print_format")) for a in attachments],
			[("Follow-up Log", logs[0].name, "Lettre de relance"), ("Sales Invoice", invoice.name, None)],
		)
		letter = {k: v for k, v in attachments[0].items() if k != "print_format_attachment"}
		pdf = frappe.attach_print(**letter)
		self.assertTrue(pdf["fname"].startswith("relance-2026-06-15-rappel_courtois"), pdf["fname"])
		self.assertTrue(pdf["fcontent"].startswith(b"%PDF"))
		self.assertEqual(
			frappe.db.get_value("Sales Invoice", invoice.name, "relance_level"), "Rappel courtois"
		)
		# Sending again does nothing
		self.assertEqual(send_logs([logs[0].name]), 0)

	def test_the_database_refuses_a_second_live_log_for_a_step(self):
		invoice = make_invoice(self.customer, 300, days_late=1)
		run_for_company(COMPANY, AS_OF)
		first = frappe.get_doc("Follow-up Log", logs_for(invoice.name)[0].name)
		copy = frappe.copy_doc(first)
		with self.assertRaises(frappe.UniqueValidationError):
			copy.insert(ignore_permissions=True)
		# Once cancelled, the step is free again
		first.status = "Cancelled"
		first.save(ignore_permissions=True)
		frappe.copy_doc(first).update({"status": "Planned"}).insert(ignore_permissions=True)

	def test_payment_before_sending_drops_the_invoice(self):
		paid = make_invoice(self.customer, 800, days_late=7)
		unpaid = make_invoice(self.customer, 200, days_late=7)
		run_for_company(COMPANY, AS_OF)
		log_name = logs_for(paid.name)[0].name
		self.assertEqual(log_name, logs_for(unpaid.name)[0].name)  # one letter for both invoices
		pay(paid.name)
		send_logs([log_name])
		log = frappe.get_doc("Follow-up Log", log_name)
		self.assertEqual(
			[row.sales_invoice for row in log.invoices],
			[unpaid.name],
			[
				(row.sales_invoice, frappe.db.get_value("Sales Invoice", row.sales_invoice, "customer"))
				for row in log.invoices
			],
		)
		self.assertEqual(log.status, "Sent")

	def test_everything_paid_before_sending_cancels_the_log(self):
		invoice = make_invoice(self.customer, 450, days_late=1)
		run_for_company(COMPANY, AS_OF)
		log_name = logs_for(invoice.name)[0].name
		pay(invoice.name)
		send_logs([log_name])
		self.assertEqual(frappe.db.get_value("Follow-up Log", log_name, "status"), "Cancelled")

	def test_payment_closes_and_its_cancellation_reopens(self):
		invoice = make_invoice(self.customer, 640, days_late=1)
		run_for_company(COMPANY, AS_OF)
		payment = pay(invoice.name)
		self.assertEqual(frappe.db.get_value("Sales Invoice", invoice.name, "relance_level"), "Paid")
		outcomes = frappe.get_all(
			"Follow-up Log", filters={"customer": self.customer, "outcome": "Paid"}, pluck="name"
		)
		self.assertEqual(len(outcomes), 1)
		payment.cancel()
		self.assertEqual(frappe.db.get_value("Sales Invoice", invoice.name, "relance_level"), "Reopened")
		_, plan = make_plan(COMPANY, add_days(AS_OF, 7))
		self.assertIn(invoice.name, [line.invoice for action in plan.actions for line in action.lines])

	def test_hold_and_dispute_are_skipped_with_their_reason(self):
		held = make_invoice(self.customer, 100, days_late=10)
		held.db_set(
			{"relance_hold": 1, "relance_hold_kind": "Dispute", "relance_hold_reason": "Livraison contestée"}
		)
		_, plan = make_plan(COMPANY, AS_OF)
		reasons = {skip.invoice: skip.reason for skip in plan.skipped}
		self.assertEqual(reasons[held.name], "disputed")

	def test_promise_pauses_then_escalates(self):
		invoice = make_invoice(self.customer, 900, days_late=3)
		frappe.get_doc(
			{
				"doctype": "Payment Promise",
				"customer": self.customer,
				"company": COMPANY,
				"promised_date": add_days(AS_OF, 5),
				"made_on": AS_OF,
				"invoices": [{"sales_invoice": invoice.name}],
			}
		).insert(ignore_permissions=True)
		_, plan = make_plan(COMPANY, AS_OF)
		self.assertEqual({s.invoice: s.reason for s in plan.skipped}[invoice.name], "promise_pending")
		_, later = make_plan(COMPANY, add_days(AS_OF, 6))
		notes = {line.invoice: line.notes for action in later.actions for line in action.lines}
		self.assertIn("promise_broken", notes[invoice.name])
		# The run of that day escalates and marks the promise broken (the workspace counts it)
		promise = frappe.db.get_value("Payment Promise", {"customer": self.customer})
		run_for_company(COMPANY, add_days(AS_OF, 4))  # still pending: stays open
		self.assertEqual(frappe.db.get_value("Payment Promise", promise, "status"), "Open")
		run_for_company(COMPANY, add_days(AS_OF, 6))
		self.assertEqual(frappe.db.get_value("Payment Promise", promise, "status"), "Broken")

	def test_consumer_gets_no_indemnity(self):
		invoice = make_invoice(self.consumer, 250, days_late=7)
		_, plan = make_plan(COMPANY, AS_OF)
		line = next(line for action in plan.actions for line in action.lines if line.invoice == invoice.name)
		self.assertEqual((str(line.indemnity), str(line.interest)), ("0", "0"))

	def test_planning_reads_in_bulk(self):
		for _ in range(3):
			make_invoice(self.customer, 100, days_late=7)
		frappe.clear_cache()
		make_plan(COMPANY, AS_OF)  # warm the caches
		with self.assertQueryCount(30):
			make_plan(COMPANY, AS_OF)
		for _ in range(10):
			make_invoice(self.customer, 100, days_late=7)
		with self.assertQueryCount(30):
			make_plan(COMPANY, AS_OF)


class TestPermissions(IntegrationTestCase):
	def test_accounts_user_logs_and_sends_manager_edits(self):
		user = make_user("relance-user@example.com", ["Accounts User"])
		manager = make_user("relance-manager@example.com", ["Accounts Manager"])
		make_company()
		customer = make_customer("_Relance Perm Client", email="perm@example.com")
		with self.set_user(user):
			log = frappe.get_doc(
				{
					"doctype": "Follow-up Log",
					"customer": customer,
					"company": COMPANY,
					"channel": "phone",
					"status": "Done",
					"outcome": "Promise to Pay",
					"answer": "Paiement promis pour vendredi",
				}
			).insert()
			self.assertTrue(log.name)
			self.assertFalse(frappe.has_permission("Dunning Scenario", "write", "standard"))
			self.assertFalse(frappe.has_permission("Relance Settings", "write"))
			with self.assertRaises(frappe.PermissionError):
				scenario = frappe.get_doc("Dunning Scenario", "standard")
				scenario.scenario_name = "Changed"
				scenario.save()
		with self.set_user(manager):
			self.assertTrue(frappe.has_permission("Dunning Scenario", "write", "standard"))
			self.assertTrue(frappe.has_permission("Relance Settings", "write"))


class TestSentLogsKeepTheirWord(IntegrationTestCase):
	"""What went out stays as it went out; its answer and proof may still be written."""

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_company()
		make_outgoing_email_account()

	def setUp(self):
		frappe.db.set_single_value(
			"Relance Settings", {"review_before_sending": 1, "min_gap_days": 0, "catch_up": "by_due_date"}
		)
		customer = make_customer("_Relance Parole Tenue", email="parole@client.example")
		invoice = make_invoice(customer, 1200, days_late=7)
		run_for_company(COMPANY, AS_OF)
		self.log = frappe.get_doc("Follow-up Log", logs_for(invoice.name)[0].name)

	def test_a_planned_log_may_be_edited_a_sent_one_only_for_its_answer_and_proof(self):
		from relance_erpnext.relance.doctype.follow_up_log.follow_up_log import email_status

		self.log.subject = "Relance – objet revu avant l'envoi"
		self.log.save(ignore_permissions=True)  # planned: a person may still reword it
		send_logs([self.log.name])
		log = frappe.get_doc("Follow-up Log", self.log.name)
		self.assertEqual(log.status, "Sent")
		# The queue has it, not sent yet: the log says "Sent", the form says where the email is
		self.assertEqual(email_status(log.name)["state"], "queued")
		for change in (
			lambda d: setattr(d, "message", d.message + "<p>ajout</p>"),
			lambda d: setattr(d, "log_date", add_days(AS_OF, -3)),
			lambda d: setattr(d.invoices[0], "outstanding", 1.0),
			lambda d: d.append("invoices", {"sales_invoice": d.invoices[0].sales_invoice, "step": "x"}),
		):
			edited = frappe.get_doc("Follow-up Log", log.name)
			change(edited)
			with self.assertRaises(frappe.ValidationError):
				edited.save(ignore_permissions=True)
		# The customer's answer, the outcome and the proof still go in; the date as the form sends it
		answered = frappe.get_doc("Follow-up Log", log.name)
		answered.log_date = str(answered.log_date)
		answered.answer = "Paiement prévu vendredi"
		answered.outcome = "Promise to Pay"
		answered.save(ignore_permissions=True)
		self.assertEqual(frappe.db.get_value("Follow-up Log", log.name, "answer"), "Paiement prévu vendredi")
		self.assertEqual(frappe.db.get_value("Follow-up Log", log.name, "subject"), log.subject)
