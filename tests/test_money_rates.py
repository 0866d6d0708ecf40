import unittest
from datetime import date
from decimal import Decimal

from relance_erpnext.dunning import RateMissing, RateTableError, load_reference_rates, money
from relance_erpnext.dunning.rates import parse_rate_table


class TestMoney(unittest.TestCase):
	def test_parse_amounts(self):
		cases = {
			"1 234,56": "1234.56",
			"1234.56": "1234.56",
			"1,234.56": "1234.56",
			"1.234,56": "1234.56",
			"1\u202f234,5 €": "1234.5",
			"(12,00)": "-12.00",
			"40": "40",
		}
		for text, expected in cases.items():
			self.assertEqual(money.parse_amount(text), Decimal(expected), text)
		self.assertEqual(money.parse_amount(12.1), Decimal("12.1"))
		for bad in ("", "abc", "1,2,3", "1.2.3", "NaN", True):
			with self.assertRaises(ValueError):
				money.parse_amount(bad)

	def test_round_half_up_once(self):
		self.assertEqual(money.round_money(Decimal("0.125")), Decimal("0.13"))
		self.assertEqual(money.round_money(Decimal("2.675")), Decimal("2.68"))
		self.assertEqual(money.round_money(Decimal("10.5"), "JPY"), Decimal("11"))

	def test_format(self):
		self.assertEqual(money.format_amount(Decimal("1234.5"), "EUR", "fr-FR"), "1\u202f234,50\u00a0€")
		self.assertEqual(money.format_amount(Decimal("1234.5"), "CAD", "fr-CA"), "1\u202f234,50\u00a0$")
		self.assertEqual(money.format_amount(Decimal("1234.5"), "EUR", "en"), "€1,234.50")
		self.assertEqual(money.format_rate(Decimal("12.15"), "fr-FR"), "12,15\u00a0%")


class TestRateTables(unittest.TestCase):
	def setUp(self):
		self.rates = load_reference_rates()

	def test_half_year_rates(self):
		# ECB refi in force on 1 July 2024 was 4.25 % (cut to 3.65 % only on 18 September 2024)
		self.assertEqual(self.rates.ecb_refi.rate_on(date(2024, 9, 30)), Decimal("4.25"))
		self.assertEqual(self.rates.ecb_refi.rate_on(date(2025, 1, 1)), Decimal("3.15"))
		self.assertEqual(self.rates.ecb_refi.rate_on(date(2026, 6, 30)), Decimal("2.15"))
		# Taux de l'intérêt légal, autres cas, 1er semestre 2026: 2,62 % (arrêté du 15 décembre 2025)
		self.assertEqual(self.rates.fr_legal.rate_on(date(2026, 2, 1)), Decimal("2.62"))
		self.assertEqual(self.rates.qc_legal.rate_on(date(2030, 1, 1)), Decimal("5.00"))

	def test_outside_the_table_is_an_error(self):
		with self.assertRaises(RateMissing) as caught:
			self.rates.ecb_refi.rate_on(date(2026, 7, 1))
		self.assertIn("2026-07-01", str(caught.exception))
		self.assertIn("2026-06-30", str(caught.exception))
		with self.assertRaises(RateMissing):
			self.rates.fr_legal.rate_on(date(2023, 12, 31))

	def test_every_row_has_a_source(self):
		for table in (self.rates.ecb_refi, self.rates.fr_legal, self.rates.qc_legal):
			for row in table.rows:
				self.assertTrue(row.source)

	def test_bad_tables_are_refused(self):
		header = "valid_from,valid_until,rate,source\n"
		gap = header + "2024-01-01,2024-06-30,1,x\n2024-07-02,2024-12-31,1,x\n"
		with self.assertRaisesRegex(RateTableError, "gap"):
			parse_rate_table("t", gap)
		with self.assertRaisesRegex(RateTableError, "source"):
			parse_rate_table("t", header + "2024-01-01,2024-06-30,1,\n")
		with self.assertRaisesRegex(RateTableError, "line 2"):
			parse_rate_table("t", header + "2024-13-01,2024-06-30,1,x\n")
		with self.assertRaisesRegex(RateTableError, "missing column"):
			parse_rate_table("t", "valid_from,rate\n2024-01-01,1\n")

	def test_an_updated_table_extends_the_coverage(self):
		text = (
			"valid_from,valid_until,rate,source\n"
			"2026-01-01,2026-06-30,2.15,ecb\n2026-07-01,2026-12-31,2.15,ecb (test row)\n"
		)
		rates = load_reference_rates({"fr_ecb_refi": text})
		self.assertEqual(rates.ecb_refi.rate_on(date(2026, 11, 23)), Decimal("2.15"))
