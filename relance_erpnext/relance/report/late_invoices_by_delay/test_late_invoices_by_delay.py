"""Late Invoices by Delay on known data: buckets, overdue amounts, last and next action."""

import frappe
from frappe.utils import add_days

from relance_erpnext.relance.report.late_invoices_by_delay.late_invoices_by_delay import execute
from relance_erpnext.tests.compat import IntegrationTestCase
from relance_erpnext.tests.utils import AS_OF, COMPANY, make_company, make_customer, make_invoice, pay


class TestLateInvoicesByDelay(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_company()

	def setUp(self):
		self.customer = make_customer(
			f"_Relance Retards {self._testMethodName[5:30]}", email="r@client.example"
		)

	def log(self, invoice, step: str, label: str, day):
		frappe.get_doc(
			{
				"doctype": "Follow-up Log",
				"customer": self.customer,
				"company": COMPANY,
				"entry_type": "Automatic",
				"channel": "email",
				"status": "Sent",
				"log_date": day,
				"scenario": "standard",
				"step": step,
				"step_label": label,
				"currency": "EUR",
				"invoices": [{"sales_invoice": invoice.name, "step": step, "currency": "EUR"}],
			}
		).insert(ignore_permissions=True)

	def test_buckets_amounts_and_actions(self):
		five = make_invoice(self.customer, 1000, days_late=5)
		ten = make_invoice(self.customer, 300, days_late=10)
		pay(ten.name, 100, day=add_days(AS_OF, -2))
		twenty = make_invoice(self.customer, 2000, days_late=20)
		self.log(twenty, "rappel_courtois", "Rappel courtois", add_days(AS_OF, -19))
		self.log(twenty, "relance_formelle", "Relance formelle", add_days(AS_OF, -13))
		self.log(twenty, "appel", "Appel téléphonique", add_days(AS_OF, 3))  # after the report's day
		self.log(five, "rappel_courtois", "Rappel courtois", add_days(AS_OF, -4))

		columns, shown, _, chart, summary = execute(
			{"company": COMPANY, "as_of": AS_OF, "customer": self.customer}
		)
		# One line for the customer (its totals, its oldest delay, its last and next action), then its
		# invoices below it
		group, *rows = shown
		self.assertEqual(
			(group["indent"], group["sales_invoice"], group["customer"]), (0, None, self.customer)
		)
		self.assertEqual(
			(group["days_late"], group["late_amount"], group["outstanding"]), (20, 3200.0, 3200.0)
		)
		self.assertEqual(group["last_action"], "Rappel courtois")  # the latest: five's, 4 days ago
		self.assertEqual(group["next_action_date"], add_days(AS_OF, 2))
		self.assertEqual({row["indent"] for row in rows}, {1})
		by_invoice = {row["sales_invoice"]: row for row in rows}
		self.assertEqual([row["sales_invoice"] for row in rows], [twenty.name, ten.name, five.name])
		self.assertEqual(
			[(r["days_late"], r["bucket"], r["late_amount"]) for r in rows],
			[(20, ">15", 2000.0), (10, "8-15", 200.0), (5, "1-7", 1000.0)],
		)
		# A dispute and a promise show on their invoice and on the customer's line
		from frappe.utils import add_days as later

		frappe.db.set_value(
			"Sales Invoice",
			ten.name,
			{"relance_hold": 1, "relance_hold_kind": "Dispute", "relance_hold_reason": "Prix"},
		)
		frappe.get_doc(
			{
				"doctype": "Payment Promise",
				"customer": self.customer,
				"company": COMPANY,
				"promised_date": later(AS_OF, 4),
				"made_on": AS_OF,
				"invoices": [{"sales_invoice": five.name}],
			}
		).insert(ignore_permissions=True)
		group, *again = execute({"company": COMPANY, "as_of": AS_OF, "customer": self.customer})[1]
		marks = {r["sales_invoice"]: (r["promise"], r["hold"]) for r in again}
		self.assertEqual(marks[ten.name], (None, "In dispute — Prix"))
		self.assertEqual(marks[five.name], (later(AS_OF, 4), ""))
		self.assertEqual((group["promise"], group["hold"]), (later(AS_OF, 4), "In dispute — Prix"))
		# The last action on or before the report's day, by its label
		self.assertEqual(by_invoice[twenty.name]["last_action"], "Relance formelle")
		self.assertEqual(by_invoice[twenty.name]["last_action_date"], add_days(AS_OF, -13))
		# The next action by its label (day 7 of the standard scenario), with its date
		self.assertEqual(by_invoice[five.name]["next_action"], "Relance formelle")
		self.assertEqual(by_invoice[five.name]["next_action_date"], add_days(AS_OF, 2))
		# Totals per bucket, in EUR
		self.assertEqual(
			[(item["label"], item["value"], item["currency"]) for item in summary],
			[
				("1-7 days late", 1000.0, "EUR"),
				("8-15 days late", 200.0, "EUR"),
				(">15 days late", 2000.0, "EUR"),
			],
		)
		self.assertEqual(chart["data"]["datasets"], [{"name": "EUR", "values": [1000.0, 200.0, 2000.0]}])

	def test_30_60_90_and_not_due(self):
		make_invoice(self.customer, 400, days_late=45)
		ahead = make_invoice(self.customer, 250, days_late=-10)
		_, rows, _, _, summary = execute(
			{
				"company": COMPANY,
				"as_of": AS_OF,
				"customer": self.customer,
				"buckets": "30/60/90",
				"include_not_due": 1,
			}
		)
		rows = [r for r in rows if r["indent"] == 1]
		self.assertEqual([r["bucket"] for r in rows], ["31-60", "Not due"])
		self.assertEqual(rows[1]["sales_invoice"], ahead.name)
		self.assertEqual([item["value"] for item in summary], [0.0, 400.0, 0.0, 0.0])
