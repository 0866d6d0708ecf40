"""The local follow-up journal (SQLite) for registers: what was planned or sent, so no step repeats.

Idempotence is held by the data: a partial unique index allows one live entry (planned, sent, done,
unknown) per invoice and step, so two processes recording the same plan cannot both succeed.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

from relance_erpnext.dunning.matching import BankPayment, LineMatch
from relance_erpnext.dunning.models import DONE_STATUSES, HISTORY_STATUSES, Action, HistoryEntry
from relance_erpnext.dunning.outcomes import OUTCOMES, ManualEntry
from relance_erpnext.i18n import Text, reason

SCHEMA = """
CREATE TABLE IF NOT EXISTS follow_up (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	invoice TEXT NOT NULL,
	customer TEXT NOT NULL,
	scenario TEXT NOT NULL DEFAULT '',
	step TEXT NOT NULL,
	day TEXT NOT NULL,
	status TEXT NOT NULL,
	channel TEXT NOT NULL DEFAULT '',
	formal_notice INTEGER NOT NULL DEFAULT 0,
	detail TEXT NOT NULL DEFAULT '',
	recorded_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS follow_up_live_step ON follow_up (invoice, step)
	WHERE status IN ('planned', 'sent', 'done', 'unknown');
CREATE INDEX IF NOT EXISTS follow_up_customer ON follow_up (customer, day);
CREATE TABLE IF NOT EXISTS bank_payment (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	line_id TEXT NOT NULL,
	invoice TEXT NOT NULL,
	amount TEXT NOT NULL,
	currency TEXT NOT NULL,
	day TEXT NOT NULL,
	statement TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT '',
	recorded_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS bank_payment_line_invoice ON bank_payment (line_id, invoice);
CREATE INDEX IF NOT EXISTS bank_payment_invoice ON bank_payment (invoice);
CREATE TABLE IF NOT EXISTS manual_entry (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	invoices TEXT NOT NULL,
	customer TEXT NOT NULL DEFAULT '',
	day TEXT NOT NULL,
	outcome TEXT NOT NULL,
	channel TEXT NOT NULL DEFAULT '',
	step TEXT NOT NULL DEFAULT '',
	level INTEGER NOT NULL DEFAULT 0,
	reference TEXT NOT NULL DEFAULT '',
	amount TEXT,
	until TEXT,
	reason TEXT NOT NULL DEFAULT '',
	recorded_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS manual_entry_day ON manual_entry (day);
"""


@dataclass(frozen=True, slots=True)
class RecordResult:
	recorded: int
	already: int


# How long a run waits for another one holding the journal before it gives up with a message
OPEN_TIMEOUT_SECONDS = 30


class JournalError(Exception):
	pass


class Journal:
	def __init__(self, path: str | Path):
		self.path = Path(path)
		try:
			# isolation_level=None: transactions are explicit (BEGIN IMMEDIATE takes the write lock first)
			self.db = sqlite3.connect(self.path, timeout=OPEN_TIMEOUT_SECONDS, isolation_level=None)
			self._prepare()
		except sqlite3.DatabaseError as exc:
			raise JournalError(
				Text("{path}: not a usable journal ({reason})", path=self.path, reason=reason(exc))
			)

	def _prepare(self) -> None:
		"""Switch to WAL and create the tables, waiting for another process doing the same.

		Two runs started together on a new journal race here: SQLite answers "database is locked"
		at once, without its busy timeout, when the switch to WAL or a schema read that must
		become a write meets the other process's lock, so the wait is ours."""
		deadline = time.monotonic() + OPEN_TIMEOUT_SECONDS
		while True:
			try:
				self.db.execute("PRAGMA journal_mode=WAL")
				self.db.executescript(f"BEGIN IMMEDIATE;\n{SCHEMA}\nCOMMIT;")
				return
			except sqlite3.OperationalError as exc:
				if self.db.in_transaction:
					self.db.execute("ROLLBACK")
				if "locked" not in str(exc) or time.monotonic() > deadline:
					raise
				time.sleep(random.uniform(0.01, 0.1))

	def close(self) -> None:
		self.db.close()

	def __enter__(self):
		return self

	def __exit__(self, *exc):
		self.close()

	def history(self) -> list[HistoryEntry]:
		rows = self.db.execute(
			"SELECT invoice, step, day, status, channel, formal_notice, customer FROM follow_up"
		).fetchall()
		return [
			HistoryEntry(
				invoice=invoice,
				step=step,
				day=date.fromisoformat(day),
				status=status,
				channel=channel,
				formal_notice=bool(formal),
				customer=customer,
			)
			for invoice, step, day, status, channel, formal, customer in rows
		]

	def record_actions(self, actions: Iterable[Action], day: date, status: str = "planned") -> RecordResult:
		"""Record one entry per invoice line; an entry already live for that invoice and step is kept."""
		if status not in HISTORY_STATUSES:
			raise JournalError(Text("unknown status {status!r}", status=status))
		now = datetime.now(timezone.utc).isoformat(timespec="seconds")
		today = day.isoformat()
		rows = [
			(
				line.invoice,
				action.customer,
				action.scenario,
				line.step,
				today,
				status,
				action.channel,
				int(line.formal_notice),
				now,
			)
			for action in actions
			for line in action.lines
		]
		self.db.execute("BEGIN IMMEDIATE")
		try:
			# One statement for every line: its row count is the rows inserted, an entry already live
			# for that invoice and step being ignored
			cursor = self.db.executemany(
				"INSERT OR IGNORE INTO follow_up (invoice, customer, scenario, step, day, status, channel,"
				" formal_notice, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
				rows,
			)
			recorded = max(cursor.rowcount, 0)
			already = len(rows) - recorded
			self.db.execute("COMMIT")
		except BaseException:
			self.db.execute("ROLLBACK")
			raise
		return RecordResult(recorded, already)

	def set_status(self, invoice: str, step: str, status: str, detail: str = "") -> None:
		"""Move the live entry of an invoice and step to a new status (sent, failed, unknown...)."""
		if status not in HISTORY_STATUSES:
			raise JournalError(Text("unknown status {status!r}", status=status))
		live = tuple(DONE_STATUSES)
		self.db.execute("BEGIN IMMEDIATE")
		try:
			self.db.execute(
				f"UPDATE follow_up SET status = ?, detail = ? WHERE invoice = ? AND step = ?"
				f" AND status IN ({', '.join('?' * len(live))})",
				(status, detail, invoice, step, *live),
			)
			self.db.execute("COMMIT")
		except BaseException:
			self.db.execute("ROLLBACK")
			raise

	# -----------------------------------------------------------------------------------------------
	# What was done or learnt by hand (`relance log`): core manual entries, read by the planner

	def record_outcome(self, entry: ManualEntry) -> int:
		"""Record one manual entry (its invoices together); returns its id. Two identical entries are
		kept once (a command run twice records nothing new): the id of the one already there."""
		if entry.outcome not in OUTCOMES:
			raise JournalError(Text("unknown outcome {outcome!r}", outcome=entry.outcome))
		values = (
			json.dumps(list(entry.invoices), ensure_ascii=False),
			entry.customer,
			entry.day.isoformat(),
			entry.outcome,
			entry.channel,
			entry.step,
			entry.level,
			entry.reference,
			str(entry.amount) if entry.amount is not None else None,
			entry.until.isoformat() if entry.until else None,
			entry.reason,
		)
		self.db.execute("BEGIN IMMEDIATE")
		try:
			known = self.db.execute(
				"SELECT id FROM manual_entry WHERE invoices = ? AND customer = ? AND day = ? AND outcome = ?"
				" AND channel = ? AND step = ? AND level = ? AND reference = ? AND amount IS ? AND until IS ?"
				" AND reason = ?",
				values,
			).fetchone()
			if known:
				self.db.execute("COMMIT")
				return int(known[0])
			now = datetime.now(timezone.utc).isoformat(timespec="seconds")
			cursor = self.db.execute(
				"INSERT INTO manual_entry (invoices, customer, day, outcome, channel, step, level, reference,"
				" amount, until, reason, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
				(*values, now),
			)
			self.db.execute("COMMIT")
		except BaseException:
			self.db.execute("ROLLBACK")
			raise
		return int(cursor.lastrowid)

	def outcomes(self) -> list[ManualEntry]:
		rows = self.db.execute(
			"SELECT invoices, customer, day, outcome, channel, step, level, reference, amount, until, reason"
			" FROM manual_entry ORDER BY day, id"
		).fetchall()
		return [
			ManualEntry(
				invoices=tuple(json.loads(invoices)),
				day=date.fromisoformat(day),
				outcome=outcome,
				channel=channel,
				step=step,
				level=int(level),
				reference=reference,
				amount=Decimal(amount) if amount is not None else None,
				until=date.fromisoformat(until) if until else None,
				reason=reason,
				customer=customer,
			)
			for invoices, customer, day, outcome, channel, step, level, reference, amount, until, reason in rows
		]

	def counts(self) -> dict[str, int]:
		return dict(self.db.execute("SELECT status, COUNT(*) FROM follow_up GROUP BY status").fetchall())

	# -----------------------------------------------------------------------------------------------
	# Payments found on bank statements (`relance match --apply`)

	def bank_payments(self) -> list[BankPayment]:
		rows = self.db.execute(
			"SELECT line_id, invoice, amount, day FROM bank_payment ORDER BY day, line_id, invoice"
		).fetchall()
		return [
			BankPayment(line_id, invoice, Decimal(amount), date.fromisoformat(day))
			for line_id, invoice, amount, day in rows
		]

	def applied_lines(self) -> set[str]:
		return {line_id for (line_id,) in self.db.execute("SELECT DISTINCT line_id FROM bank_payment")}

	def record_bank_payments(self, matches: Iterable[LineMatch], statement: str = "") -> RecordResult:
		"""Record the payments of matched lines; a line already recorded (by any run) is left alone.

		`recorded` and `already` count lines. The check and the writes are one transaction under the
		write lock, and a unique key on (line, invoice) backs it: two runs cannot both record a line."""
		now = datetime.now(timezone.utc).isoformat(timespec="seconds")
		recorded = already = 0
		self.db.execute("BEGIN IMMEDIATE")
		try:
			for match in matches:
				line = match.line
				if not match.allocations:
					continue
				if self.db.execute(
					"SELECT 1 FROM bank_payment WHERE line_id = ? LIMIT 1", (line.id,)
				).fetchone():
					already += 1
					continue
				detail = " | ".join(part for part in (line.counterparty, line.remittance) if part)[:500]
				for allocation in match.allocations:
					self.db.execute(
						"INSERT INTO bank_payment (line_id, invoice, amount, currency, day, statement, detail,"
						" recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
						(
							line.id,
							allocation.invoice,
							str(allocation.amount),
							line.currency,
							line.booked.isoformat(),
							statement,
							detail,
							now,
						),
					)
				recorded += 1
			self.db.execute("COMMIT")
		except BaseException:
			self.db.execute("ROLLBACK")
			raise
		return RecordResult(recorded, already)
