import multiprocessing
import sqlite3
import subprocess
import sys
import tempfile
import unittest
from dataclasses import replace
from datetime import date
from pathlib import Path

from relance_erpnext.connectors.journal import Journal, JournalError
from relance_erpnext.dunning import PlanSettings
from relance_erpnext.dunning.models import FAILED, SENT

from .helpers import customer, invoice, run

# Today's calendar by due date (a first contact would be the courteous email)
BY_DUE = PlanSettings(catch_up="by_due_date")
DAY = date(2026, 3, 8)


def _record_in_process(path: str, queue) -> None:
	from relance_erpnext.connectors.journal import Journal as J

	result = run(DAY, [customer()], [invoice("F1"), invoice("F2")], settings=BY_DUE)
	with J(path) as journal:
		queue.put(journal.record_actions(result.actions, DAY).recorded)


class TestJournal(unittest.TestCase):
	def setUp(self):
		self.dir = tempfile.TemporaryDirectory()
		self.path = Path(self.dir.name) / "journal.sqlite"

	def tearDown(self):
		self.dir.cleanup()

	def test_recorded_steps_become_history_and_are_not_planned_again(self):
		book = ([customer()], [invoice("F1"), invoice("F2")])
		first = run(DAY, *book, settings=BY_DUE)
		self.assertEqual(len(first.actions), 1)
		with Journal(self.path) as journal:
			result = journal.record_actions(first.actions, DAY)
			self.assertEqual((result.recorded, result.already), (2, 0))
			again = journal.record_actions(first.actions, DAY)
			self.assertEqual((again.recorded, again.already), (0, 2))
			history = journal.history()
		self.assertEqual(
			sorted((h.invoice, h.step, h.status) for h in history),
			[("F1", "relance_formelle", "planned"), ("F2", "relance_formelle", "planned")],
		)
		self.assertEqual(run(DAY, *book, history, BY_DUE).actions, ())

	def test_recording_counts_the_new_entries_and_those_already_there(self):
		# One statement for every line: the new ones and those already live are still told apart
		book = ([customer()], [invoice("F1"), invoice("F2"), invoice("F3")])
		first = run(DAY, *book, settings=BY_DUE)
		[action] = first.actions
		with Journal(self.path) as journal:
			r = journal.record_actions([], DAY)
			self.assertEqual((r.recorded, r.already), (0, 0))
			one = replace(action, lines=action.lines[:1])
			r = journal.record_actions([one], DAY)
			self.assertEqual((r.recorded, r.already), (1, 0))
			r = journal.record_actions(first.actions, DAY)
			self.assertEqual((r.recorded, r.already), (2, 1))
			self.assertEqual(len(journal.history()), 3)

	def test_a_failed_send_frees_the_step_for_a_retry(self):
		first = run(DAY, [customer()], [invoice("F1")], settings=BY_DUE)
		with Journal(self.path) as journal:
			journal.record_actions(first.actions, DAY)
			journal.set_status("F1", "relance_formelle", FAILED, "SMTP 451")
			self.assertEqual(journal.counts(), {"failed": 1})
			self.assertEqual(journal.record_actions(first.actions, DAY).recorded, 1)
			journal.set_status("F1", "relance_formelle", SENT)
			self.assertEqual(journal.counts(), {"failed": 1, "sent": 1})

	def test_the_unique_key_is_in_the_database(self):
		with Journal(self.path) as journal:
			journal.record_actions(run(DAY, [customer()], [invoice("F1")], settings=BY_DUE).actions, DAY)
		db = sqlite3.connect(self.path)
		with self.assertRaises(sqlite3.IntegrityError):
			db.execute(
				"INSERT INTO follow_up (invoice, customer, step, day, status, recorded_at)"
				" VALUES ('F1', 'C1', 'relance_formelle', '2026-03-09', 'sent', 'now')"
			)
		db.close()

	def test_two_processes_record_each_step_once(self):
		context = multiprocessing.get_context("spawn")
		queue = context.Queue()
		workers = [context.Process(target=_record_in_process, args=(str(self.path), queue)) for _ in range(4)]
		for worker in workers:
			worker.start()
		for worker in workers:
			worker.join(60)
		self.assertEqual(sorted(queue.get(timeout=5) for _ in workers), [0, 0, 0, 2])
		with Journal(self.path) as journal:
			self.assertEqual(len(journal.history()), 2)

	def test_not_a_journal(self):
		self.path.write_text("this is not sqlite " * 100)
		with self.assertRaises(JournalError):
			Journal(self.path)


class TestPurity(unittest.TestCase):
	def test_the_core_imports_without_frappe(self):
		code = (
			"import sys, relance_erpnext.dunning, relance_erpnext.cli, relance_erpnext.connectors.journal;"
			"print(any(m == 'frappe' or m.startswith('frappe.') for m in sys.modules))"
		)
		out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
		self.assertEqual(out.strip(), "False")
