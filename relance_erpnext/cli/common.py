"""What every command module shares: exit statuses, the user's input errors, the language, the
progress bar, the options of a book's source. Imports nothing else of the command."""

from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from relance_erpnext.i18n import LANGUAGES, Text, catalogue, default_language, error, gettext, say, warning

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "connectors" / "sample"
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
	"""Bad input from the user: its message (a Text, said in the language of --lang), exit status
	EXIT_INPUT."""


def warn(message, lang: str | None = None) -> None:
	"""A warning on standard error, in the language of the command ("avertissement : …")."""
	print(warning(message, lang or _LANG[0]), file=sys.stderr)


def complain(message, lang: str | None = None) -> None:
	"""An error on standard error that does not stop the command ("erreur : …")."""
	print(error(message, lang or _LANG[0]), file=sys.stderr)


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


# A step's channel and tone as people read them (the codes stay in the JSON and the journal)
CHANNEL_LABELS = {
	"email": Text("email"),
	"letter": Text("letter"),
	"registered_letter": Text("registered letter"),
	"phone": Text("phone call"),
	"escalation": Text("escalation"),
}
TONE_LABELS = {"amical": Text("friendly"), "formel": Text("formal"), "ferme": Text("firm")}


def channel_label(channel: str, lang: str) -> str:
	"""'courrier', 'recommandé', 'courriel'… for a channel code ('letter', …); an unknown code as is."""
	label = CHANNEL_LABELS.get(channel)
	return say(label, lang) if label is not None else channel


def tone_label(tone: str, lang: str) -> str:
	"""'amical', 'formel', 'ferme' in French; 'friendly', 'formal', 'firm' in English."""
	label = TONE_LABELS.get(tone)
	return say(label, lang) if label is not None else tone


def scenario_message(exc) -> Text | str:
	"""What is wrong with a scenario's field (dunning.ScenarioError), as a Text from its template and
	values; its English message when the catalogue does not know the template."""
	if exc.template in catalogue():
		return Text(exc.template, **exc.values)
	return exc.message


def core_error(exc: Exception):
	"""An error of the rules (relance_erpnext.dunning) as a Text, from the data it carries: a
	scenario's field at fault, a reference rate missing. Its own message, in English, when the
	catalogue does not know it."""
	from relance_erpnext.dunning.errors import RateMissing, RateTableError, ScenarioError

	if isinstance(exc, ScenarioError):
		message = scenario_message(exc)
		if exc.step is not None:
			return Text(
				"scenario {scenario!r}, step {step!r}, field {field!r}: {message}",
				scenario=exc.scenario,
				step=exc.step,
				field=exc.field,
				message=message,
			)
		return Text(
			"scenario {scenario!r}, field {field!r}: {message}",
			scenario=exc.scenario,
			field=exc.field,
			message=message,
		)
	if isinstance(exc, RateMissing):
		day = exc.day.isoformat()
		if not exc.covered:
			return Text(
				"no {table} rate for {day}; add the official rate for that half-year to the table",
				table=exc.table,
				day=day,
			)
		start, end = exc.covered
		return Text(
			"no {table} rate for {day} (the table covers {start} to {end}); add the official rate for"
			" that half-year to the table",
			table=exc.table,
			day=day,
			start=start.isoformat(),
			end=end.isoformat() if end else Text("open end"),
		)
	if isinstance(exc, RateTableError) and exc.template in catalogue():
		return Text(exc.template, **exc.values)
	return exc.args[0] if exc.args else str(exc)


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
