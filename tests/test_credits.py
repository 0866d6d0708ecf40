"""The customer's credits (credit notes, unallocated payments) and the other amounts past due."""

from __future__ import annotations

import unittest
from datetime import date, timedelta
from decimal import Decimal

from relance_erpnext.dunning import HistoryEntry, plan_to_dict
from relance_erpnext.dunning.models import SENT, Credit

from .helpers import customer, invoice, run

DUE = date(2026, 3, 1)


def day(n: int) -> date:
	return DUE + timedelta(days=n)


def reasons_of(plan):
	return {s.invoice: (s.reason, s.detail) for s in plan.skipped}


class TestCredits(unittest.TestCase):
	def test_credits_are_deducted_and_listed(self):
		c = customer()
		credit = Credit("C1", "EUR", Decimal("300"), "AV-1", day(2))
		[action] = run(day(5), [c], [invoice()], credits=[credit]).actions
		self.assertEqual(action.credits, (credit,))
		self.assertEqual(action.outstanding, Decimal("1000"))
		self.assertEqual(action.net_total, Decimal("700"))
		data = plan_to_dict(run(day(5), [c], [invoice()], credits=[credit]))["actions"][0]
		self.assertEqual(data["credit_total"], "300.00")
		self.assertEqual(data["net_total"], "700.00")
		self.assertEqual(data["credits"][0]["reference"], "AV-1")

	def test_a_customer_whose_credits_cover_what_is_due_is_not_reminded(self):
		c = customer()
		credit = Credit("C1", "EUR", Decimal("1000"), "AV-1", day(2))
		result = run(day(5), [c], [invoice()], credits=[credit])
		self.assertEqual(result.actions, ())
		self.assertEqual(reasons_of(result)["F1"], ("credits_cover", "1000"))
		# Another currency's credit does not count; nor another customer's
		for other in (Credit("C1", "CAD", Decimal("5000")), Credit("C2", "EUR", Decimal("5000"))):
			self.assertTrue(run(day(5), [c], [invoice()], credits=[other]).actions)
		# A credit dated after the planning day is not there yet
		later = Credit("C1", "EUR", Decimal("1000"), "AV-2", day(9))
		self.assertTrue(run(day(5), [c], [invoice()], credits=[later]).actions)

	def test_a_credit_note_against_an_invoice_settles_it_first(self):
		c = customer()
		invoices = [invoice(), invoice("F2", amount="500")]
		credit = Credit("C1", "EUR", Decimal("1200"), "AV-1", day(-10), against_invoice="F1")
		result = run(day(5), [c], invoices, credits=[credit])
		self.assertEqual(reasons_of(result)["F1"][0], "paid")
		[action] = result.actions
		self.assertEqual([line.invoice for line in action.lines], ["F2"])
		# The 200 left over is deducted from the others
		self.assertEqual(action.credit_total, Decimal("200"))
		self.assertEqual(action.net_total, Decimal("300"))

	def test_a_partial_credit_note_lowers_the_base_of_the_interest_from_its_day(self):
		c = customer()
		history = [HistoryEntry("F1", "rappel_courtois", day(1), SENT, "email", customer="C1")]
		credit = Credit("C1", "EUR", Decimal("400"), "AV-1", day(20), against_invoice="F1")
		[line] = run(day(30), [c], [invoice()], history, credits=[credit]).actions[0].lines
		self.assertEqual(line.outstanding, Decimal("600"))
		self.assertEqual([s.base for s in line.segments], [Decimal("1000"), Decimal("600")])
		self.assertEqual(line.segments[0].end, day(20))


class TestOtherAmountsPastDue(unittest.TestCase):
	def test_the_letter_lists_every_overdue_invoice_of_the_customer(self):
		c = customer()
		history = [HistoryEntry("F1", "rappel_courtois", day(1), SENT, "email", customer="C1")]
		invoices = [invoice(), invoice("F2", due=day(4), amount="250"), invoice("F3", due=day(30))]
		# F2, reminded by the courteous email on day 5, waits for its formal reminder; F3 is not due
		history.append(HistoryEntry("F2", "rappel_courtois", day(5), SENT, "email", customer="C1"))
		[action] = run(day(7), [c], invoices, history).actions
		self.assertEqual([line.invoice for line in action.lines], ["F1"])
		self.assertEqual([line.invoice for line in action.also_due], ["F2"])
		self.assertEqual(action.also_due[0].section, "also_due")
		self.assertEqual(action.also_due[0].step, "")
		self.assertEqual(action.net_total, action.total + Decimal("250"))
		# Still skipped, with its own reason: its step is not recorded
		self.assertEqual(reasons_of(run(day(7), [c], invoices, history))["F2"][0], "waiting_next_step")


if __name__ == "__main__":
	unittest.main()
