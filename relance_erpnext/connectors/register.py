"""The invoice register reader: a CSV or XLSX list of issued invoices, read into core objects.

One row per invoice. Headers may be French or English, in any case, with or without accents or
spaces ("Échéance", "echeance", "Due date"). Every problem is collected, not just the first: an
error names the file, the row as the user sees it in a spreadsheet (the header is row 1) and the
column as written in the file, e.g. ``ventes.csv, row 7, column "Échéance": "31/02/2025" is not a
date``.

The policy on errors is simple and the same for every caller:

- ``Register.invoices`` only ever holds rows that were read without any error. A row with an error,
  both rows of a duplicate invoice number, and every row of a customer whose attributes conflict
  are left out (their row numbers are in ``Register.bad_rows``).
- ``Register.errors`` lists every problem. When it is not empty the register is incomplete: by
  default (``skip_bad_rows=False``) the caller must refuse to plan, and ``Register.plannable`` is
  False. With ``skip_bad_rows=True`` the caller has accepted to plan without the bad rows:
  ``plannable`` is True unless the error concerns the whole file (a missing column, an unreadable
  file), in which case nothing was read at all.

Nothing is dropped silently: every data row ends in ``Register.invoices``, in ``Register.credit_rows``
(a negative amount, or the status "avoir" / "paiement non affecté": the customer's credit, in
``Register.credits``), in ``Register.bad_rows`` (with an error naming it) or, when empty, in
``Register.empty_rows`` (with a warning).

What was done outside relance is read from optional columns: the date of the last reminder sent
("Relancé le", "Dernière relance", "Date de relance"), its step, level or channel ("Niveau", "Étape",
"Niveau de relance": "2", "niveau 2", "courriel", "LRAR", "relance_formelle"), a registered letter's
number ("N° recommandé", "N° LRAR") and the date of its avis de réception ("AR le"): they become
``Register.outcomes`` (core manual entries, dunning.outcomes) that the planner reads as history. A CSV row the
reader cannot read, or a quote left open that swallows the rows after it, is an error on that row.

Formulas are never evaluated: an XLSX formula cell is read from the value the spreadsheet saved
with it, and a formula without a saved value is an error naming the cell.

Nothing here imports Frappe; this module only reads the file it is given.
"""

from __future__ import annotations

import csv
import gc
import io
import itertools
import operator
import re
import threading
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from relance_erpnext.dunning.models import (
	BUSINESS,
	CONSUMER,
	CREDIT_NOTE,
	DISPUTE,
	HOLD,
	PER_DAY,
	PER_MONTH,
	PER_YEAR,
	REGIME_FR,
	REGIME_QC,
	UNALLOCATED_PAYMENT,
	ContractRate,
	Credit,
	Customer,
	Hold,
	Instalment,
	Invoice,
	Payment,
)
from relance_erpnext.dunning.money import CENT, parse_amount, quantum, round_money
from relance_erpnext.dunning.outcomes import DELIVERED, ManualEntry, parse_step_cell
from relance_erpnext.i18n import Text, say

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
DELIMITERS = (";", ",", "\t")
DEFAULT_CURRENCY = "EUR"
_TOO_LARGE = Decimal(10) ** 15  # a typo or a pasted account number, not an invoice amount


@dataclass(frozen=True, slots=True)
class RegisterError:
	"""One problem in a register. `row` is the spreadsheet row (header = 1), None for the whole file;
	`column` is the header as written in the file, None when no single column is at fault."""

	file: str
	row: int | None
	column: str | None
	message: str

	def __str__(self) -> str:
		return self.text("en")

	def text(self, lang: str = "en") -> str:
		"""The error in the user's language ("fr" or "en"), naming the file, row and column."""
		where = [self.file]
		if self.row is not None:
			where.append(say(Text("row {row}", row=self.row), lang))
		if self.column is not None:
			where.append(say(Text('column "{column}"', column=self.column), lang))
		colon = " : " if lang.startswith("fr") else ": "
		return f"{', '.join(where)}{colon}{say(self.message, lang)}"


@dataclass
class Register:
	"""What was read from a register file. See the module docstring for the error policy."""

	path: Path
	customers: dict[str, Customer] = field(default_factory=dict)
	invoices: list[Invoice] = field(default_factory=list)
	errors: list[RegisterError] = field(default_factory=list)
	warnings: list[str] = field(default_factory=list)
	# Non-empty data rows read (the header and empty rows are not counted)
	rows_read: int = 0
	# Empty rows between the header and the last data row, skipped (and counted in a warning)
	empty_rows: list[int] = field(default_factory=list)
	# The text encoding of a CSV file ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be",
	# "cp1252", "latin-1"); None for XLSX
	encoding: str | None = None
	# The CSV delimiter found (";", "," or a tab); None for XLSX
	delimiter: str | None = None
	# The XLSX sheet read; None for CSV
	sheet: str | None = None
	# Invoice number -> its spreadsheet row, for every invoice in `invoices`
	invoice_rows: dict[str, int] = field(default_factory=dict)
	# Rows left out of `invoices` because of an error (sorted)
	bad_rows: list[int] = field(default_factory=list)
	# An error about the whole file (unreadable, missing or ambiguous column): nothing was read
	fatal: bool = False
	skip_bad_rows: bool = False
	# What was done outside relance, from the columns "Relancé le", "Niveau", "N° recommandé", "AR le"
	outcomes: list[ManualEntry] = field(default_factory=list)
	# The customers' credits: rows with a negative amount or the status "avoir" / "paiement non affecté"
	# (what is left of them once "Payé" is taken off); "Facture d'origine" names the invoice corrected
	credits: list[Credit] = field(default_factory=list)
	# Credit rows: number -> spreadsheet row
	credit_rows: dict[str, int] = field(default_factory=dict)
	# Rows above the header (a title), and rows that sum the others ("TOTAL"): skipped with a warning
	title_rows: list[int] = field(default_factory=list)
	total_rows: list[int] = field(default_factory=list)
	# The workbook's sheet of customers ("Clients"), read for the contacts; None when there is none
	customer_sheet: str | None = None
	# progress(done, total) while rows are read (the command's progress bar); None: nothing shown
	progress: Any = None

	@property
	def ok(self) -> bool:
		return not self.errors

	@property
	def plannable(self) -> bool:
		"""May a plan be made from `invoices`? Only when there is no error, or when the caller asked
		to skip bad rows and no error concerns the whole file."""
		return not self.errors or (self.skip_bad_rows and not self.fatal)


# ---------------------------------------------------------------------------------------------------
# Columns


@dataclass(frozen=True, slots=True)
class _Column:
	key: str
	label: str  # what it is, for messages
	headers: tuple[str, ...]  # accepted headers, as shown to the user
	extra: tuple[str, ...] = ()  # more accepted spellings, not shown


COLUMNS = (
	_Column(
		"invoice",
		"the invoice number",
		("N° facture", "Numéro", "Numéro de facture", "Facture", "Invoice", "Invoice number"),
		(
			"nofacture",
			"nodefacture",
			"ndefacture",
			"numfacture",
			"numerofacture",
			"numerodelafacture",
			"nfacture",
			"reffacture",
			"referencefacture",
			"refdefacture",
			"piece",
			"npiece",
			"numeropiece",
			"invoiceno",
			"invoicenr",
			"invoiceid",
			"invoicenumber",
			"invoiceref",
		),
	),
	_Column(
		"customer",
		"the customer",
		("Client", "Customer"),
		(
			"nomclient",
			"nomduclient",
			"customername",
			"raisonsociale",
			"clientraisonsociale",
			"societe",
			"tiers",
			"nomdutiers",
			"debiteur",
			"clients",
		),
	),
	_Column(
		"email",
		"the customer's e-mail",
		("E-mail", "Email", "Courriel"),
		(
			"mail",
			"adresseemail",
			"adressecourriel",
			"adressemail",
			"emailclient",
			"courrielclient",
			"emaildefacturation",
			"courrieldefacturation",
			"emailcomptabilite",
		),
	),
	_Column(
		"amount",
		"the invoice amount incl. VAT",
		("Montant", "Montant TTC", "Amount", "Total", "Total (incl. VAT)"),
		(
			"totalttc",
			"montanttotal",
			"montantttc",
			"montantfacture",
			"montantdelafacture",
			"montanttotalttc",
			"netapayer",
			"amountinclvat",
			"totalincvat",
			"amountincvat",
			"totalinclvat",
			"invoiceamount",
			"invoicetotal",
		),
	),
	_Column("currency", "the currency", ("Devise", "Currency"), ("monnaie",)),
	_Column(
		"issued",
		"the issue date",
		("Date d'émission", "Date", "Issued", "Issue date"),
		(
			"dateemission",
			"datedemission",
			"datefacture",
			"datedefacture",
			"datedelafacture",
			"datedefacturation",
			"emisele",
			"emise",
			"facturele",
			"invoicedate",
			"dateissued",
			"issuedon",
		),
	),
	_Column(
		"due",
		"the due date",
		("Échéance", "Date d'échéance", "Due", "Due date"),
		(
			"dateecheance",
			"datelimite",
			"datelimitedepaiement",
			"echeancedepaiement",
			"echeancepaiement",
			"datedereglement",
			"dateduereglement",
			"apayeravant",
			"apayerle",
			"dueon",
			"paymentdue",
			"duedate",
			"paymentduedate",
		),
	),
	_Column(
		"paid",
		"the amount paid so far",
		("Payé", "Montant payé", "Paid"),
		("amountpaid", "regle", "montantregle", "dejapaye", "paye"),
	),
	_Column(
		"paid_on",
		"the date of the last payment",
		("Payé le", "Date de paiement", "Paid on"),
		("datepaiement", "paymentdate", "datereglement", "reglele", "payeele", "encaissele", "lastpayment"),
	),
	_Column(
		"kind", "the customer type (B2B or B2C)", ("Type",), ("typeclient", "typedeclient", "customertype")
	),
	_Column("country", "the country (FR or CA-QC)", ("Pays", "Country"), ()),
	_Column("language", "the language", ("Langue", "Language"), ("lang",)),
	_Column("scenario", "the dunning scenario", ("Scénario", "Scenario"), ("scenariorelance",)),
	_Column(
		"status",
		"the status",
		("Statut", "Statut du paiement", "Status"),
		(
			"etat",
			"statutdepaiement",
			"statutpaiement",
			"etatdupaiement",
			"etatdepaiement",
			"etatpaiement",
			"paiement",
			"payee",
			"reglee",
			"soldee",
			"reglement",
			"situation",
			"paymentstatus",
			"ispaid",
		),
	),
	_Column(
		"address",
		"the postal address",
		("Adresse", "Address"),
		("adressepostale", "postaladdress", "adressedefacturation", "adresseclient", "billingaddress"),
	),
	_Column(
		"phone",
		"the phone number",
		("Téléphone", "Phone"),
		(
			"tel",
			"phonenumber",
			"telephonenumber",
			"telephoneclient",
			"numerodetelephone",
			"portable",
			"mobile",
		),
	),
	_Column(
		"contract_rate",
		"the contractual late-payment rate",
		("Taux contractuel", "Contract rate"),
		("taux", "tauxdepenalite", "tauxpenalites", "tauxderetard", "contractualrate", "interestrate"),
	),
	_Column(
		"reason", "the reason of a dispute or hold", ("Motif", "Reason"), ("motifdulitige", "raisondulitige")
	),
	_Column(
		"until", "the end date of a hold", ("Jusqu'au", "Until"), ("jusqua", "suspendujusquau", "holduntil")
	),
	# What was done outside relance: the last reminder sent (its date, its step or level or channel,
	# a registered letter's number and the date of its avis de réception)
	_Column(
		"reminded_on",
		"the date of the last reminder sent",
		("Relancé le", "Dernière relance", "Date de relance", "Last reminder", "Reminded on"),
		(
			"relancee",
			"relancele",
			"relanceele",
			"datederniererelance",
			"derniererelancele",
			"daterelance",
			"lastreminderon",
			"lastreminderdate",
		),
	),
	_Column(
		"reminder_step",
		"the step, level or channel of the last reminder",
		("Niveau", "Étape", "Niveau de relance", "Étape de relance", "Reminder level", "Reminder step"),
		("niveaurelance", "etaperelance", "canalderelance", "typederelance", "typerelance", "level", "step"),
	),
	_Column(
		"registered_number",
		"the number of the registered letter",
		("N° recommandé", "N° LRAR", "Registered letter number"),
		("numerorecommande", "nlrar", "norecommande", "numerolrar", "nrecommande", "ndurecommande"),
	),
	_Column(
		"delivered_on",
		"the date of the avis de réception",
		("AR le", "Date AR", "Distribuée le", "Delivered on"),
		(
			"avisdereception",
			"dateavisdereception",
			"accusedereception",
			"arrecule",
			"distribueele",
			"delivered",
		),
	),
	# A credit note's invoice (the invoice it corrects, settled first)
	_Column(
		"against",
		"the invoice a credit note corrects",
		("Facture d'origine", "Avoir sur", "Against invoice"),
		("factureorigine", "facturedorigine", "avoirsurfacture", "facturecorrigee", "originalinvoice"),
	),
)
REQUIRED = ("invoice", "customer", "amount", "due")
_BY_KEY = {c.key: c for c in COLUMNS}


def normalize_header(text: Any) -> str:
	"""Case, accent, space and punctuation-insensitive form: "Date d'échéance" -> "datedecheance"."""
	if isinstance(text, str):
		return _normalize_text(text)
	return _normalize_text(str(text))


@lru_cache(maxsize=1 << 16)
def _normalize_text(text: str) -> str:
	# The same few words come back on every row (statuses, kinds, countries): computed once each
	decomposed = unicodedata.normalize("NFKD", text).casefold()
	return "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch))


_HEADER_INDEX: dict[str, str] = {}
for _col in COLUMNS:
	for _name in (*_col.headers, *_col.extra):
		_HEADER_INDEX[normalize_header(_name)] = _col.key


def _accepted(key: str) -> str:
	return ", ".join(f'"{h}"' for h in _BY_KEY[key].headers)


# ---------------------------------------------------------------------------------------------------
# Values

_STATUS = {
	"open": (
		"",
		"non",
		"no",
		"nonpayee",
		"nonpaye",
		"nonreglee",
		"nonregle",
		"nonsoldee",
		"apayer",
		"aregler",
		"enattentedepaiement",
		"enattentedereglement",
		"pending",
		"awaitingpayment",
		"relancee",
		"echue",
		"ouverte",
		"ouvert",
		"open",
		"encours",
		"impayee",
		"impaye",
		"unpaid",
		"enretard",
		"overdue",
		"due",
		"arelancer",
		"emise",
		"issued",
		"envoyee",
		"sent",
		"partiellementpayee",
		"partiellementpaye",
		"partiel",
		"partlypaid",
		"partiallypaid",
		"partial",
	),
	"paid": (
		"payee",
		"paye",
		"paid",
		"reglee",
		"regle",
		"soldee",
		"solde",
		"settled",
		"acquittee",
		"acquitte",
		"encaissee",
		"encaisse",
		"oui",
		"yes",
		"ok",
		"payeeintegralement",
		"regleeintegralement",
		"fullypaid",
	),
	DISPUTE: (
		"litige",
		"enlitige",
		"contestee",
		"conteste",
		"contestation",
		"disputed",
		"dispute",
		"indispute",
	),
	HOLD: (
		"suspendue",
		"suspendu",
		"enattente",
		"attente",
		"onhold",
		"hold",
		"bloquee",
		"bloque",
		"enpause",
		"paused",
	),
	"cancelled": ("annulee", "annule", "cancelled", "canceled", "void"),
	# Rows that are the customer's money, not an invoice: deducted from what is asked
	CREDIT_NOTE: ("avoir", "avoirnonutilise", "creditnote", "credit", "notedecredit", "avoirclient"),
	UNALLOCATED_PAYMENT: (
		"paiementnonaffecte",
		"reglementnonaffecte",
		"acompte",
		"avance",
		"tropperçu",
		"tropercu",
		"tropperçu",
		"unallocatedpayment",
		"unallocated",
		"advance",
		"prepayment",
	),
}
_STATUS_INDEX = {spelling: status for status, spellings in _STATUS.items() for spelling in spellings}
# In a column of the payment's status ("Statut du paiement", seed 000), "en attente" is the payment
# awaited (the invoice is open), not a hold
_PAYMENT_STATUS_INDEX = {**_STATUS_INDEX, "enattente": "open", "attente": "open"}
_PAYMENT_WORDS = ("paiement", "payment", "reglement", "paye", "regle", "solde", "paid", "encaiss")
_STATUS_HELP = (
	'"impayée/open", "payée/réglée/soldée/oui/paid", "litige/disputed", "suspendue/en attente/on hold",'
	' "annulée/cancelled",'
	' "avoir/credit note", "paiement non affecté/unallocated payment"'
)

_KIND = {
	**dict.fromkeys(
		("b2b", "btob", "business", "entreprise", "societe", "professionnel", "pro", "company"), BUSINESS
	),
	**dict.fromkeys(
		("b2c", "btoc", "consumer", "particulier", "individual", "personnephysique", "private"), CONSUMER
	),
}
_COUNTRY = {
	**dict.fromkeys(("fr", "fra", "france"), REGIME_FR),
	**dict.fromkeys(("qc", "caqc", "quebec", "canadaquebec", "quebeccanada", "quebecca"), REGIME_QC),
}
_FR_ANY = "fr"  # "fr" / "français": fr-CA for a Québec customer, else fr-FR
_LANGUAGE = {
	**dict.fromkeys(("fr", "francais", "french"), _FR_ANY),
	**dict.fromkeys(("frfr", "francaisfrance", "frenchfrance"), "fr-FR"),
	**dict.fromkeys(
		("frca", "frqc", "francaiscanada", "francaisquebec", "quebecois", "frenchcanada"), "fr-CA"
	),
	**dict.fromkeys(("en", "enus", "engb", "enca", "anglais", "english"), "en"),
}
_YES = frozenset(
	("oui", "yes", "o", "y", "true", "vrai", "x", "paye", "payee", "paid", "total", "entierement")
)
_NO = frozenset(("non", "no", "n", "false", "faux"))
_RATE_PERIOD = {
	**dict.fromkeys(
		("", "an", "lan", "paran", "annuel", "annuelle", "annee", "parannee", "year", "peryear", "ayear"),
		PER_YEAR,
	),
	**dict.fromkeys(("annual", "annually", "pa", "perannum", "yearly", "apr"), PER_YEAR),
	**dict.fromkeys(
		("mois", "parmois", "mensuel", "mensuelle", "month", "permonth", "amonth", "monthly"), PER_MONTH
	),
	**dict.fromkeys(("jour", "parjour", "quotidien", "day", "perday", "aday", "daily"), PER_DAY),
}
_CURRENCY_ALIASES = {
	"€": "EUR",
	"euro": "EUR",
	"euros": "EUR",
	"$ca": "CAD",
	"ca$": "CAD",
	"c$": "CAD",
	"cad$": "CAD",
	"$can": "CAD",
	"dollarcanadien": "CAD",
	"dollarscanadiens": "CAD",
}
# ISO 4217 codes in use (not the funds, metals and test codes): a typo such as "EUT" is an error,
# not a currency of its own
ISO_CURRENCIES = frozenset(
	"""
	AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN
	BZD CAD CDF CHF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL
	GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW
	KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN
	NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK
	SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU
	UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL
	""".split()
)
_SCENARIO_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_EMAIL = re.compile(r"^[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\"]+$")
_TIME_TAIL = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})" + _TIME_TAIL + "$")
_DAY_FIRST = re.compile(r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})" + _TIME_TAIL + "$")
_SYMBOL_INSIDE = re.compile(r"\d\s*(?:€|\$|EUR|CAD|USD)\s*\d", re.IGNORECASE)
# "1,440" or "12.345": one separator followed by exactly three digits (thousands or decimals?)
_AMBIGUOUS = re.compile(r"^[-+(]?(\d{1,3})[.,](\d{3})\)?$")
_AMOUNT_NOISE = re.compile(r"[\s\u00a0\u202f€$]|EUR|CAD|USD", re.IGNORECASE)
_RATE = re.compile(r"^([+-]?[\d\s\u00a0\u202f.,]*\d)\s*%?\s*(.*)$", re.S)


class _Bad(ValueError):
	"""A cell that cannot be read; the message is shown after the row and column."""


def _empty(value: Any) -> bool:
	return value is None or (isinstance(value, str) and not value.strip())


def _quote(value: Any) -> str:
	if isinstance(value, datetime):
		value = value.date() if value.time() == time(0) else value
	text = value.isoformat() if isinstance(value, date | datetime) else str(value)
	text = text.strip().replace("\n", " ")
	if len(text) > 60:
		text = text[:57] + "..."
	return f'"{text}"'


def _text(value: Any) -> str:
	"""A cell as text: whitespace collapsed; a whole float from a spreadsheet loses its ".0"."""
	if isinstance(value, float) and value.is_integer():
		value = int(value)
	if isinstance(value, datetime):
		value = value.date() if value.time() == time(0) else value
	if isinstance(value, date | datetime):
		value = value.isoformat()
	return " ".join(str(value).split())


def parse_date(value: Any) -> date:
	"""A date cell, or text as YYYY-MM-DD, DD/MM/YYYY, DD/MM/YY, DD-MM-YYYY or DD.MM.YYYY."""
	if isinstance(value, datetime):
		return value.date()
	if isinstance(value, date):
		return value
	if isinstance(value, bool) or not isinstance(value, str):
		raise _Bad(Text("{value} is not a date", value=_quote(value)))
	text = value.strip()
	match = _ISO_DATE.match(text)
	if match:
		year, month, day = (int(g) for g in match.groups())
	else:
		match = _DAY_FIRST.match(text)
		if not match:
			raise _Bad(Text("{value} is not a date (expected DD/MM/YYYY or YYYY-MM-DD)", value=_quote(value)))
		day, month, year = int(match.group(1)), int(match.group(3)), match.group(4)
		year = 2000 + int(year) if len(year) == 2 else int(year)
		if month > 12 and day <= 12:
			raise _Bad(Text("{value} is not a date (the day comes first: DD/MM/YYYY)", value=_quote(value)))
	try:
		return date(year, month, day)
	except ValueError:
		raise _Bad(Text("{value} is not a date", value=_quote(value)))


def _written_currency(text: str) -> tuple[str, frozenset[str] | None] | None:
	"""The currency an amount's text names (the symbols `parse_amount` ignores): (as written, the
	currencies it may be; None: any but the euro)."""
	upper = text.upper()
	for code in ("EUR", "CAD", "USD"):
		if code in upper:
			return code, frozenset((code,))
	if "€" in text:
		return "€", frozenset(("EUR",))
	if "$" in text:
		return "$", None
	return None


def _amount(
	value: Any,
	currency: str,
	*,
	zero_ok: bool,
	what: str,
	currency_given: bool | None = True,
	negative_ok: bool = False,
) -> Decimal:
	"""An amount cell. `currency_given`: the row gives its currency (False: the default is assumed;
	None: the currency cell is wrong, so a sign written in the amount is not compared with it)."""
	if isinstance(value, date | datetime | time):
		raise _Bad(Text("{value} is not an amount", value=_quote(value)))
	if isinstance(value, str) and _SYMBOL_INSIDE.search(value):
		# "12€50" is 12.50 €: parse_amount would drop the sign and read 1250
		raise _Bad(
			Text('{value}: the currency sign is inside the number; write "12,50 €"', value=_quote(value))
		)
	ambiguous = _AMBIGUOUS.match(_AMOUNT_NOISE.sub("", value)) if isinstance(value, str) else None
	if ambiguous and ambiguous.group(2).endswith("0") and quantum(currency) != 1:
		# Both readings are amounts of this currency ("10,005" is not: 3 decimals, refused below)
		# "1,440": 1 440 or 1,44? A person may mean either; a guess could ask 1 000 times too little
		whole, part = ambiguous.group(1), ambiguous.group(2)
		raise _Bad(
			Text(
				'{value} is ambiguous: {whole}{part} or {whole}.{short}? Write "{whole} {part},00" or "{whole},{short}"',
				value=_quote(value),
				whole=whole,
				part=part,
				short=part.rstrip("0") or "0",
			)
		)
	try:
		amount = parse_amount(value)
	except ValueError:
		raise _Bad(Text("{value} is not an amount", value=_quote(value)))
	written = _written_currency(value) if isinstance(value, str) else None
	if written is not None and currency_given is not None:
		symbol, allowed = written
		if (currency not in allowed) if allowed is not None else currency == "EUR":
			raise _Bad(
				Text(
					"{value} is written in {symbol} but the currency of the row is {currency}, as no currency is"
					" given: fill in the currency, or write the amount without a symbol"
					if not currency_given
					else "{value} is written in {symbol} but the currency of the row is {currency}:"
					" fill in the currency, or write the amount without a symbol",
					value=_quote(value),
					symbol=symbol,
					currency=currency,
				)
			)
	if abs(amount) >= _TOO_LARGE:
		raise _Bad(Text("{value} is too large to be an amount", value=_quote(value)))
	if isinstance(value, float):
		# A binary float from a spreadsheet (1439.9999999998): round it to the currency's cents
		amount = round_money(amount, currency)
	elif amount != amount.quantize(quantum(currency)):
		places = 0 if quantum(currency) == 1 else 2
		raise _Bad(
			Text(
				"{value} has more than {places} decimals for {currency}",
				value=_quote(value),
				places=places,
				currency=currency,
			)
		)
	if amount < 0 and not negative_ok:
		raise _Bad(
			Text("{value} is negative: {what} cannot be below 0", value=_quote(value), what=Text(what))
		)
	if amount == 0 and not zero_ok:
		raise _Bad(Text("{what} is 0", what=Text(what)))
	return amount + Decimal(0)  # drops a "-0"


def _currency(value: Any) -> str:
	text = _text(value)
	alias = _CURRENCY_ALIASES.get(text.casefold().replace(" ", ""))
	if alias:
		return alias
	if re.fullmatch(r"[A-Za-z]{3}", text):
		if text.upper() in ISO_CURRENCIES:
			return text.upper()
		raise _Bad(
			Text("{value} is not a currency code in use (ISO 4217: EUR, CAD, USD, …)", value=_quote(value))
		)
	raise _Bad(Text("{value} is not a currency code (EUR, CAD, …)", value=_quote(value)))


def _lookup(value: Any, table: dict[str, str], accepted: str) -> str:
	key = normalize_header(_text(value))
	# Only signs ("???", "*"): not a blank cell, whatever a blank cell means (a dash is one)
	found = table.get(key) if key or _text(value) in ("-", "–", "—") else None
	if found is None:
		raise _Bad(Text("{value} is not known (use {accepted})", value=_quote(value), accepted=accepted))
	return found


_EMAIL_SEPARATORS = re.compile(r"[;,\s]+")
_ADDRESS_LINES = re.compile(r"\r\n|\r|\n| / |\|")


def _emails(value: Any) -> str:
	parts = [p.strip() for p in _EMAIL_SEPARATORS.split(_text(value)) if p.strip()]
	for part in parts:
		if not _EMAIL.match(part):
			raise _Bad(Text("{value} is not an e-mail address", value=_quote(part)))
	return ", ".join(parts)


def _address(value: Any) -> tuple[str, ...]:
	lines = _ADDRESS_LINES.split(str(value))
	return tuple(" ".join(line.split()) for line in lines if line.strip())


def _scenario(value: Any) -> str:
	key = normalize_scenario(_text(value))
	if not _SCENARIO_KEY.match(key):
		raise _Bad(
			Text(
				"{value} is not a scenario key (e.g. standard, clients_douteux, preventif)",
				value=_quote(value),
			)
		)
	return key


def normalize_scenario(text: str) -> str:
	"""A scenario written by a person ("Clients douteux", "Préventif") -> its key (clients_douteux)."""
	decomposed = unicodedata.normalize("NFKD", text.strip()).casefold()
	plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
	return re.sub(r"\s+", "_", plain)


def _rate(value: Any, percent_cell: bool) -> ContractRate:
	if isinstance(value, bool) or isinstance(value, date | datetime | time):
		raise _Bad(Text("{value} is not a rate", value=_quote(value)))
	if isinstance(value, int | float):
		try:
			rate = parse_amount(value)
		except ValueError:
			raise _Bad(Text("{value} is not a rate", value=_quote(value)))
		if percent_cell:
			rate = (rate * 100).normalize()
		period = PER_YEAR
	else:
		match = _RATE.match(_text(value))
		if not match:
			raise _Bad(Text('{value} is not a rate (e.g. "12 %" or "1,5 % par mois")', value=_quote(value)))
		try:
			rate = parse_amount(match.group(1))
		except ValueError:
			raise _Bad(Text('{value} is not a rate (e.g. "12 %" or "1,5 % par mois")', value=_quote(value)))
		period = _RATE_PERIOD.get(normalize_header(match.group(2)))
		if period is None:
			raise _Bad(
				Text(
					"{value}: unknown period {period} (use per year, month or day)",
					value=_quote(value),
					period=_quote(match.group(2)),
				)
			)
	if rate <= 0:
		raise _Bad(Text("{value}: a rate must be above 0", value=_quote(value)))
	if ContractRate(rate, period).annual > 1000:
		raise _Bad(Text("{value} is not a plausible rate (over 1000 % a year)", value=_quote(value)))
	return ContractRate(rate, period)


# ---------------------------------------------------------------------------------------------------
# Sources: CSV and XLSX, as rows of cells


_NO_ISSUES: dict[int, str] = {}
_NO_CELLS: list = []
_NO_PERCENT: frozenset[int] = frozenset()


class _Row:
	"""One row of the file as read. Most rows have no cell issue and no percent cell: they share
	the empty defaults (a dict and a set made for each of 200,000 rows cost as much as reading them)."""

	__slots__ = ("broken", "cells", "issues", "number", "percent")

	def __init__(self, number: int, cells: list[Any], issues=_NO_ISSUES, percent=_NO_PERCENT, broken=False):
		self.number = number
		self.cells = cells
		# Column index -> a problem with the cell itself (a formula without a value, "#DIV/0!")
		self.issues: dict[int, str] = issues
		# Column indexes of cells formatted as percentages (XLSX)
		self.percent: set[int] | frozenset[int] = percent
		# The row itself could not be read (an error says why): it is left out, not parsed
		self.broken: bool = broken

	def add_issue(self, index: int, message: str) -> None:
		if self.issues is _NO_ISSUES:
			self.issues = {}
		self.issues[index] = message

	def add_percent(self, index: int) -> None:
		if self.percent is _NO_PERCENT:
			self.percent = set()
		self.percent.add(index)


class _FileError(Exception):
	pass


def _utf16_without_bom(data: bytes) -> str | None:
	"""UTF-16 without a byte-order mark (some exports): mostly ASCII text, so one byte of each pair is
	NUL. Read as cp1252 it would lose every character beyond Latin-1 ("€" would read "¬")."""
	if len(data) < 4 or len(data) % 2 or data.count(0) < len(data) // 4:
		return None  # too few NUL bytes for either order (counted without copying the bytes)
	pairs = len(data) // 2
	even, odd = data[0::2].count(0), data[1::2].count(0)
	if odd >= pairs // 2 and even <= odd // 10:
		return "utf-16-le"
	if even >= pairs // 2 and odd <= even // 10:
		return "utf-16-be"
	return None


def _decode(data: bytes) -> tuple[str, str]:
	utf16 = _utf16_without_bom(data) if not data.startswith((b"\xff\xfe", b"\xfe\xff")) else None
	if utf16 is not None:
		try:
			return data.decode(utf16), utf16
		except UnicodeDecodeError:
			pass
	if data.startswith(b"\xef\xbb\xbf"):
		try:
			return data[3:].decode("utf-8"), "utf-8-sig"
		except UnicodeDecodeError:
			pass
	elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
		try:
			return data.decode("utf-16"), "utf-16"
		except UnicodeDecodeError:
			raise _FileError(Text("starts like UTF-16 text but cannot be decoded"))
	else:
		try:
			return data.decode("utf-8"), "utf-8"
		except UnicodeDecodeError:
			pass
	try:
		return data.decode("cp1252"), "cp1252"
	except UnicodeDecodeError:
		return data.decode("latin-1"), "latin-1"


def _first_records(text: str, delimiter: str, limit: int = 30) -> list[list[str]]:
	"""The first `limit` non-empty records (a title may come above the header)."""
	reader = csv.reader(io.StringIO(text[:200_000], newline=""), delimiter=delimiter)
	records = []
	try:
		for record in reader:
			if any(cell.strip() for cell in record):
				records.append(record)
				if len(records) >= limit:
					break
	except csv.Error:
		pass
	return records


def _sniff(text: str) -> str:
	"""The delimiter giving a row with the most known columns (then the widest first row)."""
	best, best_score = DELIMITERS[0], (-1, -1)
	for delimiter in DELIMITERS:
		records = _first_records(text, delimiter)
		known = max(
			(sum(1 for cell in record if normalize_header(cell) in _HEADER_INDEX) for record in records),
			default=0,
		)
		score = (known, len(records[0]) if records else 0)
		if score > best_score:
			best, best_score = delimiter, score
	return best


def _csv_rows(path: Path, register: Register) -> tuple[list[_Row], list[RegisterError]]:
	name = path.name
	try:
		data = path.read_bytes()
	except OSError as exc:
		raise _FileError(Text("cannot be read ({reason})", reason=exc.strerror or str(exc)))
	text, encoding = _decode(data)
	register.encoding = encoding
	if encoding in ("cp1252", "latin-1"):
		label = "Windows-1252 (cp1252)" if encoding == "cp1252" else "Latin-1"
		register.warnings.append(Text("{file}: not UTF-8; read as {encoding}", file=name, encoding=label))
	if "\x00" in text:
		register.warnings.append(
			Text(
				"{file}: {n} NUL character(s) removed (a damaged or binary file?)",
				file=name,
				n=text.count(chr(0)),
			)
		)
		text = text.replace("\x00", "")
	first_line = text.split("\n", 1)[0].strip()
	sep_hint = re.fullmatch(r'"?sep=(.)"?', first_line)
	if sep_hint:
		# Excel's "sep=;" line: Excel does not show it, so the header stays row 1
		delimiter = sep_hint.group(1)
		text = text.split("\n", 1)[1] if "\n" in text else ""
	else:
		delimiter = _sniff(text)
	register.delimiter = delimiter
	rows: list[_Row] = []
	errors: list[RegisterError] = []
	skipped_lines = 1 if sep_hint else 0  # for line numbers in messages
	header: list[str] | None = None
	number = start = 0

	def unclosed(row: _Row, column: str | None, to_the_end: bool = False) -> None:
		first = start + 1 + skipped_lines
		end = (
			Text("the end of the file") if to_the_end else Text("line {n}", n=reader.line_num + skipped_lines)
		)
		message = Text(
			'a quote (") opened in this cell is never closed: from line {first} to {end}, the file was'
			" read as this one row; close the quote (or remove it), then read the file again",
			first=first,
			end=end,
		)
		errors.append(RegisterError(name, row.number, column, message))
		row.broken = True

	del data  # the text is decoded: the bytes are let go (a large file is read in memory)
	records = _one_line_records(text, delimiter)
	if records is not None:
		# Every record is one line of the file: no quote swallows the next rows; only the last line
		# may leave a quote open (Python's reader accepts one at the end of the file)
		rows = list(map(_Row, range(1, len(records) + 1), records))
		header = next((r for r in records if sum(1 for cell in r if cell.strip()) > 1), None)
		if header is not None and '"' in text and rows[-1].cells is not header:
			body = text.rstrip("\r\n")
			try:
				for _ in csv.reader([body[body.rfind("\n") + 1 :]], delimiter=delimiter, strict=True):
					pass
			except csv.Error as exc:
				if "unexpected end of data" in str(exc):
					start = len(records) - 1
					unclosed(rows[-1], _header_at(header, len(rows[-1].cells) - 1), to_the_end=True)
		return rows, errors
	reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
	while True:
		before = reader.line_num
		try:
			record = next(reader)
		except StopIteration:
			break
		except csv.Error as exc:
			# The reader goes on with the next line: this row is an error, the others are read
			number += 1
			errors.append(
				RegisterError(name, number, None, Text("cannot be read as CSV ({reason})", reason=str(exc)))
			)
			rows.append(_Row(number, [], broken=True))
			continue
		start = before
		number += 1
		row = _Row(number, record)
		rows.append(row)
		if header is None:
			if sum(1 for cell in record if cell.strip()) > 1:
				header = record
			continue
		if reader.line_num - before > 1:  # only a record over several lines may hold the next rows
			index = _swallowing_cell(record, len(header), delimiter)
			if index is not None:
				unclosed(row, _header_at(header, index))
	if header is not None and rows and rows[-1].cells is not header and not rows[-1].broken:
		# Python's reader accepts a quote left open at the end of the file: read the last row again,
		# strictly, to tell
		last = rows[-1]
		tail = itertools.islice(io.StringIO(text, newline=""), start, None)
		try:
			for _ in csv.reader(tail, delimiter=delimiter, strict=True):
				pass
		except csv.Error as exc:
			if "unexpected end of data" in str(exc):
				unclosed(last, _header_at(header, len(last.cells) - 1), to_the_end=True)
	return rows, errors


def _one_line_records(text: str, delimiter: str) -> list[list[str]] | None:
	"""Every record at once when each is one line of the file (the usual case); None otherwise, and
	then they are read one by one, watching for a quote that swallows the next lines."""
	if text.count("\r") != text.count("\r\n"):
		return None  # lines ended by "\r" alone: counted one by one
	lines = text.count("\n") + (0 if not text or text.endswith("\n") else 1)
	try:
		records = list(csv.reader(_lines(text), delimiter=delimiter))
	except csv.Error:
		return None
	return records if len(records) == lines else None


def _lines(text: str):
	"""The lines of a text ended by "\n" or "\r\n", one after the other (io.StringIO would hold a
	copy of the whole text four bytes a character)."""
	find, start, size = text.find, 0, len(text)
	while start < size:
		end = find("\n", start)
		if end < 0:
			yield text[start:]
			return
		yield text[start : end + 1]
		start = end + 1


def _header_at(header: list[str], index: int) -> str | None:
	if 0 <= index < len(header) and header[index].strip():
		return " ".join(header[index].split())
	return None


def _swallowing_cell(record: list[str], width: int, delimiter: str) -> int | None:
	"""The index of a cell that holds the next rows of the file because its quote was not closed:
	a cell over several lines whose following lines look like rows: they hold the delimiter (";" or
	a tab: never in an address or a name), or several commas, or one when the row is short of cells.
	A quoted address over two lines is fine."""
	needed = 1 if len(record) < width or delimiter != "," else 3
	for index, cell in enumerate(record):
		parts = cell.splitlines()
		if len(parts) > 1 and any(part.count(delimiter) >= needed for part in parts[1:]):
			return index
	return None


# Whether XLSX is read with python-calamine when it is installed (False: always openpyxl, as tests do)
_CALAMINE = True


def _xlsx_rows(
	path: Path, register: Register, sheet: str | None = None, customers: bool = False
) -> tuple[list[_Row], list[RegisterError]]:
	"""The rows of the invoices sheet (the active one, unless it is the customers' sheet), or of
	`sheet` when given; with `customers`, of a customers workbook's customers sheet (else its active
	one). python-calamine reads the values (ten times faster than openpyxl); what it
	does not tell (formulas, error cells, percent formats, the active sheet) is read from the
	workbook's XML; openpyxl reads whatever calamine cannot (not installed, a layout not understood,
	a file it fails on), the same way as before."""
	read = _calamine_rows(path, sheet, customers) if _CALAMINE else None
	if read is None:
		return _openpyxl_rows(path, register, sheet, customers)
	rows, names, title, customer_sheet = read
	_note_sheet(register, path, names, title, customer_sheet, sheet)
	return rows, []


def _pick_sheet(
	names: list[str], active: str, worksheets: list[str], customers: bool = False
) -> tuple[str, str | None]:
	"""The sheet to read when none is named (the active one, unless it is the customers' sheet; with
	`customers`, the customers' sheet if there is one) and the customers' sheet, if any."""
	customer_sheet = next((n for n in names if normalize_header(n) in CUSTOMER_SHEETS), None)
	if customers:
		return (customer_sheet if customer_sheet in worksheets else active), customer_sheet
	title = active
	if title == customer_sheet and len(names) > 1:
		title = next(n for n in worksheets if n != customer_sheet)
	return title, customer_sheet


def _note_sheet(
	register: Register,
	path: Path,
	names: list[str],
	title: str,
	customer_sheet: str | None,
	sheet: str | None,
) -> None:
	if sheet:
		return
	register.customer_sheet = customer_sheet
	others = [n for n in names if n not in (title, customer_sheet)]
	if others:
		register.warnings.append(
			Text(
				"{file}: read the sheet {sheet} (the workbook has {n} sheets)",
				file=path.name,
				sheet=repr(title),
				n=len(names),
			)
		)
	register.sheet = title


def _column_letter(index: int) -> str:
	"""0 -> "A", 27 -> "AB"."""
	letters = ""
	index += 1
	while index:
		index, rest = divmod(index - 1, 26)
		letters = chr(65 + rest) + letters
	return letters


def _error_issue(index: int, number: int, error: Any) -> Text:
	return Text("cell {cell} shows the error {error}", cell=f"{_column_letter(index)}{number}", error=error)


def _formula_issue(index: int, number: int, formula: Any) -> Text:
	text = _text(formula)
	text = text if len(text) <= 60 else text[:59] + "…"
	return Text(
		"cell {cell} is a formula ({formula}) without a saved value: open the file in Excel or LibreOffice"
		" and save it (formulas are not computed here)",
		cell=f"{_column_letter(index)}{number}",
		formula=text,
	)


def _openpyxl_rows(
	path: Path, register: Register, sheet: str | None = None, customers: bool = False
) -> tuple[list[_Row], list[RegisterError]]:
	"""`_xlsx_rows` through openpyxl (read-only): when python-calamine is not installed or cannot tell."""
	try:
		import openpyxl
		from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula
	except ImportError:
		raise _FileError(Text("reading .xlsx needs openpyxl (pip install openpyxl)"))
	try:
		values_book = openpyxl.load_workbook(path, read_only=True, data_only=True)
	except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
		raise _FileError(
			Text("is not a readable .xlsx workbook ({reason})", reason=f"{type(exc).__name__}: {exc}")
		)
	formula_book = None
	rows: list[_Row] = []
	try:
		names = values_book.sheetnames
		if sheet:
			values_sheet = values_book[sheet]
		else:
			active = values_book.active or values_book.worksheets[0]
			title, customer_sheet = _pick_sheet(
				names, active.title, [s.title for s in values_book.worksheets], customers
			)
			values_sheet = values_book[title]
			_note_sheet(register, path, names, title, customer_sheet, sheet)
		title = values_sheet.title
		# Which cells hold a formula: found in the sheet's XML in one pass (a second openpyxl reading
		# of the whole workbook, the way it was done before, took as long as the first one)
		formulas = _formula_cells(values_sheet)
		if formulas is None:
			formula_book = openpyxl.load_workbook(path, read_only=True, data_only=False)
			formula_sheet = formula_book[title]
			if hasattr(formula_sheet, "reset_dimensions"):
				formula_sheet.reset_dimensions()
			formula_rows = formula_sheet.iter_rows()
		if hasattr(values_sheet, "reset_dimensions"):
			values_sheet.reset_dimensions()  # never trust a saved dimension: it may cut rows off
		for number, value_cells in enumerate(values_sheet.iter_rows(), start=1):
			formula_cells = next(formula_rows, ()) if formulas is None else ()
			row = _Row(number, [])
			for index, cell in enumerate(value_cells):
				value = getattr(cell, "value", None)
				kind = getattr(cell, "data_type", None)
				if formulas is None:
					source = formula_cells[index] if index < len(formula_cells) else None
					formula = getattr(source, "value", None)
					is_formula = getattr(source, "data_type", None) == "f" or isinstance(
						formula, ArrayFormula | DataTableFormula
					)
				else:
					formula = formulas.get((number, index))
					is_formula = formula is not None
				if kind == "e" and value is not None:
					row.add_issue(index, _error_issue(index, number, value))
					value = None
				elif is_formula and value is None:
					row.add_issue(index, _formula_issue(index, number, getattr(formula, "text", formula)))
				if isinstance(value, int | float) and "%" in str(getattr(cell, "number_format", "") or ""):
					row.add_percent(index)
				row.cells.append(value)
			rows.append(row)
	except Exception as exc:
		if rows:
			reason = Text(
				"is not a readable .xlsx workbook ({reason}, while reading row {row})",
				reason=f"{type(exc).__name__}: {exc}",
				row=len(rows) + 1,
			)
		else:
			reason = Text(
				"is not a readable .xlsx workbook ({reason})", reason=f"{type(exc).__name__}: {exc}"
			)
		raise _FileError(reason)
	finally:
		values_book.close()
		if formula_book is not None:
			formula_book.close()
	return rows, []


# A cell with content (a self-closing <c .../> has no formula: the look-behind leaves it out)
_XML_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?<!/)>(.*?)</(?:\w+:)?c>", re.S)
_XML_CELL_REF = re.compile(rb'\br="([A-Z]{1,3})([0-9]+)"')
_XML_FORMULA = re.compile(rb"<(?:\w+:)?f\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?f>)", re.S)


def _formula_cells(sheet) -> dict[tuple[int, int], str] | None:
	"""{(row, column index): "=formula"} for the sheet's formula cells, read from its XML ("=" alone
	for a cell sharing another's formula); None when the XML is not laid out as expected (the caller
	then reads the formulas with openpyxl)."""
	from html import unescape

	from openpyxl.utils import column_index_from_string

	archive = getattr(getattr(sheet, "parent", None), "_archive", None)
	part = getattr(sheet, "_worksheet_path", None)
	if archive is None or not part:
		return None
	try:
		xml = archive.read(part)
	except Exception:
		return None
	if b"<f" not in xml and b":f" not in xml:
		return {}
	found: dict[tuple[int, int], str] = {}
	for match in _XML_CELL.finditer(xml):
		attributes, body = match.groups()
		formula = _XML_FORMULA.search(body)
		if formula is None:
			continue
		ref = _XML_CELL_REF.search(attributes)
		if ref is None:
			return None  # a cell without its reference: let openpyxl place it
		text = unescape((formula.group(1) or b"").decode("utf-8", "replace"))
		found[(int(ref.group(2)), column_index_from_string(ref.group(1).decode()) - 1)] = "=" + text
	return found


# ---------------------------------------------------------------------------------------------------
# XLSX through python-calamine, and what it does not tell read from the workbook's XML


class _NotForCalamine(Exception):
	"""The workbook is laid out in a way the calamine path does not read: openpyxl reads it."""


# Number formats built into Excel that show a percentage (0%, 0.00%); a workbook's own are in styles.xml
_PERCENT_FORMATS = frozenset((9, 10))
# Past this many cells (width x height of the used range), calamine's dense grid of 32-byte cells is
# only allowed when the sheet's XML is big enough to hold that many cells (one far cell, "XFD1",
# would make calamine allocate gigabytes and abort the process): openpyxl reads such a sheet
_DENSE_CELLS = 16_000_000
_SCAN_CHUNK = 1 << 22
_XML_CELL_START = re.compile(rb'<(\w+:)?c\b[^>]*?\sr="([A-Z]{1,3})([0-9]+)"')
_XML_ANY_CELL = re.compile(rb"<(?:\w+:)?c[\s>/]")
_XML_ERROR_TYPE = re.compile(rb'\st\s*=\s*"e"')
_XML_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
# A cell past column Z (no "\s" in front: it would cost the search for the literal 'r="', ten times
# as fast)
_XML_FAR = re.compile(rb'r="[A-Z]{2}')
_XML_FAR_REFS = re.compile(rb'r="([A-Z]{2,3})[0-9]')
_XML_ROW_NUMBER = re.compile(rb'<(?:\w+:)?row\b[^>]*?\sr="([0-9]+)"')


def _column_index(letters: bytes) -> int:
	"""b"A" -> 0, b"AB" -> 27."""
	index = 0
	for letter in letters:
		index = index * 26 + letter - 64
	return index - 1


@dataclass
class _SheetXml:
	"""What calamine does not tell about a sheet's cells, read from its XML: (row, column index) ->"""

	formulas: dict[tuple[int, int], str] = field(default_factory=dict)  # "=formula"
	errors: dict[tuple[int, int], str] = field(default_factory=dict)  # "#DIV/0!"
	percent: list[tuple[int, int]] = field(default_factory=list)  # formatted as a percentage


def _local(tag: str) -> str:
	return tag.rsplit("}", 1)[-1]


def _xml_attribute(element, name: str) -> str | None:
	for key, value in element.attrib.items():
		if _local(key) == name:
			return value
	return None


def _part_path(base: str, target: str) -> str:
	"""A relationship's target as a path in the archive ("worksheets/sheet1.xml" from "xl/")."""
	import posixpath

	if target.startswith("/"):
		return target.lstrip("/")
	return posixpath.normpath(posixpath.join(posixpath.dirname(base), target))


def _workbook_xml(archive) -> tuple[list[str], int, dict[str, str], frozenset[bytes]]:
	"""(sheet names, the active sheet's index, name -> its part in the archive, the style indexes
	(as written in the sheet's XML) whose number format shows a percentage)."""
	from defusedxml import ElementTree

	files = set(archive.namelist())
	book = "xl/workbook.xml"
	root = ElementTree.fromstring(archive.read("_rels/.rels"))
	for rel in root:
		if (rel.get("Type") or "").endswith("/officeDocument"):
			book = _part_path("", rel.get("Target") or "")
	rels_part = _part_path(book, "_rels/" + book.rsplit("/", 1)[-1] + ".rels")
	targets: dict[str, tuple[str, str]] = {}
	for rel in ElementTree.fromstring(archive.read(rels_part)):
		targets[rel.get("Id") or ""] = (rel.get("Type") or "", _part_path(book, rel.get("Target") or ""))
	workbook = ElementTree.fromstring(archive.read(book))
	names: list[str] = []
	parts: dict[str, str] = {}
	active = None
	for element in workbook.iter():
		tag = _local(element.tag)
		if tag == "workbookView" and element.get("activeTab") is not None and active is None:
			active = int(element.get("activeTab"))  # the first view's, as openpyxl
		elif tag == "sheet":
			kind, part = targets.get(_xml_attribute(element, "id") or "", ("", ""))
			if part not in files:
				raise _NotForCalamine("a sheet without its part")  # openpyxl leaves it out
			names.append(element.get("name") or "")
			if kind.endswith("/worksheet"):
				parts[names[-1]] = part
	styles = next((part for kind, part in targets.values() if kind.endswith("/styles")), None)
	percent: set[bytes] = set()
	if styles in files:
		stylesheet = ElementTree.fromstring(archive.read(styles))
		custom = {}
		for element in stylesheet.iter():
			if _local(element.tag) == "numFmt":
				custom[int(element.get("numFmtId") or -1)] = element.get("formatCode") or ""
		for element in stylesheet:
			if _local(element.tag) != "cellXfs":
				continue
			for index, xf in enumerate(x for x in element if _local(x.tag) == "xf"):
				number_format = int(xf.get("numFmtId") or 0)
				if "%" in custom.get(number_format, "") or (
					number_format not in custom and number_format in _PERCENT_FORMATS
				):
					percent.add(str(index).encode())
	if b"0" in percent:
		raise _NotForCalamine("cells without a style show percentages")  # every number would be one
	return names, active or 0, parts, frozenset(percent)


def _sheet_pieces(handle, head: bytes, row_end: bytes, data_end: bytes):
	"""The sheet's XML up to the end of its cells, in pieces that end with a whole row: (bytes, where
	the piece ends in them); no copy of a piece but for the row cut at its end."""
	tail, chunk = b"", head
	while True:
		data = tail + chunk if tail else chunk
		stop = data.find(data_end)
		if stop >= 0 or not chunk:
			yield data, stop if stop >= 0 else len(data)
			return
		cut = data.rfind(row_end)
		if cut < 0:
			tail = data
		else:
			cut += len(row_end)
			yield data, cut
			tail = data[cut:]
		chunk = handle.read(_SCAN_CHUNK)


def _scan_sheet_xml(archive, part: str, percent_styles: frozenset[bytes]) -> _SheetXml:
	"""The sheet's formula cells, error cells and cells formatted as percentages, found in its XML
	read in pieces: a search for a few exact byte strings (about a fifth of calamine's time on a
	sheet without any; one regular expression finding them all took longer than calamine)."""
	from html import unescape

	found = _SheetXml()
	info = archive.getinfo(part)
	max_column = 25  # no cell beyond column Z until one is found
	last_row = 0
	with archive.open(info) as handle:
		head = handle.read(_SCAN_CHUNK)
		root = re.search(rb"<(\w+:)?worksheet\b", head)
		if root is None:
			raise _NotForCalamine("no worksheet element")
		prefix = root.group(1) or b""
		if re.search(rb"\s[rst]\s*=\s*'", head):
			raise _NotForCalamine("attributes in single quotes")
		formula_needle, cell_end = b"<" + prefix + b"f", b"</" + prefix + b"c>"
		prefix_group = prefix or None  # the tag's prefix as the match gives it
		columns: dict[bytes, int] = {}
		percent = found.percent
		style_needles = [b's="' + style + b'"' for style in sorted(percent_styles)]
		pieces = _sheet_pieces(handle, head, b"</" + prefix + b"row>", b"</" + prefix + b"sheetData>")
		for data, end in pieces:

			def cell_at(position: int, data=data) -> tuple[int, int, int] | None:
				"""(row, column index, where its start tag begins) of the cell whose start tag holds
				`position` or ends just before it; None: not in a cell's start tag."""
				start = data.rfind(b"<", 0, position)
				tag = _XML_CELL_START.match(data, start) if start >= 0 else None
				if tag is None or (tag.group(1) or b"") != prefix:
					if start >= 0 and _XML_ANY_CELL.match(data, start):
						raise _NotForCalamine("a cell without its reference")
					return None
				return int(tag.group(3)), _column_index(tag.group(2)), start

			position = data.find(formula_needle, 0, end)
			while position >= 0:
				formula = _XML_FORMULA.match(data, position, end)
				if formula is not None:
					cell = cell_at(position)
					if cell is None or data[data.find(b">", cell[2]) + 1 : position].strip():
						raise _NotForCalamine("a formula outside a cell")
					text = unescape((formula.group(1) or b"").decode("utf-8", "replace"))
					found.formulas[cell[:2]] = "=" + text
				position = data.find(formula_needle, position + 2, end)
			position = data.find(b'"e"', 0, end)
			while position >= 0:
				cell = cell_at(position)
				opened = data.find(b">", cell[2]) if cell is not None else -1
				if opened > position and _XML_ERROR_TYPE.search(data, cell[2], opened):
					if data[opened - 1] != 47:  # <c r="A1" t="e"/>: no value, no error shown
						shown = _XML_VALUE.search(data, opened, data.find(cell_end, opened, end))
						if shown is not None and shown.group(1):
							found.errors[cell[:2]] = unescape(shown.group(1).decode("utf-8", "replace"))
				position = data.find(b'"e"', position + 3, end)
			for needle in style_needles:
				position = data.find(needle, 0, end)
				while position >= 0:
					# The attribute s itself (after a space) in a cell's start tag (cell_at, inlined: there
					# may be one on every row); the nearest "<" before it is that tag's (a cell holds no text)
					start = data.rfind(b"<", 0, position)
					tag = _XML_CELL_START.match(data, start) if data[position - 1] in b" \t\r\n" else None
					if tag is not None and tag.group(1) == prefix_group:
						letters = tag.group(2)
						index = columns.get(letters)
						if index is None:
							index = columns[letters] = _column_index(letters)
						percent.append((int(tag.group(3)), index))
					elif tag is None and start >= 0 and _XML_ANY_CELL.match(data, start):
						cell_at(position)  # raises for a cell without its reference
					position = data.find(needle, position + len(needle), end)
			if _XML_FAR.search(data, 0, end):
				for letters in _XML_FAR_REFS.findall(data, 0, end):
					max_column = max(max_column, _column_index(letters))
			last = _XML_ROW_NUMBER.match(data, max(0, data.rfind(b"<" + prefix + b"row", 0, end)), end)
			if last is not None:
				last_row = max(last_row, int(last.group(1)))
	if (max_column + 1) * last_row > max(_DENSE_CELLS, info.file_size // 4):
		raise _NotForCalamine("a sheet much wider or taller than its cells")
	return found


def _calamine_rows(
	path: Path, sheet: str | None, customers: bool = False
) -> tuple[list[_Row], list[str], str, str | None] | None:
	"""`_xlsx_rows` through python-calamine: (rows, sheet names, the sheet read, the customers'
	sheet); None when calamine is not installed or cannot tell (openpyxl then reads the file)."""
	try:
		from python_calamine import CalamineWorkbook
	except ImportError:
		return None
	import gc

	# Two lists and a row object per row, 200,000 times: the garbage collector, run again and again
	# over them, took twice as long as making them (nothing here makes a reference cycle)
	collecting = gc.isenabled()
	gc.disable()
	try:
		return _calamine_read(path, sheet, customers, CalamineWorkbook)
	finally:
		if collecting:
			gc.enable()


def _calamine_read(path: Path, sheet: str | None, customers: bool, CalamineWorkbook) -> tuple | None:
	import zipfile

	try:
		with zipfile.ZipFile(path) as archive:
			names, active, parts, percent_styles = _workbook_xml(archive)
			if sheet:
				title, customer_sheet = sheet, None
			else:
				if not 0 <= active < len(names):
					# openpyxl: the first worksheet
					active = next((i for i, n in enumerate(names) if n in parts), -1)
					if active < 0:
						return None
				worksheets = [n for n in names if n in parts]
				title, customer_sheet = _pick_sheet(names, names[active], worksheets, customers)
			if title not in parts:
				return None  # not a worksheet (a chart sheet), or no such sheet: openpyxl says so
			# calamine lets the interpreter go while it reads the sheet: the sheet's XML is scanned
			# meanwhile (200,000 rows: 2.1 s and 0.7 s, one after the other before)
			grid_read: dict[str, Any] = {}
			reader = threading.Thread(
				target=_calamine_grid, args=(path, names, title, CalamineWorkbook, grid_read), daemon=True
			)
			reader.start()
			try:
				xml = _scan_sheet_xml(archive, parts[title], percent_styles)
			finally:
				reader.join()
		if "error" in grid_read:
			raise grid_read["error"]
		if "values" not in grid_read:
			return None  # the sheets calamine sees are not the workbook's
		start, end, values = grid_read["start"], grid_read["end"], grid_read["values"]
	except _NotForCalamine:
		return None
	except (KeyboardInterrupt, SystemExit):
		raise
	except BaseException:
		# A damaged or foreign file: openpyxl reads it or says why, as before (a panic in calamine is
		# pyo3's PanicException, a BaseException)
		return None
	if start is not None and (len(values) != end[0] + 1 or (values and len(values[0]) != end[1] + 1)):
		return None  # a grid not anchored at A1: rows or columns would shift
	rows = _calamine_cells(values)
	if rows is None:
		return None
	for (number, index), error in xml.errors.items():
		row = _grow(rows, number, index)
		row.cells[index] = None
		row.add_issue(index, _error_issue(index, number, error))
	for (number, index), formula in xml.formulas.items():
		row = _grow(rows, number, index)
		if row.cells[index] is None and index not in row.issues:
			row.add_issue(index, _formula_issue(index, number, formula))
	for number, index in xml.percent:
		if number <= len(rows):
			cells = rows[number - 1].cells
			if index < len(cells) and isinstance(cells[index], int | float):
				rows[number - 1].add_percent(index)
	return rows, names, title, customer_sheet


def _calamine_grid(path: Path, names: list[str], title: str, CalamineWorkbook, result: dict) -> None:
	"""calamine's values of the sheet `title` into `result` (start, end, values), or the exception it
	raised (error); nothing when its sheets are not `names`. Run in a thread beside the XML scan."""
	try:
		workbook = CalamineWorkbook.from_path(str(path))
		try:
			if list(workbook.sheet_names) != names:
				return
			grid = workbook.get_sheet_by_name(title)
			result["start"], result["end"] = grid.start, grid.end
			result["values"] = grid.to_python(skip_empty_area=False)
		finally:
			workbook.close()
	except BaseException as exc:  # given to the caller, which decides
		result["error"] = exc


class _NaN(Exception):
	pass


def _nan() -> None:
	raise _NaN


def _calamine_cells(values: list[list[Any]]) -> list[_Row] | None:
	"""calamine's values as openpyxl gives them: an empty cell None (calamine gives ""), a whole number
	an int below 10^16 (calamine gives 1440.0; openpyxl reads "1440" as Excel and openpyxl write it,
	"1e+16" and "1.5" as floats: "46112" in a message, not "46112.0"); None when a cell is NaN
	(openpyxl refuses the file: it still does)."""
	whole = float.is_integer
	rows: list[_Row] = []
	append = rows.append
	try:
		for number, cells in enumerate(values, start=1):
			values[number - 1] = None  # calamine's row is freed as soon as it is copied
			append(
				_Row(
					number,
					[
						None
						if v == ""
						else (
							v
							if v.__class__ is not float
							else (int(v) if whole(v) and -1e16 < v < 1e16 else v if v == v else _nan())
						)
						for v in cells
					],
				)
			)
	except _NaN:
		return None
	return rows


def _grow(rows: list[_Row], number: int, index: int) -> _Row:
	"""Row `number` (from 1), with a cell at `index`: calamine's grid ends at the last cell with a
	value, a formula without one may be past it."""
	while len(rows) < number:
		rows.append(_Row(len(rows) + 1, []))
	row = rows[number - 1]
	if len(row.cells) <= index:
		row.cells.extend([None] * (index + 1 - len(row.cells)))
	return row


# ---------------------------------------------------------------------------------------------------
# Reading


class _Parsed(NamedTuple):
	"""One row read without error: the invoice's fields (a tuple: 200,000 of them are made)."""

	row: int
	invoice: str
	customer: str
	currency: str
	issued: date | None
	due: date
	amount: Decimal
	paid: Decimal
	paid_on: date | None
	status: str
	reason: str
	until: date | None
	credit: bool = False
	against: str = ""
	reminded_on: date | None = None
	reminder_step: str = ""
	registered_number: str = ""
	delivered_on: date | None = None


# Customer attributes that must agree between the rows of one customer (empty cells don't count)
_CUSTOMER_FIELDS = ("email", "kind", "country", "language", "scenario", "address", "phone", "contract_rate")


_COUNTRY_AT = _CUSTOMER_FIELDS.index("country")
_LANGUAGE_AT = _CUSTOMER_FIELDS.index("language")
_ZERO = Decimal(0)
_SLOW = object()  # a cell with something to say: its row is read by read_row, which words it
_DIGITS = frozenset("0123456789")


# Amount cells whose text is plain digits (French or English decimal mark, spaces between thousands):
# read with Decimal at once; anything else (a sign, a symbol, "1,440") goes through _amount
# Cells that may key a memo as they are: no two of them equal unless they are the same value
_UNTYPED_KEYS = frozenset((str, type(None), date, datetime))
_PLAIN_AMOUNT = re.compile(r"\d{1,15}(?:\.\d{1,2})?")
_PLAIN_AMOUNT_TEXT = str.maketrans({" ": None, "\u00a0": None, "\u202f": None, ",": "."})


# A column's filled cells joined by "\n", spaces dropped and "," made ".": all plain amounts
# (possessive: nothing to try again once a number is read, four times faster over 200,000 cells)
_PLAIN_AMOUNTS = re.compile(r"(?:\d{1,15}+(?:\.\d{1,2}+)?+\n)*+\d{1,15}+(?:\.\d{1,2}+)?+")


def _plain_amounts(column: list, text_only: bool, numbers_ok: bool) -> list | None:
	"""A column's amounts (None: an empty cell) when each filled cell is text holding a plain amount,
	checked in one regular expression over the whole column, or (`numbers_ok`: every currency has
	cents) a workbook's number of at most two decimals; None when any is not (then each cell is looked
	at on its own, by _amount)."""
	if not text_only:
		kinds = set(map(type, column))
		if not kinds <= {str, type(None)}:
			return _plain_numbers(column, kinds) if numbers_ok else None
	if all(column):
		filled, texts = None, column
	else:
		filled = list(itertools.compress(range(len(column)), column))
		if not filled:
			return [None] * len(column)
		texts = [column[p] for p in filled]
	joined = "\n".join(texts)
	if joined.count("\n") != len(texts) - 1:
		return None  # a cell holds a line break
	joined = joined.replace(" ", "").replace("\u00a0", "").replace("\u202f", "").replace(",", ".")
	if _PLAIN_AMOUNTS.fullmatch(joined) is None:
		return None
	amounts = list(map(Decimal, joined.split("\n")))
	if filled is None:
		return amounts
	values: list = [None] * len(column)
	for p, amount in zip(filled, amounts, strict=True):
		values[p] = amount
	return values


def _plain_numbers(column: list, kinds: set) -> list | None:
	"""A workbook's column of numbers (and empty cells), each of at most two decimals and 15 digits,
	read as _amount reads them: an int as it is, a float rounded to the cent (its shortest repr is what
	was typed); None when any cell is something else (text, a boolean, 1e+16, a negative amount, a
	float's binary noise)."""
	if not kinds <= {int, float, type(None)}:
		return None
	filled = list(
		itertools.compress(range(len(column)), map(operator.is_not, column, itertools.repeat(None)))
	)
	if not filled:
		return [None] * len(column)
	numbers = column if len(filled) == len(column) else [column[p] for p in filled]
	texts = list(map(repr, numbers))
	joined = "\n".join(texts)
	if _PLAIN_AMOUNTS.fullmatch(joined) is None:
		return None
	amounts = list(map(Decimal, texts))
	if float in kinds:
		amounts = [
			amount.quantize(CENT) if number.__class__ is float else amount
			for amount, number in zip(amounts, numbers, strict=True)
		]
	if numbers is column:
		return amounts
	values: list = [None] * len(column)
	for p, amount in zip(filled, amounts, strict=True):
		values[p] = amount
	return values


def _transposed(cells: list[list], width: int) -> list[list]:
	"""The columns of rows of `width` cells, made a few thousand rows at a time: twice as fast as one
	zip(*cells) over 200,000 rows, whose columns do not fit the processor's cache."""
	columns: list[list] = [[] for _ in range(width)]
	for start in range(0, len(cells), 4096):
		for column, part in zip(columns, zip(*cells[start : start + 4096], strict=True), strict=True):
			column.extend(part)
	return columns


def _customers_attributes(
	by_column: list, columns: dict[str, int], customers: list, parsers: dict, text_only: bool, refuse
) -> list[tuple] | None:
	"""Each row's customer attributes (in _CUSTOMER_FIELDS' order, None: an empty cell, _SLOW: an
	unreadable one, its row refused) when every attribute cell is text: a customer's rows nearly
	always repeat the same cells, so each row's cells are compared with its customer's first row's
	(no hashing of 1.6 million cells) and each distinct set of cells is parsed once. None when a
	workbook's cells are numbers or dates (1, 1.0 and True are equal but read apart): then each
	column is read on its own."""
	given = [(position, columns[key]) for position, key in enumerate(_CUSTOMER_FIELDS) if key in columns]
	cells = [by_column[index] for _position, index in given]
	if not text_only and any(not set(map(type, column)) <= {str, type(None)} for column in cells):
		return None
	rows = list(zip(*cells, strict=True)) if cells else [()] * len(customers)
	first: dict = {}
	firsts = list(map(first.setdefault, customers, rows))  # each row's customer's first cells
	parsed: dict[int, tuple] = {}  # id(cells) -> the attributes they give (the cells are kept alive)
	memos = [{} for _ in given]
	slow: set[int] = set()

	def attributes_of(row_cells: tuple) -> tuple:
		values: list = [None] * len(_CUSTOMER_FIELDS)
		for (position, _index), memo, value in zip(given, memos, row_cells, strict=True):
			if value in memo:
				values[position] = memo[value]
				continue
			if _empty(value):
				result = None
			else:
				try:
					result = parsers[_CUSTOMER_FIELDS[position]](value, False)
				except _Bad:
					result = _SLOW
			memo[value] = values[position] = result
		attributes = tuple(values)
		parsed[id(row_cells)] = attributes
		if _SLOW in attributes:
			slow.add(id(attributes))
		return attributes

	for row_cells in first.values():
		attributes_of(row_cells)
	result = list(map(parsed.__getitem__, map(id, firsts)))
	# The rare row whose cells differ from its customer's first row's: its own attributes
	same = list(map(operator.eq, rows, firsts))
	if not all(same):
		for p in itertools.compress(range(len(rows)), map(operator.not_, same)):
			result[p] = parsed.get(id(rows[p])) or attributes_of(rows[p])
	if slow:
		refuse(p for p, attributes in enumerate(result) if id(attributes) in slow)
	return result


def _fast_entries(
	rows: list[_Row],
	width: int,
	columns: dict[str, int],
	status_index: dict[str, str],
	unnamed: list[int],
	text_only: bool,
) -> list:
	"""For each row, (its _Parsed, its customer attributes, whether it is a Québec customer's row
	without a currency) when every cell is readable and every check passes; None for a row with
	anything to say (an empty or unreadable cell where one is needed, a failed check, a blank or total
	row), which read_row then reads cell by cell and words its errors. Both accept the same rows
	(tests/test_register_fast_path.py), this one column by column: each distinct cell of a column is
	parsed once (dates, statuses and a customer's cells come back row after row) and the rest is
	lookups (BENCHMARKS.md: 200,000 CSV rows in 2.9 s where the cell-by-cell reading took 16.6)."""
	entries: list = [None] * len(rows)
	taken = [
		k
		for k, row in enumerate(rows)
		if not (row.broken or row.issues or row.percent) and len(row.cells) <= width
	]
	if not taken:
		return entries
	# A workbook leaves out a row's trailing empty cells
	cells = [rows[k].cells for k in taken]
	cells = [c if len(c) == width else [*c, *(None,) * (width - len(c))] for c in cells]
	by_column = _transposed(cells, width)
	del cells
	ok = [True] * len(taken)

	def refuse(positions) -> None:
		for position in positions:
			ok[position] = False

	def read(key: str, parse, required: bool = False) -> list | None:
		"""The column's values (None: an empty cell), its unreadable cells refused; None if absent."""
		index = columns.get(key)
		if index is None:
			return None
		column = by_column[index]
		distinct = set(column)
		# 1, 1.0 and True are one key in a dict: a workbook's column holding numbers or booleans is
		# keyed with each cell's type (a number is never equal to a text or a date, so the distinct
		# cells' types tell whether the column holds any)
		typed = not text_only and not set(map(type, distinct)) <= _UNTYPED_KEYS
		keyed = list(zip(map(type, column), column, strict=True)) if typed else column
		if typed:
			distinct = set(keyed)
		memo = {}
		refused = False
		for cell_key in distinct:
			value = cell_key[1] if typed else cell_key
			if _empty(value):
				memo[cell_key] = None
				refused = refused or required
				continue
			try:
				memo[cell_key] = parse(value)
			except _Bad:
				memo[cell_key] = _SLOW
				refused = True
		values = list(map(memo.__getitem__, keyed))
		if refused:
			refuse(p for p, value in enumerate(values) if value is _SLOW or (required and value is None))
		return values

	for index in unnamed:
		refuse(p for p, value in enumerate(by_column[index]) if not _empty(value))

	# The invoice number, never a total row's word: "TOTAL" rows are read_row's to note
	numbers = [
		" ".join(value.split()) if value.__class__ is str else ("" if value is None else _text(value))
		for value in by_column[columns["invoice"]]
	]
	refuse(
		p
		for p, number in enumerate(numbers)
		if not number or (number[-1] not in _DIGITS and normalize_header(number) in _TOTAL_WORDS)
	)
	customers = read("customer", _text, required=True)
	currencies = read("currency", _currency)
	statuses = read("status", lambda v: _lookup(v, status_index, _STATUS_HELP))
	dates = {}  # every date column shares the days it parsed

	def read_dates(key: str) -> list | None:
		return read(key, lambda v: dates[v] if v in dates else dates.setdefault(v, parse_date(v)))

	dues, issued_days, paid_days = read_dates("due"), read_dates("issued"), read_dates("paid_on")
	untils, reminded_days, delivered_days = (
		read_dates("until"),
		read_dates("reminded_on"),
		read_dates("delivered_on"),
	)
	reasons, againsts = read("reason", _text), read("against", _text)
	steps, registered_numbers = read("reminder_step", _text), read("registered_number", _text)

	# Amounts: the plain ones at once, the others (signs, symbols, odd separators) by _amount with
	# their row's currency; 0 and decimals a currency has not are _amount's to refuse, by read_row
	def amounts(key: str, paid: bool) -> list | None:
		index = columns.get(key)
		if index is None:
			return None
		column = by_column[index]
		zero_decimal = currencies is not None and any(
			c is not None and c is not _SLOW and quantum(c) != CENT for c in set(currencies)
		)
		values = _plain_amounts(column, text_only, numbers_ok=not zero_decimal)
		if values is not None:
			# The usual column: its filled cells plain amounts; only 0 and cents a currency has not to refuse
			if zero_decimal or (not paid and _ZERO in values):
				for p, value in enumerate(values):
					if value is not None and ok[p]:
						if (not value and not paid) or (
							zero_decimal
							and value != value.to_integral_value()
							and quantum(currencies[p] or "EUR") != CENT
						):
							ok[p] = False  # 0, or cents in a currency without them: _amount words it
			return values
		# Some cells are not plain: the plain ones at once, the others (signs, symbols, odd
		# separators) by _amount with their row's currency
		texts = [value.translate(_PLAIN_AMOUNT_TEXT) if value.__class__ is str else "" for value in column]
		values = [
			Decimal(text)
			if match is not None
			else None
			if value is None or (value.__class__ is str and not value.strip())
			else _SLOW
			for text, match, value in zip(texts, map(_PLAIN_AMOUNT.fullmatch, texts), column, strict=True)
		]
		for p, value in enumerate(values):
			if value is _SLOW:
				if not ok[p]:
					continue
				currency = currencies[p] if currencies is not None else None
				raw = column[p]
				try:
					if paid and isinstance(raw, bool):
						values[p] = _PAID_ALL if raw else _ZERO
					elif paid and isinstance(raw, str) and normalize_header(raw) in _YES:
						values[p] = _PAID_ALL
					elif paid and isinstance(raw, str) and normalize_header(raw) in _NO:
						values[p] = _ZERO
					else:
						values[p] = _amount(
							raw,
							currency or DEFAULT_CURRENCY,
							zero_ok=paid,
							what="the amount paid" if paid else "the amount",
							currency_given=currency is not None,
							negative_ok=not paid,
						)
				except _Bad:
					ok[p] = False
			elif value is not None and ok[p]:
				if (not value and not paid) or (
					zero_decimal
					and value != value.to_integral_value()
					and quantum(currencies[p] or "EUR") != CENT
				):
					ok[p] = False  # 0, or cents in a currency without them: _amount words it
		return values

	invoice_amounts = amounts("amount", paid=False)
	refuse(p for p, value in enumerate(invoice_amounts) if value is None)
	paid_amounts = amounts("paid", paid=True)

	# A customer's attributes, each column parsed once per distinct cell (kinds, countries and
	# languages are a handful; emails and addresses one per customer), then zipped into one tuple a row
	parsers = _attribute_parsers()
	attributes = _customers_attributes(by_column, columns, customers, parsers, text_only, refuse)
	if attributes is None:
		attribute_columns = [
			read(key, lambda v, parse=parsers[key]: parse(v, False)) or [None] * len(taken)
			for key in _CUSTOMER_FIELDS
		]
		attributes = list(zip(*attribute_columns, strict=True))
	by_column.clear()  # the cells by column are read: their memory is let go

	absent = [None] * len(taken)  # an absent column: every cell empty
	for (
		k,
		accepted,
		number,
		customer,
		currency,
		status,
		due,
		issued,
		amount,
		paid,
		paid_on,
		reason,
		until,
		against,
		reminded_on,
		step,
		registered,
		delivered_on,
		customer_attributes,
	) in zip(
		taken,
		ok,
		numbers,
		customers,
		currencies or absent,
		statuses or absent,
		dues or absent,
		issued_days or absent,
		invoice_amounts,
		paid_amounts or absent,
		paid_days or absent,
		reasons or absent,
		untils or absent,
		againsts or absent,
		reminded_days or absent,
		steps or absent,
		registered_numbers or absent,
		delivered_days or absent,
		attributes,
		strict=True,
	):
		if not accepted:
			continue
		# The checks across cells, as read_row makes them (there, each failing one is worded)
		status = status or "open"
		credit = status in (CREDIT_NOTE, UNALLOCATED_PAYMENT) or amount < 0
		if credit:
			amount = -amount if amount < 0 else amount
			if reminded_on or step or registered or delivered_on:
				continue
		elif (
			due is None or against or (issued is not None and due < issued) or (step and reminded_on is None)
		):
			continue
		if paid is _PAID_ALL:
			paid = amount
		if paid is not None and paid > amount:
			continue
		if status == "paid":
			if paid is None:
				paid = amount
			elif paid < amount:
				continue
		elif paid_on is not None and not paid:
			continue
		row = rows[k]
		row.cells = _NO_CELLS  # read: its cells' texts are let go
		entries[k] = (
			# A plain tuple in _Parsed's order (a tuple display is made faster than a named tuple)
			(
				row.number,
				number,
				customer,
				currency or DEFAULT_CURRENCY,
				issued,
				due,
				amount,
				paid or _ZERO,
				paid_on,
				status,
				reason or "",
				until,
				credit,
				against or "",
				reminded_on,
				step or "",
				registered or "",
				delivered_on,
			),
			customer_attributes,
			currency is None and customer_attributes[_COUNTRY_AT] == REGIME_QC,
		)
	return entries


_PAID_ALL = object()  # "oui", "payée": the whole amount


def read_register(
	path: str | Path, skip_bad_rows: bool = False, customers: str | Path | None = None, progress=None
) -> Register:
	"""Read a register (.csv, .tsv, .txt or .xlsx) into customers and invoices.

	Never raises for a problem in the file: every problem is in `Register.errors`. `invoices` holds
	only the rows read without error. With errors, the caller must not plan unless it passed
	`skip_bad_rows=True` (then `Register.plannable` tells whether what was read may be used).

	The customers' contacts may also be kept once per customer: in a sheet "Clients" of the workbook,
	or in the file `customers` (CSV or XLSX, one row per customer, the same headers as the register's
	contact columns). A row's own cells win; a value that differs is said in a warning.
	`progress(done, total)`, when given, is called now and then while the rows are read.
	"""
	# Reading makes a few objects per row and frees none of them: Python's cycle collector would walk
	# the growing heap again and again for nothing to free (a third of the time on 200,000 rows)
	collecting = gc.isenabled()
	gc.disable()
	try:
		return _read_register(Path(path), skip_bad_rows, customers, progress)
	finally:
		if collecting:
			gc.enable()


def _read_register(path: Path, skip_bad_rows: bool, customers: str | Path | None, progress) -> Register:
	register = Register(path=path, skip_bad_rows=skip_bad_rows)
	register.progress = progress
	name = path.name
	suffix = path.suffix.lower()
	try:
		if suffix in XLSX_SUFFIXES:
			rows, read_errors = _xlsx_rows(path, register)
		elif suffix in CSV_SUFFIXES:
			rows, read_errors = _csv_rows(path, register)
		elif suffix in (".xls", ".ods", ".numbers"):
			raise _FileError(
				Text("{suffix} files are not read: save the register as .xlsx or .csv", suffix=suffix)
			)
		else:
			raise _FileError(
				Text("unknown kind of file {suffix}: use .csv or .xlsx", suffix=suffix or "(no extension)")
			)
	except _FileError as exc:
		return _fatal(register, RegisterError(name, None, None, exc.args[0]))
	contacts = None
	if customers is not None:
		contacts = _read_customers_file(Path(customers), register)
	elif register.customer_sheet:
		contacts = _read_customers_file(path, register, register.customer_sheet)
	if contacts is not None and register.fatal:
		return register
	_read_rows(register, rows, read_errors, contacts)
	register.errors.sort(key=lambda e: (e.row is not None, e.row or 0))
	return register


CUSTOMER_SHEETS = ("clients", "customers", "fichierclients", "listeclients", "contactsclients")
# What a customers sheet or file gives (one row per customer)
_CONTACT_KEYS = (
	"customer",
	*("email", "kind", "country", "language", "scenario", "address", "phone", "contract_rate"),
)


@dataclass
class _Contacts:
	"""The customers sheet or file: customer -> (row, {attribute: value}) and where it was read."""

	label: str
	by_customer: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)


def _read_customers_file(path: Path, register: Register, sheet: str | None = None) -> _Contacts | None:
	"""The customers' contacts: one row per customer. Errors name the file (and sheet), row, column."""
	label = f"{path.name} ({sheet})" if sheet else path.name
	contacts = _Contacts(label)
	if not path.exists():
		_fatal(register, RegisterError(label, None, None, Text("no such file")))
		return contacts
	scratch = Register(path=path)
	suffix = path.suffix.lower()
	try:
		if suffix in XLSX_SUFFIXES:
			# A customers workbook of its own (--customers): its sheet "Clients" if it has one
			rows, read_errors = _xlsx_rows(path, scratch, sheet, customers=sheet is None)
		elif suffix in CSV_SUFFIXES:
			rows, read_errors = _csv_rows(path, scratch)
		else:
			raise _FileError(
				Text("unknown kind of file {suffix}: use .csv or .xlsx", suffix=suffix or "(no extension)")
			)
	except _FileError as exc:
		_fatal(register, RegisterError(label, None, None, exc.args[0]))
		return contacts
	register.warnings.extend(w for w in scratch.warnings if "sheet" not in w)
	header_index = _find_header(rows, ("customer",))
	if header_index is None:
		_fatal(
			register, RegisterError(label, None, None, Text("no header row with a customer column (Client)"))
		)
		return contacts
	header_row = rows[header_index]
	columns: dict[str, int] = {}
	headers: dict[int, str] = {}
	unknown = []
	for index, cell in enumerate(header_row.cells):
		if _empty(cell):
			continue
		written = _text(cell)
		headers[index] = written
		key = _HEADER_INDEX.get(normalize_header(written))
		if key in _CONTACT_KEYS and key not in columns:
			columns[key] = index
		else:
			unknown.append(written)
	if unknown:
		register.warnings.append(
			Text(
				"{file}: column(s) not used: {columns}",
				file=label,
				columns=", ".join(repr(h) for h in unknown),
			)
		)
	errors = list(read_errors)
	parsers = _attribute_parsers()
	for row in rows[header_index + 1 :]:
		if row.broken or all(_empty(c) for c in row.cells):
			continue
		if _is_total_row(row.cells, columns.get("customer")):
			continue
		values: dict[str, Any] = {}
		bad = False
		for key, index in columns.items():
			value = row.cells[index] if index < len(row.cells) else None
			if _empty(value):
				continue
			try:
				values[key] = _text(value) if key == "customer" else parsers[key](value, index in row.percent)
			except _Bad as exc:
				errors.append(RegisterError(label, row.number, headers[index], exc.args[0]))
				bad = True
		customer = values.pop("customer", None)
		if customer is None:
			errors.append(
				RegisterError(
					label,
					row.number,
					headers[columns["customer"]],
					Text("{what} is empty", what=Text("the customer")),
				)
			)
			continue
		if customer in contacts.by_customer:
			first = contacts.by_customer[customer][0]
			errors.append(
				RegisterError(
					label,
					row.number,
					headers[columns["customer"]],
					Text(
						'customer "{customer}" appears twice: rows {first} and {row}',
						customer=customer,
						first=first,
						row=row.number,
					),
				)
			)
			bad = True
		if bad:
			contacts.by_customer.pop(customer, None)
			continue
		contacts.by_customer[customer] = (row.number, values)
	register.errors.extend(errors)
	return contacts


def _attribute_parsers() -> dict:
	"""The parsers of a customer's attributes: key -> parse(value, percent_cell)."""
	return {
		"email": lambda v, _p: _emails(v),
		"kind": lambda v, _p: _lookup(v, _KIND, '"B2B/entreprise" or "B2C/particulier"'),
		"country": lambda v, _p: _lookup(v, _COUNTRY, '"FR/France" or "CA-QC/Québec"'),
		"language": lambda v, _p: _lookup(v, _LANGUAGE, '"fr-FR", "fr-CA" or "en"'),
		"scenario": lambda v, _p: _scenario(v),
		"address": lambda v, _p: _address(v) or None,
		"phone": lambda v, _p: _text(v),
		"contract_rate": lambda v, p: _rate(v, p),
	}


# A row that sums the others ("TOTAL", "Sous-total", "Total général"): not an invoice
_TOTAL_WORDS = frozenset(
	(
		"total",
		"totaux",
		"totalgeneral",
		"totalttc",
		"totalht",
		"soustotal",
		"grandtotal",
		"subtotal",
		"somme",
		"sum",
		"cumul",
		"totaldu",
		"totalimpaye",
		"totalimpayes",
		"totalapayer",
	)
)


def _is_total_row(cells: list, invoice_index: int | None) -> bool:
	"""A row whose first text cells say it is a total, and that has no invoice number of its own."""
	label = None
	for cell in cells[:6]:
		if isinstance(cell, str) and cell.strip():
			if cell.lstrip()[:1] not in "TtSsGgCc":  # total, sous-total, grand total, somme, cumul
				return False
			label = normalize_header(cell).rstrip("s") if normalize_header(cell) != "totaux" else "totaux"
			break
	if label is None or not (label in _TOTAL_WORDS or label.startswith(("total", "soustotal"))):
		return False
	if label.startswith("total") and len(label) > 16:
		return False  # "Total Rénovation SARL": a name, not a total
	if invoice_index is None or invoice_index >= len(cells):
		return True
	invoice = cells[invoice_index]
	return _empty(invoice) or (isinstance(invoice, str) and normalize_header(invoice) in _TOTAL_WORDS)


def _find_header(rows: list[_Row], required: tuple[str, ...] = REQUIRED, limit: int = 30) -> int | None:
	"""The header row: the first of the first `limit` non-empty rows holding the most required
	columns (at least two known columns); rows above it are a title. None: no row is a header (then
	the first non-empty row is taken, and its missing columns are the errors)."""
	best, best_score = None, (1, 0)
	seen = 0
	for index, row in enumerate(rows):
		if row.broken or all(_empty(c) for c in row.cells):
			continue
		seen += 1
		if seen > limit:
			break
		keys = {_HEADER_INDEX.get(normalize_header(_text(c))) for c in row.cells if not _empty(c)}
		keys.discard(None)
		score = (len(keys), sum(1 for key in required if key in keys))
		if score[1] > best_score[1] or (score[1] == best_score[1] and score[0] > best_score[0]):
			best, best_score = index, score
			if score[1] == len(required):
				break
	return best


def _fatal(register: Register, error: RegisterError) -> Register:
	register.errors.append(error)
	register.fatal = True
	return register


def _read_rows(
	register: Register, rows: list[_Row], read_errors: list[RegisterError], contacts: _Contacts | None = None
) -> None:
	name = register.path.name
	first_index = next(
		(i for i, row in enumerate(rows) if not row.broken and not all(_empty(c) for c in row.cells)), None
	)
	header_index = _find_header(rows)
	if header_index is None:
		header_index = first_index
	elif header_index != first_index:
		above = [row.number for row in rows[:header_index] if not all(_empty(c) for c in row.cells)]
		register.title_rows = above
		register.warnings.append(
			Text(
				"{file}: the header is row {header}; row(s) {rows} above it are a title, ignored",
				file=name,
				header=rows[header_index].number,
				rows=", ".join(map(str, above)),
			)
		)
	if header_index is None:
		_fatal(register, RegisterError(name, None, None, Text("the file is empty (no header row)")))
		register.errors.extend(read_errors)
		return
	header_row = rows[header_index]
	columns: dict[str, int] = {}
	headers: dict[int, str] = {}
	unknown: list[str] = []
	unnamed: list[int] = []
	for index, cell in enumerate(header_row.cells):
		if _empty(cell):
			unnamed.append(index)
			continue
		written = _text(cell)
		headers[index] = written
		key = _HEADER_INDEX.get(normalize_header(written))
		if key is None:
			unknown.append(written)
		elif key in columns:
			first = headers[columns[key]]
			_fatal(
				register,
				RegisterError(
					name,
					header_row.number,
					written,
					Text(
						'this column and "{first}" both give {what}: keep only one',
						first=first,
						what=Text(_BY_KEY[key].label),
					),
				),
			)
		else:
			columns[key] = index
	for key in REQUIRED:
		if key not in columns:
			_fatal(
				register,
				RegisterError(
					name,
					None,
					None,
					Text(
						"no column for {what} (a required column; accepted headers: {accepted})",
						what=Text(_BY_KEY[key].label),
						accepted=_accepted(key),
					),
				),
			)
	if register.fatal:
		register.errors.extend(read_errors)
		return
	if unknown:
		register.warnings.append(
			Text(
				"{file}: column(s) not used: {columns}",
				file=name,
				columns=", ".join(repr(h) for h in unknown),
			)
		)

	status_index = _STATUS_INDEX
	if "status" in columns and any(w in normalize_header(headers[columns["status"]]) for w in _PAYMENT_WORDS):
		status_index = _PAYMENT_STATUS_INDEX
	data_rows = rows[header_index + 1 :]
	last = len(data_rows) - 1
	while last >= 0 and not data_rows[last].broken and all(_empty(c) for c in data_rows[last].cells):
		last -= 1
	unnamed_with_data: set[int] = set()
	parsed: list[_Parsed] = []
	# customer -> (row, attributes in _CUSTOMER_FIELDS' order)
	given: dict[str, list[tuple[int, tuple]]] = defaultdict(list)
	first_row_of: dict[str, int] = {}  # invoice number -> the first row giving it
	repeated: dict[str, list[int]] = {}  # invoice number -> every row giving it, when more than one
	customer_rows: dict[str, list[int]] = defaultdict(list)
	errors: list[RegisterError] = list(read_errors)
	bad: set[int] = {e.row for e in read_errors if e.row is not None}
	counts = {"lacking_issue": 0, "qc_without_currency": 0}
	ignored_hold_fields: list[int] = []
	width = len(header_row.cells)

	def note_number(number: str, row_number: int) -> None:
		first = first_row_of.setdefault(number, row_number)
		if first != row_number:
			repeated.setdefault(number, [first]).append(row_number)

	def read_row(row: _Row) -> None:
		"""The full reading of one row, cell by cell, every problem worded with its row and column."""
		if row.broken:  # the error says why; nothing in it can be trusted
			register.rows_read += 1
			return
		if all(_empty(c) for c in row.cells):
			register.empty_rows.append(row.number)
			return
		if _is_total_row(row.cells, columns.get("invoice")):
			register.total_rows.append(row.number)
			return
		register.rows_read += 1
		for index in unnamed:
			if index < len(row.cells) and not _empty(row.cells[index]):
				unnamed_with_data.add(index)
		row_errors: list[RegisterError] = []

		def fail(key: str | None, message: str, row=row, row_errors=row_errors) -> None:
			column = headers[columns[key]] if key is not None else None
			row_errors.append(RegisterError(name, row.number, column, message))

		extra = [i for i in range(width, len(row.cells)) if not _empty(row.cells[i])]
		if extra and register.delimiter is None:
			# A workbook's cells never shift: a value right of the headers is in a column without
			# one, ignored with a warning as any column without a header
			unnamed_with_data.update(extra)
		elif extra:
			fail(
				None,
				Text(
					'{n} cells but the header has {width} (an unquoted "{delimiter}" inside a value?)',
					n=len(row.cells),
					width=width,
					delimiter=register.delimiter,
				),
			)

		def cell(key: str, row=row, fail=fail) -> Any:
			index = columns.get(key)
			if index is None or index >= len(row.cells):
				return None
			if index in row.issues:
				fail(key, row.issues[index])
				return None
			value = row.cells[index]
			return None if _empty(value) else value

		def read(key: str, parse, required: bool = False, fail=fail, cell=cell) -> Any:
			value = cell(key)
			if value is None:
				if required and not any(e.column == headers[columns[key]] for e in row_errors):
					fail(key, Text("{what} is empty", what=Text(_BY_KEY[key].label)))
				return None
			try:
				return parse(value)
			except _Bad as exc:
				fail(key, exc.args[0])
				return None

		number = read("invoice", _text, required=True)
		customer = read("customer", _text, required=True)
		currency_given = read("currency", _currency)
		currency = currency_given or DEFAULT_CURRENCY
		has_currency: bool | None = currency_given is not None
		if "currency" in columns and any(e.column == headers[columns["currency"]] for e in row_errors):
			has_currency = None  # the currency cell is wrong (its own error): nothing to compare with
		status = read("status", lambda v: _lookup(v, status_index, _STATUS_HELP)) or "open"
		amount = read(
			"amount",
			lambda v: _amount(
				v, currency, zero_ok=False, what="the amount", currency_given=has_currency, negative_ok=True
			),
			required=True,
		)
		# A negative amount, or the status "avoir": the customer's money (a credit), not an invoice
		credit = status in (CREDIT_NOTE, UNALLOCATED_PAYMENT) or (amount is not None and amount < 0)
		if credit and amount is not None:
			amount = abs(amount)
		due = read("due", parse_date, required=not credit)
		issued = read("issued", parse_date)
		paid_value = cell("paid")
		paid = None
		if paid_value is not None:
			if isinstance(paid_value, bool):
				paid = amount if paid_value else Decimal(0)
			elif isinstance(paid_value, str) and normalize_header(paid_value) in _YES:
				paid = amount
			elif isinstance(paid_value, str) and normalize_header(paid_value) in _NO:
				paid = Decimal(0)
			else:
				try:
					paid = _amount(
						paid_value,
						currency,
						zero_ok=True,
						what="the amount paid",
						currency_given=has_currency,
					)
				except _Bad as exc:
					fail("paid", exc.args[0])
		paid_on = read("paid_on", parse_date)
		reason = read("reason", _text) or ""
		until = read("until", parse_date)
		against = read("against", _text) or ""
		reminded_on = read("reminded_on", parse_date)
		reminder_step = read("reminder_step", _text) or ""
		registered_number = read("registered_number", _text) or ""
		delivered_on = read("delivered_on", parse_date)
		if credit and (reminded_on or reminder_step or registered_number or delivered_on):
			fail(
				"reminded_on" if reminded_on else None,
				Text("a credit is not reminded: leave its reminder cells empty"),
			)
		elif reminder_step and reminded_on is None:
			fail(
				"reminder_step", Text("the last reminder's step is given without its date (fill in its date)")
			)
		if against and not credit:
			fail(
				"against",
				Text("only a credit note corrects an invoice (its amount is negative, or its status avoir)"),
			)
		attributes = (  # in _CUSTOMER_FIELDS' order
			read("email", _emails),
			read("kind", lambda v: _lookup(v, _KIND, '"B2B/entreprise" or "B2C/particulier"')),
			read("country", lambda v: _lookup(v, _COUNTRY, '"FR/France" or "CA-QC/Québec"')),
			read("language", lambda v: _lookup(v, _LANGUAGE, '"fr-FR", "fr-CA" or "en"')),
			read("scenario", _scenario),
			read("address", _address) or None,
			read("phone", _text),
			read("contract_rate", lambda v: _rate(v, columns.get("contract_rate") in row.percent)),
		)

		if number is not None:
			note_number(number, row.number)
		if customer is not None:
			customer_rows[customer].append(row.number)
			given[customer].append((row.number, attributes))

		# Checks across cells
		if amount is not None and paid is not None and paid > amount:
			fail(
				"paid",
				Text(
					"the amount paid ({paid}) is more than the invoice amount ({amount})",
					paid=paid,
					amount=amount,
				),
			)
		if status == "paid" and amount is not None and paid is not None and paid < amount:
			fail(
				"status",
				Text(
					"the status says paid but only {paid} of {amount} is paid (fix the status or the amount paid)",
					paid=paid,
					amount=amount,
				),
			)
		if (
			paid_on is not None
			and status != "paid"
			and (paid is None or paid == 0)
			and "paid" not in {e.column for e in row_errors}
		):
			fail(
				"paid_on",
				Text("a payment date is given but no amount paid (fill the amount paid, or the status)"),
			)
		if not credit and due is not None and issued is not None and due < issued:
			fail(
				"due",
				Text(
					"the due date {due} is before the issue date {issued}",
					due=due.strftime("%d/%m/%Y"),
					issued=issued.strftime("%d/%m/%Y"),
				),
			)

		if row_errors:
			errors.extend(row_errors)
			bad.add(row.number)
			return
		if (reason or until) and status not in (DISPUTE, HOLD) and not credit:
			ignored_hold_fields.append(row.number)
		if issued is None and not credit:
			counts["lacking_issue"] += 1
		if attributes[_COUNTRY_AT] == REGIME_QC and cell("currency") is None:
			counts["qc_without_currency"] += 1
		if status == "paid" and paid is None:
			paid = amount
		parsed.append(
			_Parsed(
				row.number,
				number,
				customer,
				currency,
				issued,
				due,
				amount,
				paid or _ZERO,
				paid_on,
				status,
				reason,
				until,
				credit,
				against,
				reminded_on,
				reminder_step,
				registered_number,
				delivered_on,
			)
		)

	progress = register.progress
	total = last + 1
	data_rows = data_rows[:total]
	entries = _fast_entries(
		data_rows, width, columns, status_index, unnamed, text_only=register.delimiter is not None
	)
	fast_rows = 0
	add_parsed = parsed.append
	for start in range(0, total, 5000):
		if progress is not None:
			progress(start, total)
		for row, entry in zip(data_rows[start : start + 5000], entries[start : start + 5000], strict=True):
			if entry is None:
				read_row(row)
				continue
			fast_rows += 1
			values, attributes, qc_without_currency = entry
			(
				row_number,
				number,
				customer,
				_row_currency,
				issued,
				*_row_amounts,
				status,
				reason,
				until,
				credit,
			) = values[:13]
			first = first_row_of.setdefault(number, row_number)
			if first != row_number:
				repeated.setdefault(number, [first]).append(row_number)
			customer_rows[customer].append(row_number)
			given[customer].append((row_number, attributes))
			if issued is None and not credit:
				counts["lacking_issue"] += 1
			if qc_without_currency:
				counts["qc_without_currency"] += 1
			if (reason or until) and status not in (DISPUTE, HOLD) and not credit:
				ignored_hold_fields.append(row_number)
			add_parsed(values)
	register.rows_read += fast_rows
	lacking_issue, qc_without_currency = counts["lacking_issue"], counts["qc_without_currency"]
	if progress is not None:
		progress(total, total)
	# Duplicate invoice numbers: every copy is an error naming the first row
	for number, where in sorted(repeated.items(), key=lambda item: item[1][0]):
		for other in where[1:]:
			errors.append(
				RegisterError(
					name,
					other,
					headers[columns["invoice"]],
					Text(
						'invoice "{number}" appears twice: rows {first} and {other}',
						number=number,
						first=where[0],
						other=other,
					),
				)
			)
		bad.update(where)

	# A customer's attributes must agree across its rows
	resolved: dict[str, dict[str, Any]] = {}
	for customer, entries in given.items():
		first = entries[0][1]
		if all(attrs == first for _row, attrs in entries):
			# The usual case: every row gives the same values (or none), so nothing can conflict
			values = dict(zip(_CUSTOMER_FIELDS, first, strict=True))
			language = values.pop("language")
			if language == _FR_ANY:
				language = "fr-CA" if (values["country"] or REGIME_FR) == REGIME_QC else "fr-FR"
			values["language"] = language
			conflicting = False
		else:
			values, conflicting = _agreed_attributes(
				register, errors, headers, columns, customer, entries, customer_rows[customer]
			)
		if conflicting:
			bad.update(customer_rows[customer])
		if contacts is not None:
			_merge_contacts(register, contacts, customer, values, customer_rows[customer][0])
		resolved[customer] = values

	# Customers whose names differ only by case, accents or spacing are probably one customer
	similar: dict[str, list[str]] = defaultdict(list)
	for customer in customer_rows:
		similar[normalize_header(customer)].append(customer)
	for names in similar.values():
		if len(names) > 1:
			listed = Text(
				", ".join(f"{{n{i}}}" for i in range(len(names))),
				**{
					f"n{i}": Text('"{name}" (row {row})', name=n, row=customer_rows[n][0])
					for i, n in enumerate(names)
				},
			)
			register.warnings.append(
				Text(
					"{file}: customers {listed} differ only by case, accents or spaces: are they one?",
					file=name,
					listed=listed,
				)
			)

	known = register.customers
	add_invoice = register.invoices.append
	invoice_rows = register.invoice_rows
	for entry in parsed:
		# A _Parsed, or a plain tuple in its order (the rows read column by column)
		(
			row_number,
			invoice,
			customer,
			currency,
			issued,
			due,
			amount,
			paid,
			paid_on,
			status,
			reason,
			until,
			credit,
			against,
			reminded_on,
			reminder_step,
			registered_number,
			delivered_on,
		) = entry
		if bad and row_number in bad:
			continue
		if customer not in known:
			values = resolved[customer]
			regime = values["country"] or REGIME_FR
			known[customer] = Customer(
				id=customer,
				name=customer,
				kind=values["kind"] or BUSINESS,
				regime=regime,
				language=values["language"] or ("fr-CA" if regime == REGIME_QC else "fr-FR"),
				email=values["email"] or "",
				phone=values["phone"] or "",
				address=values["address"] or (),
				scenario=values["scenario"],
				contract_rate=values["contract_rate"],
			)
		if credit:
			left = amount - paid
			if status != "paid" and left > 0:
				register.credits.append(
					Credit(
						customer=customer,
						currency=currency,
						amount=left,
						reference=invoice,
						day=issued or due,
						against_invoice=against,
						kind=UNALLOCATED_PAYMENT if status == UNALLOCATED_PAYMENT else CREDIT_NOTE,
					)
				)
			register.credit_rows[invoice] = row_number
			continue
		if reminded_on is not None:
			step, level, channel = parse_step_cell(reminder_step) if reminder_step else ("", 0, "")
			if registered_number and not channel and not step and not level:
				channel = "registered_letter"
			register.outcomes.append(
				ManualEntry(
					invoices=(invoice,),
					day=reminded_on,
					channel=channel,
					step=step,
					level=level,
					reference=registered_number,
					customer=customer,
				)
			)
		if delivered_on is not None:
			register.outcomes.append(
				ManualEntry(invoices=(invoice,), day=delivered_on, outcome=DELIVERED, customer=customer)
			)
		# Positional (id, customer, currency, issued, instalments, payments, scenario, hold, cancelled):
		# 200,000 of them are made. No payment date: the due date, which never over-claims late interest
		add_invoice(
			Invoice(
				invoice,
				customer,
				currency,
				issued or due,
				(Instalment(due, amount),),
				(Payment(paid_on or due, paid),) if paid > 0 else (),
				None,
				Hold(kind=status, reason=reason, until=until) if status in (DISPUTE, HOLD) else None,
				status == "cancelled",
			)
		)
		invoice_rows[invoice] = row_number

	register.errors.extend(errors)
	register.bad_rows = sorted(bad)
	if register.empty_rows:
		register.warnings.append(
			Text("{file}: {n} empty row(s) ignored", file=name, n=len(register.empty_rows))
		)
	if register.total_rows:
		register.warnings.append(
			Text(
				"{file}: row(s) {rows} are totals, not invoices: ignored",
				file=name,
				rows=", ".join(map(str, register.total_rows)),
			)
		)
	if lacking_issue:
		where = (
			Text('no "{column}"', column=headers[columns["issued"]])
			if "issued" in columns
			else Text("no issue date column")
		)
		register.warnings.append(
			Text(
				"{file}: {n} row(s) without an issue date ({where}): the due date is used as issue date",
				file=name,
				n=lacking_issue,
				where=where,
			)
		)
	if qc_without_currency:
		register.warnings.append(
			Text(
				"{file}: {n} row(s) of Québec customers without a currency: {currency} assumed",
				file=name,
				n=qc_without_currency,
				currency=DEFAULT_CURRENCY,
			)
		)
	if ignored_hold_fields:
		rows_text = ", ".join(str(r) for r in ignored_hold_fields[:10]) + (
			"…" if len(ignored_hold_fields) > 10 else ""
		)
		register.warnings.append(
			Text(
				"{file}: reason or end date ignored on row(s) {rows}: the status is not a dispute or hold",
				file=name,
				rows=rows_text,
			)
		)
	for index in sorted(unnamed_with_data):
		register.warnings.append(
			Text("{file}: column {n} has no header; its values are ignored", file=name, n=index + 1)
		)


def _agreed_attributes(
	register: Register,
	errors: list,
	headers: dict[int, str],
	columns: dict[str, int],
	customer: str,
	entries: list[tuple[int, tuple]],
	rows: list[int],
) -> tuple[dict[str, Any], bool]:
	"""A customer's attributes when its rows do not all give the same cells: the first value each
	attribute is given (empty cells are fine), and whether two rows disagree (each disagreement is an
	error). Values that differ only by case or spacing agree."""
	values: dict[str, Any] = {}
	conflicting = False
	for position, key in enumerate(_CUSTOMER_FIELDS):
		if key == "language":
			continue
		seen = [(row, attrs[position]) for row, attrs in entries if attrs[position] is not None]
		column = headers[columns[key]] if key in columns else key
		if _conflict(register, errors, column, customer, key, seen, rows):
			conflicting = True
		values[key] = seen[0][1] if seen else None
	# "fr" means the French of the customer's country: known once the country is
	regime = values["country"] or REGIME_FR
	languages = []
	for row, attrs in entries:
		language = attrs[_LANGUAGE_AT]
		if language == _FR_ANY:
			language = "fr-CA" if regime == REGIME_QC else "fr-FR"
		if language is not None:
			languages.append((row, language))
	column = headers.get(columns.get("language", -1), "language")
	if _conflict(register, errors, column, customer, "language", languages, rows):
		conflicting = True
	values["language"] = languages[0][1] if languages else None
	return values, conflicting


def _merge_contacts(
	register: Register, contacts: _Contacts, customer: str, values: dict, first_row: int
) -> None:
	"""Fill the customer's attributes its rows leave empty from the customers sheet or file; a value
	that differs from its rows' is said (the rows' is kept)."""
	entry = contacts.by_customer.get(customer)
	if entry is None:
		return
	row, given = entry
	for key, value in given.items():
		if key == "language" and value == _FR_ANY:
			value = "fr-CA" if (values.get("country") or given.get("country")) == REGIME_QC else "fr-FR"
		if values.get(key) is None:
			values[key] = value
		elif _comparable(key, values[key]) != _comparable(key, value):
			register.warnings.append(
				Text(
					'customer "{customer}": {what} is {ours} in the register (row {first}) but {theirs} in {file}'
					" (row {row}): the register's is used",
					customer=customer,
					what=Text(_BY_KEY[key].label),
					ours=_show(values[key]),
					first=first_row,
					theirs=_show(value),
					file=contacts.label,
					row=row,
				)
			)


def _conflict(
	register: Register, errors: list, column: str, customer: str, key: str, seen: list, all_rows: list[int]
) -> bool:
	"""Add an error when rows give different values for one customer attribute."""
	distinct: dict[Any, list[int]] = {}
	values: dict[Any, Any] = {}
	for row, value in seen:
		comparable = _comparable(key, value)
		distinct.setdefault(comparable, []).append(row)
		values.setdefault(comparable, value)
	if len(distinct) < 2:
		return False
	shown = {comparable: _show(value) for comparable, value in values.items()}
	groups = list(distinct.items())
	detail = Text(
		"; ".join(f"{{g{i}}}" for i in range(len(groups))),
		**{
			f"g{i}": Text("{value} in row(s) {rows}", value=shown[v], rows=", ".join(map(str, rows)))
			for i, (v, rows) in enumerate(groups)
		},
	)
	named = {row for row, _ in seen}
	others = [row for row in all_rows if row not in named]
	if others:
		detail = Text(
			"{detail}; its other row(s) {rows} are left out too",
			detail=detail,
			rows=", ".join(map(str, others)),
		)
	anchor = groups[1][1][0]
	errors.append(
		RegisterError(
			register.path.name,
			anchor,
			column,
			Text(
				'customer "{customer}" has different values (empty cells are fine): {detail}',
				customer=customer,
				detail=detail,
			),
		)
	)
	return True


def _comparable(key: str, value: Any) -> Any:
	if key == "phone":
		return re.sub(r"\D", "", value) or value
	if isinstance(value, str):
		return value.casefold()
	if isinstance(value, tuple):
		return tuple(" ".join(line.casefold().replace(",", " ").split()) for line in value)
	if isinstance(value, ContractRate):
		return (value.rate.normalize(), value.period)
	return value


def _show(value: Any) -> str:
	if isinstance(value, tuple):
		return _quote(" / ".join(value))
	if isinstance(value, ContractRate):
		return f'"{value.rate.normalize()} % per {value.period}"'
	return _quote(value)
