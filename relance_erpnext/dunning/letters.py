"""Letters: reminders, formal notices and the other documents, rendered from a planned action.

Rendering is pure: a planned `Action`, the sender, the customer and the date in, a subject, an HTML
page (A4, printable, address placed for a window envelope) and a plain-text version out.

Templates live in `relance_erpnext/templates/letters/`:

- `_base.html` and `_base.txt` lay out every document: letterhead, recipient address, place and
  date, subject, references, the table of invoices, totals, detail of the interest, how to pay,
  contact, signature;
- `<language>/_labels.j2` holds the words of that layout (fr-FR, fr-CA, en);
- `<language>/<template>.j2` holds one document's own words, as variables the layout reads:
  `subject`, `intro`, `closing` (required); `title`, `mode`, `outro`, `internal` (optional).
  Prose is plain text: paragraphs separated by a blank line, `- ` starts a list item, `## ` a
  heading, `**bold**`; the layout turns it into HTML (escaped) or wrapped text.

Everything renders in a Jinja2 sandbox (`ImmutableSandboxedEnvironment`) with `StrictUndefined`:
a template, including a custom one stored in a scenario (`render_string`), can neither read files
nor reach Python internals, and a misspelt variable is an error rather than an empty string.
"""

from __future__ import annotations

import dataclasses
import re
import textwrap
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from jinja2 import (
	ChoiceLoader,
	DictLoader,
	FileSystemLoader,
	StrictUndefined,
	TemplateError,
	TemplateNotFound,
	TemplateSyntaxError,
	Undefined,
	pass_context,
	select_autoescape,
)
from jinja2.environment import TemplateModule
from jinja2.runtime import Macro
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Namespace
from markupsafe import Markup, escape

from . import models as _models
from .charges import FR_B2B_INDEMNITY
from .errors import DunningError
from .models import (
	BUSINESS,
	CONSUMER,
	EMAIL,
	LETTER,
	PER_YEAR,
	PHONE,
	POSTAL_CHANNELS,
	REGIME_FR,
	REGIME_QC,
	REGISTERED_LETTER,
	SECTION_DEMANDED,
	ZERO,
	Action,
	ActionLine,
	Contact,
	Customer,
	Invoice,
	RatePeriod,
)
from .money import format_amount, format_rate, round_money
from .reasons import describe

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "letters"
DEFAULT_LANGUAGE = "fr-FR"
LETTER_LANGUAGES = ("fr-FR", "fr-CA", "en")

# The documents every language provides
ACTION_TEMPLATES = (
	"pre_due",
	"courteous",
	"formal",
	"call",
	"formal_notice",
	"escalation",
	# The clients_douteux scenario's own, firmer wording (seed 003)
	"doubtful_reminder",
	"doubtful_urgent",
	"doubtful_final",
)
DOCUMENT_TEMPLATES = ("statement", "arrangement", "penalty_claim")
TEMPLATES = ACTION_TEMPLATES + DOCUMENT_TEMPLATES

_SPACES = re.compile(r"[ \t\r\n]+")
_TEMPLATE_NAME = re.compile(r"^[a-z0-9][a-z0-9_]{0,62}$")

FRENCH_MONTHS = (
	"janvier",
	"février",
	"mars",
	"avril",
	"mai",
	"juin",
	"juillet",
	"août",
	"septembre",
	"octobre",
	"novembre",
	"décembre",
)
ENGLISH_MONTHS = (
	"January",
	"February",
	"March",
	"April",
	"May",
	"June",
	"July",
	"August",
	"September",
	"October",
	"November",
	"December",
)


class LetterError(DunningError):
	"""A letter cannot be rendered: unknown template, or a template that fails."""


@dataclass(frozen=True, slots=True)
class Sender:
	"""The company sending the letters (the creditor)."""

	name: str
	address: tuple[str, ...] = ()
	city: str = ""
	email: str = ""
	phone: str = ""
	# SIRET (France) or NEQ (Québec), printed with its label, e.g. "SIRET 812 345 678 00021"
	legal_id: str = ""
	vat_id: str = ""
	iban: str = ""
	bic: str = ""
	payment_methods: tuple[str, ...] = ()
	signatory: str = ""
	signatory_title: str = ""
	website: str = ""


@dataclass(frozen=True, slots=True)
class RenderedLetter:
	subject: str
	html: str
	text: str
	language: str
	template: str


@dataclass(frozen=True, slots=True)
class LetterLine:
	"""One invoice as a letter shows it (an ActionLine, plus the invoice's own details when known)."""

	invoice: str
	due: date
	days_late: int
	outstanding: Decimal
	interest: Decimal
	indemnity: Decimal
	amount_due: Decimal
	interest_from: date | None
	periods: tuple[RatePeriod, ...]
	notes: tuple[str, ...]
	issued: date | None = None
	total: Decimal | None = None
	paid: Decimal | None = None
	last_payment: date | None = None
	step: str = ""
	section: str = ""
	payments: tuple[tuple[date, Decimal], ...] = ()
	# The interest detail (InterestRow), for the reader to recompute it
	interest_rows: tuple = ()


@dataclass(frozen=True, slots=True)
class Totals:
	outstanding: Decimal
	interest: Decimal
	indemnity: Decimal
	fee: Decimal
	charges: Decimal
	# What the letter asks: the invoices, their charges, the other amounts past due, less the credits
	total: Decimal
	also_due: Decimal = ZERO
	credits: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class InterestRow:
	"""One row of an invoice's interest detail: a run of days on one base ("segment"), or what lowered
	the base between two runs ("payment": a payment received, or "credit": a credit note set against it)."""

	kind: str
	start: date | None = None
	end: date | None = None
	days: int = 0
	base: Decimal = ZERO
	rate: Decimal = ZERO
	basis: str = ""
	amount: Decimal = ZERO


def interest_rows(
	line: ActionLine, payments: Iterable[tuple[date, Decimal]], currency: str
) -> tuple[InterestRow, ...]:
	"""The interest of a line as the reader recomputes it: each segment (base x rate x days / 365,
	rounded for display) and, between two, the payments (or credits) that lowered the base."""
	rows: list[InterestRow] = []
	paid_on: dict[date, Decimal] = {}
	for day, amount in payments:
		paid_on[day] = paid_on.get(day, ZERO) + amount
	previous = None
	for seg in line.segments:
		if (
			previous is not None
			and seg.base < previous.base
			and seg.start == previous.end + timedelta(days=1)
		):
			day = seg.start - timedelta(days=1)
			drop = previous.base - seg.base
			paid = paid_on.get(day, ZERO)
			if paid > ZERO:
				rows.append(InterestRow("payment", start=day, amount=min(paid, drop)))
			if drop > paid:
				rows.append(InterestRow("credit", start=day, amount=drop - paid))
		rows.append(
			InterestRow(
				"segment",
				seg.start,
				seg.end,
				seg.days,
				seg.base,
				seg.rate,
				seg.basis,
				round_money(seg.amount, currency),
			)
		)
		previous = seg
	return tuple(rows)


@dataclass(frozen=True, slots=True)
class ScheduleRow:
	"""One instalment of a proposed payment plan."""

	number: int
	day: date
	amount: Decimal


class Block(NamedTuple):
	"""A piece of prose: a paragraph ("p"), a heading ("h") or a list ("ul")."""

	kind: str
	text: str
	html: Markup
	items: tuple[tuple[str, Markup], ...] = ()


def normalize_language(language: str | None) -> str:
	"""fr-FR, fr-CA or en; anything else (unknown or empty) is fr-FR."""
	try:
		return _LANGUAGES[language]
	except (KeyError, TypeError):
		pass
	normal = _normalize_language(language)
	if isinstance(language, str) and len(_LANGUAGES) < 256:
		_LANGUAGES[language] = normal
	return normal


_LANGUAGES: dict[str, str] = {}


def _normalize_language(language: str | None) -> str:
	code = (language or "").strip().replace("_", "-").lower()
	if code in ("fr-ca", "fr-qc"):
		return "fr-CA"
	if code == "en" or code.startswith("en-"):
		return "en"
	return DEFAULT_LANGUAGE


# The conversation: how a letter greets its reader and cites the earlier reminders ------------------

_MADAME = re.compile(r"^(mme|madame|mrs|ms|miss|mlle|mademoiselle)\b\.?\s", re.IGNORECASE)
_MONSIEUR = re.compile(r"^(m|mr|monsieur)\b\.?\s", re.IGNORECASE)


def salutation(customer: Customer, language: str) -> tuple[str, str]:
	"""(opening, as the closing formula names the reader): "Madame" for "Mme Claire Lefèvre",
	"Madame, Monsieur" when the name says nothing (a company)."""
	name = (customer.name or "").strip()
	english = normalize_language(language) == "en"
	if _MADAME.match(name):
		return ("Dear Madam," if english else "Madame,"), ("" if english else "Madame")
	if _MONSIEUR.match(name):
		return ("Dear Sir," if english else "Monsieur,"), ("" if english else "Monsieur")
	return ("Dear Sir or Madam," if english else "Madame, Monsieur,"), ("" if english else "Madame, Monsieur")


_CHANNEL_WORDS = {
	# channel: (French, English)
	EMAIL: ("notre courriel", "our email"),
	LETTER: ("notre lettre", "our letter"),
	REGISTERED_LETTER: ("notre lettre recommandée", "our registered letter"),
	PHONE: ("notre appel téléphonique", "our phone call"),
}


def contact_phrase(contact: Contact, language: str) -> str:
	"""'notre courriel du 3 juin 2026', 'notre lettre recommandée du 10 juin 2026 (n° 1A…)'."""
	language = normalize_language(language)
	english = language == "en"
	words = _CHANNEL_WORDS.get(contact.channel, ("notre relance", "our reminder"))[1 if english else 0]
	day = format_date(contact.day, language)
	text = f"{words} of {day}" if english else f"{words} du {day}"
	if contact.reference:
		text += f" (No. {contact.reference})" if english else f" (n° {contact.reference})"
	return text


def contacts_phrase(contacts: Iterable[Contact], language: str) -> str:
	"""The earlier reminders in one phrase: 'notre courriel du 3 juin 2026 et notre appel … du 11 juin'."""
	parts = [contact_phrase(c, language) for c in contacts]
	if len(parts) <= 1:
		return "".join(parts)
	word = " and " if normalize_language(language) == "en" else " et "
	return ", ".join(parts[:-1]) + word + parts[-1]


# Filters -----------------------------------------------------------------------------------------


def format_date(day: date | None, language: str = DEFAULT_LANGUAGE) -> str:
	"""15 juin 2026, 1er juin 2026 (fr-FR, fr-CA); 15 June 2026 (en). No locale involved."""
	if day is None:
		return ""
	language = normalize_language(language)
	if language == "en":
		return f"{day.day} {ENGLISH_MONTHS[day.month - 1]} {day.year}"
	first = "1er" if day.day == 1 else str(day.day)
	return f"{first} {FRENCH_MONTHS[day.month - 1]} {day.year}"


def _defined(value):
	"""A missing variable piped into a filter is an UndefinedError, as anywhere else."""
	if isinstance(value, Undefined):
		value._fail_with_undefined_error()
	return value


def _language(ctx) -> str:
	return normalize_language(ctx.get("language") or DEFAULT_LANGUAGE)


# Amounts and dates as text, kept: the same ones recur within a letter (its HTML and its text) and
# from one letter to the next (due dates, totals)
_FORMATTED: dict[tuple, str] = {}
_FORMATTED_SIZE = 16384


def _kept(key: tuple, text: str) -> str:
	if len(_FORMATTED) >= _FORMATTED_SIZE:
		_FORMATTED.clear()
	_FORMATTED[key] = text
	return text


@pass_context
def _money_filter(ctx, amount, currency: str | None = None) -> str:
	if _defined(amount) is None:
		return ""
	value = amount if type(amount) is Decimal else Decimal(amount)
	currency = currency or ctx.get("currency") or "EUR"
	language = _language(ctx)
	# Keyed by value: an amount is rounded to its currency first, so 1.5 and 1.50 read the same
	key = (value, currency, language)
	try:
		return _FORMATTED[key]
	except KeyError:
		return _kept(key, format_amount(value, currency, language))


@pass_context
def _date_filter(ctx, day) -> str:
	language = _language(ctx)
	key = (_defined(day), language)
	try:
		return _FORMATTED[key]
	except KeyError:
		return _kept(key, format_date(day, language))


@pass_context
def _rate_filter(ctx, rate) -> str:
	return format_rate(Decimal(_defined(rate)), _language(ctx))


@pass_context
def _note_filter(ctx, code: str) -> str:
	return describe(_defined(code), language="fr" if _language(ctx).startswith("fr") else "en")


def french_typography(text: str, language: str) -> str:
	"""No-break spaces where French typography wants them (before : in Québec; before : ; ! ? in France)."""
	if not language.startswith("fr"):
		return text
	marks = ":" if language == "fr-CA" else ":;!?"
	text = re.sub(rf" ([{marks}])(?=\s|$)", "\u00a0\\1", text)
	text = re.sub(r"« ", "«\u00a0", text)
	return re.sub(r" »", "\u00a0»", text)


_BOLD = re.compile(r"\*\*(.+?)\*\*")


def _inline(text: str) -> tuple[str, Markup]:
	"""Plain text and escaped HTML of a line of prose (**bold** becomes <strong>)."""
	plain = _BOLD.sub(r"\1", text)
	html = Markup(_BOLD.sub(lambda m: f"<strong>{m.group(1)}</strong>", str(escape(text))))
	return plain, html


def prose_blocks(text: str, language: str = DEFAULT_LANGUAGE) -> list[Block]:
	"""Split prose into paragraphs, headings and lists (see the module docstring)."""
	return list(_prose_blocks(str(text), language))


@lru_cache(maxsize=2048)
def _prose_blocks(text: str, language: str) -> tuple[Block, ...]:
	# The same closing or outro comes back in every letter of a kind: split once
	blocks: list[Block] = []
	for chunk in re.split(r"\n[ \t]*\n", str(text).strip()):
		lines = [line.strip() for line in chunk.strip().splitlines() if line.strip()]
		if not lines:
			continue
		if lines[0].startswith("## ") and len(lines) == 1:
			plain, html = _inline(french_typography(lines[0][3:].strip(), language))
			blocks.append(Block("h", plain, html))
			continue
		if lines[0].startswith("- "):
			items: list[str] = []
			for line in lines:
				if line.startswith("- ") or not items:
					items.append(line[2:].strip() if line.startswith("- ") else line)
				else:
					items[-1] += " " + line
			rendered = tuple(_inline(french_typography(item, language)) for item in items)
			blocks.append(Block("ul", "", Markup(""), rendered))
			continue
		plain, html = _inline(french_typography(" ".join(lines), language))
		blocks.append(Block("p", plain, html))
	return tuple(blocks)


@pass_context
def _blocks_filter(ctx, text, language: str | None = None) -> tuple[Block, ...]:
	"""`text|blocks`, in the letter's language; `text|blocks(language)` where there is no letter's
	context (_parts.html, imported without context)."""
	language = normalize_language(language) if language else _language(ctx)
	return _prose_blocks(str(_defined(text)), language)


@pass_context
def _oneline_filter(ctx, text) -> str:
	return _oneline(str(text), _language(ctx))


@lru_cache(maxsize=2048)
def _oneline(text: str, language: str) -> str:
	return french_typography(" ".join(_BOLD.sub(r"\1", text).split()), language)


def _wrap_filter(text, width: int = 78, indent: str = "", subsequent: str | None = None) -> str:
	"""Wrap plain text; no-break spaces keep "1 234,56 €" and "12,15 %" on one line."""
	return _wrap(str(text), width, indent, subsequent)


@lru_cache(maxsize=4096)
def _wrap(text: str, width: int, indent: str, subsequent: str | None) -> str:
	# The same paragraphs (payment, contact, closing) come back in every letter: wrapped once
	return "\n".join(_wrapper(width, indent, subsequent).wrap(text)) or indent.rstrip()


class _Wrapper(textwrap.TextWrapper):
	"""TextWrapper, without going over the text to change tabs and line breaks when it has none."""

	def _munge_whitespace(self, text: str) -> str:
		if "\t" in text or "\n" in text or "\r" in text or "\x0b" in text or "\x0c" in text:
			return super()._munge_whitespace(text)
		return text


@lru_cache(maxsize=64)
def _wrapper(width: int, indent: str, subsequent: str | None) -> _Wrapper:
	# One per shape (a TextWrapper keeps nothing from one text to the next)
	return _Wrapper(
		width=width,
		initial_indent=indent,
		subsequent_indent=indent if subsequent is None else subsequent,
		break_long_words=False,
		break_on_hyphens=False,
	)


def _columns_filter(rows, align: str = "", header: bool = True, gap: int = 3, indent: int = 2) -> str:
	"""A plain-text table of rows of cells, `align` "l"/"r" per column; the first row is a header."""
	rows = [[str(cell) for cell in row] for row in rows]
	if not rows:
		return ""
	count = max(len(row) for row in rows)
	rows = [row + [""] * (count - len(row)) for row in rows]
	widths = [max(len(row[i]) for row in rows) for i in range(count)]
	out = []
	for number, row in enumerate(rows):
		cells = []
		for i, cell in enumerate(row):
			right = i < len(align) and align[i] == "r"
			cells.append(cell.rjust(widths[i]) if right else cell.ljust(widths[i]))
		out.append(" " * indent + (" " * gap).join(cells).rstrip())
		if number == 0 and header:
			out.append(" " * indent + "-" * (sum(widths) + gap * (count - 1)))
	return "\n".join(out)


# Environment -------------------------------------------------------------------------------------


# The letters' own filters (ERPNext registers them too, so that it accepts an edited copy of a letter)
TEMPLATE_FILTERS = {
	"money": _money_filter,
	"date": _date_filter,
	"rate": _rate_filter,
	"note": _note_filter,
	"blocks": _blocks_filter,
	"oneline": _oneline_filter,
	"wrap": _wrap_filter,
	"columns": _columns_filter,
}


def _record_fields() -> dict[type, frozenset[str]]:
	"""The data fields of the records a letter's context holds (the planner's frozen dataclasses and
	the letters' own): type -> field names."""
	records = [Sender, LetterLine, Totals, InterestRow, ScheduleRow, RenderedLetter]
	records += [
		value
		for value in vars(_models).values()
		if isinstance(value, type)
		and value.__module__ == _models.__name__
		and dataclasses.is_dataclass(value)
		and value.__dataclass_params__.frozen
	]
	fields = {record: frozenset(field.name for field in dataclasses.fields(record)) for record in records}
	fields[Block] = frozenset(Block._fields)
	return fields


_RECORD_FIELDS = _record_fields()
# Templates whose macros depend on their arguments alone (imported without context; the labels of
# each language too)
PURE_TEMPLATES = ("_parts.html", "_parts.txt")
_METHODS = (types.MethodType, types.BuiltinMethodType)
# Objects whose public attributes are the names a template set (`L.`, `T.`, `ns.`)
_MODULES = (TemplateModule, Namespace)
# The arguments a pure macro's text is kept for: plain values, the sender (a frozen record, equal by
# value) and a labels module (the same object for a language)
_MEMO_ARGUMENTS = (str, int, bool, Decimal, date, type(None), Sender, TemplateModule)
_CONTEXT_KEYWORDS = frozenset(("_loop_vars", "_block_vars"))


class LetterSandbox(ImmutableSandboxedEnvironment):
	"""The letters' sandbox: ImmutableSandboxedEnvironment, the same answers, fewer checks on the way.

	Reading a data field of one of the context's own records (a customer's `name`, a line's `due`: the
	fields of frozen dataclasses, never a method nor an underscore name) returns it without the
	generic checks, which would allow it anyway; so does a name a template set, on a template module
	(the `L.` and `T.` of the layouts) or a namespace (`ns.rows`), unless it is a method. Everything else — any other object or
	attribute, a method, an underscore name — goes through Jinja's sandbox as before.

	The macros of the labels files (`<language>/_labels.j2`) and of the layouts' parts (_parts.html,
	_parts.txt: the prose, the sender's blocks), imported without context — their text depends on
	their arguments alone — are called once per distinct arguments and their text is kept.
	"""

	# The memo of labels' macros, cleared when it grows beyond this many calls
	MEMO_SIZE = 4096

	def __init__(self, *args: Any, **kwargs: Any) -> None:
		super().__init__(*args, **kwargs)
		self._pure_macros: set[Macro] = set()
		self._modules_seen: set[int] = set()
		self._memo: dict[tuple, Any] = {}
		self._hits: dict[Macro, int] = {}
		self._misses: dict[Macro, int] = {}

	def getitem(self, obj: Any, argument: Any) -> Any:
		# `selectattr("issued")` and `record["name"]`: a record is not subscriptable, its field is read
		fields = _RECORD_FIELDS.get(type(obj))
		if fields is not None and type(argument) is str and argument in fields and type(obj) is not Block:
			return getattr(obj, argument)
		return super().getitem(obj, argument)

	def getattr(self, obj: Any, attribute: str) -> Any:
		fields = _RECORD_FIELDS.get(type(obj))
		if fields is not None and attribute in fields:
			return getattr(obj, attribute)
		if type(obj) in _MODULES and attribute[:1] != "_":
			value = getattr(obj, attribute, _MISSING)
			if value is _MISSING:
				# What the sandbox ends with (neither attribute nor item): `T.title is defined`
				return self.undefined(obj=obj, name=attribute)
			if not isinstance(value, _METHODS):
				return value
		return super().getattr(obj, attribute)

	def labels_module(self, language: str) -> TemplateModule:
		"""The labels of a language as `{% import ... as L %}` gets them, its macros known as pure (and
		those of the layouts' parts, _parts.html and _parts.txt)."""
		for name in PURE_TEMPLATES:
			self._pure_module(name)
		return self._pure_module(f"{language}/_labels.j2")

	def parts_module(self, name: str) -> TemplateModule:
		"""_parts.html or _parts.txt as the layout imports it (`layout`), its macros known as pure."""
		return self._pure_module(name)

	def _pure_module(self, name: str) -> TemplateModule:
		# The default module: the one an import without context returns
		module = self.get_template(name).module
		if id(module) not in self._modules_seen:
			self._modules_seen.add(id(module))
			self._pure_macros.update(value for value in vars(module).values() if type(value) is Macro)
		return module

	def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
		# Jinja adds the variables of the enclosing loop or block (for a callable that reads its
		# context): a labels macro does not
		if type(__obj) is Macro and __obj in __self._pure_macros and kwargs.keys() <= _CONTEXT_KEYWORDS:
			for arg in args:
				if type(arg) not in _MEMO_ARGUMENTS and not isinstance(arg, Markup):
					break
			else:
				# Decimal("1.0") == Decimal("1.00"), but their text differs: keyed by type and text
				key = (__obj, *((type(arg), str(arg) if type(arg) is Decimal else arg) for arg in args))
				try:
					value = __self._memo[key]
				except KeyError:
					pass
				else:
					__self._hits[__obj] = __self._hits.get(__obj, 0) + 1
					return value
				value = super().call(__context, __obj, *args)
				if len(__self._memo) >= __self.MEMO_SIZE:
					__self._memo.clear()
				__self._memo[key] = value
				misses = __self._misses[__obj] = __self._misses.get(__obj, 0) + 1
				if misses >= 256 and __self._hits.get(__obj, 0) * 8 < misses:
					# Arguments that hardly come back (an interest segment, a period): not worth keeping
					__self._pure_macros.discard(__obj)
				return value
		return super().call(__context, __obj, *args, **kwargs)


_MISSING = object()


def _make_environment(autoescape, loader=None) -> ImmutableSandboxedEnvironment:
	env = LetterSandbox(
		loader=loader or FileSystemLoader(str(TEMPLATE_DIR)),
		autoescape=autoescape,
		undefined=StrictUndefined,
		trim_blocks=True,
		lstrip_blocks=True,
		auto_reload=False,
	)
	env.filters.update(TEMPLATE_FILTERS)
	return env


# Files: HTML escaped (by extension); custom strings escaped unless asked otherwise
_ENV = _make_environment(select_autoescape(enabled_extensions=("html",), default_for_string=True))
_TEXT_ENV = _make_environment(False)


def render_string(source: str, context: Mapping[str, Any], autoescape: bool = True) -> str:
	"""Render a custom template (e.g. stored in a scenario) in the same sandbox as the letters.

	Raises jinja2's SecurityError for unsafe access, UndefinedError for a missing variable and
	TemplateSyntaxError for a malformed template; the caller reports them to the user. Any other
	failure of the template itself (a division by zero, a range the sandbox refuses, adding text to
	a number…) is a LetterError, never a bare Python exception.
	"""
	env = _ENV if autoescape else _TEXT_ENV
	try:
		return env.from_string(source).render(dict(context))
	except TemplateError:
		raise
	except (ArithmeticError, LookupError, TypeError, ValueError) as exc:
		raise LetterError(f"the template cannot be rendered ({type(exc).__name__}: {exc})") from None


# Context ------------------------------------------------------------------------------------------


def _letter_line(line: ActionLine, invoice: Invoice | None, currency: str = "EUR") -> LetterLine:
	extra: dict[str, Any] = {}
	if line.segments:
		payments = () if invoice is None else tuple((p.day, p.amount) for p in invoice.payments)
		extra["interest_rows"] = interest_rows(line, payments, currency)
	if invoice is not None:
		extra |= {
			"issued": invoice.issued,
			"total": invoice.total,
			"paid": invoice.paid,
			"last_payment": max((p.day for p in invoice.payments), default=None),
			"payments": tuple(sorted((p.day, p.amount) for p in invoice.payments)),
		}
	return LetterLine(
		invoice=line.invoice,
		due=line.due,
		days_late=line.days_late,
		outstanding=line.outstanding,
		interest=line.interest,
		indemnity=line.indemnity,
		amount_due=line.outstanding + line.interest + line.indemnity,
		interest_from=line.interest_from,
		periods=line.periods,
		notes=line.notes,
		step=line.step,
		section=line.section,
		**extra,
	)


def _schedule_rows(schedule: Iterable[Any]) -> tuple[ScheduleRow, ...]:
	rows = []
	for number, item in enumerate(schedule, start=1):
		if isinstance(item, ScheduleRow):
			rows.append(item)
			continue
		day, amount = (item.day, item.amount) if hasattr(item, "day") else item
		rows.append(ScheduleRow(number=number, day=day, amount=Decimal(amount)))
	return tuple(rows)


def build_context(
	action: Action,
	sender: Sender,
	customer: Customer,
	as_of: date,
	invoices: Mapping[str, Invoice] | None = None,
	reference: str = "",
	*,
	schedule: Iterable[Any] = (),
	extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
	"""Everything a letter template may use (the same keys for every template).

	`schedule` (Payment objects or (date, amount) pairs) is the instalment plan of an `arrangement`;
	`extra` adds keys of the caller's own, for custom templates.
	"""
	language = normalize_language(action.language)
	invoices = invoices or {}
	lines = tuple(_letter_line(line, invoices.get(line.invoice), action.currency) for line in action.lines)
	also_due = tuple(
		_letter_line(line, invoices.get(line.invoice), action.currency) for line in action.also_due
	)
	# Action's sums, each added up once (its properties add them up at every reading), in its order
	outstanding, interest, indemnity, fee = action.outstanding, action.interest, action.indemnity, action.fee
	gross_total = outstanding + interest + indemnity + fee
	also_due_total, credit_total = action.also_due_total, action.credit_total
	charges = interest + indemnity + fee
	totals = Totals(
		outstanding=outstanding,
		interest=interest,
		indemnity=indemnity,
		fee=fee,
		charges=charges,
		total=gross_total + also_due_total - credit_total,
		also_due=also_due_total,
		credits=credit_total,
	)
	regime = action.regime or customer.regime
	kind = action.customer_kind or customer.kind
	contract = action.contract_rate
	rows = _schedule_rows(schedule)
	pay_by = action.pay_by or (
		as_of + timedelta(days=action.notice_days) if action.formal_notice or action.notice_days else None
	)
	opening, reader = salutation(customer, language)
	previous = tuple(action.previous)
	demanded = tuple(line for line in lines if line.section == SECTION_DEMANDED)
	others = tuple(line for line in lines if line.section != SECTION_DEMANDED)
	qc_legal_rate = None
	if regime == REGIME_QC and contract is None:
		try:
			qc_legal_rate = _default_rates().qc_legal.rate_on(as_of)
		except (DunningError, LookupError, ValueError):
			qc_legal_rate = None
	context: dict[str, Any] = {
		"language": language,
		"template": action.template,
		"sender": sender,
		"customer": customer,
		"action": action,
		"lines": lines,
		"totals": totals,
		"as_of": as_of,
		"reference": reference,
		"currency": action.currency,
		"regime": regime,
		"fr_b2b": regime == REGIME_FR and kind == BUSINESS,
		"fr_consumer": regime == REGIME_FR and kind == CONSUMER,
		"qc": regime == REGIME_QC,
		"consumer": kind == CONSUMER,
		"formal_notice": action.formal_notice,
		"notice_days": action.notice_days,
		"pay_by": pay_by,
		"registered": action.channel == REGISTERED_LETTER,
		"postal": action.channel in POSTAL_CHANNELS,
		"any_late": any(line.days_late > 0 for line in lines),
		# Whether a line has an issue date, a last payment (their columns shown): made here once
		"any_issued": any(line.issued for line in lines),
		"any_paid_on": any(line.last_payment for line in lines),
		"claims_interest": interest > ZERO,
		"claims_indemnity": indemnity > ZERO,
		"interest_lines": tuple(line for line in lines if line.periods and line.interest > ZERO),
		"interest_from_notice": any("interest_runs_from_notice" in line.notes for line in lines),
		# Provisional interest (a reference rate not known yet): counted up to `interest_until`, the
		# half-years in `missing_rates` to be computed once their rate is published
		"provisional": action.provisional,
		"interest_until": min(
			(line.interest_until for line in action.lines if line.interest_until is not None), default=None
		),
		"missing_rates": tuple(sorted({m for line in action.lines for m in line.missing_rates})),
		"contract_rate": contract,
		"contract_rate_annual": contract.annual if contract is not None else None,
		"contract_rate_per": contract.period if contract is not None else PER_YEAR,
		"indemnity_unit": FR_B2B_INDEMNITY,
		"invoice_numbers": ", ".join(line.invoice for line in lines),
		"schedule": rows,
		"schedule_total": sum((row.amount for row in rows), ZERO),
		"notes": action.notes,
		"salutation": opening,
		"reader": reader,
		"previous": previous,
		"last_contact": previous[-1] if previous else None,
		"previous_phrase": contacts_phrase(previous, language),
		"last_phrase": contact_phrase(previous[-1], language) if previous else "",
		"demanded_lines": demanded if action.formal_notice else (),
		"other_lines": others if action.formal_notice and demanded else (),
		"demanded_total": sum((line.amount_due for line in demanded), ZERO),
		"other_total": sum((line.amount_due for line in others), ZERO),
		"address_missing": action.channel in POSTAL_CHANNELS and not customer.address,
		"tasks": action.tasks,
		"qc_legal_rate": qc_legal_rate,
		# The customer's other overdue invoices (no step today) and credits, in their own sections
		"also_due_lines": also_due,
		"credits": tuple(action.credits),
		"gross_total": gross_total,
	}
	if extra:
		context.update(extra)
	return context


@lru_cache(maxsize=1)
def _default_rates():
	from .rates import load_reference_rates

	return load_reference_rates()


# Rendering ---------------------------------------------------------------------------------------


def _check_template(template: str, language: str) -> None:
	if (template, language) in _TEMPLATES_FOUND:
		return
	if not isinstance(template, str) or not _TEMPLATE_NAME.fullmatch(template):
		raise LetterError(f"invalid letter template name {template!r}")
	if not (TEMPLATE_DIR / language / f"{template}.j2").is_file():
		raise LetterError(f"no letter template {template!r} for {language}")
	_TEMPLATES_FOUND.add((template, language))


# (template, language) found among the files once: not looked for again at every letter
_TEMPLATES_FOUND: set[tuple[str, str]] = set()


# An edited template's subject line that means "the subject its body defines"
SUBJECT_FROM_BODY = "{{ subject }}"


def template_source(template: str, language: str) -> str:
	"""The built-in wording of a document: what an editable copy (e.g. an ERPNext Email Template)
	starts from. It sets `subject`, `intro`, `outro` and `closing`; the layout stays in _base."""
	language = normalize_language(language)
	_check_template(template, language)
	return (TEMPLATE_DIR / language / f"{template}.j2").read_text(encoding="utf-8")


@lru_cache(maxsize=64)
def _edited_environment(language: str, template: str, source: str) -> ImmutableSandboxedEnvironment:
	"""The letters' sandbox, with one document's wording replaced by an edited copy."""
	loader = ChoiceLoader(
		[DictLoader({f"{language}/{template}.j2": source}), FileSystemLoader(str(TEMPLATE_DIR))]
	)
	return _make_environment(select_autoescape(enabled_extensions=("html",), default_for_string=True), loader)


def render_document(
	template: str,
	language: str,
	context: Mapping[str, Any],
	source: str | None = None,
	subject: str | None = None,
) -> RenderedLetter:
	"""Render one of the documents (`TEMPLATES`) with a context made by `build_context`.

	`source` replaces the built-in wording (same form as `template_source`); `subject`, when given
	and not SUBJECT_FROM_BODY, replaces the subject line (it may use {{ subject }}, the body's one).
	Errors in an edited copy are LetterErrors that say where they are."""
	language = normalize_language(language)
	_check_template(template, language)
	values = {**context, "language": language, "template": template}
	env = _ENV if source is None else _edited_environment(language, template, source)
	try:
		module = env.get_template(f"{language}/{template}.j2").make_module(values)
		subject_line = str(module.subject)
		if subject and subject.strip() != SUBJECT_FROM_BODY:
			subject_line = env.from_string(subject).render({**values, "subject": subject_line})
		# Collapse the template's line breaks, but keep the no-break spaces of amounts (str.split would not)
		subject_line = french_typography(_SPACES.sub(" ", _BOLD.sub(r"\1", subject_line)).strip(), language)
		values["subject"] = subject_line
		# The document's words, made once for the subject, the HTML and the text, and the labels of
		# the language (the layouts import them only when not given)
		values["T"] = module
		values["L"] = env.labels_module(language)
		values["layout"] = env.parts_module("_parts.html")
		html = env.get_template("_base.html").render(values)
		values["layout"] = env.parts_module("_parts.txt")
		text = env.get_template("_base.txt").render(values)
	except TemplateNotFound as exc:
		raise LetterError(f"letter template {template!r} ({language}) needs a missing file: {exc}") from exc
	except TemplateSyntaxError as exc:
		if source is None and subject is None:
			raise
		raise LetterError(
			f"edited template {template!r} ({language}), line {exc.lineno}: {exc.message}"
		) from None
	except (TemplateError, ArithmeticError, LookupError, TypeError, ValueError) as exc:
		if source is None and subject is None:
			raise
		raise LetterError(f"edited template {template!r} ({language}): {type(exc).__name__}: {exc}") from None
	subject = subject_line
	# The spaces at the end of each line go (line by line: a regular expression backtracks over the
	# 40-space indents of the address block)
	text = "\n".join([line.rstrip(" \t") for line in text.split("\n")])
	while "\n\n\n" in text:  # no more than one blank line (faster than re.sub(r"\n{3,}", …) here)
		text = text.replace("\n\n\n", "\n\n")
	text = text.strip() + "\n"
	return RenderedLetter(subject=subject, html=html, text=text, language=language, template=template)


def prepare(documents: Iterable[tuple[str, str]]) -> None:
	"""Compile the layouts, and the templates of these (template, language) documents, now: before
	starting processes that render letters, which then share the compiled code and the labels."""
	for name in ("_base.html", "_base.txt", "_provisional.j2", *PURE_TEMPLATES):
		_ENV.get_template(name)
	for template, language in set(documents):
		language = normalize_language(language)
		try:
			_check_template(template, language)
		except LetterError:
			continue  # said when its letter is rendered
		_ENV.get_template(f"{language}/{template}.j2")
		_ENV.labels_module(language)


def render_action(
	action: Action,
	sender: Sender,
	customer: Customer,
	as_of: date,
	invoices: Mapping[str, Invoice] | None = None,
	reference: str = "",
	edited: Mapping[tuple[str, str], tuple[str, str]] | None = None,
) -> RenderedLetter:
	"""The letter (or script, or note) for one planned action, in the action's language.

	`edited` maps (template, language) to an edited copy's (subject, source), used in place of the
	built-in wording when the action's template and language have one."""
	context = build_context(action, sender, customer, as_of, invoices, reference)
	language = normalize_language(action.language)
	subject, source = (edited or {}).get((action.template, language), (None, None))
	return render_document(action.template, language, context, source=source, subject=subject)
