"""Follow-up Effectiveness on known data: reminders, payments, and the DSO."""

import frappe
from frappe.utils import getdate

from relance_erpnext.relance.report.follow_up_effectiveness.follow_up_effectiveness import (
	FollowUpEffectiveness,
	execute,
)
from relance_erpnext.tests.compat import IntegrationTestCase
from relance_erpnext.tests.utils import COMPANY, make_company, make_customer, make_invoice, pay

# The first quarter of 2026, away from the other tests' dates (they work around June 2026)
FROM, TO = getdate("2026-01-01"), getdate("2026-03-31")
DUE = getdate("2026-02-01")  # invoices posted on 2 January 2026 (due date - 30 days)
LABELS = {
	"rappel_courtois": "Rappel courtois",
	"relance_formelle": "Relance formelle",
	"escalade": "Escalade",
}


class TestFollowUpEffectiveness(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_company()

	def log(self, invoice, step: str, day: str, status: str = "Sent"):
		return frappe.get_doc(
			{
				"doctype": "Follow-up Log",
				"customer": self.customer,
				"company": COMPANY,
				"entry_type": "Automatic",
				"channel": "email",
				"status": status,
				"log_date": day,
				"scenario": "standard",
				"step": step,
				"step_label": LABELS[step],
				"currency": "EUR",
				"invoices": [
					{
						"sales_invoice": invoice.name,
						"step": step,
						"due_date": invoice.due_date,
						"outstanding": invoice.outstanding_amount,
						"currency": "EUR",
					}
				],
			}
		).insert(ignore_permissions=True)

	def test_figures_per_step_and_dso(self):
		self.customer = make_customer("_Relance Efficacite Client", email="eff@example.com")
		a = make_invoice(self.customer, 1000, days_late=0, as_of=DUE)
		b = make_invoice(self.customer, 500, days_late=0, as_of=DUE)
		c = make_invoice(self.customer, 2000, days_late=0, as_of=DUE)
		d = make_invoice(self.customer, 300, days_late=0, as_of=getdate("2026-02-10"))  # paid on time
		for invoice in (a, b, c):
			self.log(invoice, "rappel_courtois", "2026-02-02")
		self.log(a, "relance_formelle", "2026-02-08")
		self.log(c, "relance_formelle", "2026-02-08")
		self.log(c, "escalade", "2026-03-01", status="Planned")  # not sent: not counted
		pay(b.name, day=getdate("2026-02-05"))  # 3 days after the courteous reminder
		pay(a.name, day=getdate("2026-02-12"))  # 4 days after the formal reminder
		pay(c.name, amount=800, day=getdate("2026-02-20"))  # partly, after the formal reminder
		pay(d.name, day=getdate("2026-02-09"))

		columns, rows, _message, chart, summary = execute(
			{"company": COMPANY, "from_date": FROM, "to_date": TO}
		)
		by_step = {row["step"]: row for row in rows}
		self.assertEqual(list(by_step), ["rappel_courtois", "relance_formelle"])  # scenario order

		courteous = by_step["rappel_courtois"]
		self.assertEqual((courteous["reminded"], courteous["paid"], courteous["avg_days"]), (3, 1, 3.0))
		self.assertEqual(courteous["amount_reminded"], 3500.0)
		self.assertEqual(courteous["amount_recovered"], 500.0)  # B; A and C paid after the next step
		self.assertEqual(courteous["recovery_rate"], 14.3)
		self.assertEqual(courteous["paid_share"], 33.3)

		formal = by_step["relance_formelle"]
		self.assertEqual((formal["reminded"], formal["paid"], formal["avg_days"]), (2, 1, 4.0))
		self.assertEqual(formal["amount_reminded"], 3000.0)
		self.assertEqual(formal["amount_recovered"], 1800.0)  # A in full, 800 of C
		self.assertEqual(formal["recovery_rate"], 60.0)

		# DSO: 1 200 still receivable on 31 March / 3 800 invoiced in the quarter x 90 days
		figures = {item["label"]: item["value"] for item in summary}
		dso, receivables, sales, days = FollowUpEffectiveness(
			frappe._dict(company=COMPANY, from_date=FROM, to_date=TO)
		).dso()
		self.assertEqual((dso, receivables, sales, days), (round(1200 / 3800 * 90, 1), 1200.0, 3800.0, 90))
		self.assertEqual(
			figures["DSO over 90 days"], frappe.format(dso, {"fieldtype": "Float", "precision": 1})
		)
		self.assertEqual(figures["Credit Sales of the Period"], 3800.0)
		self.assertEqual(figures["Invoices Reminded"], 3)
		self.assertEqual(chart["data"]["labels"], ["Rappel courtois", "Relance formelle"])
		self.assertEqual(chart["data"]["datasets"][0]["values"], [14.3, 60.0])

	def test_reminders_outside_the_period_are_left_out(self):
		self.customer = make_customer("_Relance Hors Periode", email="hp@example.com")
		invoice = make_invoice(self.customer, 100, days_late=0, as_of=DUE)
		filters = {"company": COMPANY, "from_date": FROM, "to_date": TO}
		before = execute(filters)[1]
		self.log(invoice, "rappel_courtois", "2026-04-02")
		self.assertEqual(execute(filters)[1], before)
		april = execute({**filters, "from_date": "2026-04-01", "to_date": "2026-04-30"})[1]
		self.assertEqual(
			[(row["step"], row["reminded"], row["paid"]) for row in april], [("rappel_courtois", 1, 0)]
		)
