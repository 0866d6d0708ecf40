# Copyright (c) 2026, relance_erpnext contributors
# For license information, please see license.txt
"""A run without review: letters merged into one PDF for the run, emails sent in background chunks,
and two workers running the same day at once record each step once."""

import io
import threading

import frappe
from pypdf import PdfReader

from relance_erpnext.services import runner
from relance_erpnext.services.mapping import LIVE_STATUSES
from relance_erpnext.services.runner import run_for_company
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


def live_logs(customer: str) -> list[dict]:
	return frappe.db.sql(
		"""select log.name, log.status, log.channel, line.sales_invoice, line.step
		from `tabFollow-up Log` log join `tabFollow-up Log Invoice` line on line.parent = log.name
		where log.customer = %s and log.status in %s
		order by line.sales_invoice""",
		(customer, LIVE_STATUSES),
		as_dict=True,
	)


class TestRunWithoutReview(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_company()
		make_outgoing_email_account()

	def setUp(self):
		frappe.db.delete("Follow-up Log")
		frappe.db.delete("Follow-up Log Invoice")
		# Each step at the delay its test gives, first contact or not: the calendar by due date
		frappe.db.set_single_value(
			"Relance Settings", {"review_before_sending": 0, "min_gap_days": 0, "catch_up": "by_due_date"}
		)

	def tearDown(self):
		frappe.db.set_single_value("Relance Settings", "review_before_sending", 1)

	def test_letters_of_a_run_make_one_pdf(self):
		# Two customers at the mise en demeure (day 30: registered letter), one by email at day 1
		first = make_customer("_Relance Lettre A", email="a@client.example")
		second = make_customer("_Relance Lettre B", email="b@client.example")
		for customer in (first, second):
			make_address(customer)
		late = [make_invoice(first, 1500, days_late=30), make_invoice(second, 2500, days_late=31)]
		emailed = make_invoice(make_customer("_Relance Mail C", email="c@client.example"), 90, days_late=1)

		run = frappe.get_doc("Relance Run", run_for_company(COMPANY, AS_OF))

		letters = {row.sales_invoice: row for c in (first, second) for row in live_logs(c)}
		self.assertEqual({row.channel for row in letters.values()}, {"registered_letter"})
		# Printed with the run's letters, to be posted by a person (not "Sent" yet)
		self.assertEqual({row.status for row in letters.values()}, {"To Post"})
		self.assertTrue(run.letters_pdf, "the run points to its letters")
		content = frappe.get_doc("File", {"file_url": run.letters_pdf}).get_content()
		pages = PdfReader(io.BytesIO(content)).pages
		self.assertGreaterEqual(len(pages), 2)
		text = " ".join(" ".join(page.extract_text().split()) for page in pages)
		for invoice in late:
			self.assertIn(invoice.name, text)
		self.assertIn("mise en demeure", text.lower())
		# Under the company's own name, never another company's letter head
		self.assertIn(COMPANY, text)
		self.assertNotIn("Relance Demo", text)
		# The email went through the background chunk (inline in tests) into Frappe's email queue
		(mail,) = live_logs(emailed.customer)
		self.assertEqual(mail.status, "Sent")
		self.assertEqual(
			frappe.db.count(
				"Email Queue", {"reference_doctype": "Follow-up Log", "reference_name": mail.name}
			),
			1,
		)
		# The company's other open invoices (other tests') may be followed up by the same run
		self.assertGreaterEqual(frappe.db.get_value("Relance Run", run.name, "sent_count"), 3)

	def test_a_registered_letter_is_posted_then_delivered_and_counts_from_those_days(self):
		from frappe.utils import add_days

		from relance_erpnext.relance.doctype.follow_up_log.follow_up_log import mark_delivered, mark_posted
		from relance_erpnext.services.repository import formal_notice_of
		from relance_erpnext.services.runner import make_plan

		customer = make_customer("_Relance Recommande", email="lrar@client.example")
		make_address(customer)
		invoice = make_invoice(customer, 1000, days_late=30)  # standard scenario: the mise en demeure
		run_for_company(COMPANY, AS_OF)
		(row,) = live_logs(customer)
		self.assertEqual((row.channel, row.status), ("registered_letter", "To Post"))
		with self.assertRaises(frappe.ValidationError):  # a registered letter needs its number
			mark_posted([{"name": row.name, "posted_on": str(add_days(AS_OF, 2))}])
		mark_posted(
			[
				{
					"name": row.name,
					"posted_on": str(add_days(AS_OF, 2)),
					"registered_letter_number": "1A 234 567 8901 2",
				}
			]
		)
		log = frappe.get_doc("Follow-up Log", row.name)
		self.assertEqual((log.status, str(log.posted_on)), ("Posted", str(add_days(AS_OF, 2))))
		# The step counts from its posting: its notice, and the next step, from two days later
		self.assertEqual(formal_notice_of(invoice.name)[0], add_days(AS_OF, 2))
		_book, plan = make_plan(COMPANY, add_days(AS_OF, 3))
		waiting = {s.invoice: s.detail for s in plan.skipped}[invoice.name]
		self.assertEqual(waiting, f"escalade@{add_days(AS_OF, 2 + 10)}")  # 10 days after its posting
		# The avis de réception: delivered on the 20th, the notice counts from then
		mark_delivered(row.name, str(add_days(AS_OF, 5)))
		self.assertEqual(frappe.db.get_value("Follow-up Log", row.name, "status"), "Delivered")
		self.assertEqual(formal_notice_of(invoice.name)[0], add_days(AS_OF, 5))
		with self.assertRaises(frappe.ValidationError):  # delivered once
			mark_delivered(row.name, str(add_days(AS_OF, 6)))

	def test_emails_are_chunked(self):
		customers = [make_customer(f"_Relance Lot {i}", email=f"lot{i}@client.example") for i in range(5)]
		for customer in customers:
			make_invoice(customer, 100, days_late=1)
		jobs = []
		original = frappe.enqueue

		def spy(method, **kwargs):
			if method == "relance_erpnext.services.runner.send_chunk":
				jobs.append(kwargs["names"])
			return original(method, **kwargs)

		size = runner.SEND_CHUNK
		runner.SEND_CHUNK = 2
		frappe.enqueue = spy
		try:
			run = run_for_company(COMPANY, AS_OF)
		finally:
			frappe.enqueue = original
			runner.SEND_CHUNK = size
		ours = {row.name for customer in customers for row in live_logs(customer)}
		sent = [name for chunk in jobs for name in chunk if name in ours]
		self.assertEqual(sorted(sent), sorted(ours))
		self.assertTrue(all(len(chunk) <= 2 for chunk in jobs))
		self.assertEqual({row.status for c in customers for row in live_logs(c)}, {"Sent"})
		self.assertGreaterEqual(frappe.db.get_value("Relance Run", run, "sent_count"), 5)


def deadlock_count() -> int:
	"""Deadlocks InnoDB has resolved since the server started (each rolled back one transaction)."""
	row = frappe.db.sql("SHOW GLOBAL STATUS LIKE 'Innodb_deadlocks'")
	return int(row[0][1]) if row else 0


class TestTwoWorkers(IntegrationTestCase):
	"""Two workers run the same company and day at the same time, each with its own database
	connection and transaction (as two RQ workers would): every step is recorded once."""

	CUSTOMERS = ("_Relance Concurrent A", "_Relance Concurrent B")

	def setUp(self):
		make_company()
		# Each step at the delay its test gives, first contact or not: the calendar by due date
		frappe.db.set_single_value(
			"Relance Settings", {"review_before_sending": 1, "min_gap_days": 0, "catch_up": "by_due_date"}
		)
		self.invoices = []
		for customer in self.CUSTOMERS:
			make_customer(customer, email="concurrent@client.example")
			self.invoices += [make_invoice(customer, 100 + i, days_late=7 + i) for i in range(4)]
		frappe.db.commit()  # the workers' connections must see the book

	def tearDown(self):
		for invoice in self.invoices:
			invoice.reload()
			invoice.cancel()  # leaves the follow-up of the other tests' company
		frappe.db.commit()

	def test_each_step_is_recorded_once(self):
		site, sites_path = frappe.local.site, frappe.local.sites_path
		barrier = threading.Barrier(2)
		outcome: dict[str, object] = {}

		def worker(label: str):
			frappe.init(site=site, sites_path=sites_path)
			frappe.connect()
			try:
				frappe.set_user("Administrator")
				barrier.wait(timeout=30)
				outcome[label] = run_for_company(COMPANY, AS_OF, triggered_by="Scheduler")
				frappe.db.commit()
			except Exception as exc:
				frappe.db.rollback()
				outcome[label] = exc
			finally:
				frappe.destroy()

		deadlocks_before = deadlock_count()
		threads = [threading.Thread(target=worker, args=(label,)) for label in ("one", "two")]
		for thread in threads:
			thread.start()
		for thread in threads:
			thread.join(timeout=120)
		self.assertEqual(
			[type(outcome.get(label)) for label in ("one", "two")], [str, str], f"both runs finish: {outcome}"
		)
		rows = [row for customer in self.CUSTOMERS for row in live_logs(customer)]
		keys = [(row.sales_invoice, row.step) for row in rows]
		self.assertEqual(len(keys), len(set(keys)), "no step twice")
		self.assertEqual(sorted({row.sales_invoice for row in rows}), sorted(i.name for i in self.invoices))
		planned = [
			frappe.db.get_value("Relance Run", outcome[label], "planned_count") for label in ("one", "two")
		]
		# Both planned the day and the data let only one record each step; or they deadlocked, and the
		# one rolled back planned again after the other had committed, finding nothing left to do
		self.assertTrue(any(planned), planned)
		deadlocks = deadlock_count() - deadlocks_before
		print(f"two workers: planned {planned}, deadlocks in the database during the test: {deadlocks}")

	def test_a_deadlock_mid_run_is_rolled_back_and_the_run_made_again(self):
		"""The database chose this run as a deadlock's victim after it had written its run and a first
		log: everything it wrote is rolled back and the day is planned again from the start."""
		runs_before = frappe.db.count("Relance Run", {"company": COMPANY, "run_date": AS_OF})
		original = runner.new_log_for_action
		calls = {"n": 0}

		def second_log_deadlocks(*args, **kwargs):
			calls["n"] += 1
			if calls["n"] == 2:  # the run and one log are written by now, uncommitted
				raise frappe.QueryDeadlockError("Deadlock found when trying to get lock (injected)")
			return original(*args, **kwargs)

		runner.new_log_for_action = second_log_deadlocks
		try:
			run = run_for_company(COMPANY, AS_OF, triggered_by="Scheduler")
		finally:
			runner.new_log_for_action = original
		frappe.db.commit()
		rows = [row for customer in self.CUSTOMERS for row in live_logs(customer)]
		keys = [(row.sales_invoice, row.step) for row in rows]
		self.assertEqual(len(keys), len(set(keys)), "no step twice")
		self.assertEqual(sorted({row.sales_invoice for row in rows}), sorted(i.name for i in self.invoices))
		# one run left for the day, the one that finished (the first attempt's run was rolled back)
		self.assertEqual(
			frappe.db.count("Relance Run", {"company": COMPANY, "run_date": AS_OF}), runs_before + 1
		)
		self.assertEqual(frappe.db.get_value("Relance Run", run, "status"), "Done")
		self.assertGreater(calls["n"], 2, "planned again after the rollback")


class TestRunRecord(IntegrationTestCase):
	"""A run stores data, not text in one language; previews do not pile up."""

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_company()
		make_outgoing_email_account()

	def setUp(self):
		frappe.db.set_single_value(
			"Relance Settings", {"review_before_sending": 1, "min_gap_days": 0, "catch_up": "by_due_date"}
		)
		self.customer = make_customer("_Relance Record Run", email="record@client.example")
		self.invoice = make_invoice(self.customer, 700, days_late=7)

	def summary_in(self, run_name: str, lang: str) -> str:
		previous = frappe.local.lang
		frappe.local.lang = lang
		try:
			run = frappe.get_doc("Relance Run", run_name)
			run.run_method("onload")
			return run.get_onload().summary_html
		finally:
			frappe.local.lang = previous

	def test_a_scheduled_run_reads_in_the_readers_language_with_its_links(self):
		frappe.local.lang = "en"  # the scheduler has no user, hence no language
		name = run_for_company(COMPANY, AS_OF, triggered_by="Scheduler")
		self.assertFalse(frappe.db.get_value("Relance Run", name, "summary"))  # nothing stored in English
		french = self.summary_in(name, "fr")
		english = self.summary_in(name, "en")
		self.assertIn("Relance formelle", french)  # the scenario's step label
		self.assertIn(frappe.utils.get_url_to_form("Customer", self.customer), french)
		log = frappe.db.get_value("Follow-up Log", {"run": name, "customer": self.customer})
		self.assertIn(frappe.utils.get_url_to_form("Follow-up Log", log), french)
		self.assertIn("Follow-up Logs made by this run", english)
		self.assertNotEqual(french, english)
		from relance_erpnext.dunning.reasons import reason_title

		skipped = {
			s["reason"]
			for s in frappe.parse_json(frappe.db.get_value("Relance Run", name, "plan_json"))["skipped"]
		}
		for code in skipped:
			self.assertIn(frappe.utils.escape_html(reason_title(code, "fr")), french)
			self.assertIn(frappe.utils.escape_html(reason_title(code, "en")), english)

	def test_previews_of_a_day_do_not_pile_up(self):
		from relance_erpnext.relance.doctype.relance_run.relance_run import start

		first = start(COMPANY, str(AS_OF), dry_run=1)
		second = start(COMPANY, str(AS_OF), dry_run=1)
		self.assertEqual(first, second)
		self.assertEqual(
			frappe.db.count("Relance Run", {"company": COMPANY, "run_date": AS_OF, "dry_run": 1}), 1
		)
		self.assertEqual(frappe.db.get_value("Relance Run", first, "status"), "Done")
		# a preview writes no log
		self.assertFalse(frappe.db.exists("Follow-up Log", {"run": first}))


class TestCallAnswered(IntegrationTestCase):
	def test_a_calls_todo_closes_when_its_answer_is_recorded(self):
		make_company()
		frappe.db.set_single_value(
			"Relance Settings", {"review_before_sending": 0, "min_gap_days": 0, "catch_up": "by_due_date"}
		)
		customer = make_customer("_Relance Appel Repondu", email="appel@client.example")
		frappe.db.set_value("Customer", customer, "mobile_no", "+33 4 78 00 00 00")
		make_invoice(customer, 640, days_late=15)  # standard scenario: the call
		run_for_company(COMPANY, AS_OF)
		(row,) = live_logs(customer)
		self.assertEqual((row.channel, row.status), ("phone", "Planned"))
		todos = frappe.get_all("ToDo", filters={"reference_name": row.name, "status": "Open"}, pluck="name")
		self.assertTrue(todos)
		call = frappe.get_doc("Follow-up Log", row.name)
		call.outcome = "Promise to Pay"
		call.answer = "Virement prévu vendredi"
		call.save(ignore_permissions=True)
		self.assertEqual(frappe.db.get_value("Follow-up Log", row.name, "status"), "Done")
		self.assertEqual(
			{frappe.db.get_value("ToDo", name, "status") for name in todos},
			{"Closed"},
			"the call's ToDo closed",
		)


class TestConsumerNoticeFromDelivery(IntegrationTestCase):
	def test_a_consumers_interest_runs_from_the_delivery_of_the_formal_notice(self):
		from frappe.utils import add_days

		from relance_erpnext.relance.doctype.follow_up_log.follow_up_log import mark_delivered, mark_posted
		from relance_erpnext.services.runner import make_plan

		make_company()
		frappe.db.set_single_value(
			"Relance Settings", {"review_before_sending": 0, "min_gap_days": 0, "catch_up": "by_due_date"}
		)
		customer = make_customer(
			"_Relance Particulier Demeure", customer_type="Individual", email="particulier@example.fr"
		)
		make_address(customer)
		invoice = make_invoice(customer, 800, days_late=30)  # the mise en demeure, by registered letter
		run_for_company(COMPANY, AS_OF)
		(row,) = live_logs(customer)
		mark_posted(
			[{"name": row.name, "posted_on": str(add_days(AS_OF, 1)), "registered_letter_number": "1A 1"}]
		)

		def interest_from():
			_book, plan = make_plan(COMPANY, add_days(AS_OF, 40))
			lines = [line for a in plan.actions for line in a.lines if line.invoice == invoice.name]
			return lines[0].interest_from if lines else None

		posted = interest_from()
		mark_delivered(row.name, str(add_days(AS_OF, 4)))
		delivered = interest_from()
		self.assertIsNotNone(posted)
		# Counted from the avis de réception, three days after the posting
		self.assertEqual((delivered - posted).days, 3)
