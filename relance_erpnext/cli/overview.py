"""`relance overview` (the finance lead's week) and `relance check` (the configuration file).

The overview's figures come from the core (`dunning.overview`, `planner.plan_ahead`); this module
only reads the same sources as `relance plan` and formats: a table, JSON, or an XLSX workbook.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import stat
import sys
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from relance_erpnext.cli.common import DOLIBARR_KEY_ENV, EXIT_INPUT, EXIT_OK, UsageError, _date
from relance_erpnext.cli.config import load_rates, load_scenarios, sender_from, settings_from
from relance_erpnext.cli.workflow import make_plan, warn_provisional
from relance_erpnext.dunning import (
	BY_DUE_DATE,
	CATCH_UP_MODES,
	DEFAULT_BUCKETS,
	ScenarioError,
	format_amount,
	scenario_from_dict,
)
from relance_erpnext.dunning.dates import check_bucket_bounds
from relance_erpnext.dunning.money import quantum
from relance_erpnext.dunning.overview import Overview, build_overview
from relance_erpnext.dunning.planner import plan_ahead
from relance_erpnext.dunning.scenarios import BUILTIN_SCENARIOS
from relance_erpnext.dunning.serialize import overview_to_dict

WEEK_DAYS = 7
EXIT_USAGE = 2


def bucket_bounds(text: str) -> tuple[int, ...]:
	"""--buckets "30,60,90" -> (30, 60, 90), checked by the core's own rule."""
	try:
		bounds = tuple(int(part) for part in re.split(r"[,;\s]+", text.strip()) if part)
		check_bucket_bounds(bounds)
	except ValueError:
		raise argparse.ArgumentTypeError(
			f"{text!r}: give increasing whole days above 0, separated by commas (e.g. 30,60,90)"
		)
	return bounds


def add_overview_parsers(commands, common, book_options, today: date) -> None:
	"""The `overview` and `check` commands, added to the `relance` parser (cli.build_parser)."""
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

	sub = commands.add_parser(
		"check", parents=[common], help="check the configuration file (--config FILE), changing nothing"
	)
	sub.add_argument("--rates", help="folder of the reference-rate tables to check (default: as plan)")
	sub.add_argument("--as-of", type=_date, default=today, help="today's date (YYYY-MM-DD), default today")
	sub.set_defaults(handler=cmd_check)


# The overview --------------------------------------------------------------------------------


def configured_buckets(args, config: dict) -> tuple[int, ...]:
	if args.buckets:
		return args.buckets
	value = (config.get("settings") or {}).get("buckets")
	if value is None:
		return DEFAULT_BUCKETS
	problem = _bucket_problem(value)
	if problem:
		raise UsageError(f"settings: buckets {problem}")
	return tuple(value)


def make_overview(args, config: dict) -> Overview:
	if args.days < 1:
		raise UsageError("overview: --days must be 1 or more")
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
		fr = args.lang.startswith("fr")
		# With --format json, standard output holds the JSON alone
		print(
			f"{'Classeur écrit' if fr else 'Workbook written'}: {args.xlsx}",
			file=sys.stderr if args.format == "json" else sys.stdout,
		)
	for error in overview.errors:
		print(f"error: {error}", file=sys.stderr)
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
			row.channel,
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
		raise UsageError(f"{path}: cannot write the workbook ({exc.strerror or exc})")


# The configuration check ---------------------------------------------------------------------

ERROR = "error"
WARNING = "warning"
TABLES = ("company", "settings", "scenarios", "smtp", "dolibarr")
SETTINGS_FIELDS = (
	"default_scenario",
	"min_amount",
	"min_gap_days",
	"promise_grace_days",
	"buckets",
	"catch_up",
	"payment_days",
)
DOLIBARR_FIELDS = ("url", "api_key_env")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
EMAIL_ADDRESS = re.compile(r"^[^@\s<>(),;:]+@[^@\s<>(),;:]+\.[^@\s<>(),;:.]+$")
BIC = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")
# Lengths of the IBANs a French or Québec company is likely to use (ISO 13616 registry)
IBAN_LENGTHS = {
	"FR": 27,
	"MC": 27,
	"BE": 16,
	"LU": 20,
	"CH": 21,
	"DE": 22,
	"ES": 24,
	"IT": 27,
	"NL": 18,
	"PT": 25,
	"GB": 22,
}


@dataclass(frozen=True, slots=True)
class Problem:
	level: str  # ERROR or WARNING
	path: str  # table.key, e.g. "smtp.port"
	message: str

	def __str__(self) -> str:
		return f"{self.level}: {self.path}: {self.message}"


def iban_problem(text: str) -> str | None:
	"""What is wrong with an IBAN (format, length for its country, ISO 7064 mod-97 check), or None."""
	compact = re.sub(r"\s+", "", text).upper()
	if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", compact):
		return "not an IBAN (two letters, two check digits, then the account number)"
	expected = IBAN_LENGTHS.get(compact[:2])
	if expected and len(compact) != expected:
		return f"a {compact[:2]} IBAN has {expected} characters, this one has {len(compact)}"
	if int("".join(str(int(ch, 36)) for ch in compact[4:] + compact[:4])) % 97 != 1:
		return "the check digits do not match (a typing error?)"
	return None


# French names people naturally write for the fields (the configuration's keys are English)
FRENCH_KEYS = {
	"nom": "name",
	"raison_sociale": "name",
	"adresse": "address",
	"ville": "city",
	"courriel": "email",
	"telephone": "phone",
	"téléphone": "phone",
	"siret": "legal_id",
	"tva": "vat_id",
	"site": "website",
	"moyens_de_paiement": "payment_methods",
	"signataire": "signatory",
	"hote": "host",
	"hôte": "host",
	"utilisateur": "user",
	"expediteur": "from",
	"expéditeur": "from",
	"scenario_par_defaut": "default_scenario",
	"montant_minimum": "min_amount",
	"tranches": "buckets",
	"entreprise": "company",
	"societe": "company",
	"société": "company",
	"parametres": "settings",
	"paramètres": "settings",
	"scénarios": "scenarios",
}


def _did_you_mean(key: str, known) -> str:
	known = list(known)
	french = FRENCH_KEYS.get(key.lower())
	if french in known:
		return f" (did you mean {french!r}?)"
	close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
	return f" (did you mean {close[0]!r}?)" if close else ""


def _bucket_problem(value) -> str | None:
	if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
		return "must be a list of whole days, e.g. [30, 60, 90]"
	try:
		check_bucket_bounds(tuple(value))
	except ValueError:
		return "must be increasing whole days above 0, e.g. [7, 15] or [30, 60, 90]"
	return None


def _email_problem(value) -> str | None:
	if not isinstance(value, str):
		return "must be text"
	from email.utils import parseaddr

	address = parseaddr(value)[1]
	if not address or not EMAIL_ADDRESS.match(address):
		return f"{value!r} is not an email address"
	return None


class ConfigCheck:
	"""Every problem of a configuration, each named by its table.key path (never a secret's value)."""

	def __init__(self, config: dict, environ=None):
		self.config = config
		self.environ = os.environ if environ is None else environ
		self.problems: list[Problem] = []

	def error(self, path: str, message: str) -> None:
		self.problems.append(Problem(ERROR, path, message))

	def warn(self, path: str, message: str) -> None:
		self.problems.append(Problem(WARNING, path, message))

	def count(self, prefix: str, level: str | None = None) -> int:
		return sum(
			1
			for p in self.problems
			if (p.path == prefix or p.path.startswith(prefix + ".")) and (level is None or p.level == level)
		)

	def unknown(self, table: str, data: dict, known, level: str) -> None:
		for key in data:
			if key not in known:
				self.problems.append(
					Problem(level, f"{table}.{key}", f"unknown field{_did_you_mean(key, known)}")
				)

	def run(self) -> list[Problem]:
		for key in self.config:
			if key not in TABLES:
				self.warn(key, f"unknown table, ignored{_did_you_mean(key, TABLES)}")
		tables = {}
		for name in TABLES:
			value = self.config.get(name)
			if value is None:
				continue
			if name == "scenarios" and isinstance(value, list):
				tables[name] = value
			elif not isinstance(value, dict):
				self.error(name, f"[{name}] must be a table")
			else:
				tables[name] = value
		company = tables.get("company")
		if company is None and "company" not in self.config:
			self.warn(
				"company", "no [company] table: `relance run` needs one (at least a name) for the letters"
			)
		if company is not None:
			self.check_company(company)
		scenario_keys = self.check_scenarios(tables.get("scenarios", {}))
		self.check_settings(tables.get("settings", {}), scenario_keys)
		if "smtp" in tables:
			self.check_smtp(tables["smtp"], (company or {}).get("email", ""))
		if "dolibarr" in tables:
			self.check_dolibarr(tables["dolibarr"])
		self.cross_check(tables)
		return self.problems

	def check_company(self, table: dict) -> None:
		from relance_erpnext.dunning.letters import Sender

		# `relance run` refuses an unknown field in [company]: an error, not a warning
		self.unknown("company", table, Sender.__dataclass_fields__, ERROR)
		name = table.get("name")
		if not isinstance(name, str) or not name.strip():
			self.error("company.name", "required: the company's name, printed on every letter")
		for key in ("address", "payment_methods"):
			value = table.get(key)
			if value is None:
				continue
			if isinstance(value, str):
				continue  # one item per line
			if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
				self.error(f"company.{key}", "must be a list of lines of text")
		for key in Sender.__dataclass_fields__:
			if key not in ("address", "payment_methods") and key in table and not isinstance(table[key], str):
				self.error(f"company.{key}", "must be text")
		if not table.get("address"):
			self.warn("company.address", "no address: the letters will have no sender address")
		if isinstance(table.get("email"), str) and table["email"].strip():
			problem = _email_problem(table["email"])
			if problem:
				self.error("company.email", problem)
		if isinstance(table.get("iban"), str) and table["iban"].strip():
			problem = iban_problem(table["iban"])
			if problem:
				self.error("company.iban", problem)
		if isinstance(table.get("bic"), str) and table["bic"].strip():
			if not BIC.match(re.sub(r"\s+", "", table["bic"]).upper()):
				self.error("company.bic", f"{table['bic']!r} is not a BIC (8 or 11 letters and digits)")

	def check_scenarios(self, table) -> set[str]:
		"""The keys of the scenarios that can be used (built-in ones, and the configuration's sound ones)."""
		keys = set(BUILTIN_SCENARIOS)
		if isinstance(table, list):
			items = []
			for index, item in enumerate(table):
				if not isinstance(item, dict):
					self.error(f"scenarios[{index}]", "each scenario is a table with a 'steps' list")
				else:
					items.append((str(item.get("key", "")) or f"[{index}]", item))
		else:
			items = list(table.items())
		for key, data in items:
			try:
				# The core's own rules, one place: scenario_from_dict validates
				scenario = scenario_from_dict(data, key)
			except ScenarioError as exc:
				path = f"scenarios.{exc.scenario if exc.scenario != '?' else key}"
				if exc.step is not None:
					path += f".steps.{exc.step}"
				self.error(f"{path}.{exc.field}", exc.message)
				keys.add(key)  # known, if broken: reported once, here, not again as a missing scenario
				continue
			keys.add(scenario.key)
		return keys

	def check_settings(self, table: dict, scenario_keys: set[str]) -> None:
		self.unknown("settings", table, SETTINGS_FIELDS, WARNING)
		scenario = table.get("default_scenario", "standard")
		if not isinstance(scenario, str) or not scenario.strip():
			self.error("settings.default_scenario", "must be the key of a scenario")
		elif scenario not in scenario_keys:
			self.error(
				"settings.default_scenario",
				f"{scenario!r} is not a known scenario (known: {', '.join(sorted(scenario_keys))})"
				+ _did_you_mean(scenario, scenario_keys),
			)
		if "min_amount" in table:
			value = table["min_amount"]
			try:
				if isinstance(value, bool):
					raise InvalidOperation
				amount = Decimal(str(value).strip())
				if not amount.is_finite():
					raise InvalidOperation
			except InvalidOperation:
				self.error("settings.min_amount", f'{value!r} is not an amount (write it as "5" or "12.50")')
			else:
				if amount < 0:
					self.error("settings.min_amount", "must be 0 or more")
		if "catch_up" in table and table["catch_up"] not in CATCH_UP_MODES:
			self.error("settings.catch_up", f"use one of {', '.join(CATCH_UP_MODES)}")
		elif table.get("catch_up") == BY_DUE_DATE:
			self.warn(
				"settings.catch_up",
				"by_due_date: a customer never reminded may get a late step (up to a formal notice) first",
			)
		for key in ("min_gap_days", "promise_grace_days", "payment_days"):
			if key in table:
				value = table[key]
				if isinstance(value, str) and value.strip().isdigit():
					continue
				if not isinstance(value, int) or isinstance(value, bool):
					self.error(f"settings.{key}", f"{value!r} is not a whole number of days")
				elif value < 0:
					self.error(f"settings.{key}", "must be 0 or more")
		if "buckets" in table:
			problem = _bucket_problem(table["buckets"])
			if problem:
				self.error("settings.buckets", problem)

	def check_smtp(self, table: dict, company_email) -> None:
		from relance_erpnext.connectors.hosts import valid_host
		from relance_erpnext.connectors.mailer import DEFAULT_PORTS, SECURITIES, SMTP_FIELDS, is_loopback

		if "password" in table:
			# Its value is never repeated, not even in part
			self.error(
				"smtp.password",
				"no password in the configuration file: name an environment variable in password_env"
				" or a file in password_file",
			)
		self.unknown("smtp", {k: v for k, v in table.items() if k != "password"}, SMTP_FIELDS, ERROR)
		for key in ("host", "security", "user", "password_env", "password_file", "from", "reply_to"):
			if key in table and not isinstance(table[key], str):
				self.error(f"smtp.{key}", "must be text")
		host = table.get("host")
		if not isinstance(host, str) or not host.strip():
			self.error("smtp.host", "required: the mail server's name, e.g. smtp.example.org")
			host = ""
		elif not valid_host(host):
			# "user:password@host" may hold a secret: not repeated
			shown = f"{host!r}: " if "@" not in host else ""
			self.error(
				"smtp.host", f"{shown}give the server's name alone, e.g. smtp.example.org (port = 587 apart)"
			)
		security = table.get("security", "starttls")
		if isinstance(security, str) and security not in SECURITIES:
			self.error(
				"smtp.security",
				f"{security!r} is not one of {', '.join(SECURITIES)}{_did_you_mean(security, SECURITIES)}",
			)
		if "port" in table:
			port = table["port"]
			if not isinstance(port, int) or isinstance(port, bool):
				self.error("smtp.port", f"{port!r} is not a port number (a whole number, 1 to 65535)")
			elif not 1 <= port <= 65535:
				self.error("smtp.port", f"{port} is not a port number (1 to 65535)")
			elif (
				security in DEFAULT_PORTS
				and port in DEFAULT_PORTS.values()
				and port != DEFAULT_PORTS[security]
			):
				self.warn(
					"smtp.port",
					f"port {port} is not the usual one for {security} ({DEFAULT_PORTS[security]})",
				)
		if "timeout" in table:
			timeout = table["timeout"]
			if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
				self.error("smtp.timeout", "must be a number of seconds above 0")
		user = table.get("user") or ""
		password_env = table.get("password_env") or ""
		password_file = table.get("password_file") or ""
		if password_env and password_file:
			self.error("smtp.password_file", "give password_env or password_file, not both")
		if user and not password_env and not password_file:
			self.error("smtp.user", "a user needs password_env or password_file (where the password is kept)")
		if (password_env or password_file) and not user:
			self.error("smtp.user", "required with password_env or password_file: the login name")
		if isinstance(password_env, str) and password_env:
			if not ENV_NAME.match(password_env):
				self.error("smtp.password_env", f"{password_env!r} is not an environment variable name")
			elif password_env not in self.environ:
				self.warn(
					"smtp.password_env",
					f"the environment variable {password_env} is not set here: run --send will stop",
				)
			elif not self.environ[password_env]:
				self.warn("smtp.password_env", f"the environment variable {password_env} is empty")
		if isinstance(password_file, str) and password_file:
			self.check_password_file(password_file)
		if isinstance(user, str) and user and security == "none" and host and not is_loopback(host):
			self.error(
				"smtp.security",
				'a login over an unencrypted connection is refused (security = "none"); use "starttls" or "ssl"',
			)
		elif security == "none" and host and not is_loopback(host):
			self.warn("smtp.security", f'mail to {host} goes unencrypted (security = "none")')
		sender = table.get("from") or company_email
		if not sender:
			self.error("smtp.from", "no sender address: set from, or email in [company]")
		elif "from" in table:
			problem = _email_problem(table["from"])
			if problem:
				self.error("smtp.from", problem)
		if table.get("reply_to"):
			problem = _email_problem(table["reply_to"])
			if problem:
				self.error("smtp.reply_to", problem)

	def check_password_file(self, name: str) -> None:
		path = Path(name).expanduser()
		try:
			info = path.stat()
		except OSError as exc:
			self.warn("smtp.password_file", f"{name}: {exc.strerror or exc}: run --send will stop")
			return
		if not stat.S_ISREG(info.st_mode):
			self.error("smtp.password_file", f"{name} is not a file")
			return
		if os.name == "posix" and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
			self.warn("smtp.password_file", f"{name} can be read by others: chmod 600 {name}")
		try:
			with path.open(encoding="utf-8") as handle:
				first = handle.readline().rstrip("\r\n")  # read to check, never shown
		except (OSError, UnicodeDecodeError) as exc:
			self.error(
				"smtp.password_file",
				f"{name}: cannot be read ({getattr(exc, 'strerror', None) or 'not UTF-8'})",
			)
			return
		if not first:
			self.error("smtp.password_file", f"{name}: the first line (the password) is empty")

	def check_dolibarr(self, table: dict) -> None:
		from urllib.parse import urlsplit

		from relance_erpnext.connectors.dolibarr import DolibarrError, normalize_base_url
		from relance_erpnext.connectors.mailer import is_loopback

		self.unknown("dolibarr", table, DOLIBARR_FIELDS, WARNING)
		url = table.get("url")
		if url is None:
			self.error("dolibarr.url", "required: the Dolibarr's address, e.g. https://erp.example.org")
		elif not isinstance(url, str):
			self.error("dolibarr.url", "must be text")
		else:
			try:
				normalized = normalize_base_url(url)
			except DolibarrError as exc:
				self.error("dolibarr.url", str(exc))
			else:
				parts = urlsplit(normalized)
				if parts.scheme == "http" and not is_loopback(parts.hostname or ""):
					self.warn(
						"dolibarr.url",
						f"plain http to {parts.hostname}: the API key would cross the network unencrypted; use https",
					)
		name = table.get("api_key_env", DOLIBARR_KEY_ENV)
		if not isinstance(name, str) or not ENV_NAME.match(name):
			self.error("dolibarr.api_key_env", f"{name!r} is not an environment variable name")
		elif not self.environ.get(name, "").strip():
			self.warn(
				"dolibarr.api_key_env",
				f"the environment variable {name} (the API key) is not set here: --source dolibarr will stop",
			)

	def cross_check(self, tables: dict) -> None:
		"""What the commands themselves say of each table found sound above (the same helpers as run)."""
		args = argparse.Namespace(min_amount=None, min_gap=None)
		if "company" in tables and not self.count("company", ERROR):
			try:
				sender_from(self.config)
			except UsageError as exc:
				self.error("company", str(exc))
		if not self.count("settings") and not self.count("scenarios"):
			try:
				settings_from(self.config, args)
				load_scenarios(None, self.config)
			except UsageError as exc:
				self.error("settings", str(exc))
		if "smtp" in tables and not self.count("smtp") and not self.count("company", ERROR):
			# Only when nothing was found, warnings included: a password not set here is already said
			from relance_erpnext.connectors.mailer import MailError, SmtpSettings

			try:
				SmtpSettings.from_config(
					tables["smtp"],
					default_from=(tables.get("company") or {}).get("email", ""),
					environ=self.environ,
				)
			except MailError as exc:
				self.error("smtp", str(exc))


def check_config(config: dict, environ=None) -> list[Problem]:
	"""Every problem of the configuration (errors and warnings), in the order of its tables."""
	return ConfigCheck(config, environ).run()


def rate_problems(args) -> list[Problem]:
	"""A warning for each rate table the rules use that lacks the current half-year (its interest would
	be provisional); an error when a table cannot be read."""
	from relance_erpnext.cli.rates import half_name, rates_dir, table_file
	from relance_erpnext.dunning.rates import ECB_REFI, FR_LEGAL, missing_for

	fr = args.lang.startswith("fr")
	folder = rates_dir(args.rates)
	try:
		rates = load_rates(folder, explicit=bool(args.rates))
	except UsageError as exc:
		return [Problem(ERROR, "rates", str(exc))]
	return [
		Problem(
			WARNING,
			f"rates.{m.table}",
			f"{half_name(m.start, fr)} ({m.start.isoformat()}..{m.end.isoformat()}) manquant dans"
			f" {table_file(folder, m.table)} : intérêts provisoires à partir du {m.start.isoformat()} ;"
			" relance rates update, ou relance rates set"
			if fr
			else f"{half_name(m.start, fr)} ({m.start.isoformat()}..{m.end.isoformat()}) missing from"
			f" {table_file(folder, m.table)}: interest provisional from {m.start.isoformat()};"
			" relance rates update, or relance rates set",
		)
		for m in missing_for(rates, args.as_of, (ECB_REFI, FR_LEGAL))
	]


def cmd_check(args, config: dict) -> int:
	fr = args.lang.startswith("fr")
	if not args.config:
		print("relance check: --config FILE is required (the configuration to check)", file=sys.stderr)
		return EXIT_USAGE
	problems = check_config(config) + rate_problems(args)
	for problem in problems:
		print(problem)
	errors = sum(1 for p in problems if p.level == ERROR)
	warnings = len(problems) - errors
	if errors:
		print(
			f"{args.config} : {errors} erreur(s), {warnings} avertissement(s)"
			if fr
			else f"{args.config}: {errors} error(s), {warnings} warning(s)"
		)
		return EXIT_INPUT
	print(
		f"{args.config} : configuration valide ({warnings} avertissement(s))"
		if fr
		else f"{args.config}: the configuration is sound ({warnings} warning(s))"
	)
	return EXIT_OK
