"""The `relance` command: the same rules as the ERPNext app, over an invoice register (CSV/XLSX)."""

from __future__ import annotations

import argparse
import io
import json
import os
import sqlite3
import sys
from contextlib import contextmanager
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from relance_erpnext.dunning import (
	BUILTIN_SCENARIOS,
	BY_DUE_DATE,
	CATCH_UP_MODES,
	FIRST_CONTACT,
	DunningError,
	PlanSettings,
	ScenarioError,
	describe,
	format_amount,
	load_reference_rates,
	plan,
	plan_to_dict,
	scenario_from_dict,
	task_text,
)
from relance_erpnext.dunning.rates import TABLE_NAMES
from relance_erpnext.i18n import LANGUAGES, Text, default_language, gettext, say

SAMPLE_DIR = Path(__file__).parent / "connectors" / "sample"
SAMPLE_REGISTER = SAMPLE_DIR / "registre_exemple.csv"
SAMPLE_CONFIG = SAMPLE_DIR / "entreprise_exemple.toml"
# The sample register is dated around June 2026; its day is fixed so the demo is reproducible
DEMO_AS_OF = date(2026, 6, 15)

EXIT_OK = 0
EXIT_INPUT = 3  # the register, scenarios, config or journal cannot be used
EXIT_NOT_SENT = 4  # run --send: some emails failed or may not have gone out (see the journal)
# 5 (cli_rates.EXIT_PROVISIONAL): plan, run, overview: the plan is made, some interest is provisional
# (a reference rate missing); 4 wins over it. 6 (cli_rates.EXIT_UNREACHABLE): rates update could not
# reach a source, nothing changed
PRINT_FILE = "a_imprimer.html"  # run --send: every postal letter of the day, one per page
PRINT_PDF = "a_imprimer.pdf"  # the same as one PDF, when WeasyPrint can render here
DOLIBARR_KEY_ENV = "DOLIBARR_API_KEY"  # default name of the variable holding the Dolibarr API key
DOLIBARR_PAGE_SIZE = 100  # items per request to Dolibarr's REST API


class UsageError(Exception):
	"""Bad input from the user: printed as is, exit status EXIT_INPUT."""


class Progress:
	"""A progress bar on standard error (tqdm) for what may take more than a second or two: shown only
	when standard error is a terminal and --quiet is not given; otherwise it costs nothing."""

	def __init__(self, label: str, total: int | None = None, quiet: bool = False, lang: str = "fr"):
		self.bar = None
		stream = sys.stderr
		if quiet or not getattr(stream, "isatty", lambda: False)():
			return
		try:
			from tqdm import tqdm
		except ImportError:  # an installation without it: no bar, nothing else changes
			return
		self.bar = tqdm(
			total=total, desc=gettext(label, lang), file=stream, leave=False, unit="", mininterval=0.5
		)

	def update(self, done: int, total: int | None = None) -> None:
		"""`done` out of `total` (a callback for the register reader)."""
		if self.bar is None:
			return
		if total is not None and self.bar.total != total:
			self.bar.total = total
		self.bar.n = done
		self.bar.refresh()

	def step(self, n: int = 1) -> None:
		if self.bar is not None:
			self.bar.update(n)

	def close(self) -> None:
		if self.bar is not None:
			self.bar.close()
			self.bar = None

	def __enter__(self):
		return self

	def __exit__(self, *exc):
		self.close()


def _date(text: str) -> date:
	try:
		return date.fromisoformat(text)
	except ValueError:
		raise argparse.ArgumentTypeError(
			say(Text("{text!r} is not a date (YYYY-MM-DD)", text=text), _LANG[0])
		)


_LANG = ["fr"]  # the language of this command's messages, set by main() before anything is parsed


def language(text: str) -> str:
	"""--lang: "fr" or "en" (fr-FR, fr_CA, en-GB… accepted); any other language is refused."""
	code = text.strip().lower().replace("_", "-").split(".")[0]
	base = code.split("-")[0]
	if base in LANGUAGES:
		return base
	raise argparse.ArgumentTypeError(
		say(Text("{lang!r} is not a language of relance: fr or en", lang=text), _LANG[0])
	)


def language_of(argv: list[str]) -> str:
	"""The language asked on the command line (the last --lang), else the environment's."""
	found = None
	for index, arg in enumerate(argv):
		value = None
		if arg == "--lang" and index + 1 < len(argv):
			value = argv[index + 1]
		elif arg.startswith("--lang="):
			value = arg.split("=", 1)[1]
		if value is not None:
			try:
				found = language(value)
			except argparse.ArgumentTypeError:
				pass  # argparse refuses it, in the language known so far
	return found or default_language()


@contextmanager
def argparse_in(lang: str):
	"""argparse's own texts ("usage:", "options", its errors) through the catalogue, for this call."""
	saved = argparse._, argparse.ngettext
	argparse._ = lambda message: gettext(message, lang)
	argparse.ngettext = lambda singular, plural, n: gettext(singular if n == 1 else plural, lang)
	try:
		yield
	finally:
		argparse._, argparse.ngettext = saved


def translate_parser(parser: argparse.ArgumentParser, lang: str) -> None:
	"""Every help text of the parser and its commands in `lang` (msgid: the English text)."""
	if parser.description:
		parser.description = gettext(parser.description, lang)
	for action in parser._actions:
		if action.help and action.help is not argparse.SUPPRESS:
			action.help = gettext(action.help, lang)
		if isinstance(action, argparse._SubParsersAction):
			for choice in action._choices_actions:
				if choice.help:
					choice.help = gettext(choice.help, lang)
			for sub in dict.fromkeys(action.choices.values()):
				translate_parser(sub, lang)


def _load_structured(path: Path) -> dict | list:
	try:
		text = path.read_text(encoding="utf-8")
	except OSError as exc:
		raise UsageError(f"{path}: {exc.strerror or exc}")
	except UnicodeDecodeError:
		raise UsageError(f"{path}: not UTF-8 text (save it as UTF-8)")
	if path.suffix.lower() == ".json":
		try:
			return json.loads(text)
		except json.JSONDecodeError as exc:
			raise UsageError(f"{path}, line {exc.lineno}: invalid JSON ({exc.msg})")
	try:
		import tomllib
	except ModuleNotFoundError:  # Python 3.10
		raise UsageError(f"{path}: TOML needs Python 3.11 or later; use JSON")
	try:
		return tomllib.loads(text)
	except tomllib.TOMLDecodeError as exc:
		raise UsageError(f"{path}: invalid TOML ({exc})")


def load_config(path: Path) -> dict:
	config = _load_structured(path)
	if not isinstance(config, dict):
		raise UsageError(f"{path}: the configuration must be a table ([company], [settings], [scenarios])")
	for section in ("company", "settings"):
		if not isinstance(config.get(section) or {}, dict):
			raise UsageError(f"{path}: [{section}] must be a table")
	return config


def load_scenarios(path: Path | None, config: dict) -> dict:
	"""The built-in scenarios, plus (or replaced by) those of the config and of --scenarios FILE."""
	scenarios = dict(BUILTIN_SCENARIOS)
	sources = [("config", config.get("scenarios") or {})]
	if path is not None:
		data = _load_structured(path)
		if isinstance(data, dict):
			data = data.get("scenarios", data)
			if isinstance(data, dict) and "steps" in data and not isinstance(data["steps"], dict):
				# One scenario alone, not a table of scenarios
				data = [data]
		sources.append((str(path), data))
	for origin, table in sources:
		if isinstance(table, list):
			table = {str(item.get("key", "")): item for item in table if isinstance(item, dict)}
		if not isinstance(table, dict):
			raise UsageError(f"{origin}: 'scenarios' must be a table of scenarios")
		for key, data in table.items():
			try:
				scenarios[key] = scenario_from_dict(data, key)
			except ScenarioError as exc:
				raise UsageError(f"{origin}: {exc}")
	return scenarios


def load_rates(directory: Path | None, explicit: bool = True):
	"""The reference rates: the bundled tables, each replaced by its copy in `directory` when there is
	one (cli_rates.rates_dir says which folder). An `explicit` folder (--rates) must hold a table."""
	overrides = {}
	if directory is not None:
		for name in TABLE_NAMES:
			candidate = directory / f"{name}.csv"
			if candidate.exists():
				try:
					overrides[name] = candidate.read_text(encoding="utf-8")
				except OSError as exc:
					raise UsageError(f"{candidate}: {exc.strerror or exc}")
				except UnicodeDecodeError:
					raise UsageError(f"{candidate}: not UTF-8 text (save it as UTF-8)")
		if not overrides and explicit:
			raise UsageError(f"{directory}: no rate table found (expected {', '.join(TABLE_NAMES)}.csv)")
	try:
		return load_reference_rates(overrides)
	except DunningError as exc:
		raise UsageError(str(exc))


def rates_for(args):
	"""The rates of --rates DIR, else of the default folder when it exists, else the bundled ones."""
	from relance_erpnext.cli_rates import rates_dir

	return load_rates(rates_dir(args.rates), explicit=bool(args.rates))


def warn_provisional(result, args) -> int:
	"""Say which rate tables lack a half-year the plan needed; EXIT_PROVISIONAL when one does."""
	from relance_erpnext.cli_rates import EXIT_PROVISIONAL, provisional_message

	if not result.provisional:
		return EXIT_OK
	print(provisional_message(result.provisional, args.rates, args.lang.startswith("fr")), file=sys.stderr)
	return EXIT_PROVISIONAL


def settings_from(config: dict, args) -> PlanSettings:
	table = config.get("settings") or {}
	try:
		min_amount = Decimal(
			str(args.min_amount if args.min_amount is not None else table.get("min_amount", "0"))
		)
		min_gap = int(args.min_gap if args.min_gap is not None else table.get("min_gap_days", 0))
		grace = int(table.get("promise_grace_days", 0))
		payment_days = int(table.get("payment_days", 8))
	except (InvalidOperation, ValueError, TypeError) as exc:
		raise UsageError(f"settings: {exc}")
	catch_up = str(table.get("catch_up", FIRST_CONTACT))
	if catch_up not in CATCH_UP_MODES:
		raise UsageError(f"settings: catch_up must be one of {', '.join(CATCH_UP_MODES)}, not {catch_up!r}")
	if catch_up == BY_DUE_DATE:
		print(
			'warning: settings: catch_up = "by_due_date": a customer never reminded may receive a late step'
			" (up to a formal notice) as its first contact",
			file=sys.stderr,
		)
	if not min_amount.is_finite():
		raise UsageError(f"settings: the minimum amount {min_amount} is not an amount")
	if min_amount < 0 or min_gap < 0 or grace < 0 or not 0 < payment_days <= 3650:
		raise UsageError(
			"settings: min_amount, min_gap_days and promise_grace_days must be 0 or more,"
			" payment_days 1 to 3650"
		)
	return PlanSettings(
		default_scenario=str(table.get("default_scenario", "standard")),
		min_amount=min_amount,
		min_gap_days=min_gap,
		promise_grace_days=grace,
		catch_up=catch_up,
		payment_days=payment_days,
	)


def read_book(
	path: Path, skip_bad_rows: bool, customers: Path | None = None, lang: str = "en", quiet: bool = True
):
	from relance_erpnext.connectors.register import read_register
	from relance_erpnext.i18n import say

	if not path.exists():
		raise UsageError(Text("{path}: no such file", path=path))
	if customers is not None and not customers.exists():
		raise UsageError(Text("{path}: no such file", path=customers))
	with Progress("Reading the register", quiet=quiet, lang=lang) as bar:
		register = read_register(path, skip_bad_rows=skip_bad_rows, customers=customers, progress=bar.update)
	for warning in register.warnings:
		print(f"warning: {say(warning, lang)}", file=sys.stderr)
	if register.errors:
		for error in register.errors:
			print(f"error: {error.text(lang)}", file=sys.stderr)
		if not register.plannable:
			if register.fatal:
				raise UsageError(Text("{path}: the file cannot be used; nothing planned", path=path))
			raise UsageError(
				Text(
					"{path}: {n} error(s); nothing planned (fix them, or use --skip-bad-rows)",
					path=path,
					n=len(register.errors),
				)
			)
		print(
			f"warning: {say(Text('{n} bad row(s) left out (--skip-bad-rows)', n=len(register.bad_rows)), lang)}",
			file=sys.stderr,
		)
	return register


class Book:
	"""Customers and open invoices, as read from a source other than a register."""

	def __init__(self, customers: dict, invoices: list, names: dict | None = None, credits=(), outcomes=()):
		self.customers = customers
		self.invoices = invoices
		self.names = names or {}  # customer id -> name, also for the customers left out
		self.credits = list(credits)  # open credit notes (core Credit)
		self.outcomes = list(outcomes)  # what was done by hand (core ManualEntry)


def customer_names(book) -> dict[str, str]:
	"""Customer id -> the name a person knows (a Dolibarr id is a bare row number)."""
	names = dict(getattr(book, "names", None) or {})
	names.update((key, customer.name) for key, customer in book.customers.items() if customer.name)
	return names


def plan_dict(result, book) -> dict:
	"""The plan as JSON, each skipped invoice with its customer's name beside its id."""
	data = plan_to_dict(result)
	names = customer_names(book)
	for skipped in data["skipped"]:
		skipped["customer_name"] = names.get(skipped["customer"], skipped["customer"])
	return data


class DolibarrJournal:
	"""Dolibarr's agenda as the journal: what relance did is read from and written to its events."""

	def __init__(self, source):
		self.source = source
		self.inputs = ([], {}, None, None)  # (history, scenarios, rates, settings) of the day's plan

	def record_actions(self, actions, day, status="planned"):
		from relance_erpnext.connectors.dolibarr import DolibarrError

		try:
			return self.source.record_actions(actions, day, status=status)
		except DolibarrError as exc:
			raise UsageError(f"Dolibarr: the steps could not be recorded ({exc})")

	def set_status(self, invoice: str, step: str, status: str, detail: str = "") -> None:
		from relance_erpnext.connectors.dolibarr import DolibarrError

		try:
			self.source.set_status(invoice, step, status, detail)
		except DolibarrError as exc:
			raise UsageError(
				f"Dolibarr: the status of {invoice} ({step}) could not be set to {status} ({exc});"
				" check its agenda event before the next run"
			)

	def attach_letters(self, items, day: date, pdf: PdfRenderer) -> tuple[int, list[tuple[str, str]]]:
		"""The letter of each postal step this run recorded, added to the documents of its invoices
		(PDF, else the HTML page). (files attached, [(invoice, error)]): a failure is not raised, the
		agenda event is written already and stays."""
		from relance_erpnext.connectors.dolibarr import DolibarrError
		from relance_erpnext.connectors.mailer import letter_attachment

		attached, failures = 0, []
		for letter, action in items:
			# A step recorded by an earlier run had its letter attached then
			invoices = [
				line.invoice for line in action.lines if (line.invoice, line.step) in self.source.written
			]
			if not invoices:
				continue
			file = letter_attachment(letter, f"relance-{day.isoformat()}-{action.step}", pdf.get())
			for invoice in invoices:
				try:
					name = self.source.attach_to_invoice(invoice, file.filename, file.content)
				except DolibarrError as exc:
					failures.append((invoice, str(exc)))
					continue
				attached += 1
				step = next(line.step for line in action.lines if line.invoice == invoice)
				try:
					self.source.letter_attached(invoice, step, name)
				except DolibarrError:
					pass  # the copy is there: the next run finds it among the documents and notes it
		return attached, failures

	def retry_letters(self, book, sender, pdf: PdfRenderer, fr: bool):
		"""The copies of the letters an earlier run recorded without attaching them, found among the
		invoices' documents or rebuilt and attached (connectors.dolibarr_letters); one warning per
		letter still missing."""
		from relance_erpnext.connectors.dolibarr_letters import retry_pending_letters

		history, scenarios, rates, settings = self.inputs
		done = retry_pending_letters(
			self.source,
			book.customers,
			book.invoices,
			history,
			scenarios,
			rates,
			settings,
			sender,
			pdf.get,
			fr,
		)
		for invoice, step, day, reason in done.failures:
			print(
				f"warning: facture {invoice} : courrier de l'étape {step} du {day} enregistré dans l'agenda mais"
				f" absent de ses documents dans Dolibarr : {reason}"
				if fr
				else f"warning: invoice {invoice}: the letter of step {step} of {day} is recorded in the agenda but"
				f" missing from its documents in Dolibarr: {reason}",
				file=sys.stderr,
			)
		return done

	def invoice_pdfs(self, actions, customers) -> tuple[dict, list[tuple[str, str]], int]:
		"""The PDF of every invoice of these (email) actions, read once each before anything is sent
		(never again for another email, nor for a retry): ({invoice: Attachment}, [(invoice, error)],
		how many Dolibarr built because it had none). A failure is not raised: the email goes without."""
		from relance_erpnext.connectors.dolibarr import LANGCODES, DolibarrError
		from relance_erpnext.connectors.mailer import Attachment

		files, failures, built = {}, [], 0
		unreachable = None  # no answer at all: the next invoices are not asked (each would wait as long)
		wanted = {}
		for action in actions:
			customer = customers.get(action.customer)
			lang = self.source.langcodes.get(action.customer) or LANGCODES.get(
				getattr(customer, "language", ""), ""
			)
			for line in action.lines:
				wanted.setdefault(line.invoice, lang)
		for invoice, lang in wanted.items():
			if unreachable is not None:
				failures.append((invoice, unreachable))
				continue
			try:
				filename, content, made = self.source.invoice_pdf(invoice, lang)
			except DolibarrError as exc:
				failures.append((invoice, str(exc)))
				if exc.status is None:
					unreachable = str(exc)
				continue
			files[invoice] = Attachment(filename, content, "application/pdf")
			built += made
		return files, failures, built

	def close(self) -> None:
		self.source.session.close()


class PdfRenderer:
	"""WeasyPrint when it can render here (mailer.pdf_renderer), looked for on first need; when it
	cannot, one warning for the whole run says that the letters are HTML only."""

	def __init__(self, fr: bool, send: bool = False, dolibarr: bool = False):
		self.fr = fr
		self.send = send  # a_imprimer.pdf is wanted
		self.dolibarr = dolibarr  # letters are attached to the invoices in Dolibarr
		self._looked = False
		self._render = None

	def get(self):
		if not self._looked:
			from relance_erpnext.connectors.mailer import pdf_renderer

			self._looked = True
			self._render = pdf_renderer()
			if self._render is None:
				print(self._missing(), file=sys.stderr)
		return self._render

	def _missing(self) -> str:
		fr = self.fr
		what = []
		if self.send:
			what.append(
				f"seul {PRINT_FILE} est écrit, sans {PRINT_PDF}"
				if fr
				else f"only {PRINT_FILE} is written, no {PRINT_PDF}"
			)
		if self.dolibarr:
			what.append(
				"lettres jointes aux factures de Dolibarr en HTML"
				if fr
				else "letters attached to the Dolibarr invoices as HTML"
			)
		return (
			"warning: pas de PDF : WeasyPrint n'est pas installé, ou les bibliothèques système qu'il demande"
			f" (Pango) manquent ; courriers en HTML seulement ({' ; '.join(what)})."
			" Pour le PDF : pip install 'relance_erpnext[pdf]'"
			if fr
			else "warning: no PDF: WeasyPrint is not installed, or the system libraries it needs (Pango) are"
			f" missing; letters in HTML only ({'; '.join(what)}). For PDF: pip install 'relance_erpnext[pdf]'"
		)

	def render(self, html: str) -> bytes | None:
		"""The PDF, or None (no renderer, or it failed: said on standard error)."""
		render = self.get()
		if render is None:
			return None
		try:
			return render(html)
		except Exception as exc:  # a renderer that fails must not stop the run: the HTML is written
			print(
				f"warning: {PRINT_PDF} : rendu PDF impossible ({exc}) ; seul {PRINT_FILE} est écrit"
				if self.fr
				else f"warning: {PRINT_PDF}: the PDF could not be rendered ({exc}); only {PRINT_FILE} is written",
				file=sys.stderr,
			)
			return None


def dolibarr_source(args, config: dict | None = None):
	"""The Dolibarr at --dolibarr-url, its API key from the environment. The command line wins over
	the [dolibarr] table of --config (url, api_key_env)."""
	from relance_erpnext.connectors.dolibarr import DolibarrError, DolibarrSource

	table = (config or {}).get("dolibarr")
	table = table if isinstance(table, dict) else {}
	url = args.dolibarr_url or str(table.get("url") or "")
	if not url:
		raise UsageError("--source dolibarr needs --dolibarr-url URL (or url in the [dolibarr] table)")
	name = args.dolibarr_key_env or str(table.get("api_key_env") or "") or DOLIBARR_KEY_ENV
	key = os.environ.get(name, "")
	if not key.strip():
		raise UsageError(
			f"--source dolibarr: the environment variable {name} (the Dolibarr API key) is not set"
		)
	try:
		source = DolibarrSource(url, key, page_size=DOLIBARR_PAGE_SIZE)
	except DolibarrError as exc:
		raise UsageError(f"Dolibarr: {exc}")
	source.language = getattr(args, "lang", None) or "en"  # its warnings
	return source


def read_dolibarr(args, config: dict | None = None):
	"""(book, history, journal) from the Dolibarr at --dolibarr-url, its API key from the environment."""
	from relance_erpnext.connectors.dolibarr import DolibarrError

	source = dolibarr_source(args, config)
	try:
		customers, invoices, history = source.load_book(args.as_of)
	except DolibarrError as exc:
		raise UsageError(f"Dolibarr: {exc}")
	for warning in source.warnings:
		print(f"warning: {warning}", file=sys.stderr)
	book = Book(
		customers,
		invoices,
		source.customer_names,
		getattr(source, "credits", ()),
		getattr(source, "outcomes", ()),
	)
	return book, history, DolibarrJournal(source)


def make_plan(args, config: dict, create_journal: bool = False, planner=None):
	# planner: called as `plan` is (the overview passes one that also plans the days ahead)
	planner = planner or plan
	if getattr(args, "source", "register") == "dolibarr":
		if args.journal:
			raise UsageError(
				"--source dolibarr keeps the follow-up in Dolibarr's agenda: leave out --journal"
			)
		scenarios = load_scenarios(Path(args.scenarios) if args.scenarios else None, config)
		settings = settings_from(config, args)
		if settings.default_scenario not in scenarios:
			raise UsageError(
				f"settings: default_scenario {settings.default_scenario!r} is not a known scenario"
			)
		rates = rates_for(args)
		book, history, journal = read_dolibarr(args, config)
		journal.inputs = (history, scenarios, rates, settings)  # to rebuild a letter not attached
		try:
			result = planner(
				args.as_of,
				book.customers,
				book.invoices,
				history,
				scenarios,
				rates,
				settings,
				outcomes=book.outcomes,
				credits=book.credits,
			)
		except BaseException:
			journal.close()
			raise
		if not create_journal and journal.source.letters_pending:
			fr = args.lang.startswith("fr")
			print(
				f"warning: {len(journal.source.letters_pending)} courrier(s) enregistré(s) dans l'agenda de Dolibarr"
				" sans copie connue parmi les documents de sa facture : `relance run` les vérifie et les joint"
				if fr
				else f"warning: {len(journal.source.letters_pending)} letter(s) recorded in Dolibarr's agenda with no"
				" copy known among their invoice's documents: `relance run` checks and attaches them",
				file=sys.stderr,
			)
		if not create_journal:
			journal.close()
			journal = None
		return book, result, journal
	customers = getattr(args, "customers", None)
	register = read_book(
		Path(args.register),
		args.skip_bad_rows,
		Path(customers) if customers else None,
		args.lang,
		quiet=getattr(args, "quiet", False),
	)
	scenarios = load_scenarios(Path(args.scenarios) if args.scenarios else None, config)
	settings = settings_from(config, args)
	if settings.default_scenario not in scenarios:
		raise UsageError(f"settings: default_scenario {settings.default_scenario!r} is not a known scenario")
	rates = rates_for(args)
	history = []
	outcomes = list(register.outcomes)
	journal = None
	if args.journal:
		from relance_erpnext.connectors.journal import Journal, JournalError

		if not create_journal and not Path(args.journal).exists():
			# `plan` changes nothing: a journal that does not exist yet is not created
			print(f"warning: {args.journal}: no journal yet (nothing recorded so far)", file=sys.stderr)
		else:
			try:
				journal = Journal(args.journal)
			except JournalError as exc:
				raise UsageError(str(exc))
			try:
				history = journal.history()
				outcomes.extend(journal.outcomes())  # `relance log`
				from relance_erpnext.cli_match import apply_journal_payments

				# Payments found on bank statements (`relance match --apply`): no longer owed
				register.invoices = apply_journal_payments(register.invoices, journal)
			except (sqlite3.Error, ValueError) as exc:
				journal.close()
				raise UsageError(f"{args.journal}: not a usable journal ({exc})")
	try:
		result = planner(
			args.as_of,
			register.customers,
			register.invoices,
			history,
			scenarios,
			rates,
			settings,
			outcomes=outcomes,
			credits=register.credits,
		)
	except BaseException:
		if journal is not None:
			journal.close()
		raise
	return register, result, journal


def print_table(result, language: str, out=None, names: dict | None = None) -> None:
	out = sys.stdout if out is None else out  # at call time: sys.stdout may have been redirected
	names = names or {}  # customer id -> name, for the invoices without action
	fr = language.startswith("fr")
	title = (
		"Plan du {day} : {a} action(s), {s} facture(s) sans action"
		if fr
		else "Plan for {day}: {a} action(s), {s} invoice(s) without action"
	)
	print(title.format(day=result.as_of.isoformat(), a=len(result.actions), s=len(result.skipped)), file=out)
	for action in result.actions:
		print(
			f"\n{action.customer_name} — {action.step_label} [{action.channel}, {action.tone}]"
			f" — {format_amount(action.total, action.currency, language)}",
			file=out,
		)
		for line in action.lines:
			extra = ""
			if line.interest:
				extra += f"  {'intérêts' if fr else 'interest'} {format_amount(line.interest, action.currency, language)}"
			if line.indemnity:
				extra += f"  {'indemnité' if fr else 'indemnity'} {format_amount(line.indemnity, action.currency, language)}"
			late = f"{line.days_late} j" if fr else f"{line.days_late} d"
			print(
				f"  {line.invoice:<16} {line.due.isoformat()}  {late:>6}  "
				f"{format_amount(line.outstanding, action.currency, language):>14}{extra}",
				file=out,
			)
			for note in line.notes:
				print(f"    · {describe(note, language=language)}", file=out)
		if action.fee:
			print(
				f"  {'frais' if fr else 'fee'} {format_amount(action.fee, action.currency, language)}",
				file=out,
			)
		for line in action.also_due:
			late = f"{line.days_late} j" if fr else f"{line.days_late} d"
			print(
				f"  {line.invoice:<16} {line.due.isoformat()}  {late:>6}  "
				f"{format_amount(line.outstanding, action.currency, language):>14}"
				f"  ({'autre montant échu' if fr else 'also past due'})",
				file=out,
			)
		for credit in action.credits:
			print(
				f"  {credit.reference or '—':<16} {credit.day.isoformat() if credit.day else '':<10}  {'':>6}  "
				f"{format_amount(-credit.amount, action.currency, language):>14}"
				f"  ({'avoir à déduire' if fr else 'credit deducted'})",
				file=out,
			)
		if action.also_due or action.credits:
			print(
				f"  {'net à régler' if fr else 'net due'} {format_amount(action.net_total, action.currency, language)}",
				file=out,
			)
		for note in action.notes:
			print(f"  · {describe(note, language=language)}", file=out)
		for task in action.tasks:
			print(f"  {'À FAIRE' if fr else 'TO DO'} : {task_text(task, language)}", file=out)
	tasks = [(action, task) for action in result.actions for task in action.tasks]
	if tasks:
		print(
			"\n"
			+ ("À faire avant l'envoi ({n}) :" if fr else "To do before sending ({n}):").format(n=len(tasks)),
			file=out,
		)
		for action, task in tasks:
			print(f"  {action.customer_name} ({action.step}) : {task_text(task, language)}", file=out)
	if result.skipped:
		print("\n" + ("Sans action :" if fr else "No action:"), file=out)
		for skip in result.skipped:
			print(
				f"  {skip.invoice:<16} {names.get(skip.customer, skip.customer)[:28]:<28}"
				f" {describe(skip.reason, skip.detail, language)}",
				file=out,
			)
	for error in result.errors:
		print(f"\n{'ERREUR' if fr else 'ERROR'}: {error}", file=out)


def cmd_plan(args, config) -> int:
	book, result, journal = make_plan(args, config)
	if journal:
		journal.close()
	if args.format == "json":
		json.dump(plan_dict(result, book), sys.stdout, ensure_ascii=False, indent=2)
		sys.stdout.write("\n")
	else:
		print_table(result, args.lang, names=customer_names(book))
	for error in result.errors:
		print(f"error: {error}", file=sys.stderr)
	return warn_provisional(result, args)


def render_letters(result, register, sender, first: int = 1, bar=None) -> list[tuple[str, object]]:
	"""Every letter of the plan, rendered in memory (file stem, letter): nothing is written when one fails."""
	from relance_erpnext.dunning.letters import render_action

	invoices = {inv.id: inv for inv in register.invoices}
	letters = []
	for number, action in enumerate(result.actions, start=first):
		customer = register.customers[action.customer]
		letter = render_action(action, sender, customer, result.as_of, invoices=invoices)
		# The customer's name, not its id (a Dolibarr id is a bare number): the stem also names the
		# file attached to the email
		letters.append(
			(f"{number:03d}_{_slug(action.customer_name or action.customer)}_{action.step}", letter)
		)
		if bar is not None:
			bar.step()
	return letters


def write_letters(letters, out_dir: Path) -> list[Path]:
	"""Each letter as .html and .txt; a file already there is never overwritten (FileExistsError)."""
	written = []
	for stem, letter in letters:
		with (out_dir / f"{stem}.html").open("x", encoding="utf-8") as handle:
			handle.write(letter.html)
		with (out_dir / f"{stem}.txt").open("x", encoding="utf-8") as handle:
			handle.write(f"{letter.subject}\n\n{letter.text}")
		written.append(out_dir / f"{stem}.html")
	return written


class DayFolder:
	"""The output of a day: OUT/YYYY-MM-DD/. The first run of the day writes plan.json, summary.txt,
	a_imprimer.html/.pdf and its letters 001_…; a later run of the same day never deletes nor rewrites
	them: it adds plan-2.json, summary-2.txt, a_imprimer-2.* and letters numbered on (or nothing when
	it has nothing new). The run's number is claimed by creating its plan file, so two runs at once
	never take the same one."""

	def __init__(self, out: Path, day: date):
		self.path = out / day.isoformat()
		self.run = 0
		self.first_letter = 1

	def earlier_runs(self) -> bool:
		return (self.path / "plan.json").exists()

	def claim(self) -> None:
		self.path.mkdir(parents=True, exist_ok=True)
		number = 1
		while True:
			try:
				with self.file("plan", ".json", number).open("x", encoding="utf-8"):
					pass
			except FileExistsError:
				number += 1
				continue
			break
		self.run = number
		numbers = [int(p.name[:3]) for p in self.path.glob("[0-9][0-9][0-9]_*.html") if p.name[:3].isdigit()]
		self.first_letter = max(numbers, default=0) + 1

	def file(self, stem: str, suffix: str, run: int | None = None) -> Path:
		run = self.run if run is None else run
		return self.path / (f"{stem}{suffix}" if run <= 1 else f"{stem}-{run}{suffix}")


def sender_from(config: dict):
	try:
		from relance_erpnext.dunning.letters import Sender
	except ImportError as exc:
		raise UsageError(f"writing letters is not available in this installation ({exc})")

	company = dict(config.get("company") or {})
	if not company.get("name"):
		raise UsageError("config: [company] needs at least a name for the letters")
	for key in ("address", "payment_methods"):
		if key in company:
			value = company[key]
			if isinstance(value, str):
				# One line per item; a bare string must not become a tuple of characters
				value = [line.strip() for line in value.splitlines() if line.strip()]
			if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
				raise UsageError(f"config: [company] {key} must be a list of lines of text")
			company[key] = tuple(value)
	known = set(Sender.__dataclass_fields__)
	unknown = set(company) - known
	if unknown:
		raise UsageError(f"config: unknown field(s) in [company]: {', '.join(sorted(unknown))}")
	return Sender(**company)


def _slug(text: str) -> str:
	keep = "".join(ch if ch.isalnum() else "-" for ch in text.lower())
	return "-".join(part for part in keep.split("-") if part)[:40] or "client"


def smtp_from(config: dict, sender):
	"""The mail server of the [smtp] table (password from the environment), checked before anything."""
	from relance_erpnext.connectors.mailer import MailError, SmtpSettings

	table = config.get("smtp")
	if not table:
		raise UsageError("run: --send needs an [smtp] table in --config (the mail server); see the README")
	try:
		return SmtpSettings.from_config(table, default_from=sender.email)
	except MailError as exc:
		raise UsageError(f"config: {exc}")


def merge_letters(pages: list[str]) -> str:
	"""One HTML file holding every letter, each starting on a new page (to print them all at once)."""
	head = (
		pages[0].partition("<body>")[0]
		if "<body>" in pages[0]
		else "<!DOCTYPE html>\n<html>\n<head>\n</head>\n"
	)
	bodies = []
	for page in pages:
		body = page.partition("<body>")[2] if "<body>" in page else page
		bodies.append(body.rpartition("</body>")[0] if "</body>" in body else body)
	separator = '\n<div class="page-break" style="break-after: page; page-break-after: always;"></div>\n'
	return f"{head}<body>\n{separator.join(bodies)}\n</body>\n</html>\n"


def postal_letters(letters, actions) -> list[tuple[object, object]]:
	"""(letter, action) of every letter and registered letter of the plan, in its order."""
	from relance_erpnext.dunning.models import POSTAL_CHANNELS

	return [
		(letter, action)
		for (_, letter), action in zip(letters, actions, strict=True)
		if action.channel in POSTAL_CHANNELS
	]


class SendReport:
	def __init__(self):
		self.sent = self.failed = self.unknown = self.not_ours = 0
		self.recorded = self.already = 0
		self.invoice_pdfs = 0  # invoice PDFs attached to the emails sent (--source dolibarr)
		self.lines: list[str] = []  # one line per email that did not go out cleanly


class _NotMarked(Exception):
	"""The journal failed while moving an email's entries to a new status: `invoices` were not moved."""

	def __init__(self, error: Exception, invoices: list[str]):
		super().__init__(str(error))
		self.error = error
		self.invoices = invoices


def send_emails(
	items, journal, mailer, customers, day: date, fr: bool, invoice_files: dict | None = None
) -> SendReport:
	"""Send the email actions, one journal entry per invoice line (see the README). `invoice_files`
	({invoice: Attachment}, read beforehand): each email also carries its invoices' PDFs, each once.

	planned (recorded here, before anything is sent) → unknown (just before DATA) → sent (the server
	accepted the message) or failed (refused, or the server is unusable: the next run retries).
	A crash after DATA leaves "unknown": that step is never sent again without a person deciding.
	A journal that fails (Dolibarr unreachable...) stops the sending: nothing more goes out that could
	not be recorded, and every email concerned is in the report, with its invoices.
	"""
	from dataclasses import replace

	from relance_erpnext.connectors.mailer import MailError
	from relance_erpnext.dunning.models import CANCELLED, FAILED, SENT, UNKNOWN

	journal_errors = (UsageError, sqlite3.Error)
	report = SendReport()
	fatal = None
	broken = None  # the journal's error: the emails after it are not tried (nor recorded)
	for stem, letter, action in items:
		who = f"{action.customer_name} ({action.step})"
		if broken is not None:
			report.failed += 1
			report.lines.append(
				f"{who}: pas essayé, rien d'enregistré (le journal ne répond plus) : planifié à nouveau au"
				" prochain passage"
				if fr
				else f"{who}: not tried, nothing recorded (the journal fails): planned again by the next run"
			)
			continue
		mine = []

		def mark(status: str, detail: str, lines=mine) -> None:
			for index, line in enumerate(lines):
				try:
					journal.set_status(line.invoice, line.step, status, detail)
				except journal_errors as exc:
					left = list(dict.fromkeys(other.invoice for other in lines[index:]))
					raise _NotMarked(exc, left) from None

		try:
			for line in action.lines:
				if journal.record_actions([replace(action, lines=(line,))], day, status="planned").recorded:
					mine.append(line)
				else:
					report.already += 1
		except journal_errors as exc:
			broken = exc
			report.failed += 1
			# The lines recorded before the failure must not stand for an email never sent
			try:
				mark(CANCELLED, "not sent: its other steps could not be recorded")
				left = ""
			except _NotMarked as stuck:
				left = (
					f" ; {', '.join(stuck.invoices)} : étape enregistrée « à faire » sans envoi, à supprimer"
					if fr
					else f"; {', '.join(stuck.invoices)}: step recorded as to do though not sent, delete it"
				)
			report.lines.append(
				f"{who}: non envoyé, ses étapes n'ont pu être enregistrées ({exc}){left}"
				if fr
				else f"{who}: not sent, its steps could not be recorded ({exc}){left}"
			)
			continue
		report.recorded += len(mine)

		if len(mine) != len(action.lines):
			# Another run recorded (some of) these steps meanwhile: it sends them, not this one
			try:
				mark(CANCELLED, "recorded by another run at the same time; not sent by this one")
			except _NotMarked as stuck:
				broken = stuck.error
			report.not_ours += 1
			continue
		invoices_of = ", ".join(dict.fromkeys(line.invoice for line in mine))
		# The journal keeps the English text (str); the person running the command reads its language
		lang = "fr" if fr else "en"
		try:
			if fatal is not None:
				report.failed += 1
				report.lines.append(f"{who}: {'pas essayé' if fr else 'not tried'} ({fatal.describe(lang)})")
				mark(FAILED, f"not tried: {fatal}")
				continue
			# An invoice listed on several lines of the action (instalments) is attached once
			invoices = dict.fromkeys(line.invoice for line in action.lines)
			attachments = [invoice_files[ref] for ref in invoices if ref in (invoice_files or {})]
			try:
				receipt = mailer.send(
					letter,
					customers[action.customer].email,
					attachments,
					stem=stem,
					before_data=lambda: mark(UNKNOWN, "being sent: if this stays, check whether it went out"),
				)
			except _NotMarked as stuck:
				# Before DATA: the message did not go out
				broken = stuck.error
				report.failed += 1
				report.lines.append(
					f"{who}: non envoyé, son statut n'a pu être enregistré avant l'envoi ({stuck.error}) ;"
					f" factures {invoices_of} : vérifiez leur étape dans le journal (ce courriel n'est pas parti)"
					if fr
					else f"{who}: not sent, its status could not be recorded before sending ({stuck.error});"
					f" invoices {invoices_of}: check their step in the journal (this email did not go out)"
				)
				continue
			except MailError as exc:
				if exc.maybe_sent:
					report.unknown += 1
					report.lines.append(
						f"{who}: {'envoi incertain' if fr else 'may have gone out'}: {exc.describe(lang)}"
					)
					mark(UNKNOWN, str(exc))
				else:
					report.failed += 1
					report.lines.append(f"{who}: {'échec' if fr else 'failed'}: {exc.describe(lang)}")
					mark(FAILED, str(exc))
				if exc.fatal:
					fatal = exc
				continue
			report.sent += 1
			report.invoice_pdfs += len(attachments)
			try:
				mark(SENT, receipt.describe())
			except _NotMarked as stuck:
				# It went out, and the journal does not say so: its entries stay "unknown" (never sent
				# again by themselves), which the next run says
				report.sent -= 1
				report.unknown += 1
				report.lines.append(
					f"{who}: envoyé ({receipt.describe()}), mais son statut n'a pu être enregistré"
					f" ({stuck.error}) : factures {', '.join(stuck.invoices)} restent « envoi incertain » ;"
					" marquez-les envoyées"
					if fr
					else f"{who}: sent ({receipt.describe()}), but its status could not be recorded"
					f" ({stuck.error}): invoices {', '.join(stuck.invoices)} stay \"unknown\" (may have gone"
					" out); mark them sent"
				)
				broken = stuck.error
		except _NotMarked as stuck:
			# A failed or uncertain email whose status could not be recorded
			broken = stuck.error
			report.lines.append(
				f"{who}: statut non enregistré ({stuck.error}) : factures {', '.join(stuck.invoices)} à"
				" vérifier dans le journal"
				if fr
				else f"{who}: status not recorded ({stuck.error}): invoices {', '.join(stuck.invoices)} to"
				" check in the journal"
			)
	return report


def read_invoice_pdfs(journal, emails, customers, fr: bool) -> tuple[dict, int]:
	"""The PDFs Dolibarr has (or builds) for the invoices of the day's emails, all read before the first
	email, and how many it built; one warning per invoice without one (its email goes all the same)."""
	files, failures, built = journal.invoice_pdfs([action for _, _, action in emails], customers)
	for invoice, error in failures:
		print(
			f"warning: facture {invoice} : son PDF n'a pu être ni lu ni généré dans Dolibarr ; le courriel"
			f" part sans lui : {error}"
			if fr
			else f"warning: invoice {invoice}: its PDF could be neither read nor built in Dolibarr; the email"
			f" goes without it: {error}",
			file=sys.stderr,
		)
	return files, built


def cmd_run(args, config) -> int:
	dolibarr = getattr(args, "source", "register") == "dolibarr"
	if not args.journal and not dolibarr:
		raise UsageError("run: --journal FILE is required (it remembers what was done)")
	if args.send and not config.get("smtp"):
		raise UsageError("run: --send needs an [smtp] table in --config (the mail server); see the README")
	sender = sender_from(config)  # before anything is read or written: a bad [company] stops here
	smtp = smtp_from(config, sender) if args.send else None  # and so does a bad [smtp]
	out = Path(args.out)
	fr = args.lang.startswith("fr")
	report = None
	attachment_kind = ""
	pdf = PdfRenderer(fr, send=args.send, dolibarr=dolibarr)
	attached, attach_failures = 0, []  # letters added to the invoices' documents (--source dolibarr)
	invoice_files, pdfs_built = None, 0  # the invoices' PDFs for the emails (--source dolibarr)
	register, result, journal = make_plan(args, config, create_journal=True)
	day = DayFolder(out, result.as_of)
	written = []
	print_files = []  # a_imprimer.html (and .pdf) of this run
	try:
		try:
			nothing_new = not result.actions and day.earlier_runs()
			if not nothing_new:
				day.claim()
			with Progress(
				"Writing the letters",
				len(result.actions),
				quiet=getattr(args, "quiet", False),
				lang=args.lang,
			) as bar:
				letters = render_letters(result, register, sender, first=day.first_letter, bar=bar)
			if not nothing_new:
				written = write_letters(letters, day.path)
				summary = io.StringIO()
				print_table(result, args.lang, out=summary, names=customer_names(register))
				day.file("summary", ".txt").open("x", encoding="utf-8").close()
				day.file("summary", ".txt").write_text(summary.getvalue(), encoding="utf-8")
				day.file("plan", ".json").write_text(
					json.dumps(plan_dict(result, register), ensure_ascii=False, indent=2) + "\n",
					encoding="utf-8",
				)
				# Every postal letter of this run in one file to print, with or without --send
				postal = [letter.html for letter, _ in postal_letters(letters, result.actions)]
				if postal:
					merged = merge_letters(postal)
					print_html = day.file(Path(PRINT_FILE).stem, ".html")
					with print_html.open("x", encoding="utf-8") as handle:
						handle.write(merged)
					print_files.append(print_html)
					printable = pdf.render(merged)
					if printable is not None:
						print_pdf = day.file(Path(PRINT_PDF).stem, ".pdf")
						with print_pdf.open("xb") as handle:
							handle.write(printable)
						print_files.insert(0, print_pdf)
		except FileExistsError as exc:
			raise UsageError(f"{exc.filename}: already written by an earlier run; nothing is overwritten")
		except OSError as exc:
			raise UsageError(f"{args.out}: cannot write the letters ({exc.strerror or exc})")

		def attach_letters() -> None:
			# Right after the events: a letter that cannot be attached never costs its step's event,
			# and a failure of the emails below never costs the letters (nor their warnings)
			nonlocal attached, attach_failures
			if not dolibarr:
				return
			attached, attach_failures = journal.attach_letters(
				postal_letters(letters, result.actions), result.as_of, pdf
			)
			for invoice, error in attach_failures:
				print(
					f"warning: facture {invoice} : courrier non joint à ses documents dans Dolibarr, à joindre"
					f" à la main (l'événement d'agenda est bien enregistré) : {error}"
					if fr
					else f"warning: invoice {invoice}: letter not attached to its documents in Dolibarr, attach"
					f" it by hand (the agenda event is recorded): {error}",
					file=sys.stderr,
				)

		retried = None
		if dolibarr:
			# Letters an earlier run recorded and did not attach (stopped, or Dolibarr refused)
			retried = journal.retry_letters(register, sender, pdf, fr)
		# Recorded only once the letters are on disk: a failure above leaves the journal as it was
		try:
			if not args.send:
				recorded = journal.record_actions(result.actions, result.as_of, status="planned")
				attach_letters()
			else:
				from relance_erpnext.connectors.journal import RecordResult
				from relance_erpnext.connectors.mailer import Mailer
				from relance_erpnext.dunning.models import EMAIL

				# Letters, registered letters, calls and escalations stay "planned" (done by a person)
				others = [action for action in result.actions if action.channel != EMAIL]
				kept = journal.record_actions(others, result.as_of, status="planned")
				attach_letters()
				emails = [
					(stem, letter, action)
					for (stem, letter), action in zip(letters, result.actions, strict=True)
					if action.channel == EMAIL
				]
				if dolibarr and emails:
					invoice_files, pdfs_built = read_invoice_pdfs(journal, emails, register.customers, fr)
				with Mailer(smtp) as mailer:
					attachment_kind = mailer.attachment_kind
					report = send_emails(
						emails, journal, mailer, register.customers, result.as_of, fr, invoice_files
					)
				recorded = RecordResult(kept.recorded + report.recorded, kept.already + report.already)
		except sqlite3.Error as exc:
			raise UsageError(f"{args.journal}: the steps could not be recorded ({exc})")
	finally:
		journal.close()
	print_table(result, args.lang, names=customer_names(register))
	if nothing_new:
		print(
			(
				"\nRien de nouveau pour le {day} : les fichiers des exécutions précédentes restent dans {out}"
				if fr
				else "\nNothing new for {day}: the files of the earlier run(s) stay in {out}"
			).format(day=result.as_of.isoformat(), out=day.path)
		)
	print(
		(
			"\n{n} courrier(s) écrit(s) dans {out} ; journal : {r} étape(s) enregistrée(s), {a} déjà présente(s)"
			if fr
			else "\n{n} letter(s) written to {out}; journal: {r} step(s) recorded, {a} already there"
		).format(n=len(written), out=day.path, r=recorded.recorded, a=recorded.already)
	)
	if print_files:
		print(f"Courriers à imprimer : {print_files[0]}" if fr else f"Letters to print: {print_files[0]}")
	if attached or attach_failures:
		print(
			(
				"Dolibarr : {n} courrier(s) joint(s) aux documents des factures, {f} en échec"
				if fr
				else "Dolibarr: {n} letter(s) attached to the invoices' documents, {f} failed"
			).format(n=attached, f=len(attach_failures))
		)
	if retried is not None and (retried.found or retried.attached or retried.failures):
		print(
			(
				"Dolibarr : courriers d'une exécution précédente sans copie connue : {a} refait(s) et joint(s),"
				" {k} déjà joint(s), {f} toujours manquant(s)"
				if fr
				else "Dolibarr: letters of an earlier run with no copy known: {a} rebuilt and attached,"
				" {k} attached already, {f} still missing"
			).format(a=retried.attached, k=retried.found, f=len(retried.failures))
		)
	provisional = warn_provisional(result, args)
	if report is None:
		return provisional
	lines = [
		(
			"Envoi ({server}) : {s} courriel(s) envoyé(s), {f} en échec (réessayé(s) au prochain passage),"
			" {u} incertain(s) (jamais renvoyé(s) sans vous) ; lettre jointe en {kind}"
			if fr
			else "Sending ({server}): {s} email(s) sent, {f} failed (retried on the next run),"
			" {u} uncertain (never sent again without you); letter attached as {kind}"
		).format(
			server=smtp, s=report.sent, f=report.failed, u=report.unknown, kind=attachment_kind or "HTML"
		)
		+ (
			(
				f" ; {report.invoice_pdfs} facture(s) en PDF jointe(s) ({pdfs_built} générée(s) par Dolibarr)"
				if fr
				else f"; {report.invoice_pdfs} invoice PDF(s) attached ({pdfs_built} built by Dolibarr)"
			)
			if dolibarr
			else ""
		),
		*(f"  {line}" for line in report.lines),
	]
	if report.not_ours:
		lines.append(
			f"  {report.not_ours} courriel(s) laissé(s) à une autre exécution simultanée"
			if fr
			else f"  {report.not_ours} email(s) left to another run working at the same time"
		)
	if print_files:
		lines.append(
			f"  Courriers à imprimer : {print_files[0]}" if fr else f"  Letters to print: {print_files[0]}"
		)
	text = "\n".join(lines)
	print("\n" + text)
	if day.run:
		try:
			with day.file("summary", ".txt").open("a", encoding="utf-8") as handle:
				handle.write("\n" + text + "\n")
		except OSError as exc:
			print(f"warning: {day.file('summary', '.txt')}: {exc.strerror or exc}", file=sys.stderr)
	for line in report.lines:
		print(f"error: {line.strip()}", file=sys.stderr)
	return EXIT_NOT_SENT if report.failed or report.unknown else provisional


def cmd_demo(args, config) -> int:
	out = Path(args.out)
	args.register = str(SAMPLE_REGISTER)
	args.journal = str(out / "journal.sqlite")
	args.scenarios = None
	args.rates = None
	args.skip_bad_rows = False
	args.send = False
	try:
		out.mkdir(parents=True, exist_ok=True)
	except OSError as exc:
		raise UsageError(f"{out}: {exc.strerror or exc}")
	print(
		f"Démo : registre {SAMPLE_REGISTER.name}, journée du {args.as_of.isoformat()}, sortie dans {out}/\n"
		if args.lang.startswith("fr")
		else f"Demo: register {SAMPLE_REGISTER.name}, day {args.as_of.isoformat()}, output in {out}/\n"
	)
	return cmd_run(args, config)


def cmd_scenarios(args, config) -> int:
	scenarios = load_scenarios(Path(args.scenarios) if args.scenarios else None, config)
	from relance_erpnext.dunning.scenarios import nominal_offsets

	for key, scenario in scenarios.items():
		print(f"{key}: {scenario.name}")
		for step, offset in zip(scenario.steps, nominal_offsets(scenario), strict=True):
			print(f"  J{offset:+d}  {step.key:<22} {step.channel:<18} {step.tone:<7} {step.label}")
	return EXIT_OK


def source_options(sub) -> None:
	"""Where the invoices come from: the options every command reading a book shares."""
	sub.add_argument("--register", help="invoice register, .csv or .xlsx (required with --source register)")
	sub.add_argument(
		"--customers",
		help='the customers\' contacts, one row per customer (.csv or .xlsx); a sheet "Clients" of the'
		" register's workbook is read without it",
	)
	sub.add_argument(
		"--source",
		choices=("register", "dolibarr"),
		default="register",
		help="where the invoices come from: a register file (default) or a Dolibarr (REST API)",
	)
	sub.add_argument("--dolibarr-url", help="the Dolibarr's address, e.g. https://erp.example.org")
	sub.add_argument(
		"--dolibarr-key-env",
		help=f"environment variable holding the Dolibarr API key (default {DOLIBARR_KEY_ENV})",
	)


def build_parser() -> argparse.ArgumentParser:
	parser = argparse.ArgumentParser(
		prog="relance",
		description="Payment follow-up (relance) over an invoice register, with French and Québec law.",
	)
	parser.add_argument(
		"--config", help="TOML file: [company] for the letters, [settings], [scenarios], [smtp]"
	)
	parser.add_argument(
		"--lang", type=language, default=_LANG[0], help="language of the messages: fr (default) or en"
	)
	# The same two options are also accepted after the command (`relance run ... --config FILE`, as the
	# README shows); SUPPRESS keeps the value given before the command when they are not repeated
	common = argparse.ArgumentParser(add_help=False)
	common.add_argument(
		"--config", default=argparse.SUPPRESS, help="TOML file: [company], [settings], [scenarios], [smtp]"
	)
	common.add_argument(
		"--lang", type=language, default=argparse.SUPPRESS, help="language of the messages: fr or en"
	)
	commands = parser.add_subparsers(dest="command", required=True)

	def book_options(sub, as_of_default):
		source_options(sub)
		sub.add_argument(
			"--as-of", type=_date, default=as_of_default, help="the day to plan (YYYY-MM-DD), default today"
		)
		sub.add_argument("--journal", help="SQLite journal of what was already done")
		sub.add_argument("--scenarios", help="JSON or TOML file of scenarios (added to the built-in ones)")
		sub.add_argument("--rates", help="folder with updated reference-rate tables (CSV)")
		sub.add_argument("--min-gap", type=int, help="minimum days between two reminders to one customer")
		sub.add_argument("--min-amount", help="do not remind below this outstanding amount")
		sub.add_argument(
			"--skip-bad-rows", action="store_true", help="plan the good rows when some rows are bad"
		)
		sub.add_argument(
			"--quiet",
			action="store_true",
			help="print nothing on standard error but warnings and errors (no progress bar)",
		)

	today = date.today()
	sub = commands.add_parser("plan", parents=[common], help="print what would be done, change nothing")
	book_options(sub, today)
	sub.add_argument("--format", choices=("table", "json"), default="table")
	sub.set_defaults(handler=cmd_plan)

	sub = commands.add_parser(
		"run", parents=[common], help="plan, write the letters and record the steps in the journal"
	)
	book_options(sub, today)
	sub.add_argument("--out", default="relance-out", help="folder for the letters and plan.json")
	sub.add_argument(
		"--send", action="store_true", help="send the emails through the [smtp] server of --config"
	)
	sub.set_defaults(handler=cmd_run)

	sub = commands.add_parser("demo", parents=[common], help="one dunning day on the bundled sample register")
	sub.add_argument("--as-of", type=_date, default=DEMO_AS_OF, help=f"default {DEMO_AS_OF.isoformat()}")
	sub.add_argument("--out", default="relance-demo", help="output folder (default relance-demo)")
	sub.add_argument(
		"--quiet",
		action="store_true",
		help="print nothing on standard error but warnings and errors (no progress bar)",
	)
	sub.add_argument("--min-gap", type=int)
	sub.add_argument("--min-amount")
	sub.set_defaults(handler=cmd_demo)

	sub = commands.add_parser("scenarios", parents=[common], help="list (and check) the scenarios")
	sub.add_argument("--scenarios", help="JSON or TOML file of scenarios to check")
	sub.set_defaults(handler=cmd_scenarios)

	from relance_erpnext.cli_match import add_match_parser

	add_match_parser(commands, common)  # `relance match`: the bank statement check

	from relance_erpnext.cli_overview import add_overview_parsers

	add_overview_parsers(commands, common, book_options, today)  # `relance overview`, `relance check`

	from relance_erpnext.cli_log import add_log_parser

	add_log_parser(commands, common)  # `relance log`: what was done or learnt by hand

	from relance_erpnext.cli_rates import add_rates_parser

	add_rates_parser(commands, common, today)  # `relance rates update | show | set`
	return parser


def main(argv: list[str] | None = None) -> int:
	argv = sys.argv[1:] if argv is None else [str(arg) for arg in argv]
	lang = language_of(argv)
	_LANG[0] = lang
	with argparse_in(lang):
		return _main(argv, lang)


def _main(argv: list[str], lang: str) -> int:
	parser = build_parser()
	translate_parser(parser, lang)
	args = parser.parse_args(argv)
	if (
		args.command in ("plan", "run", "match", "overview")
		and args.source == "register"
		and not args.register
	):
		parser.error(
			say(
				Text("{command}: the following arguments are required: --register", command=args.command),
				lang,
			)
		)
	try:
		if args.config:
			config = load_config(Path(args.config))
		elif args.command == "demo":
			config = _load_structured(SAMPLE_CONFIG)
		else:
			config = {}
		return args.handler(args, config)
	except UsageError as exc:
		print(f"relance: {say(exc.args[0] if exc.args else exc, args.lang)}", file=sys.stderr)
		return EXIT_INPUT
	except DunningError as exc:
		print(f"relance: {exc}", file=sys.stderr)
		return EXIT_INPUT
	except BrokenPipeError:
		# Output piped into a command that stopped reading (`relance plan ... | head`): not an error
		# of ours; stdout is pointed at devnull so that Python's final flush does not fail again
		try:
			devnull = os.open(os.devnull, os.O_WRONLY)
			os.dup2(devnull, sys.stdout.fileno())
		except (OSError, ValueError, AttributeError):
			pass
		return 1


if __name__ == "__main__":
	sys.exit(main())
