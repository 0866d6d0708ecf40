"""Reference rate tables: data with their sources, loaded from CSV, looked up by date."""

from __future__ import annotations

import csv
import io
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from importlib import resources
from itertools import pairwise

from .errors import RateMissing, RateTableError

ECB_REFI = "fr_ecb_refi"
FR_LEGAL = "fr_legal_rate"
QC_LEGAL = "qc_legal_rate"
TABLE_NAMES = (ECB_REFI, FR_LEGAL, QC_LEGAL)


@dataclass(frozen=True, slots=True)
class RateRow:
	valid_from: date
	valid_until: date | None
	rate: Decimal
	source: str


class RateTable:
	"""One series of rates over contiguous periods."""

	def __init__(self, name: str, rows: list[RateRow]):
		if not rows:
			raise RateTableError(f"{name}: the table is empty")
		rows = sorted(rows, key=lambda row: row.valid_from)
		for previous, row in pairwise(rows):
			if previous.valid_until is None:
				raise RateTableError(f"{name}: only the last period may be open-ended")
			if (row.valid_from - previous.valid_until).days != 1:
				raise RateTableError(
					f"{name}: periods must follow each other without gap or overlap "
					f"({previous.valid_until.isoformat()} then {row.valid_from.isoformat()})"
				)
		self.name = name
		self.rows = tuple(rows)
		self._starts = [row.valid_from for row in rows]

	@property
	def covered(self) -> tuple[date, date | None]:
		return self.rows[0].valid_from, self.rows[-1].valid_until

	def row_for(self, day: date) -> RateRow:
		index = bisect_right(self._starts, day) - 1
		if index < 0:
			raise RateMissing(self.name, day, self.covered)
		row = self.rows[index]
		if row.valid_until is not None and day > row.valid_until:
			raise RateMissing(self.name, day, self.covered)
		return row

	def rate_on(self, day: date) -> Decimal:
		return self.row_for(day).rate

	def boundaries(self, start: date, end: date) -> list[date]:
		"""First days of the periods that begin inside (start, end]."""
		starts = self._starts
		return starts[bisect_right(starts, start) : bisect_right(starts, end)]


@dataclass(frozen=True, slots=True)
class ReferenceRates:
	ecb_refi: RateTable
	fr_legal: RateTable
	qc_legal: RateTable


def parse_rate_table(name: str, text: str) -> RateTable:
	reader = csv.DictReader(io.StringIO(text))
	missing = {"valid_from", "valid_until", "rate", "source"} - set(reader.fieldnames or ())
	if missing:
		raise RateTableError(f"{name}: missing column(s) {', '.join(sorted(missing))}")
	rows = []
	for number, record in enumerate(reader, start=2):
		try:
			valid_from = date.fromisoformat(record["valid_from"].strip())
			until_text = (record["valid_until"] or "").strip()
			valid_until = date.fromisoformat(until_text) if until_text else None
			rate = Decimal(record["rate"].strip())
		except (ValueError, InvalidOperation, AttributeError) as exc:
			raise RateTableError(f"{name}, line {number}: {exc}")
		if valid_until is not None and valid_until < valid_from:
			raise RateTableError(f"{name}, line {number}: valid_until is before valid_from")
		if not (record.get("source") or "").strip():
			raise RateTableError(f"{name}, line {number}: every rate needs its source")
		rows.append(RateRow(valid_from, valid_until, rate, record["source"].strip()))
	return RateTable(name, rows)


def load_reference_rates(overrides: dict[str, str] | None = None) -> ReferenceRates:
	"""The bundled tables, each replaced by the CSV text given in `overrides` under its name."""
	overrides = overrides or {}
	tables = {}
	for name in TABLE_NAMES:
		text = overrides.get(name)
		if text is None:
			text = resources.files(__package__).joinpath("data", f"{name}.csv").read_text(encoding="utf-8")
		tables[name] = parse_rate_table(name, text)
	return ReferenceRates(tables[ECB_REFI], tables[FR_LEGAL], tables[QC_LEGAL])
