"""What was done elsewhere: manual entries (dunning.outcomes) read by the planner."""

from __future__ import annotations

import unittest
from datetime import date, timedelta
from decimal import Decimal

from relance_erpnext.dunning import HistoryEntry
from relance_erpnext.dunning.models import CONSUMER, REGIME_QC, SENT
from relance_erpnext.dunning.outcomes import (
	ERPNEXT_OUTCOMES,
	OUTCOMES,
	ManualEntry,
	outcome_of,
	parse_step_cell,
	resolve_step,
)
from relance_erpnext.dunning.scenarios import BUILTIN_SCENARIOS

from .helpers import customer, invoice, run

DUE = date(2026, 3, 1)
STANDARD = BUILTIN_SCENARIOS["standard"]
DOUBTFUL = BUILTIN_SCENARIOS["clients_douteux"]


def day(n: int) -> date:
	return DUE + timedelta(days=n)


def steps_of(plan):
	return {line.invoice: action.step for action in plan.actions for line in action.lines}


def reasons_of(plan):
	return {s.invoice: (s.reason, s.detail) for s in plan.skipped}


class TestOneModel(unittest.TestCase):
	def test_every_outcome_has_french_and_english_labels_and_an_effect(self):
		for code, outcome in OUTCOMES.items():
			self.assertEqual(outcome.code, code)
			self.assertTrue(outcome.fr and outcome.en)
			self.assertEqual(outcome.label("fr"), outcome.fr)
		# ERPNext's Follow-up Log options all map to a code
		for label, code in ERPNEXT_OUTCOMES.items():
			self.assertIn(code, OUTCOMES, label)
			self.assertEqual(outcome_of(label).code, code)

	def test_register_cells_name_a_level_a_channel_or_a_step(self):
		self.assertEqual(parse_step_cell("2"), ("", 2, ""))
		self.assertEqual(parse_step_cell("Niveau 3"), ("", 3, ""))
		self.assertEqual(parse_step_cell("2e relance"), ("", 2, ""))
		self.assertEqual(parse_step_cell("Courriel"), ("", 0, "email"))
		self.assertEqual(parse_step_cell("LRAR"), ("", 0, "registered_letter"))
		self.assertEqual(parse_step_cell("appel"), ("", 0, "phone"))
		self.assertEqual(parse_step_cell("Relance formelle"), ("relance_formelle", 0, ""))

	def test_resolve_step(self):
		def step(**kw):
			entry = ManualEntry(("F1",), kw.pop("day", day(20)), **kw)
			return resolve_step(STANDARD, DUE, entry).key

		self.assertEqual(step(step="appel"), "appel")
		self.assertEqual(step(level=2), "relance_formelle")
		self.assertEqual(step(level=9), "mise_en_demeure")  # beyond: the last written one
		self.assertEqual(step(channel="email"), "relance_formelle")  # the email step day 20 had reached
		self.assertEqual(step(channel="email", day=day(3)), "rappel_courtois")
		self.assertEqual(step(channel="letter", day=day(3)), "rappel_courtois")
		self.assertEqual(step(channel="phone", day=day(3)), "appel")
		self.assertEqual(step(channel="registered_letter"), "mise_en_demeure")
		self.assertEqual(
			resolve_step(DOUBTFUL, DUE, ManualEntry(("F1",), day(9), level=1)).key, "premier_rappel"
		)


class TestThePlannerReadsThem(unittest.TestCase):
	def test_a_reminder_sent_elsewhere_is_history_the_next_step_counts_from_it(self):
		c = customer()
		entry = ManualEntry(("F1",), day(40), channel="email", level=1)
		# 60 days late, reminded by hand on day 40: not a first contact; the formal reminder comes 6
		# days after the courteous one (the scenario's spacing from the first contact)
		result = run(day(45), [c], [invoice()], outcomes=[entry])
		self.assertEqual(reasons_of(result)["F1"][0], "waiting_next_step")
		self.assertEqual(reasons_of(result)["F1"][1], f"relance_formelle@{day(46).isoformat()}")
		[action] = run(day(46), [c], [invoice()], outcomes=[entry]).actions
		self.assertEqual(action.step, "relance_formelle")
		self.assertEqual([(p.day, p.channel) for p in action.previous], [(day(40), "email")])
		# Not yet on the day it was entered for: an entry dated later is not known
		[action] = run(day(39), [c], [invoice()], outcomes=[entry]).actions
		self.assertEqual(action.previous, ())

	def test_a_registered_letter_logged_with_its_number_is_cited_and_is_the_formal_notice(self):
		c = customer()
		entry = ManualEntry(("F1",), day(31), channel="registered_letter", reference="1A 123 456 7890 1")
		result = run(day(41), [c], [invoice()], outcomes=[entry])
		[action] = result.actions
		self.assertEqual(action.step, "escalade")
		[contact] = [p for p in action.previous if p.channel == "registered_letter"]
		self.assertEqual(contact.reference, "1A 123 456 7890 1")
		self.assertTrue(contact.formal_notice)

	def test_consumer_interest_runs_from_the_delivery_of_the_formal_notice(self):
		c = customer(kind=CONSUMER)
		sent = ManualEntry(("F1",), day(31), channel="registered_letter")
		delivered = ManualEntry(("F1",), day(35), outcome="delivered")
		history = [HistoryEntry("F1", "mise_en_demeure", day(31), SENT, "registered_letter", True, "C1")]
		# The same formal notice, recorded by the tool (sent) or by hand
		by_tool = run(day(41), [c], [invoice()], history).actions[0].lines[0]
		by_hand = run(day(41), [c], [invoice()], outcomes=[sent]).actions[0].lines[0]
		self.assertEqual(by_tool.interest_from, day(32))
		self.assertEqual((by_hand.interest_from, by_hand.interest), (by_tool.interest_from, by_tool.interest))
		# Delivered four days later: interest from the day after the delivery
		line = run(day(41), [c], [invoice()], outcomes=[sent, delivered]).actions[0].lines[0]
		self.assertEqual(line.interest_from, day(36))
		self.assertLess(line.interest, by_tool.interest)
		# Québec: from the end of the delay given, counted from the delivery
		qc = customer(regime=REGIME_QC, language="fr-CA")
		line = run(day(60), [qc], [invoice(currency="CAD")], outcomes=[sent, delivered]).actions[0].lines[0]
		self.assertEqual(line.interest_from, day(35 + 1 + 8))

	def test_a_promise_pauses_and_a_broken_one_escalates(self):
		c = customer()
		history = [HistoryEntry("F1", "rappel_courtois", day(1), SENT, "email", customer="C1")]
		call = ManualEntry(
			("F1",), day(8), outcome="promise", channel="phone", until=day(20), amount=Decimal("1000")
		)
		result = run(day(15), [c], [invoice()], history, outcomes=[call])
		self.assertEqual(reasons_of(result)["F1"], ("promise_pending", day(20).isoformat()))
		result = run(day(21), [c], [invoice()], history, outcomes=[call])
		[line] = result.actions[0].lines
		self.assertIn("promise_broken", line.notes)
		# Kept: paid after the promise
		paid = invoice(payments=[(day(19), "1000")])
		self.assertEqual(reasons_of(run(day(21), [c], [paid], history, outcomes=[call]))["F1"][0], "paid")

	def test_a_cheque_sent_pauses_a_week(self):
		c = customer()
		entry = ManualEntry(("F1",), day(8), outcome="cheque_sent", channel="phone")
		result = run(day(10), [c], [invoice()], outcomes=[entry])
		self.assertEqual(reasons_of(result)["F1"], ("promise_pending", day(15).isoformat()))

	def test_a_dispute_stops_until_its_end(self):
		c = customer()
		dispute = ManualEntry(("F1",), day(5), outcome="dispute", channel="phone", reason="BL manquant")
		result = run(day(20), [c], [invoice()], outcomes=[dispute])
		self.assertEqual(reasons_of(result)["F1"], ("disputed", "BL manquant"))
		end = ManualEntry(("F1",), day(21), outcome="resume")
		self.assertEqual(
			reasons_of(run(day(20), [c], [invoice()], outcomes=[dispute, end]))["F1"][0], "disputed"
		)
		self.assertEqual(
			reasons_of(run(day(21), [c], [invoice()], outcomes=[dispute, end]))["F1"],
			("waiting_next_step", f"mise_en_demeure@{day(30).isoformat()}"),
		)
		# The call made on day 5 stands for the scenario's call: the next step follows it
		[action] = run(day(30), [c], [invoice()], outcomes=[dispute, end]).actions
		self.assertEqual(action.step, "mise_en_demeure")
		self.assertEqual(action.previous[0].channel, "phone")
		hold = ManualEntry(("F1",), day(5), outcome="hold", reason="bon de commande", until=day(25))
		self.assertEqual(reasons_of(run(day(20), [c], [invoice()], outcomes=[hold]))["F1"][0], "on_hold")
		self.assertTrue(run(day(26), [c], [invoice()], outcomes=[hold]).actions)

	def test_an_entry_for_an_unknown_or_paid_invoice_changes_nothing(self):
		c = customer()
		entry = ManualEntry(("F9",), day(5), outcome="dispute")
		self.assertEqual(run(day(20), [c], [invoice()], outcomes=[entry]), run(day(20), [c], [invoice()]))


if __name__ == "__main__":
	unittest.main()
