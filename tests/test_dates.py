import unittest
from datetime import date

from relance_erpnext.dunning import dates


class TestDaysAndBuckets(unittest.TestCase):
	def test_days_late(self):
		self.assertEqual(dates.days_late(date(2026, 3, 1), date(2026, 3, 1)), 0)
		self.assertEqual(dates.days_late(date(2026, 3, 1), date(2026, 3, 2)), 1)
		self.assertEqual(dates.days_late(date(2026, 3, 1), date(2026, 2, 27)), -2)

	def test_default_buckets_follow_the_weekly_procedure(self):
		# seed 000, step 3: 1-7 days, 8-15 days, over 15 days
		self.assertEqual(dates.bucket(0), dates.NOT_DUE)
		self.assertEqual(
			[dates.bucket(n) for n in (1, 7, 8, 15, 16, 400)], ["1-7", "1-7", "8-15", "8-15", ">15", ">15"]
		)
		self.assertEqual(dates.bucket_labels(), ("1-7", "8-15", ">15"))

	def test_ageing_buckets(self):
		bounds = dates.AGEING_BUCKETS
		self.assertEqual(dates.bucket_labels(bounds), ("1-30", "31-60", "61-90", ">90"))
		self.assertEqual(
			[dates.bucket(n, bounds) for n in (30, 31, 90, 91)], ["1-30", "31-60", "61-90", ">90"]
		)

	def test_bucket_bounds_must_increase(self):
		for bad in ((), (15, 7), (0, 5), (7, 7)):
			with self.assertRaises(ValueError):
				dates.bucket_labels(bad)


class TestPaymentTerms(unittest.TestCase):
	def test_net_and_end_of_month(self):
		self.assertEqual(dates.due_net(date(2026, 1, 15), 30), date(2026, 2, 14))
		self.assertEqual(dates.due_end_of_month_plus(date(2026, 1, 15), 10), date(2026, 2, 10))
		self.assertEqual(dates.due_days_end_of_month(date(2026, 1, 15), 30), date(2026, 2, 28))

	def test_45_days_end_of_month_both_methods(self):
		# Invoice of 15 January 2026.
		# (a) 15 Jan + 45 days = 1 March, end of that month = 31 March.
		# (b) end of January = 31 Jan, + 45 days = 17 March.
		issued = date(2026, 1, 15)
		self.assertEqual(dates.due_45_days_end_of_month(issued, dates.EOM_45_THEN_END), date(2026, 3, 31))
		self.assertEqual(dates.due_45_days_end_of_month(issued, dates.END_THEN_45), date(2026, 3, 17))
		# Leap year: 20 Jan 2024 + 45 = 5 March -> 31 March; 31 Jan + 45 = 16 March
		self.assertEqual(dates.due_45_days_end_of_month(date(2024, 1, 20), "a"), date(2024, 3, 31))
		self.assertEqual(dates.due_45_days_end_of_month(date(2024, 1, 20), "b"), date(2024, 3, 16))
		with self.assertRaises(ValueError):
			dates.due_45_days_end_of_month(issued, "c")

	def test_caps_of_l441_10(self):
		issued = date(2026, 1, 15)
		ok = dates.check_payment_term(issued, date(2026, 3, 16))  # 60 days
		self.assertTrue(ok.within_caps)
		ok_a = dates.check_payment_term(issued, date(2026, 3, 31))  # 45 days end of month, method a
		self.assertTrue(ok_a.within_caps)
		late = dates.check_payment_term(issued, date(2026, 4, 10))
		self.assertFalse(late.within_caps)
		self.assertEqual(late.days_over, 10)
		self.assertEqual(late.latest_allowed, date(2026, 3, 31))
		with self.assertRaises(ValueError):
			dates.check_payment_term(issued, date(2026, 1, 1))
