"""How a customer pays, and the doubtful customers' rule (core, no I/O)."""

import unittest
from datetime import date, timedelta
from decimal import Decimal

from relance_erpnext.dunning.behaviour import (
	DoubtfulRule,
	InvoiceRecord,
	doubtful,
	payment_behaviour,
	verdict_text,
)

DAY = date(2026, 12, 5)


def due(days_ago: int) -> date:
	return DAY - timedelta(days=days_ago)


class TestPaymentBehaviour(unittest.TestCase):
	def test_delays_over_twelve_months(self):
		records = [
			InvoiceRecord(due(100), due(100)),  # on time
			InvoiceRecord(due(90), due(90) + timedelta(days=40)),  # 40 days late
			InvoiceRecord(due(20)),  # still open: 20 days late today
			InvoiceRecord(due(400), due(300)),  # due before the window: not counted
			InvoiceRecord(due(-10)),  # not yet due: not counted
		]
		seen = payment_behaviour(records, DAY, broken_promise_days=[due(30), due(500)], last_contact=due(3))
		self.assertEqual((seen.invoices, seen.paid_late), (3, 2))
		self.assertEqual(seen.average_days_late, Decimal("20.0"))  # (0 + 40 + 20) / 3
		self.assertEqual(seen.share_late, Decimal(67))
		self.assertEqual(seen.broken_promises, 1)
		self.assertEqual(seen.last_contact, due(3))

	def test_no_invoice(self):
		seen = payment_behaviour([], DAY)
		self.assertEqual(
			(seen.invoices, seen.average_days_late, seen.share_late), (0, Decimal(0), Decimal(0))
		)


class TestDoubtfulRule(unittest.TestCase):
	def test_enters_on_any_threshold_and_leaves_when_none(self):
		rule = DoubtfulRule()
		late = payment_behaviour(
			[InvoiceRecord(due(d), due(d) + timedelta(days=45)) for d in (200, 150, 100)], DAY
		)
		verdict = doubtful(late, rule)
		self.assertTrue(verdict.doubtful)
		self.assertEqual(verdict.reasons, ("average_days_late:45.0", "share_late:100"))
		self.assertEqual(
			verdict_text(verdict, "fr"),
			"paie en moyenne avec 45,0 jours de retard ; 100 % de ses factures payées en retard",
		)
		good = payment_behaviour([InvoiceRecord(due(d), due(d)) for d in (200, 150, 100)], DAY)
		self.assertFalse(doubtful(good, rule).doubtful)

	def test_too_few_invoices_unless_promises_were_broken(self):
		rule = DoubtfulRule()
		one_late = payment_behaviour([InvoiceRecord(due(100), due(10))], DAY)
		self.assertEqual(doubtful(one_late, rule).reasons, ("too_few_invoices:1",))
		self.assertFalse(doubtful(one_late, rule).doubtful)
		broken = payment_behaviour(
			[InvoiceRecord(due(100), due(10))], DAY, broken_promise_days=[due(5), due(50)]
		)
		self.assertTrue(doubtful(broken, rule).doubtful)
		self.assertEqual(doubtful(broken, rule).reasons, ("broken_promises:2",))
