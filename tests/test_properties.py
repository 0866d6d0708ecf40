"""Properties of the planner over random books (hypothesis)."""

import random
import unittest
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relance_erpnext.dunning import HistoryEntry, Hold, PlanSettings, late_interest
from relance_erpnext.dunning.models import (
	BUSINESS,
	CONSUMER,
	DONE_STATUSES,
	PLANNED,
	REGIME_FR,
	REGIME_QC,
	Promise,
)
from relance_erpnext.dunning.scenarios import BUILTIN_SCENARIOS

from .helpers import customer, invoice, run

BASE = date(2026, 1, 1)
AS_OF_RANGE = (date(2026, 1, 1), date(2026, 6, 30))  # inside the rate tables
SCENARIO_KEYS = [None, *BUILTIN_SCENARIOS]

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2)


@st.composite
def books(draw):
	n_customers = draw(st.integers(1, 5))
	customers = [
		customer(
			f"C{i}",
			kind=draw(st.sampled_from([BUSINESS, CONSUMER])),
			regime=draw(st.sampled_from([REGIME_FR, REGIME_QC])),
			email=draw(st.sampled_from(["", f"c{i}@example.fr"])),
			address=draw(st.sampled_from([(), ("1 rue X", "75001 Paris")])),
			phone=draw(st.sampled_from(["", "0102030405"])),
			scenario=draw(st.sampled_from(SCENARIO_KEYS)),
		)
		for i in range(n_customers)
	]
	invoices = []
	for i in range(draw(st.integers(0, 12))):
		amount = draw(amounts)
		due = BASE + timedelta(days=draw(st.integers(0, 170)))
		paid = []
		if draw(st.booleans()):
			paid.append((due + timedelta(days=draw(st.integers(-20, 40))), str(min(amount, draw(amounts)))))
		hold = draw(
			st.sampled_from([None, Hold("hold", "x", due + timedelta(days=20)), Hold("dispute", "y")])
		)
		invoices.append(
			invoice(
				f"F{i:03d}",
				f"C{draw(st.integers(0, n_customers - 1))}",
				due,
				str(amount),
				payments=paid,
				currency=draw(st.sampled_from(["EUR", "CAD"])),
				hold=hold,
			)
		)
	history = []
	for inv in invoices:
		if draw(st.booleans()):
			step = draw(st.sampled_from(["rappel_courtois", "relance_formelle", "premier_rappel", "appel"]))
			history.append(HistoryEntry(inv.id, step, inv.due + timedelta(days=draw(st.integers(1, 20)))))
	promises = []
	if invoices and draw(st.booleans()):
		target = draw(st.sampled_from(invoices))
		promises.append(Promise((target.id,), due=target.due + timedelta(days=draw(st.integers(0, 60)))))
	as_of = draw(st.dates(*AS_OF_RANGE))
	min_gap = draw(st.integers(0, 10))
	return customers, invoices, history, promises, as_of, PlanSettings(min_gap_days=min_gap)


PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class TestPlanProperties(unittest.TestCase):
	@PROPERTY_SETTINGS
	@given(books())
	def test_replaying_a_plan_then_planning_again_plans_nothing_new(self, book):
		customers, invoices, history, promises, as_of, plan_settings = book
		first = run(as_of, customers, invoices, history, plan_settings, promises=promises)
		replay = [
			HistoryEntry(
				line.invoice, line.step, as_of, PLANNED, action.channel, action.formal_notice, action.customer
			)
			for action in first.actions
			for line in action.lines
		]
		second = run(as_of, customers, invoices, [*history, *replay], plan_settings, promises=promises)
		self.assertEqual(second.actions, ())
		# Every invoice is accounted for, exactly once, in each plan
		for result in (first, second):
			seen = [line.invoice for a in result.actions for line in a.lines] + [
				s.invoice for s in result.skipped
			]
			self.assertEqual(sorted(seen), sorted(inv.id for inv in invoices))

	@PROPERTY_SETTINGS
	@given(books())
	def test_never_acts_on_paid_held_disputed_or_promised_invoices_nor_repeats_a_step(self, book):
		customers, invoices, history, promises, as_of, plan_settings = book
		result = run(as_of, customers, invoices, history, plan_settings, promises=promises)
		by_id = {inv.id: inv for inv in invoices}
		done = {(h.invoice, h.step) for h in history if h.status in DONE_STATUSES}
		pending = {i for p in promises if as_of <= p.due for i in p.invoices}
		for action in result.actions:
			self.assertEqual(
				action.total, action.outstanding + action.interest + action.indemnity + action.fee
			)
			for line in action.lines:
				inv = by_id[line.invoice]
				self.assertGreater(inv.outstanding, 0)
				self.assertFalse(inv.hold is not None and inv.hold.active_on(as_of))
				self.assertNotIn(line.invoice, pending)
				self.assertNotIn((line.invoice, line.step), done)
				self.assertEqual(line.interest, line.interest.quantize(Decimal("0.01")))

	@PROPERTY_SETTINGS
	@given(books(), st.randoms(use_true_random=False))
	def test_the_plan_does_not_depend_on_the_order_of_the_rows(self, book, shuffler):
		customers, invoices, history, promises, as_of, plan_settings = book
		first = run(as_of, customers, invoices, history, plan_settings, promises=promises)
		invoices, history, customers = list(invoices), list(history), list(customers)
		for rows in (invoices, history, customers):
			shuffler.shuffle(rows)
		self.assertEqual(run(as_of, customers, invoices, history, plan_settings, promises=promises), first)

	@PROPERTY_SETTINGS
	@given(
		amounts,
		st.dates(date(2024, 1, 1), date(2026, 4, 15)),  # due + 75 days stays inside the rate tables
		st.integers(0, 35),
		st.integers(1, 40),
		st.sampled_from([BUSINESS, CONSUMER]),
	)
	def test_interest_is_zero_before_due_and_grows_with_days_late(self, amount, due, first, more, kind):
		c = customer(kind=kind)
		inv = invoice(due=due, amount=str(amount))
		notice = due + timedelta(days=1) if kind == CONSUMER else None
		from .helpers import RATES

		self.assertEqual(late_interest(inv, c, due, RATES, notice)[0], 0)
		earlier = late_interest(inv, c, due + timedelta(days=first), RATES, notice)[0]
		later = late_interest(inv, c, due + timedelta(days=first + more), RATES, notice)[0]
		self.assertGreaterEqual(later, earlier)
		self.assertGreaterEqual(earlier, 0)
