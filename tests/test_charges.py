"""Late interest and indemnity, checked against worked examples computed by hand.

Formula (economie.gouv.fr, "pénalités de retard"; C. com. L441-10): amount incl. VAT x annual rate x
days late / 365, days counted from the day after the due date to the day of payment.
"""

import unittest
from datetime import date
from decimal import Decimal

from relance_erpnext.dunning import (
	ContractRate,
	annual_rate,
	late_interest,
	penalty_claim,
	recovery_indemnity,
)
from relance_erpnext.dunning.charges import (
	BASIS_CONTRACT,
	BASIS_ECB_PLUS_10,
	BASIS_FLOOR_3X_LEGAL,
	PENALTY_STEP,
	overdue_outstanding,
)
from relance_erpnext.dunning.models import CONSUMER, PER_MONTH, REGIME_QC, Instalment

from .helpers import RATES, customer, invoice


class TestFranceBusiness(unittest.TestCase):
	def test_ecb_plus_ten_points(self):
		# 1,000 EUR due 1 March 2026, 30 days late on 31 March: 2.15 + 10 = 12.15 %
		# 1000 x 12.15 % x 30 / 365 = 9.986... -> 9.99
		inv = invoice(due=date(2026, 3, 1), amount="1000")
		interest, start, periods = late_interest(inv, customer(), date(2026, 3, 31), RATES)
		self.assertEqual(interest, Decimal("9.99"))
		self.assertEqual(start, date(2026, 3, 2))
		self.assertEqual(
			[(p.days, p.rate, p.basis) for p in periods], [(30, Decimal("12.15"), BASIS_ECB_PLUS_10)]
		)

	def test_published_example_with_an_agreed_rate(self):
		# lesjooristes.fr, "Comment calculer les pénalités de retard ?" (2024): 5,000 EUR at 10 % for
		# 30 days = 41.10 EUR. 10 % is above 3 x the legal rate of H1 2026 (3 x 2.62 = 7.86 %): honoured.
		c = customer(contract_rate=ContractRate(Decimal("10")))
		inv = invoice(due=date(2026, 3, 1), amount="5000")
		interest, _, periods = late_interest(inv, c, date(2026, 3, 31), RATES)
		self.assertEqual(interest, Decimal("41.10"))
		self.assertEqual(periods[0].basis, BASIS_CONTRACT)

	def test_agreed_rate_floored_at_three_times_the_legal_rate(self):
		# H2 2024: legal rate (other cases) 4.92 %, floor 3 x 4.92 = 14.76 % (propulsebyca.fr, 2024)
		c = customer(contract_rate=ContractRate(Decimal("12")))
		rate, basis = annual_rate(c, date(2024, 10, 1), RATES)
		self.assertEqual((rate, basis), (Decimal("14.76"), BASIS_FLOOR_3X_LEGAL))
		# 2,000 EUR due 30 Sept 2024, 31 days late: 2000 x 14.76 % x 31 / 365 = 25.0717... -> 25.07
		inv = invoice(due=date(2024, 9, 30), amount="2000")
		self.assertEqual(late_interest(inv, c, date(2024, 10, 31), RATES)[0], Decimal("25.07"))

	def test_interest_is_split_at_the_first_of_july(self):
		# 10,000 EUR due 15 June 2025, computed on 15 July 2025:
		# 16-30 June: 15 days at 3.15 + 10 = 13.15 %  -> 10000 x 13.15 % x 15/365 = 54.0411
		# 1-15 July:  15 days at 2.15 + 10 = 12.15 %  -> 10000 x 12.15 % x 15/365 = 49.9315
		# total 103.9726 -> 103.97 (rounded once; rounding each part would give 54.04 + 49.93 = 103.97 too,
		# so check the exact sum through a case where it differs below)
		inv = invoice(due=date(2025, 6, 15), amount="10000")
		interest, _, periods = late_interest(inv, customer(), date(2025, 7, 15), RATES)
		self.assertEqual(interest, Decimal("103.97"))
		self.assertEqual(
			[(p.start, p.end, p.days, p.rate) for p in periods],
			[
				(date(2025, 6, 16), date(2025, 6, 30), 15, Decimal("13.15")),
				(date(2025, 7, 1), date(2025, 7, 15), 15, Decimal("12.15")),
			],
		)

	def test_rounded_once_not_per_period(self):
		# 1,234.56 EUR due 29 June 2025, on 2 July 2025: 1 day at 13.15 %, 2 days at 12.15 %
		# exact: 1234.56 x (13.15 x 1 + 12.15 x 2) / 36500 = 1234.56 x 37.45 / 36500 = 1.26669...
		# per-period rounding would give 0.44 + 0.82 = 1.26; once: 1.27
		inv = invoice(due=date(2025, 6, 29), amount="1234.56")
		self.assertEqual(late_interest(inv, customer(), date(2025, 7, 2), RATES)[0], Decimal("1.27"))

	def test_partial_payments_split_the_balance(self):
		# 3,000 EUR due 1 Feb 2026; 1,000 paid on 11 Feb; on 3 March (H1 2026, 12.15 %):
		# 2-11 Feb: 10 days on 3,000 = 3000 x 12.15 x 10 / 36500 = 9.9863
		# 12 Feb-3 Mar: 20 days on 2,000 = 2000 x 12.15 x 20 / 36500 = 13.3151
		# total 23.3014 -> 23.30
		inv = invoice(due=date(2026, 2, 1), amount="3000", payments=[(date(2026, 2, 11), "1000")])
		self.assertEqual(late_interest(inv, customer(), date(2026, 3, 3), RATES)[0], Decimal("23.30"))
		self.assertEqual(overdue_outstanding(inv, date(2026, 3, 3))[0], Decimal("2000"))

	def test_payment_before_due_reduces_the_base(self):
		inv = invoice(due=date(2026, 2, 1), amount="3000", payments=[(date(2026, 1, 20), "1000")])
		full = invoice(due=date(2026, 2, 1), amount="2000")
		as_of = date(2026, 3, 3)
		self.assertEqual(
			late_interest(inv, customer(), as_of, RATES)[0], late_interest(full, customer(), as_of, RATES)[0]
		)

	def test_instalments_each_run_from_their_own_due_date(self):
		# Two instalments of 500: due 1 Feb and 1 March 2026; on 31 March, 12.15 %:
		# 500 x 12.15 x 58 / 36500 = 9.6534 ; 500 x 12.15 x 30 / 36500 = 4.9932 ; total 14.6466 -> 14.65
		inv = invoice(
			instalments=(
				Instalment(date(2026, 2, 1), Decimal("500")),
				Instalment(date(2026, 3, 1), Decimal("500")),
			)
		)
		self.assertEqual(late_interest(inv, customer(), date(2026, 3, 31), RATES)[0], Decimal("14.65"))
		# A payment of 600 on 10 March settles the first instalment and 100 of the second (FIFO)
		paid = invoice(
			instalments=inv.instalments,
			payments=[(date(2026, 3, 10), "600")],
		)
		self.assertEqual(overdue_outstanding(paid, date(2026, 3, 31)), (Decimal("400"), date(2026, 3, 1)))

	def test_no_interest_before_or_on_the_due_date(self):
		inv = invoice(due=date(2026, 3, 1))
		self.assertEqual(late_interest(inv, customer(), date(2026, 3, 1), RATES)[0], Decimal("0.00"))
		self.assertEqual(late_interest(inv, customer(), date(2026, 2, 1), RATES)[0], Decimal("0.00"))

	def test_indemnity_is_forty_euros_per_late_invoice(self):
		c = customer()
		self.assertEqual(recovery_indemnity(invoice(), c, 1), (Decimal("40.00"), None))
		self.assertEqual(recovery_indemnity(invoice(), c, 0), (Decimal("0"), None))
		self.assertEqual(
			recovery_indemnity(invoice(currency="USD"), c, 5), (Decimal("0"), "indemnity_eur_only")
		)


class TestConsumersAndQuebec(unittest.TestCase):
	def test_french_consumer_no_indemnity_and_interest_only_from_notice(self):
		c = customer(kind=CONSUMER)
		inv = invoice(due=date(2026, 1, 10), amount="1000")
		self.assertEqual(recovery_indemnity(inv, c, 60)[0], Decimal("0"))
		# No formal notice yet: nothing runs
		self.assertEqual(late_interest(inv, c, date(2026, 3, 10), RATES)[:2], (Decimal("0.00"), None))
		# Notice on 1 March 2026: legal rate 2.62 % from 2 March; on 31 March: 30 days
		# 1000 x 2.62 x 30 / 36500 = 2.1534 -> 2.15
		interest, start, periods = late_interest(
			inv, c, date(2026, 3, 31), RATES, notice_day=date(2026, 3, 1)
		)
		self.assertEqual((interest, start), (Decimal("2.15"), date(2026, 3, 2)))
		self.assertEqual(periods[0].rate, Decimal("2.62"))

	def test_quebec_legal_rate_from_the_demeure(self):
		c = customer(regime=REGIME_QC, language="fr-CA")
		inv = invoice(due=date(2026, 1, 10), amount="1000", currency="CAD")
		self.assertEqual(recovery_indemnity(inv, c, 60)[0], Decimal("0"))
		# Demand on 1 March giving 10 days: in demeure from 12 March; on 31 March: 20 days at 5 %
		# 1000 x 5 x 20 / 36500 = 2.7397 -> 2.74
		interest, start, _ = late_interest(
			inv, c, date(2026, 3, 31), RATES, notice_day=date(2026, 3, 1), notice_days=10
		)
		self.assertEqual((interest, start), (Decimal("2.74"), date(2026, 3, 12)))

	def test_quebec_monthly_rate_and_its_annual_equivalent(self):
		rate = ContractRate(Decimal("1.5"), PER_MONTH)
		self.assertEqual(rate.annual, Decimal("18.0"))
		c = customer(regime=REGIME_QC, contract_rate=rate)
		self.assertEqual(annual_rate(c, date(2031, 1, 1), RATES), (Decimal("18.0"), BASIS_CONTRACT))


class TestPenaltyClaim(unittest.TestCase):
	"""Penalties claimed on their own, after the fact (final letter or penalty invoice)."""

	def test_settled_late_runs_to_the_last_payment(self):
		# 1,200 EUR due 1 June 2026, paid in full on 8 June: 2-8 June = 7 days at 12.15 %
		# 1200 x 12.15 % x 7 / 365 = 2.796 -> 2.80 ; FR business: 40 EUR
		inv = invoice(due=date(2026, 6, 1), amount="1200", payments=[(date(2026, 6, 8), "1200")])
		line = penalty_claim(inv, customer(), date(2026, 6, 30), RATES)
		self.assertEqual((line.interest, line.indemnity), (Decimal("2.80"), Decimal("40.00")))
		self.assertEqual(
			(line.days_late, line.outstanding, line.interest_from), (7, Decimal("0"), date(2026, 6, 2))
		)
		self.assertEqual(line.step, PENALTY_STEP)

	def test_partial_payments_cut_the_balance(self):
		# 600 paid on 5 June, 600 on 15 June: 1200 x 4 days (2-5 June) + 600 x 10 days (6-15 June)
		# = 10,800 x 12.15 % / 365 = 3.595 -> 3.60
		inv = invoice(
			due=date(2026, 6, 1),
			amount="1200",
			payments=[(date(2026, 6, 5), "600"), (date(2026, 6, 15), "600")],
		)
		line = penalty_claim(inv, customer(), date(2026, 6, 30), RATES)
		self.assertEqual((line.interest, line.days_late), (Decimal("3.60"), 14))

	def test_still_open_runs_to_the_letter_day(self):
		inv = invoice(due=date(2026, 6, 1), amount="1200")
		line = penalty_claim(inv, customer(), date(2026, 6, 8), RATES)
		self.assertEqual((line.interest, line.outstanding), (Decimal("2.80"), Decimal("1200.00")))

	def test_nothing_due(self):
		on_time = invoice(due=date(2026, 6, 1), amount="1200", payments=[(date(2026, 6, 1), "1200")])
		self.assertIsNone(penalty_claim(on_time, customer(), date(2026, 6, 30), RATES))
		# A French consumer never put on notice owes neither interest nor indemnity
		late = invoice(due=date(2026, 6, 1), amount="1200", payments=[(date(2026, 6, 20), "1200")])
		self.assertIsNone(penalty_claim(late, customer(kind=CONSUMER), date(2026, 6, 30), RATES))
