"""`relance overview`: the finance lead's week.

The overview's figures come from the core (`dunning.overview`, `planner.plan_ahead`); this module
only reads the same sources as `relance plan` and formats: a table, JSON, or an XLSX workbook.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import date
from pathlib import Path

from relance_erpnext.cli.common import _LANG, UsageError, channel_label, complain
from relance_erpnext.cli.config import bucket_problem
from relance_erpnext.cli.workflow import make_plan, warn_provisional
from relance_erpnext.dunning import DEFAULT_BUCKETS, format_amount
from relance_erpnext.dunning.dates import check_bucket_bounds
from relance_erpnext.dunning.money import quantum
from relance_erpnext.dunning.overview import Overview, build_overview
from relance_erpnext.dunning.planner import plan_ahead
from relance_erpnext.dunning.serialize import overview_to_dict
from relance_erpnext.i18n import Text, reason, say

WEEK_DAYS = 7


def bucket_bounds(text: str) -> tuple[int, ...]:
	"""--buckets "30,60,90" -> (30, 60, 90), checked by the core's own rule."""
	try:
		bounds = tuple(int(part) for part in re.split(r"[,;\s]+", text.strip()) if part)
		check_bucket_bounds(bounds)
	except ValueError:
		raise argparse.ArgumentTypeError(
			say(
				Text(
					"{text!r}: give increasing whole days above 0, separated by commas (e.g. 30,60,90)",
					text=text,
				),
				_LANG[0],
			)
		)
	return bounds


def add_overview_parser(commands, common, book_options, today: date) -> None:
	"""The `overview` command, added to the `relance` parser (cli.build_parser)."""
	sub = commands.add_parser(
		"overview",
		parents=[common],
		help="the week for the finance lead: late invoices by delay, actions, promises, disputes, totals",
	)
	book_options(sub, today)
	sub.add_argument(
		"--buckets",
		type=bucket_bounds,
		help="upper bounds of the delay buckets in days, e.g. 30,60,90 (default: [settings] buckets, else 7,15)",
	)
	sub.add_argument(
		"--days", type=int, default=WEEK_DAYS, help=f"days covered, today included (default {WEEK_DAYS})"
	)
	sub.add_argument("--format", choices=("table", "json"), default="table")
	sub.add_argument("--xlsx", help="also write the overview to this Excel file (one sheet per part)")
	sub.set_defaults(handler=cmd_overview)


# The overview --------------------------------------------------------------------------------


def configured_buckets(args, config: dict) -> tuple[int, ...]:
	if args.buckets:
		return args.buckets
	value = (config.get("settings") or {}).get("buckets")
	if value is None:
		return DEFAULT_BUCKETS
	problem = bucket_problem(value)
	if problem:
		raise UsageError(Text("settings: buckets {problem}", problem=problem))
	return tuple(value)


def make_overview(args, config: dict) -> Overview:
	if args.days < 1:
		raise UsageError(Text("overview: --days must be 1 or more"))
	bounds = configured_buckets(args, config)
	week = []

	def planner(as_of, customers, invoices, history, scenarios, rates, settings, **kw):
		# The same plan as `relance plan` for today, then the planner's forecast of the next days
		week.extend(
			plan_ahead(as_of, customers, invoices, history, scenarios, rates, settings, days=args.days, **kw)
		)
		return week[0]

	book, _, journal = make_plan(args, config, planner=planner)
	if journal is not None:
		journal.close()
	# The register and Dolibarr carry no payment promises: the ERPNext app passes its own
	return build_overview(args.as_of, book.customers, book.invoices, week, promises=(), bounds=bounds)


def cmd_overview(args, config: dict) -> int:
	overview = make_overview(args, config)
	if args.format == "json":
		json.dump(overview_to_dict(overview), sys.stdout, ensure_ascii=False, indent=2)
		sys.stdout.write("\n")
	else:
		print_overview(overview, args.lang)
	if args.xlsx:
		write_overview_xlsx(overview, Path(args.xlsx), args.lang)
		# With --format json, standard output holds the JSON alone
		print(
			say(Text("Workbook written: {path}", path=args.xlsx), args.lang),
			file=sys.stderr if args.format == "json" else sys.stdout,
		)
	for error in overview.errors:
		complain(error, args.lang)
	return warn_provisional(overview, args)


TEXTS = {
	# key: (English, French)
	"title": ("Overview from {start} to {end}", "Vue d'ensemble du {start} au {end}"),
	"buckets": ("Late invoices by delay (days late)", "Factures en retard par tranche (jours de retard)"),
	"customers": ("Late amounts per customer", "Retards par client"),
	"late": ("Late invoices ({n})", "Factures en retard ({n})"),
	"actions": ("Actions of the week ({n})", "Actions de la semaine ({n})"),
	"promises": ("Payment promises falling due this week ({n})", "Promesses de paiement de la semaine ({n})"),
	"holds": ("Disputes and holds ({n})", "Litiges et suspensions ({n})"),
	"none": ("(none)", "(aucune)"),
	"currency": ("Currency", "Devise"),
	"bucket": ("Delay", "Tranche"),
	"invoices": ("Invoices", "Factures"),
	"amount": ("Amount", "Montant"),
	"total": ("Total", "Total"),
	"customer": ("Customer", "Client"),
	"oldest": ("Oldest (d)", "Plus ancien (j)"),
	"invoice": ("Invoice", "Facture"),
	"due": ("Due", "Échéance"),
	"days_late": ("Days late", "Jours de retard"),
	"late_amount": ("Late", "En retard"),
	"outstanding": ("Outstanding", "Reste dû"),
	"status": ("Status", "Statut"),
	"next": ("Next step", "Prochaine étape"),
	"next_date": ("On", "Le"),
	"date": ("Date", "Date"),
	"step": ("Step", "Étape"),
	"channel": ("Channel", "Canal"),
	"promised": ("Promised", "Promis"),
	"all": ("all", "tout"),
	"made_on": ("Made on", "Faite le"),
	"kind": ("Kind", "Type"),
	"held_by": ("On", "Sur"),
	"reason": ("Reason", "Motif"),
	"until": ("Until", "Jusqu'au"),
	"hold": ("on hold", "suspendue"),
	"dispute": ("disputed", "en litige"),
	"on_customer": ("customer", "client"),
	"on_invoice": ("invoice", "facture"),
	"errors": ("Errors", "Erreurs"),
}
SHEETS = {
	"buckets": ("Buckets", "Tranches"),
	"customers": ("Customers", "Clients"),
	"late": ("Late invoices", "Retards"),
	"actions": ("Actions", "Actions"),
	"promises": ("Promises", "Promesses"),
	"holds": ("Holds", "Litiges"),
	"errors": ("Errors", "Erreurs"),
}


def _text(key: str, language: str, **values) -> str:
	english, french = TEXTS[key]
	return (french if language.startswith("fr") else english).format(**values)


def _sections(overview: Overview, language: str) -> list[tuple[str, list[str], list[list]]]:
	"""Each part of the overview as (key, headers, rows of typed values: (amount, currency) for money).

	The table and the workbook are both made from these rows: one layout, two renderings.
	"""

	def t(key: str) -> str:
		return _text(key, language)

	def hold_text(kind: str) -> str:
		return t(kind) if kind else ""

	buckets = []
	for total in overview.currency_totals:
		for row in overview.bucket_totals:
			if row.currency == total.currency:
				buckets.append([row.currency, row.bucket, row.invoices, (row.amount, row.currency)])
		buckets.append([total.currency, t("total"), total.invoices, (total.amount, total.currency)])
	customers = [
		[
			row.customer_name,
			row.currency,
			row.invoices,
			*((amount, row.currency) for amount in row.by_bucket),
			(row.total, row.currency),
			row.oldest_days_late,
		]
		for row in overview.customer_totals
	]
	late = [
		[
			row.invoice,
			row.customer_name,
			row.currency,
			row.due,
			row.days_late,
			row.bucket,
			(row.late_amount, row.currency),
			(row.outstanding, row.currency),
			hold_text(row.hold),
			row.next_step,
			row.next_day,
		]
		for row in overview.late
	]
	actions = [
		[
			row.day,
			row.customer_name,
			row.step_label,
			channel_label(row.channel, language),
			", ".join(row.invoices),
			row.currency,
			(row.outstanding, row.currency),
			(row.total, row.currency),
		]
		for row in overview.actions
	]
	promises = [
		[
			row.due,
			row.customer_name,
			", ".join(row.invoices),
			row.currency,
			(row.promised, row.currency) if row.promised is not None else t("all"),
			(row.outstanding, row.currency),
			row.made_on,
		]
		for row in overview.promises
	]
	holds = [
		[
			row.invoice,
			row.customer_name,
			t(row.kind) if row.kind in ("hold", "dispute") else row.kind,
			t("on_customer") if row.on_customer else t("on_invoice"),
			row.reason,
			row.until,
			row.due,
			row.days_late,
			row.currency,
			(row.outstanding, row.currency),
		]
		for row in overview.holds
	]
	return [
		("buckets", [t("currency"), t("bucket"), t("invoices"), t("amount")], buckets),
		(
			"customers",
			[t("customer"), t("currency"), t("invoices"), *overview.buckets, t("total"), t("oldest")],
			customers,
		),
		(
			"late",
			[
				t("invoice"),
				t("customer"),
				t("currency"),
				t("due"),
				t("days_late"),
				t("bucket"),
				t("late_amount"),
				t("outstanding"),
				t("status"),
				t("next"),
				t("next_date"),
			],
			late,
		),
		(
			"actions",
			[
				t("date"),
				t("customer"),
				t("step"),
				t("channel"),
				t("invoices"),
				t("currency"),
				t("outstanding"),
				t("total"),
			],
			actions,
		),
		(
			"promises",
			[
				t("due"),
				t("customer"),
				t("invoices"),
				t("currency"),
				t("promised"),
				t("outstanding"),
				t("made_on"),
			],
			promises,
		),
		(
			"holds",
			[
				t("invoice"),
				t("customer"),
				t("kind"),
				t("held_by"),
				t("reason"),
				t("until"),
				t("due"),
				t("days_late"),
				t("currency"),
				t("outstanding"),
			],
			holds,
		),
	]


def _cell_text(value, language: str) -> str:
	if value is None:
		return ""
	if isinstance(value, tuple):
		amount, currency = value
		return format_amount(amount, currency, language)
	if isinstance(value, date):
		return value.isoformat()
	return str(value)


def _numeric_columns(rows: list[list]) -> set[int]:
	"""Columns holding numbers or amounts: right-aligned."""
	return {
		i
		for row in rows
		for i, value in enumerate(row)
		if isinstance(value, tuple) or (isinstance(value, int) and not isinstance(value, bool))
	}


def _table_lines(headers: list[str], rows: list[list[str]], numeric: set[int]) -> list[str]:
	widths = [max([len(header)] + [len(row[i]) for row in rows]) for i, header in enumerate(headers)]

	def line(cells) -> str:
		return (
			"  "
			+ "  ".join(
				cell.rjust(width) if i in numeric else cell.ljust(width)
				for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
			).rstrip()
		)

	return [line(headers), line(["-" * width for width in widths]), *(line(row) for row in rows)]


def print_overview(overview: Overview, language: str, out=None) -> None:
	out = sys.stdout if out is None else out  # at call time: sys.stdout may have been redirected
	print(
		_text("title", language, start=overview.as_of.isoformat(), end=overview.until.isoformat()), file=out
	)
	for key, headers, rows in _sections(overview, language):
		print("\n" + _text(key, language, n=len(rows)), file=out)
		if not rows:
			print("  " + _text("none", language), file=out)
			continue
		texts = [[_cell_text(value, language) for value in row] for row in rows]
		for line in _table_lines(headers, texts, _numeric_columns(rows)):
			print(line, file=out)
	if overview.errors:
		print("\n" + _text("errors", language), file=out)
		for error in overview.errors:
			print(f"  {error}", file=out)


def write_overview_xlsx(overview: Overview, path: Path, language: str) -> None:
	"""One sheet per part: amounts as numbers with a number format, dates as dates, bold headers."""
	from openpyxl import Workbook
	from openpyxl.styles import Font
	from openpyxl.utils import get_column_letter

	date_format = "dd/mm/yyyy" if language.startswith("fr") else "yyyy-mm-dd"
	fr = language.startswith("fr")
	book = Workbook()
	book.remove(book.active)
	sections = _sections(overview, language)
	if overview.errors:
		sections.append(("errors", [_text("errors", language)], [[e] for e in overview.errors]))
	for key, headers, rows in sections:
		sheet = book.create_sheet(SHEETS[key][1 if fr else 0])
		sheet.append(headers)
		for cell in sheet[1]:
			cell.font = Font(bold=True)
		widths = [len(header) for header in headers]
		for row in rows:
			values = []
			formats = []
			for value in row:
				if isinstance(value, tuple):
					amount, currency = value
					values.append(amount)
					formats.append("#,##0" if quantum(currency) == 1 else "#,##0.00")
				elif isinstance(value, date):
					values.append(value)
					formats.append(date_format)
				else:
					values.append(value)
					formats.append("0" if isinstance(value, int) else None)
			sheet.append(values)
			for column, (cell, number_format) in enumerate(zip(sheet[sheet.max_row], formats, strict=True)):
				if number_format:
					cell.number_format = number_format
				widths[column] = max(widths[column], len(_cell_text(row[column], language)))
		for column, width in enumerate(widths, start=1):
			sheet.column_dimensions[get_column_letter(column)].width = min(max(width + 2, 8), 60)
		sheet.freeze_panes = "A2"
		if rows:
			sheet.auto_filter.ref = sheet.dimensions
	try:
		book.save(path)
	except OSError as exc:
		raise UsageError(Text("{path}: cannot write the workbook ({reason})", path=path, reason=reason(exc)))
