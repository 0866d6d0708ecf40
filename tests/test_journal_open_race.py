"""Runs started together on a journal that does not exist yet all open it: none is refused with
"database is locked" while the other creates the tables (it once failed 12 times in 300)."""

from __future__ import annotations

import threading

from relance_erpnext.connectors.journal import Journal

from .test_cli import TempDir

ATTEMPTS = 150
RUNS_AT_ONCE = 3


class TestJournalsOpenedTogether(TempDir):
	def test_no_run_is_refused_while_another_creates_the_journal(self):
		failures = []
		for attempt in range(ATTEMPTS):
			path = self.dir / f"journal{attempt}.sqlite"
			start = threading.Barrier(RUNS_AT_ONCE)

			def open_journal(path=path, start=start):
				start.wait()
				try:
					Journal(path).close()
				except Exception as exc:  # every failure is what the test counts
					failures.append(f"{path.name}: {exc}")

			threads = [threading.Thread(target=open_journal) for _ in range(RUNS_AT_ONCE)]
			for thread in threads:
				thread.start()
			for thread in threads:
				thread.join()
		self.assertEqual(failures, [])
		with Journal(self.dir / "journal0.sqlite") as journal:
			self.assertEqual(journal.db.execute("PRAGMA journal_mode").fetchone()[0], "wal")
