"""`relance log` (journal and Dolibarr) and the register's outside history, read back by the plan."""

from __future__ import annotations

import json
import shutil
import tempfile
import unittest
from datetime import date
from decimal import Decimal
from pathlib import Path

from relance_erpnext.connectors.dolibarr import DolibarrSource
from relance_erpnext.connectors.journal import Journal
from relance_erpnext.dunning.outcomes import ManualEntry
from tests.helpers import day_folder

from .test_cli import SAMPLE, SAMPLE_CONFIG, run_cli

AS_OF = "2026-06-15"


class TestLogCommand(unittest.TestCase):
	def setUp(self):
		self.dir = Path(tempfile.mkdtemp(prefix="relance-log-"))
		self.addCleanup(shutil.rmtree, self.dir, True)
		self.journal = self.dir / "journal.sqlite"

	def log(self, *argv):
		return run_cli("log", *argv, "--register", SAMPLE, "--journal", self.journal)

	def plan(self, as_of=AS_OF):
		code, out, err = run_cli(
			"plan", "--register", SAMPLE, "--journal", self.journal, "--as-of", as_of, "--format", "json"
		)
		self.assertIn(code, (0, 5), err)
		return json.loads(out)

	def test_a_promise_pauses_the_customer_and_a_broken_one_escalates(self):
		code, out, err = self.log("promise", "FA-2026-0021", "--date", AS_OF, "--until", "2026-06-22")
		self.assertEqual(code, 0, err)
		self.assertIn("relances suspendues jusqu'au 2026-06-22", out)
		with Journal(self.journal) as journal:
			[entry] = journal.outcomes()
		self.assertEqual(entry.outcome, "promise")
		self.assertEqual(entry.customer, "Mme Claire Lefèvre")
		reasons = {s["invoice"]: s["reason"] for s in self.plan()["skipped"]}
		self.assertEqual(reasons["FA-2026-0021"], "promise_pending")
		# Logged twice: recorded once
		self.log("promise", "FA-2026-0021", "--date", AS_OF, "--until", "2026-06-22")
		with Journal(self.journal) as journal:
			self.assertEqual(len(journal.outcomes()), 1)
		# The day after the promised date, nothing paid: a broken promise escalates
		notes = {
			line["invoice"]: line["notes"]
			for action in self.plan("2026-06-23")["actions"]
			for line in action["invoices"]
		}
		self.assertIn("promise_broken", notes["FA-2026-0021"])

	def test_a_registered_letter_sent_by_hand_is_cited_with_its_number(self):
		code, _, err = self.log(
			"sent", "FA-2026-0016", "--date", "2026-06-01", "--channel", "LRAR", "--number", "1A 111 222 3"
		)
		self.assertEqual(code, 0, err)
		actions = {a["customer"]: a for a in self.plan()["actions"]}
		action = actions["SARL Menuiserie Leroy"]
		self.assertIn(
			{
				"date": "2026-06-01",
				"channel": "registered_letter",
				"step": "mise_en_demeure",
				"reference": "1A 111 222 3",
				"formal_notice": True,
			},
			action["previous"],
		)

	def test_a_call_with_a_dispute_stops_until_resumed(self):
		code, _, err = self.log(
			"call", "FA-2026-0012", "--date", "2026-06-10", "--outcome", "dispute", "--reason", "quantité"
		)
		self.assertEqual(code, 0, err)
		reasons = {s["invoice"]: (s["reason"], s["detail"]) for s in self.plan()["skipped"]}
		self.assertEqual(reasons["FA-2026-0012"], ("disputed", "quantité"))
		self.log("resume", "FA-2026-0012", "--date", "2026-06-12")
		reasons = {s["invoice"]: s["reason"] for s in self.plan()["skipped"]}
		self.assertNotEqual(reasons.get("FA-2026-0012"), "disputed")

	def test_a_letter_written_by_run_then_logged_as_sent_keeps_each_invoices_step(self):
		code, _, err = run_cli(
			*("run", "--register", SAMPLE, "--journal", self.journal, "--as-of", AS_OF),
			*("--out", self.journal.parent / "out", "--config", SAMPLE_CONFIG),
		)
		self.assertIn(code, (0, 5), err)
		code, out, err = self.log(
			"sent", "FA-2026-0018", "FA-2026-0033", "--date", "2026-06-16", "--number", "1A 2"
		)
		self.assertEqual(code, 0, err)
		with Journal(self.journal) as journal:
			steps = {entry.invoices: entry.step for entry in journal.outcomes()}
		self.assertEqual(steps, {("FA-2026-0018",): "derniere_relance", ("FA-2026-0033",): "premier_rappel"})

	def test_bad_entries_are_refused(self):
		for argv, message, french in (
			(
				("promise", "FA-2026-0021"),
				"needs its date",
				"une promesse demande sa date (--until AAAA-MM-JJ)",
			),
			(("sent", "FA-9999"), "not an open invoice", "pas une facture ouverte de"),
			(("sent", "FA-2026-0021", "FA-2026-0012"), "one customer", "appartiennent à un seul client"),
			(
				("call", "FA-2026-0021", "--outcome", "tomorrow"),
				"unknown --outcome",
				"--outcome 'tomorrow' inconnu",
			),
			(
				("dispute", "FA-2026-0021", "--amount", "5"),
				"--amount is a promise's amount",
				"--amount est le montant d'une promesse",
			),
			(
				("sent", "FA-2026-0021", "--channel", "pigeon"),
				"is not email, letter",
				"n'est pas email, letter",
			),
			(("sent", "FA-2026-0021", "--step", "nope"), "has no step", "n'a pas d'étape 'nope'"),
		):
			code, _, err = self.log(*argv, "--lang", "en")
			self.assertEqual(code, 3, (argv, err))
			self.assertIn(message, err, argv)
			code, _, err = self.log(*argv, "--lang", "fr")
			self.assertEqual(code, 3, (argv, err))
			self.assertIn(french, err, argv)
			self.assertTrue(err.startswith("relance : log "), err)
		self.assertFalse(self.journal.exists() and Journal(self.journal).outcomes())


class FakeDolibarr(DolibarrSource):
	"""Only what record_outcome and _entry use, without a server."""

	def __init__(self):
		super().__init__("https://erp.example.org", "key")
		self.version = "20.0.2"
		self.posts = []
		self.invoice_ids = {"FA1": 8, "FA2": 9}

	def user(self):
		return {"id": 1}

	def request(self, method, path, **kw):
		self.posts.append((method, path, kw.get("json")))
		return len(self.posts)


class TestDolibarrManualEntries(unittest.TestCase):
	def test_an_entry_written_as_events_reads_back_as_the_same_entry(self):
		src = FakeDolibarr()
		entry = ManualEntry(
			("FA1", "FA2"),
			date(2026, 6, 16),
			outcome="promise",
			channel="phone",
			amount=Decimal("1200.50"),
			until=date(2026, 6, 25),
			reason="virement le 25 ; merci",
			customer="12",
		)
		self.assertEqual(src.record_outcome(entry, {"FA1": "appel", "FA2": "appel"}), 2)
		bodies = [body for _, _, body in src.posts]
		self.assertTrue(all(b["code"] == "RELANCE" for b in bodies))
		self.assertTrue(bodies[0]["label"].startswith("relance:appel FA1 – promesse de paiement"))
		refs = {"8": "FA1", "9": "FA2"}
		manual = []
		for body in bodies:
			event = {
				"id": "1",
				"label": body["label"],
				"note_private": body["note_private"],
				"datep": body["datep"],
				"percentage": body["percentage"],
				"socid": "12",
				"elementid": str(body["fk_element"]),
			}
			self.assertIsNone(src._entry(event, refs, manual))
		[read] = manual
		self.assertEqual(read.invoices, ("FA1", "FA2"))
		self.assertEqual((read.outcome, read.channel, read.step), ("promise", "phone", "appel"))
		self.assertEqual((read.amount, read.until, read.reason), (entry.amount, entry.until, entry.reason))
		self.assertEqual(read.day, entry.day)

	def test_credit_notes_not_used_are_read_with_the_invoice_they_correct(self):
		src = FakeDolibarr()
		raw = {"id": "31", "ref": "AV2606-0001", "type": "2", "socid": "12", "total_ttc": "-240.00"}
		raw["remaintopay"] = "-240.00"
		raw["fk_facture_source"] = "8"
		raw["date"] = 1780000000
		credit = src._credit(raw, {"8": "FA1"})
		self.assertEqual(
			(credit.amount, credit.against_invoice, credit.customer), (Decimal("240.00"), "FA1", "12")
		)
		self.assertIsNone(src._credit({**raw, "remaintopay": "0"}, {}))


if __name__ == "__main__":
	unittest.main()


class TestTheDemoShowsTheConversation(unittest.TestCase):
	def test_demo_as_shipped(self):
		out = Path(tempfile.mkdtemp(prefix="relance-demo-"))
		self.addCleanup(shutil.rmtree, out, True)
		code, stdout, err = run_cli("demo", "--out", out)
		self.assertEqual(code, 0, err)
		plan = json.loads((day_folder(out) / "plan.json").read_text(encoding="utf-8"))
		actions = plan["actions"]
		# One letter per customer and currency
		keys = [(a["customer"], a["currency"]) for a in actions if a["channel"] != "escalation"]
		self.assertEqual(len(keys), len(set(keys)))
		# The first-contact rule: long overdue, never reminded, a courteous reminder
		first = [
			a
			for a in actions
			if any(n.startswith("first_contact:") for i in a["invoices"] for n in i["notes"])
		]
		self.assertTrue(first)
		self.assertTrue(all(a["tone"] == "amical" and not a["formal_notice"] for a in first))
		# A credit deducted
		[transports] = [a for a in actions if a["customer"] == "SAS Transports Rhône-Alpes"]
		self.assertEqual(transports["credit_total"], "480.00")
		self.assertEqual(Decimal(transports["net_total"]), Decimal(transports["total"]) - 480)
		# A registered letter without an address, flagged; reminded before relance (the register says so)
		[dubois] = [a for a in actions if a["customer"] == "SARL Garage Dubois"]
		self.assertEqual(dubois["channel"], "registered_letter")
		self.assertIn("complete_address", dubois["tasks"])
		self.assertEqual(dubois["previous"][0]["date"], "2026-06-08")
		self.assertIn("compléter l'adresse postale", stdout)
		[letter] = day_folder(out).glob("*garage-dubois*.txt")
		text = letter.read_text(encoding="utf-8")
		self.assertIn("ADRESSE À COMPLÉTER", text)
		self.assertIn("notre relance du 8 juin 2026", " ".join(text.split()))
