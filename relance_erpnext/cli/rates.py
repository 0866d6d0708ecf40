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

RATES_ENV = "RELANCE_RATES_DIR"
EXIT_PROVISIONAL = 5  # plan, run, overview, rates show: some interest is provisional (a rate is missing)
EXIT_UNREACHABLE = 6  # rates update: a source could not be reached; nothing was changed

TABLE_WORDS = {
	# table: (English, French)
	ECB_REFI: ("ECB main refinancing rate", "taux de refinancement de la BCE"),
	FR_LEGAL: ("French legal interest rate, other cases", "taux de l'intérêt légal, autres cas"),
	FR_LEGAL_CONSUMER: (
		"French legal interest rate, natural persons' claims (kept, not used)",
		"taux de l'intérêt légal, créances des particuliers (gardé, non utilisé)",
	),
	QC_LEGAL: ("Canadian legal rate (Interest Act s.3)", "taux légal canadien (Loi sur l'intérêt, art. 3)"),
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


def _words(name: str, fr: bool) -> str:
	words = TABLE_WORDS.get(name, (name, name))
	return words[1] if fr else words[0]


def half_name(start: date, fr: bool) -> str:
	if fr:
		return f"{'1er' if start.month == 1 else '2nd'} semestre {start.year}"
	return f"{'first' if start.month == 1 else 'second'} half of {start.year}"


def provisional_message(missing, option: str | None, fr: bool) -> str:
	"""One warning for a plan whose interest is partly provisional: which half-years of which table
	file are missing, and how to get them."""
	folder = rates_dir(option)
	parts = []
	for m in missing:
		parts.append(
			f"{half_name(m.start, fr)} ({m.start.isoformat()}..{m.end.isoformat()}) "
			f"{'de' if fr else 'of'} {m.table} ({_words(m.table, fr)}), {table_file(folder, m.table)}"
		)
	where = f" --rates {folder}" if folder is not None else ""
	if fr:
		return (
			"attention : intérêts provisoires (statut de sortie 5) : il manque "
			+ " ; ".join(parts)
			+ ". Les relances sont bien prévues, leurs intérêts arrêtés au dernier jour couvert. Pour les"
			f" compléter : relance rates update{where} (ou relance rates set TABLE JJ-MM-AAAA TAUX --source"
			" « … » pour un taux tapé à la main), puis relancez avec --rates DIR si ce dossier n'est pas"
			" celui par défaut ; relance rates show montre ce qui manque."
		)
	return (
		"warning: provisional interest (exit status 5): missing "
		+ "; ".join(parts)
		+ ". The reminders are planned, their interest counted up to the last day covered. To complete"
		f" them: relance rates update{where} (or relance rates set TABLE YYYY-MM-DD RATE --source '…' for a"
		" rate typed by hand), then run again with --rates DIR unless that folder is the default one;"
		" relance rates show tells what is missing."
	)


# Reading and writing a folder ---------------------------------------------------------------------


def known_rows(folder: Path | None) -> dict[str, list[RateRow]]:
	from relance_erpnext.cli.common import UsageError

	rows = {}
	for name in TABLE_NAMES:
		path = table_file(folder, name)
		try:
			own = folder is not None and (folder / f"{name}.csv").exists()
			text = Path(path).read_text(encoding="utf-8") if own else bundled_table_text(name)
			rows[name] = parse_rate_rows(name, text)
		except OSError as exc:
			raise UsageError(f"{path}: {exc.strerror or exc}")
		except (UnicodeDecodeError, DunningError) as exc:
			raise UsageError(f"{path}: {exc}")
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
		raise argparse.ArgumentTypeError(f"{text!r} is not a rate (percent a year, e.g. 2.15)")
	return value


def cmd_update(args, config) -> int:
	from relance_erpnext.cli.common import EXIT_INPUT, EXIT_OK
	from relance_erpnext.connectors.rates import RateSourceError, fetch_update

	fr = args.lang.startswith("fr")
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
		print(
			f"relance: mise à jour impossible, rien n'a changé : {exc.url} : {exc.reason}"
			if fr
			else f"relance: update failed, nothing was changed: {exc.url}: {exc.reason}",
			file=sys.stderr,
		)
		return EXIT_UNREACHABLE if exc.unreachable else EXIT_INPUT
	for problem in update.refused:
		print(f"error: {problem.describe('fr' if fr else 'en')}", file=sys.stderr)
	if update.refused:
		print(
			"relance: rien n'a été écrit (corrigez, ou --force pour remplacer un taux connu)"
			if fr
			else "relance: nothing was written (fix it, or --force to replace a known rate)",
			file=sys.stderr,
		)
		return EXIT_INPUT
	changed = {name: list(m.rows) for name, m in update.merges.items() if m.changed}
	if changed:
		write_tables(folder, changed)
	for name, merge in update.merges.items():
		for row in sorted(merge.added + merge.replaced, key=lambda r: r.valid_from):
			verb = (
				("remplacé" if row in merge.replaced else "ajouté")
				if fr
				else ("replaced" if row in merge.replaced else "added")
			)
			print(
				f"{name}: {row.valid_from.isoformat()}..{row.valid_until.isoformat() if row.valid_until else ''} {row.rate} % {verb} — {row.source}"
			)
	if not changed:
		print("Tables à jour, rien de nouveau." if fr else "Tables up to date, nothing new.")
	else:
		print(f"Écrit dans {folder}" if fr else f"Written to {folder}")
	return show_missing(folder, args.as_of, fr, EXIT_OK)


def show_missing(folder: Path | None, day: date, fr: bool, ok: int) -> int:
	"""Print what is missing for `day` (this half-year, every table the rules use) and the next; the
	exit status says whether figures of `day` would be provisional."""
	from relance_erpnext.cli.config import load_rates

	rates = load_rates(folder, explicit=False)
	now = missing_for(rates, day, (ECB_REFI, FR_LEGAL))
	upcoming = missing_for(rates, next_half_year(day)[0], (ECB_REFI, FR_LEGAL))
	for m in now:
		print(
			f"manque pour aujourd'hui ({day.isoformat()}) : {m.table}, {half_name(m.start, fr)} ({m.start.isoformat()}..{m.end.isoformat()})"
			if fr
			else f"missing for today ({day.isoformat()}): {m.table}, {half_name(m.start, fr)} ({m.start.isoformat()}..{m.end.isoformat()})"
		)
	for m in upcoming:
		print(
			f"à venir : {m.table}, {half_name(m.start, fr)}, publié vers le {m.start.isoformat()}"
			if fr
			else f"to come: {m.table}, {half_name(m.start, fr)}, published around {m.start.isoformat()}"
		)
	return EXIT_PROVISIONAL if now else ok


def cmd_show(args, config) -> int:
	from relance_erpnext.cli.common import EXIT_OK

	fr = args.lang.startswith("fr")
	folder = rates_dir(args.rates)
	tables = known_rows(folder)
	for name in TABLE_NAMES:
		rows = tables[name]
		first = rows[0].valid_from.isoformat() if rows else "–"
		last = rows[-1].valid_until.isoformat() if rows and rows[-1].valid_until else ("…" if rows else "–")
		print(f"{name} — {_words(name, fr)}")
		print(f"  {'fichier' if fr else 'file'}: {table_file(folder, name)}")
		print(
			f"  {'couvre' if fr else 'covers'} {first} .. {last}, {len(rows)} {'ligne(s)' if fr else 'row(s)'}"
		)
		if rows:
			row = rows[-1]
			read = f", {'lu le' if fr else 'read on'} {row.read_on.isoformat()}" if row.read_on else ""
			print(f"  {'dernier' if fr else 'last'}: {row.rate} % — {row.source}{read}")
	return show_missing(folder, args.as_of, fr, EXIT_OK)


def cmd_set(args, config) -> int:
	from relance_erpnext.cli.common import EXIT_INPUT, EXIT_OK

	fr = args.lang.startswith("fr")
	folder = rates_dir(args.rates, for_writing=True)
	known = known_rows(folder)
	row = RateRow(args.start, half_year(args.start)[1], args.rate, args.source.strip(), args.as_of)
	merge = merge_rows(args.table, known[args.table], [row], force=args.force)
	for problem in merge.refused:
		print(f"error: {problem.describe('fr' if fr else 'en')}", file=sys.stderr)
	if merge.refused:
		return EXIT_INPUT
	if merge.changed:
		write_tables(folder, {args.table: list(merge.rows)})
		print(
			f"{args.table} : {row.valid_from.isoformat()}..{row.valid_until.isoformat()} {row.rate} % écrit dans {folder}"
			if fr
			else f"{args.table}: {row.valid_from.isoformat()}..{row.valid_until.isoformat()} {row.rate} % written to {folder}"
		)
	else:
		print("Déjà connu, rien de changé." if fr else "Already known, nothing changed.")
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
		raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)")
