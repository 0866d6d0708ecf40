"""`relance rates update | show | set`: the reference-rate tables, and what the other commands say
when some figures are provisional (a half-year missing from a table).

The tables the commands use: those of `--rates DIR` when given, else of the folder named by the
environment variable RELANCE_RATES_DIR, else of the user's folder (~/.local/share/relance/taux, or
$XDG_DATA_HOME/relance/taux) when it exists, else the tables bundled with the package. A table
missing from a folder is taken from the bundled ones. `rates update` and `rates set` write into that
folder (created when needed), starting from the bundled table.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from relance_erpnext.cli.common import _LANG, UsageError, core_error
from relance_erpnext.dunning.errors import DunningError
from relance_erpnext.dunning.rates import (
	ECB_REFI,
	FR_LEGAL,
	FR_LEGAL_CONSUMER,
	HALF_YEARLY,
	QC_LEGAL,
	TABLE_NAMES,
	RateRow,
	bundled_table_text,
	format_rate_table,
	half_year,
	merge_rows,
	missing_for,
	next_half_year,
	parse_rate_rows,
)
from relance_erpnext.i18n import Text, error, reason, say, warning

RATES_ENV = "RELANCE_RATES_DIR"
EXIT_PROVISIONAL = 5  # plan, run, overview, rates show: some interest is provisional (a rate is missing)
EXIT_UNREACHABLE = 6  # rates update: a source could not be reached; nothing was changed

TABLE_WORDS = {
	ECB_REFI: Text("ECB main refinancing rate"),
	FR_LEGAL: Text("French legal interest rate, other cases"),
	FR_LEGAL_CONSUMER: Text("French legal interest rate, natural persons' claims (kept, not used)"),
	QC_LEGAL: Text("Canadian legal rate (Interest Act s.3)"),
}


def user_rates_dir() -> Path:
	base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
	return Path(base) / "relance" / "taux"


def rates_dir(option: str | None, for_writing: bool = False) -> Path | None:
	"""The folder of the tables in use (see the module docstring); None: the bundled tables."""
	if option:
		return Path(option)
	if os.environ.get(RATES_ENV):
		return Path(os.environ[RATES_ENV])
	folder = user_rates_dir()
	return folder if for_writing or folder.is_dir() else None


def table_file(folder: Path | None, name: str) -> str:
	"""Where a table is read from: the folder's copy when it has one, else the bundled file."""
	if folder is not None and (folder / f"{name}.csv").exists():
		return str(folder / f"{name}.csv")
	from importlib import resources

	return str(resources.files("relance_erpnext.dunning").joinpath("data", f"{name}.csv"))


def table_words(name: str):
	"""What a table holds, in words (a Text; its name when unknown)."""
	return TABLE_WORDS.get(name, name)


def _words(name: str, fr: bool) -> str:
	return say(table_words(name), "fr" if fr else "en")


def half_text(start: date) -> Text:
	"""A half-year by its name: "first half of 2026", "1er semestre 2026"."""
	if start.month == 1:
		return Text("first half of {year}", year=start.year)
	return Text("second half of {year}", year=start.year)


def half_name(start: date, fr: bool) -> str:
	return say(half_text(start), "fr" if fr else "en")


def provisional_message(missing, option: str | None, fr: bool) -> str:
	"""One warning for a plan whose interest is partly provisional: which half-years of which table
	file are missing, and how to get them."""
	lang = "fr" if fr else "en"
	folder = rates_dir(option)
	parts = [
		say(
			Text(
				"{half} ({start}..{end}) of {table} ({words}), {file}",
				half=half_text(m.start),
				start=m.start.isoformat(),
				end=m.end.isoformat(),
				table=m.table,
				words=table_words(m.table),
				file=table_file(folder, m.table),
			),
			lang,
		)
		for m in missing
	]
	message = Text(
		"provisional interest (exit status 5): missing {missing}. The reminders are planned, their interest"
		" counted up to the last day covered. To complete them: relance rates update{where} (or relance"
		" rates set TABLE YYYY-MM-DD RATE --source '…' for a rate typed by hand), then run again with"
		" --rates DIR unless that folder is the default one; relance rates show tells what is missing.",
		missing=(" ; " if fr else "; ").join(parts),
		where=f" --rates {folder}" if folder is not None else "",
	)
	return warning(message, lang)


# Reading and writing a folder ---------------------------------------------------------------------


def known_rows(folder: Path | None) -> dict[str, list[RateRow]]:
	rows = {}
	for name in TABLE_NAMES:
		path = table_file(folder, name)
		try:
			own = folder is not None and (folder / f"{name}.csv").exists()
			text = Path(path).read_text(encoding="utf-8") if own else bundled_table_text(name)
			rows[name] = parse_rate_rows(name, text)
		except OSError as exc:
			raise UsageError(Text("{path}: {reason}", path=path, reason=reason(exc)))
		except UnicodeDecodeError:
			raise UsageError(Text("{path}: not UTF-8 text (save it as UTF-8)", path=path))
		except DunningError as exc:
			raise UsageError(Text("{path}: {reason}", path=path, reason=core_error(exc)))
	return rows


def write_tables(folder: Path, tables: dict[str, list[RateRow]]) -> list[Path]:
	"""Each table into folder/<name>.csv, written whole then renamed (never half a file)."""
	folder.mkdir(parents=True, exist_ok=True)
	written = []
	for name, rows in tables.items():
		target = folder / f"{name}.csv"
		handle, temp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".csv")
		try:
			with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
				out.write(format_rate_table(rows))
			os.replace(temp, target)
		except BaseException:
			Path(temp).unlink(missing_ok=True)
			raise
		written.append(target)
	return written


# The commands -------------------------------------------------------------------------------------


def _rate(text: str) -> Decimal:
	try:
		value = Decimal(text.strip().replace(",", ".").rstrip("%").strip())
	except InvalidOperation:
		raise argparse.ArgumentTypeError(
			say(Text("{text!r} is not a rate (percent a year, e.g. 2.15)", text=text), _LANG[0])
		)
	return value


def cmd_update(args, config) -> int:
	from relance_erpnext.cli.common import EXIT_INPUT, EXIT_OK
	from relance_erpnext.connectors.rates import RateSourceError, fetch_update

	lang = args.lang
	fr = lang.startswith("fr")
	folder = rates_dir(args.rates, for_writing=True)
	known = known_rows(folder)
	try:
		update = fetch_update(
			known,
			args.as_of,
			ecb_url=args.ecb_url or None,
			legal_url=args.legal_url or None,
			force=args.force,
		)
	except RateSourceError as exc:
		message = Text("update failed, nothing was changed: {url}: {reason}", url=exc.url, reason=exc.reason)
		print(say(Text("relance: {message}", message=message), lang), file=sys.stderr)
		return EXIT_UNREACHABLE if exc.unreachable else EXIT_INPUT
	for problem in update.refused:
		print(error(problem.describe(lang), lang), file=sys.stderr)
	if update.refused:
		message = Text("nothing was written (fix it, or --force to replace a known rate)")
		print(say(Text("relance: {message}", message=message), lang), file=sys.stderr)
		return EXIT_INPUT
	changed = {name: list(m.rows) for name, m in update.merges.items() if m.changed}
	if changed:
		write_tables(folder, changed)
	for name, merge in update.merges.items():
		for row in sorted(merge.added + merge.replaced, key=lambda r: r.valid_from):
			values = dict(
				table=name,
				start=row.valid_from.isoformat(),
				end=row.valid_until.isoformat() if row.valid_until else "",
				rate=row.rate,
				source=row.source,
			)
			if row in merge.replaced:
				print(say(Text("{table}: {start}..{end} {rate} % replaced — {source}", **values), lang))
			else:
				print(say(Text("{table}: {start}..{end} {rate} % added — {source}", **values), lang))
	if not changed:
		print(say(Text("Tables up to date, nothing new."), lang))
	else:
		print(say(Text("Written to {folder}", folder=folder), lang))
	return show_missing(folder, args.as_of, fr, EXIT_OK)


def show_missing(folder: Path | None, day: date, fr: bool, ok: int) -> int:
	"""Print what is missing for `day` (this half-year, every table the rules use) and the next; the
	exit status says whether figures of `day` would be provisional."""
	from relance_erpnext.cli.config import load_rates

	rates = load_rates(folder, explicit=False)
	now = missing_for(rates, day, (ECB_REFI, FR_LEGAL))
	upcoming = missing_for(rates, next_half_year(day)[0], (ECB_REFI, FR_LEGAL))
	lang = "fr" if fr else "en"
	for m in now:
		print(
			say(
				Text(
					"missing for today ({day}): {table}, {half} ({start}..{end})",
					day=day.isoformat(),
					table=m.table,
					half=half_text(m.start),
					start=m.start.isoformat(),
					end=m.end.isoformat(),
				),
				lang,
			)
		)
	for m in upcoming:
		print(
			say(
				Text(
					"to come: {table}, {half}, published around {start}",
					table=m.table,
					half=half_text(m.start),
					start=m.start.isoformat(),
				),
				lang,
			)
		)
	return EXIT_PROVISIONAL if now else ok


def cmd_show(args, config) -> int:
	from relance_erpnext.cli.common import EXIT_OK

	lang = args.lang
	fr = lang.startswith("fr")
	folder = rates_dir(args.rates)
	tables = known_rows(folder)
	for name in TABLE_NAMES:
		rows = tables[name]
		first = rows[0].valid_from.isoformat() if rows else "–"
		last = rows[-1].valid_until.isoformat() if rows and rows[-1].valid_until else ("…" if rows else "–")
		print(f"{name} — {_words(name, fr)}")
		print("  " + say(Text("file: {path}", path=table_file(folder, name)), lang))
		print(
			"  "
			+ say(Text("covers {first} .. {last}, {n} row(s)", first=first, last=last, n=len(rows)), lang)
		)
		if rows:
			row = rows[-1]
			values = dict(rate=row.rate, source=row.source)
			if row.read_on:
				last_row = Text(
					"last: {rate} % — {source}, read on {day}", day=row.read_on.isoformat(), **values
				)
			else:
				last_row = Text("last: {rate} % — {source}", **values)
			print("  " + say(last_row, lang))
	return show_missing(folder, args.as_of, fr, EXIT_OK)


def cmd_set(args, config) -> int:
	from relance_erpnext.cli.common import EXIT_INPUT, EXIT_OK

	lang = args.lang
	folder = rates_dir(args.rates, for_writing=True)
	known = known_rows(folder)
	row = RateRow(args.start, half_year(args.start)[1], args.rate, args.source.strip(), args.as_of)
	merge = merge_rows(args.table, known[args.table], [row], force=args.force)
	for problem in merge.refused:
		print(error(problem.describe(lang), lang), file=sys.stderr)
	if merge.refused:
		return EXIT_INPUT
	if merge.changed:
		write_tables(folder, {args.table: list(merge.rows)})
		print(
			say(
				Text(
					"{table}: {start}..{end} {rate} % written to {folder}",
					table=args.table,
					start=row.valid_from.isoformat(),
					end=row.valid_until.isoformat(),
					rate=row.rate,
					folder=folder,
				),
				lang,
			)
		)
	else:
		print(say(Text("Already known, nothing changed."), lang))
	return EXIT_OK


def add_rates_parser(commands, common, today: date) -> None:
	sub = commands.add_parser("rates", parents=[common], help="the reference-rate tables: update, show, set")
	actions = sub.add_subparsers(dest="rates_command", required=True)

	def folder_option(p):
		p.add_argument(
			"--rates",
			help=f"folder of the rate tables (default: ${RATES_ENV}, else {user_rates_dir()})",
		)
		p.add_argument("--as-of", type=_day, default=today, help="today's date (YYYY-MM-DD), default today")

	p = actions.add_parser(
		"update", parents=[common], help="fetch the published rates and add what is missing"
	)
	folder_option(p)
	p.add_argument(
		"--force", action="store_true", help="replace a known rate that the source gives otherwise"
	)
	p.add_argument("--ecb-url", help="ECB Data Portal csvdata address of the MRO rate (default: the ECB's)")
	p.add_argument(
		"--legal-url",
		help="CSV of French legal rates (series,valid_from,valid_until,rate,source); none by default",
	)
	p.set_defaults(handler=cmd_update)

	p = actions.add_parser("show", parents=[common], help="the coverage of each table, what is missing today")
	folder_option(p)
	p.set_defaults(handler=cmd_show)

	p = actions.add_parser("set", parents=[common], help="type a half-year's rate by hand, with its source")
	folder_option(p)
	p.add_argument("table", choices=HALF_YEARLY)
	p.add_argument("start", type=_day, help="first day of the half-year: YYYY-01-01 or YYYY-07-01")
	p.add_argument(
		"rate", type=_rate, help="percent a year, e.g. 2.15 (the ECB rate itself, without the 10 points)"
	)
	p.add_argument(
		"--source", required=True, help="where it was read (decision, arrêté and Journal officiel)"
	)
	p.add_argument("--force", action="store_true", help="replace the rate already known for that half-year")
	p.set_defaults(handler=cmd_set)


def _day(text: str) -> date:
	try:
		return date.fromisoformat(text)
	except ValueError:
		raise argparse.ArgumentTypeError(
			say(Text("{text!r} is not a date (YYYY-MM-DD)", text=text), _LANG[0])
		)
