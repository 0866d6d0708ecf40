import unittest
from datetime import date, timedelta
from decimal import Decimal

from relance_erpnext.dunning import HistoryEntry, Hold, PlanSettings, ScenarioError, scenario_from_dict
from relance_erpnext.dunning.models import (
	CONSUMER,
	FAILED,
	LETTER,
	PLANNED,
	REGIME_QC,
	SENT,
	Arrangement,
	MissingRate,
	Payment,
	Promise,
)
from relance_erpnext.dunning.scenarios import BUILTIN_SCENARIOS

from .helpers import customer, invoice, run

DUE = date(2026, 3, 1)
# Today's calendar before the first-contact rule: every step dated from the due date
BY_DUE = PlanSettings(catch_up="by_due_date")


def day(n: int) -> date:
	return DUE + timedelta(days=n)


def steps_of(plan):
	return {line.invoice: action.step for action in plan.actions for line in action.lines}


def reasons_of(plan):
	return {s.invoice: s.reason for s in plan.skipped}


class TestStandardCalendar(unittest.TestCase):
	"""Seed 000: day 1 courteous email, day 7 formal reminder, day 15 call, day 30 last notice."""

	def test_each_step_on_its_day(self):
		c = customer()
		history = []
		expected = {
			1: "rappel_courtois",
			7: "relance_formelle",
			15: "appel",
			30: "mise_en_demeure",
			40: "escalade",
		}
		for n in range(-3, 45):
			result = run(day(n), [c], [invoice()], history)
			planned = steps_of(result)
			if n in expected:
				self.assertEqual(planned, {"F1": expected[n]}, f"day {n}")
				history.append(
					HistoryEntry(
						"F1", expected[n], day(n), SENT, formal_notice=expected[n] == "mise_en_demeure"
					)
				)
			else:
				self.assertEqual(planned, {}, f"day {n}")
		self.assertEqual(reasons_of(run(day(60), [c], [invoice()], history)), {"F1": "scenario_complete"})

	def test_not_yet_due_and_waiting(self):
		c = customer()
		self.assertEqual(run(day(0), [c], [invoice()]).skipped[0].reason, "not_yet_due")
		history = [HistoryEntry("F1", "rappel_courtois", day(1))]
		skip = run(day(3), [c], [invoice()], history).skipped[0]
		self.assertEqual(
			(skip.reason, skip.detail), ("waiting_next_step", f"relance_formelle@{day(7).isoformat()}")
		)

	def test_catch_up_by_due_date_takes_the_latest_step_only(self):
		# Nothing sent yet, 20 days late: the call (day 15), not three steps at once
		result = run(day(20), [customer()], [invoice()], settings=BY_DUE)
		self.assertEqual(steps_of(result), {"F1": "appel"})
		self.assertIn(
			"caught_up_by_due_date:rappel_courtois,relance_formelle", result.actions[0].lines[0].notes
		)

	def test_catch_up_by_due_date_never_jumps_over_the_formal_notice(self):
		result = run(day(80), [customer()], [invoice()], settings=BY_DUE)
		self.assertEqual(steps_of(result), {"F1": "mise_en_demeure"})
		# A customer already in conversation: its other invoices catch up by due date (no note)
		history = [HistoryEntry("F0", "rappel_courtois", day(70), customer="C1")]
		result = run(day(80), [customer()], [invoice()], history)
		self.assertEqual(steps_of(result), {"F1": "mise_en_demeure"})
		self.assertIn(
			"steps_skipped:rappel_courtois,relance_formelle,appel", result.actions[0].lines[0].notes
		)

	def test_idempotent_a_recorded_step_is_never_planned_again(self):
		c = customer()
		for status in (PLANNED, SENT, "done", "unknown"):
			history = [HistoryEntry("F1", "rappel_courtois", day(1), status)]
			self.assertEqual(steps_of(run(day(1), [c], [invoice()], history)), {}, status)
			self.assertEqual(steps_of(run(day(3), [c], [invoice()], history)), {}, status)
		# A failed or cancelled send may be retried
		history = [HistoryEntry("F1", "rappel_courtois", day(1), FAILED)]
		self.assertEqual(steps_of(run(day(2), [c], [invoice()], history)), {"F1": "rappel_courtois"})

	def test_no_two_steps_on_the_same_day(self):
		# By due date: the courteous email went out late (day 7), the formal reminder (day 7) waits
		# until tomorrow
		history = [HistoryEntry("F1", "rappel_courtois", day(7))]
		self.assertEqual(
			reasons_of(run(day(7), [customer()], [invoice()], history, BY_DUE)), {"F1": "step_done_today"}
		)
		self.assertEqual(
			steps_of(run(day(8), [customer()], [invoice()], history, BY_DUE)), {"F1": "relance_formelle"}
		)
		# First contact: the scenario keeps its spacing from the late courteous email (6 days)
		self.assertEqual(steps_of(run(day(12), [customer()], [invoice()], history)), {})
		self.assertEqual(
			steps_of(run(day(13), [customer()], [invoice()], history)), {"F1": "relance_formelle"}
		)


class TestFirstContact(unittest.TestCase):
	"""A customer never reminded starts at the first written reminder, whatever the delay."""

	def test_a_customer_without_history_starts_at_the_first_written_reminder(self):
		result = run(day(80), [customer()], [invoice(), invoice("F2", due=day(75))])
		self.assertEqual(steps_of(result), {"F1": "rappel_courtois", "F2": "rappel_courtois"})
		self.assertEqual(len(result.actions), 1)
		self.assertIn(f"first_contact:{day(80).isoformat()}", result.actions[0].lines[0].notes)
		self.assertFalse(result.actions[0].formal_notice)
		self.assertEqual(result.actions[0].previous, ())

	def test_the_next_steps_keep_the_scenario_spacing_from_the_first_contact(self):
		c = customer()
		history = []
		seen = {}
		for n in range(80, 140):
			result = run(day(n), [c], [invoice()], history)
			for action in result.actions:
				for line in action.lines:
					seen[n] = line.step
					history.append(
						HistoryEntry("F1", line.step, day(n), SENT, action.channel, line.formal_notice)
					)
		# Standard: days 1, 7, 15, 30, then 10 after: from day 80, +0, +6, +14, +29, +39
		self.assertEqual(
			seen,
			{
				80: "rappel_courtois",
				86: "relance_formelle",
				94: "appel",
				109: "mise_en_demeure",
				119: "escalade",
			},
		)

	def test_doubtful_customers_first_contact(self):
		c = customer(scenario="clients_douteux")
		self.assertEqual(steps_of(run(day(40), [c], [invoice()])), {"F1": "premier_rappel"})
		self.assertEqual(steps_of(run(day(6), [c], [invoice()])), {})

	def test_a_scenario_may_keep_the_due_date_calendar(self):
		from dataclasses import replace

		scenarios = {
			**BUILTIN_SCENARIOS,
			"standard": replace(BUILTIN_SCENARIOS["standard"], catch_up="by_due_date"),
		}
		self.assertEqual(
			steps_of(run(day(80), [customer()], [invoice()], scenarios=scenarios)), {"F1": "mise_en_demeure"}
		)


class TestOneConversation(unittest.TestCase):
	def test_the_most_advanced_step_leads_and_each_invoice_keeps_its_own(self):
		c = customer()
		history = [
			HistoryEntry("F1", "rappel_courtois", day(1), SENT, "email", customer="C1"),
			HistoryEntry("F1", "relance_formelle", day(7), SENT, "email", customer="C1"),
			HistoryEntry("F1", "appel", day(15), SENT, "phone", customer="C1"),
		]
		invoices = [invoice(), invoice("F2", due=day(29))]
		result = run(day(30), [c], invoices, history)
		self.assertEqual(len(result.actions), 1)
		action = result.actions[0]
		self.assertEqual(
			(action.step, action.channel, action.formal_notice),
			("mise_en_demeure", "registered_letter", True),
		)
		self.assertEqual(
			[(l.invoice, l.step, l.formal_notice, l.section) for l in action.lines],
			[
				("F1", "mise_en_demeure", True, "formal_notice"),
				("F2", "rappel_courtois", False, "past_due"),
			],
		)
		self.assertEqual(
			[(p.day, p.channel) for p in action.previous],
			[(day(1), "email"), (day(7), "email"), (day(15), "phone")],
		)
		self.assertEqual(action.pay_by, day(30 + 8))

	def test_the_gap_holds_across_the_customer_invoices(self):
		c = customer()
		history = [HistoryEntry("F1", "rappel_courtois", day(1), SENT, "email", customer="C1")]
		invoices = [invoice(), invoice("F2", due=day(2))]
		# Day 3, F2's first step is due but the customer was written to on day 1: with a gap of 5 days
		result = run(day(3), [c], invoices, history, PlanSettings(min_gap_days=5))
		self.assertEqual(reasons_of(result)["F2"], "min_gap")
		# Without a gap, never two communications the same day: F2 waits for tomorrow
		history.append(HistoryEntry("F1", "relance_formelle", day(7), SENT, "email", customer="C1"))
		invoices = [invoice(), invoice("F2", due=day(6))]
		result = run(day(7), [c], invoices, history)
		self.assertEqual(
			(result.skipped[1].reason, result.skipped[1].detail), ("min_gap", day(8).isoformat())
		)

	def test_an_escalation_is_an_internal_note_of_its_own(self):
		c = customer()
		history = [
			HistoryEntry("F1", "mise_en_demeure", day(30), SENT, "registered_letter", True, customer="C1"),
		]
		result = run(day(40), [c], [invoice(), invoice("F2", due=day(39))], history)
		self.assertEqual(
			[(a.step, a.channel, a.invoices) for a in result.actions],
			[
				("rappel_courtois", "email", ("F2",)),
				("escalade", "escalation", ("F1",)),
			],
		)


class TestGroupingAndFigures(unittest.TestCase):
	def test_one_action_per_customer_and_currency_at_its_most_advanced_step(self):
		c1, c2 = customer("C1"), customer("C2")
		invoices = [
			invoice("F1", "C1", DUE, "100"),
			invoice("F2", "C1", DUE, "200"),
			invoice("F3", "C1", DUE, "50", currency="USD"),
			invoice("F4", "C2", DUE, "300"),
			invoice("F5", "C1", day(-6), "10"),  # 7 days late on day 1: another step
		]
		history = [HistoryEntry("F9", "rappel_courtois", day(-20), customer="C1")]
		result = run(day(1), [c2, c1], invoices, history)
		summary = [(a.customer, a.currency, a.step, a.invoices) for a in result.actions]
		self.assertEqual(
			summary,
			[
				("C1", "EUR", "relance_formelle", ("F1", "F2", "F5")),
				("C1", "USD", "rappel_courtois", ("F3",)),
				("C2", "EUR", "rappel_courtois", ("F4",)),
			],
		)
		# Each invoice keeps its own step, figures and section
		lines = result.actions[0].lines
		self.assertEqual([l.step for l in lines], ["rappel_courtois", "rappel_courtois", "relance_formelle"])
		self.assertEqual([l.indemnity for l in lines], [Decimal("0"), Decimal("0"), Decimal("40.00")])
		self.assertEqual({l.section for l in lines}, {"past_due"})
		# 310 + 0.02 interest on F5 (10 x 12.15 % x 7/365) + its 40 indemnity
		self.assertEqual(result.actions[0].total, Decimal("350.02"))
		self.assertEqual(result.actions[0].pay_by, day(1 + 8))

	def test_totals_and_fee(self):
		scenario = scenario_from_dict(
			{
				"key": "frais",
				"steps": [
					{
						"key": "s1",
						"offset": 10,
						"channel": "email",
						"tone": "formel",
						"template": "formal",
						"fee": "15",
						"claim_interest": True,
						"claim_indemnity": True,
					},
				],
			}
		)
		scenarios = {**BUILTIN_SCENARIOS, "frais": scenario}
		settings = PlanSettings(default_scenario="frais")
		result = run(
			day(30),
			[customer()],
			[invoice(amount="1000"), invoice("F2", amount="500")],
			settings=settings,
			scenarios=scenarios,
		)
		action = result.actions[0]
		# 1500 x 12.15 % x 30/365: 9.99 + 4.99 (each invoice rounded once)
		self.assertEqual([l.interest for l in action.lines], [Decimal("9.99"), Decimal("4.99")])
		self.assertEqual(action.indemnity, Decimal("80.00"))
		self.assertEqual(action.fee, Decimal("15.00"))
		self.assertEqual(action.total, Decimal("1500") + Decimal("14.98") + Decimal("80") + Decimal("15"))
		# A consumer pays no fee and no indemnity
		consumer = run(
			day(30), [customer(kind=CONSUMER)], [invoice()], settings=settings, scenarios=scenarios
		).actions[0]
		self.assertEqual(
			(consumer.fee, consumer.indemnity, consumer.interest), (Decimal("0"), Decimal("0"), Decimal("0"))
		)
		self.assertIn("fee_not_allowed_consumer", consumer.notes)

	def test_consumer_interest_runs_from_the_recorded_notice(self):
		c = customer(kind=CONSUMER)
		history = [
			HistoryEntry("F1", "rappel_courtois", day(1)),
			HistoryEntry("F1", "relance_formelle", day(7)),
			HistoryEntry("F1", "appel", day(15)),
			HistoryEntry("F1", "mise_en_demeure", day(30), formal_notice=True),
		]
		action = run(day(40), [c], [invoice(amount="1000")], history).actions[0]
		self.assertEqual(action.step, "escalade")
		# from day 31 to day 40: 10 days at 2.62 %: 1000 x 2.62 x 10 / 36500 = 0.7178 -> 0.72
		self.assertEqual(action.lines[0].interest, Decimal("0.72"))
		self.assertEqual(action.lines[0].indemnity, Decimal("0"))

	def test_quebec_customer(self):
		c = customer(regime=REGIME_QC, language="fr-CA")
		action = run(day(7), [c], [invoice(currency="CAD")]).actions[0]
		self.assertEqual(
			(action.regime, action.language, action.interest, action.indemnity),
			("QC", "fr-CA", Decimal("0"), Decimal("0")),
		)


class TestWhyNot(unittest.TestCase):
	def test_paid_cancelled_hold_dispute(self):
		c = customer()
		invoices = [
			invoice("F1", payments=[(day(2), "1000")]),
			invoice("F2", cancelled=True),
			invoice("F3", hold=Hold("hold", "à l'étude", day(20))),
			invoice("F4", hold=Hold("dispute", "livraison contestée")),
			invoice("F5", customer="C9"),
			invoice("F6", instalments=()),
		]
		reasons = reasons_of(run(day(10), [c], invoices))
		self.assertEqual(
			reasons,
			{
				"F1": "paid",
				"F2": "cancelled",
				"F3": "on_hold",
				"F4": "disputed",
				"F5": "unknown_customer",
				"F6": "no_due_date",
			},
		)
		# A hold ends on its date; a customer-level hold covers all its invoices
		self.assertEqual(steps_of(run(day(21), [c], [invoices[2]], settings=BY_DUE)), {"F3": "appel"})
		held = customer(hold=Hold("hold", "redressement judiciaire"))
		self.assertEqual(reasons_of(run(day(10), [held], [invoice()])), {"F1": "on_hold"})

	def test_below_minimum_and_min_gap(self):
		c = customer()
		settings = PlanSettings(min_amount=Decimal("50"))
		self.assertEqual(
			reasons_of(run(day(1), [c], [invoice(amount="49.99")], settings=settings)),
			{"F1": "below_minimum"},
		)
		history = [HistoryEntry("F2", "rappel_courtois", day(0), customer="C1")]
		settings = PlanSettings(min_gap_days=5)
		result = run(day(1), [c], [invoice()], history, settings=settings)
		self.assertEqual(
			(result.skipped[0].reason, result.skipped[0].detail), ("min_gap", day(5).isoformat())
		)
		self.assertEqual(
			steps_of(run(day(5), [c], [invoice()], history, settings=settings)), {"F1": "rappel_courtois"}
		)

	def test_a_missing_contact_never_stalls_a_step(self):
		no_email = customer(email="")
		action = run(day(1), [no_email], [invoice()]).actions[0]
		self.assertEqual(
			(action.channel, action.notes, action.tasks), (LETTER, ("no_email_sent_by_letter",), ())
		)
		# Nothing at all: a letter all the same, with the address to complete
		nothing = customer(email="", address=(), phone="")
		action = run(day(1), [nothing], [invoice()]).actions[0]
		self.assertEqual((action.channel, action.tasks), (LETTER, ("complete_address",)))
		self.assertIn("address_missing", action.notes)
		# A registered letter without address is still written, with its task
		history = [HistoryEntry("F1", "appel", day(15), customer="C1")]
		action = run(day(30), [customer(address=())], [invoice()], history).actions[0]
		self.assertEqual(
			(action.step, action.channel, action.tasks),
			("mise_en_demeure", "registered_letter", ("complete_address",)),
		)
		# A call without number: a task to find it, and the formal reminder in writing instead
		history = [HistoryEntry("F1", "relance_formelle", day(7), customer="C1")]
		action = run(day(15), [customer(phone="")], [invoice()], history).actions[0]
		self.assertEqual(
			(action.step, action.channel, action.template, action.tasks),
			("appel", "email", "formal", ("find_phone",)),
		)
		action = run(day(15), [nothing], [invoice()], history).actions[0]
		self.assertEqual((action.channel, action.tasks), (LETTER, ("find_phone", "complete_address")))

	def test_unknown_scenario(self):
		result = run(day(1), [customer(scenario="nope")], [invoice()])
		self.assertEqual((result.skipped[0].reason, result.skipped[0].detail), ("unknown_scenario", "nope"))

	def test_a_missing_rate_never_stops_a_reminder(self):
		# The bundled ECB table ends on 2026-06-30: on 1 August the reminder still goes out, its
		# penalties counted up to 30 June only (2026-06-02..06-30, 29 days at 2.15 + 10 = 12.15 %:
		# 1000 x 12.15 x 29 / 36500 = 9.653 -> 9.65), the second half-year named as missing
		result = run(date(2026, 8, 1), [customer()], [invoice(due=date(2026, 6, 1))], settings=BY_DUE)
		self.assertEqual(result.skipped, ())
		self.assertEqual(result.errors, ())
		(action,) = result.actions
		(line,) = action.lines
		self.assertEqual(line.interest, Decimal("9.65"))
		self.assertEqual(line.indemnity, Decimal("40.00"))
		self.assertEqual(line.interest_from, date(2026, 6, 2))
		self.assertEqual(line.interest_until, date(2026, 6, 30))
		self.assertEqual([(p.start, p.end) for p in line.periods], [(date(2026, 6, 2), date(2026, 6, 30))])
		missing = (MissingRate("fr_ecb_refi", date(2026, 7, 1), date(2026, 12, 31)),)
		self.assertEqual(line.missing_rates, missing)
		self.assertIn("interest_provisional:2026-06-30", line.notes)
		self.assertTrue(action.provisional)
		self.assertEqual(result.provisional, missing)
		# The same invoice on a day the table covers: final figures, nothing provisional
		known = run(date(2026, 6, 30), [customer()], [invoice(due=date(2026, 6, 1))], settings=BY_DUE)
		self.assertEqual(known.provisional, ())
		self.assertFalse(any(line.missing_rates for a in known.actions for line in a.lines))

	def test_interest_wholly_in_a_missing_half_year_is_zero_and_provisional(self):
		# Due 2026-07-10: every day of interest is in the missing half-year; the reminder still goes
		result = run(date(2026, 8, 15), [customer()], [invoice(due=date(2026, 7, 10))], settings=BY_DUE)
		(action,) = result.actions
		(line,) = action.lines
		self.assertEqual(line.interest, Decimal("0.00"))
		self.assertEqual(line.interest_from, date(2026, 7, 11))
		self.assertEqual(line.periods, ())
		self.assertEqual(line.missing_rates[0].start, date(2026, 7, 1))
		self.assertNotIn("interest_runs_from_notice", line.notes)


class TestPromisesAndArrangements(unittest.TestCase):
	def test_promise_pauses_then_broken_promise_escalates(self):
		c = customer()
		history = [HistoryEntry("F1", "rappel_courtois", day(1))]
		promise = Promise(("F1",), due=day(12), made_on=day(3))
		self.assertEqual(
			reasons_of(run(day(7), [c], [invoice()], history, promises=[promise])), {"F1": "promise_pending"}
		)
		# Day 13: promise broken; the formal reminder (due day 7) goes now, flagged
		result = run(day(13), [c], [invoice()], history, promises=[promise])
		self.assertEqual(steps_of(result), {"F1": "relance_formelle"})
		self.assertIn("promise_broken", result.actions[0].lines[0].notes)

	def test_broken_promise_escalates_even_before_the_next_step_date(self):
		c = customer()
		history = [HistoryEntry("F1", "rappel_courtois", day(1))]
		promise = Promise(("F1",), due=day(3), made_on=day(2))
		self.assertEqual(
			steps_of(run(day(4), [c], [invoice()], history, promises=[promise])), {"F1": "relance_formelle"}
		)

	def test_kept_promise_does_not_escalate(self):
		c = customer()
		promise = Promise(("F1",), due=day(5), amount=Decimal("400"), made_on=day(2))
		inv = invoice(payments=[(day(4), "400")])
		history = [HistoryEntry("F1", "rappel_courtois", day(1))]
		self.assertEqual(
			reasons_of(run(day(6), [c], [inv], history, promises=[promise])), {"F1": "waiting_next_step"}
		)

	def test_arrangement_kept_then_broken(self):
		c = customer()
		plan_ = Arrangement(
			("F1",),
			schedule=(Payment(day(10), Decimal("500")), Payment(day(40), Decimal("500"))),
			agreed_on=day(5),
		)
		inv = invoice(payments=[(day(9), "500")])
		result = run(day(20), [c], [inv], promises=(), arrangements=[plan_])
		self.assertEqual(
			(result.skipped[0].reason, result.skipped[0].detail), ("arrangement_active", day(40).isoformat())
		)
		broken = run(day(42), [c], [inv], arrangements=[plan_])
		self.assertEqual(steps_of(broken), {"F1": "mise_en_demeure"})
		self.assertIn("arrangement_broken", broken.actions[0].lines[0].notes)
		# Nothing paid at all: broken after the first date
		self.assertEqual(
			steps_of(run(day(11), [c], [invoice()], arrangements=[plan_])), {"F1": "relance_formelle"}
		)


class TestScenarios(unittest.TestCase):
	def test_doubtful_customers_calendar(self):
		# Seed 003: first reminder 7 days after the due date, the next ones 7 days after the previous
		c = customer(scenario="clients_douteux")
		self.assertEqual(steps_of(run(day(7), [c], [invoice()])), {"F1": "premier_rappel"})
		history = [HistoryEntry("F1", "premier_rappel", day(9))]  # sent two days late
		self.assertEqual(steps_of(run(day(15), [c], [invoice()], history)), {})
		self.assertEqual(steps_of(run(day(16), [c], [invoice()], history)), {"F1": "relance_insistante"})

	def test_reminder_before_the_due_date(self):
		c = customer(scenario="preventif")
		self.assertEqual(steps_of(run(day(-5), [c], [invoice()])), {"F1": "rappel_echeance"})
		self.assertEqual(steps_of(run(day(-6), [c], [invoice()])), {})
		line = run(day(-5), [c], [invoice()]).actions[0].lines[0]
		self.assertEqual(
			(line.days_late, line.outstanding, line.interest), (-5, Decimal("1000.00"), Decimal("0"))
		)

	def test_validation_names_the_step_and_field(self):
		def steps(*items):
			return {"key": "s", "steps": list(items)}

		ok = {"key": "a", "offset": 1, "channel": "email", "tone": "amical", "template": "courteous"}
		cases = [
			(steps(ok, dict(ok)), "a", "key", "duplicate"),
			(steps(ok, {**ok, "key": "b", "offset": 1}), "b", "offset", "before or on day 1"),
			(steps({**ok, "relative_to": "previous"}), "a", "relative_to", "first step"),
			(steps({**ok, "fee": "-5"}), "a", "fee", "0 or more"),
			(steps({**ok, "channel": "fax"}), "a", "channel", "unknown channel"),
			(steps({**ok, "tone": "rude"}), "a", "tone", "unknown tone"),
			(steps({**ok, "offset": "x"}), "a", "offset", "whole number"),
			(steps({**ok, "colour": "red"}), "a", "colour", "unknown field"),
			(steps({**ok, "channel": "phone", "formal_notice": True}), "a", "formal_notice", "written"),
			(
				steps(ok, {**ok, "key": "b", "relative_to": "previous", "offset": 0}),
				"b",
				"offset",
				"at least 1 day",
			),
			({"key": "s", "steps": []}, None, "steps", "non-empty"),
		]
		for data, step, field, text in cases:
			with self.assertRaises(ScenarioError, msg=str(data)) as caught:
				scenario_from_dict(data)
			self.assertEqual((caught.exception.step, caught.exception.field), (step, field))
			self.assertIn(text, str(caught.exception))

	def test_builtin_scenarios_are_valid_and_round_trip(self):
		from relance_erpnext.dunning import scenario_to_dict, validate_scenario

		for scenario in BUILTIN_SCENARIOS.values():
			validate_scenario(scenario)
			self.assertEqual(scenario_from_dict(scenario_to_dict(scenario)), scenario)
