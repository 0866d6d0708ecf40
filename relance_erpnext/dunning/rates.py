"""Reference rate tables: data with their sources, loaded from CSV, looked up by date.

Also the rules for keeping them current, in one place for the `relance` command and the ERPNext
app: which half-year a day belongs to, which ECB rate is in force on 1 January / 1 July (the last
change dated on or before that day, C. com. L441-10), what a valid row is (a rate between -5 and
30 % a year, a whole half-year, a source), and how new rows are merged into a table (nothing
already known is overwritten unless asked). Fetching is the adapters' business (connectors/rates.py).
"""

from __future__ import annotations

import csv
import io
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from importlib import resources
from itertools import pairwise

from .errors import RateMissing, RateTableError
from .models import MissingRate

ECB_REFI = "fr_ecb_refi"
FR_LEGAL = "fr_legal_rate"
QC_LEGAL = "qc_legal_rate"
# The legal rate for the claims of natural persons not acting for professional needs: kept with its
# source for completeness; the rules never use it (the creditor sending reminders is a business, so
# its claims bear the "tous les autres cas" rate, FR_LEGAL)
FR_LEGAL_CONSUMER = "fr_legal_rate_consumer"
TABLE_NAMES = (ECB_REFI, FR_LEGAL, QC_LEGAL, FR_LEGAL_CONSUMER)
# Tables set for each half-year (1 January - 30 June, 1 July - 31 December); the Québec legal rate is
# statutory and open-ended
HALF_YEARLY = (ECB_REFI, FR_LEGAL, FR_LEGAL_CONSUMER)
# The tables the rules need (the consumer legal rate is kept, not used)
USED_TABLES = (ECB_REFI, FR_LEGAL, QC_LEGAL)
COLUMNS = ("valid_from", "valid_until", "rate", "source", "read_on")

RATE_MIN = Decimal("-5")
RATE_MAX = Decimal("30")
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class RateRow:
	valid_from: date
	valid_until: date | None
	rate: Decimal
	source: str
	# The day the figure was read from its source (None for rows typed before this was kept)
	read_on: date | None = None


class RateTable:
	"""One series of rates over contiguous periods."""

	def __init__(self, name: str, rows: list[RateRow]):
		if not rows:
			raise RateTableError("{table}: the table is empty", table=name)
		rows = sorted(rows, key=lambda row: row.valid_from)
		for previous, row in pairwise(rows):
			if previous.valid_until is None:
				raise RateTableError("{table}: only the last period may be open-ended", table=name)
			if (row.valid_from - previous.valid_until).days != 1:
				raise RateTableError(
					"{table}: periods must follow each other without gap or overlap ({end} then {start})",
					table=name,
					end=previous.valid_until.isoformat(),
					start=row.valid_from.isoformat(),
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

	def missing(self, start: date, end: date) -> tuple[MissingRate, ...]:
		"""The half-years touching [start, end] that hold a day this table does not cover."""
		if end < start:
			return ()
		first, last = self.covered
		out: list[MissingRate] = []
		if start < first:
			out.extend(missing_half_years(self.name, start, min(end, first - ONE_DAY)))
		if last is not None and end > last:
			out.extend(missing_half_years(self.name, max(start, last + ONE_DAY), end))
		return tuple(out)


@dataclass(frozen=True, slots=True)
class ReferenceRates:
	ecb_refi: RateTable
	fr_legal: RateTable
	qc_legal: RateTable
	fr_legal_consumer: RateTable | None = None

	def table(self, name: str) -> RateTable | None:
		return {
			ECB_REFI: self.ecb_refi,
			FR_LEGAL: self.fr_legal,
			QC_LEGAL: self.qc_legal,
			FR_LEGAL_CONSUMER: self.fr_legal_consumer,
		}.get(name)


# Half-years ---------------------------------------------------------------------------------------


def half_year(day: date) -> tuple[date, date]:
	"""The half-year holding `day`: (1 January, 30 June) or (1 July, 31 December)."""
	if day.month <= 6:
		return date(day.year, 1, 1), date(day.year, 6, 30)
	return date(day.year, 7, 1), date(day.year, 12, 31)


def next_half_year(day: date) -> tuple[date, date]:
	return half_year(half_year(day)[1] + ONE_DAY)


def missing_half_years(table: str, start: date, end: date) -> list[MissingRate]:
	"""Each half-year touching [start, end], whole, as missing from `table`."""
	out = []
	day = start
	while day <= end:
		first, last = half_year(day)
		out.append(MissingRate(table, first, last))
		day = last + ONE_DAY
	return out


def is_whole_half_year(valid_from: date, valid_until: date | None) -> bool:
	return valid_until is not None and half_year(valid_from) == (valid_from, valid_until)


def merge_missing(items: Iterable[MissingRate]) -> tuple[MissingRate, ...]:
	"""Each missing half-year once, in table then date order."""
	return tuple(sorted(set(items)))


# Reading and writing tables -----------------------------------------------------------------------


def parse_rate_table(name: str, text: str) -> RateTable:
	return RateTable(name, parse_rate_rows(name, text))


def parse_rate_rows(name: str, text: str) -> list[RateRow]:
	reader = csv.DictReader(io.StringIO(text))
	missing = {"valid_from", "valid_until", "rate", "source"} - set(reader.fieldnames or ())
	if missing:
		raise RateTableError(
			"{table}: missing column(s) {listed}", table=name, listed=", ".join(sorted(missing))
		)
	rows = []
	for number, record in enumerate(reader, start=2):
		try:
			valid_from = date.fromisoformat(record["valid_from"].strip())
			until_text = (record["valid_until"] or "").strip()
			valid_until = date.fromisoformat(until_text) if until_text else None
			rate = Decimal(record["rate"].strip())
			read_text = (record.get("read_on") or "").strip()
			read_on = date.fromisoformat(read_text) if read_text else None
		except (ValueError, InvalidOperation, AttributeError) as exc:
			raise RateTableError("{table}, line {number}: {error}", table=name, number=number, error=str(exc))
		if valid_until is not None and valid_until < valid_from:
			raise RateTableError(
				"{table}, line {number}: valid_until is before valid_from", table=name, number=number
			)
		if not (record.get("source") or "").strip():
			raise RateTableError(
				"{table}, line {number}: every rate needs its source", table=name, number=number
			)
		rows.append(RateRow(valid_from, valid_until, rate, record["source"].strip(), read_on))
	return rows


def format_rate_table(rows: Iterable[RateRow]) -> str:
	"""The CSV text of a table (the format `parse_rate_table` reads), rows in date order."""
	out = io.StringIO()
	writer = csv.writer(out, lineterminator="\n")
	writer.writerow(COLUMNS)
	for row in sorted(rows, key=lambda r: r.valid_from):
		writer.writerow(
			(
				row.valid_from.isoformat(),
				row.valid_until.isoformat() if row.valid_until else "",
				str(row.rate),
				row.source,
				row.read_on.isoformat() if row.read_on else "",
			)
		)
	return out.getvalue()


def bundled_table_text(name: str) -> str:
	return resources.files(__package__).joinpath("data", f"{name}.csv").read_text(encoding="utf-8")


def load_reference_rates(overrides: dict[str, str] | None = None) -> ReferenceRates:
	"""The bundled tables, each replaced by the CSV text given in `overrides` under its name."""
	overrides = overrides or {}
	tables = {}
	for name in TABLE_NAMES:
		text = overrides.get(name)
		if text is None:
			text = bundled_table_text(name)
		tables[name] = parse_rate_table(name, text)
	return ReferenceRates(tables[ECB_REFI], tables[FR_LEGAL], tables[QC_LEGAL], tables[FR_LEGAL_CONSUMER])


# Coverage -----------------------------------------------------------------------------------------


def missing_for(
	rates: ReferenceRates, day: date, tables: Iterable[str] = HALF_YEARLY
) -> tuple[MissingRate, ...]:
	"""The half-year holding `day`, for each table that does not cover it."""
	first, last = half_year(day)
	out = []
	for name in tables:
		table = rates.table(name)
		if table is not None:
			out.extend(table.missing(first, last))
	return merge_missing(out)


# Checking and merging new rows --------------------------------------------------------------------

# Problem codes, with their words (the adapters show them in the user's language)
PROBLEMS: dict[str, tuple[str, str]] = {
	"rate_range": (
		"the rate {value} is not a number between -5 and 30 (percent a year)",
		"le taux {value} n'est pas un nombre entre -5 et 30 (pour cent l'an)",
	),
	"not_half_year": (
		"{value} is not a whole half-year (1 January-30 June or 1 July-31 December)",
		"{value} n'est pas un semestre entier (1er janvier-30 juin ou 1er juillet-31 décembre)",
	),
	"no_source": ("every rate needs its source", "chaque taux doit indiquer sa source"),
	"known": (
		"already known at {value}; not overwritten (use --force to replace it)",
		"déjà connu à {value} ; non remplacé (--force pour le remplacer)",
	),
	"overlap": (
		"overlaps the known period {value}; not written",
		"chevauche la période connue {value} ; non écrit",
	),
	"gap": (
		"would leave a gap in the table (nothing known for {value}); add that half-year first",
		"laisserait un trou dans la table (rien de connu pour {value}) ; ajoutez d'abord ce semestre",
	),
}


@dataclass(frozen=True, slots=True)
class RateProblem:
	"""Why a row was refused: its table, its period, the field at fault, a code of PROBLEMS."""

	table: str
	valid_from: date
	field: str
	code: str
	value: str = ""

	def describe(self, language: str = "en") -> str:
		texts = PROBLEMS[self.code]
		text = (texts[1] if language.startswith("fr") else texts[0]).format(value=self.value)
		return f"{self.table}, {self.valid_from.isoformat()}, {self.field}: {text}"


def check_row(table: str, row: RateRow) -> list[RateProblem]:
	problems = []
	if not row.rate.is_finite() or not RATE_MIN <= row.rate <= RATE_MAX:
		problems.append(RateProblem(table, row.valid_from, "rate", "rate_range", str(row.rate)))
	if table in HALF_YEARLY and not is_whole_half_year(row.valid_from, row.valid_until):
		period = f"{row.valid_from.isoformat()}..{row.valid_until.isoformat() if row.valid_until else ''}"
		problems.append(RateProblem(table, row.valid_from, "valid_until", "not_half_year", period))
	if not row.source.strip():
		problems.append(RateProblem(table, row.valid_from, "source", "no_source"))
	return problems


@dataclass(frozen=True, slots=True)
class Merge:
	"""What merging new rows into a table gives: the rows to write and what happened to each new one."""

	rows: tuple[RateRow, ...]
	added: tuple[RateRow, ...] = ()
	replaced: tuple[RateRow, ...] = ()
	unchanged: tuple[RateRow, ...] = ()
	refused: tuple[RateProblem, ...] = field(default=())

	@property
	def changed(self) -> bool:
		return bool(self.added or self.replaced)


def merge_rows(table: str, known: Iterable[RateRow], new: Iterable[RateRow], force: bool = False) -> Merge:
	"""New rows merged into a table's rows. A row for a period already known at the same rate changes
	nothing; at another rate it is refused unless `force`; a row that fails `check_row`, overlaps a
	known period without matching it, or would leave a gap is refused. The result is always a valid
	table (RateTable accepts it)."""
	rows = {row.valid_from: row for row in known}
	added, replaced, unchanged, refused = [], [], [], []
	for row in sorted(new, key=lambda r: r.valid_from):
		problems = check_row(table, row)
		if problems:
			refused.extend(problems)
			continue
		same = rows.get(row.valid_from)
		if same is not None and same.valid_until == row.valid_until:
			if same.rate == row.rate:
				unchanged.append(same)
			elif force:
				rows[row.valid_from] = row
				replaced.append(row)
			else:
				refused.append(RateProblem(table, row.valid_from, "rate", "known", str(same.rate)))
			continue
		clash = next(
			(
				other
				for other in rows.values()
				if other.valid_from <= (row.valid_until or date.max)
				and row.valid_from <= (other.valid_until or date.max)
			),
			None,
		)
		if clash is not None:
			period = f"{clash.valid_from.isoformat()}..{clash.valid_until.isoformat() if clash.valid_until else ''}"
			refused.append(RateProblem(table, row.valid_from, "valid_from", "overlap", period))
			continue
		ordered = sorted(rows.values(), key=lambda r: r.valid_from)
		if ordered:
			before = [r for r in ordered if r.valid_from < row.valid_from]
			after = [r for r in ordered if r.valid_from > row.valid_from]
			if before and before[-1].valid_until and (row.valid_from - before[-1].valid_until).days != 1:
				hole = f"{(before[-1].valid_until + ONE_DAY).isoformat()}..{(row.valid_from - ONE_DAY).isoformat()}"
				refused.append(RateProblem(table, row.valid_from, "valid_from", "gap", hole))
				continue
			if not before and after and (after[0].valid_from - row.valid_until).days != 1:
				hole = f"{(row.valid_until + ONE_DAY).isoformat()}..{(after[0].valid_from - ONE_DAY).isoformat()}"
				refused.append(RateProblem(table, row.valid_from, "valid_until", "gap", hole))
				continue
		rows[row.valid_from] = row
		added.append(row)
	result = tuple(sorted(rows.values(), key=lambda r: r.valid_from))
	if result:
		RateTable(table, list(result))  # never write a table the planner would refuse
	return Merge(result, tuple(added), tuple(replaced), tuple(unchanged), tuple(refused))


# The ECB main refinancing rate, by half-year -------------------------------------------------------


def ecb_rate_in_force(changes: Iterable[tuple[date, Decimal]], day: date) -> tuple[date, Decimal] | None:
	"""The rate in force on `day`: the last change dated on or before it (None when none is)."""
	best = None
	for changed, rate in changes:
		if changed <= day and (best is None or changed >= best[0]):
			best = (changed, rate)
	return best


def french_decimal(rate: Decimal) -> str:
	return f"{rate:.2f}".replace(".", ",")


def ecb_half_year_rows(
	changes: Iterable[tuple[date, Decimal]],
	first: date,
	today: date,
	series: str,
	read_on: date,
) -> list[RateRow]:
	"""One row per half-year from the one holding `first` to the one holding `today` (both included,
	L441-10: the rate in force on its first day), from the dated changes (or daily levels) of the ECB's
	main refinancing operations fixed rate. A half-year whose first day precedes every change is left
	out. The table keeps the ECB rate itself: the 10 points are added by the rules (charges.py)."""
	changes = sorted(changes)
	rows = []
	start, end = half_year(first)
	while start <= today:
		found = ecb_rate_in_force(changes, start)
		if found is not None:
			since, rate = found
			when = "1er janvier" if start.month == 1 else "1er juillet"
			source = (
				f"BCE, taux des opérations principales de refinancement en vigueur au {when} {start.year}"
				f" ({french_decimal(rate)} % depuis le {since.strftime('%d/%m/%Y')}) ; ECB Data Portal, série {series}"
			)
			rows.append(RateRow(start, end, rate, source, read_on))
		start, end = next_half_year(start)
	return rows


def with_read_on(rows: Iterable[RateRow], read_on: date) -> list[RateRow]:
	return [replace(row, read_on=row.read_on or read_on) for row in rows]
