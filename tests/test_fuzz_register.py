"""Fuzzing the register reader: malformed CSV and XLSX files end as clear errors or correct parses.

Hypothesis writes registers the way people and spreadsheets do (CSV in UTF-8, UTF-8 with a BOM,
Windows-1252, Latin-1 or UTF-16, `;` or `,`, French or English headers in any case; XLSX with
number, date and formula cells, merged cells, extra columns, empty rows) mixing sound rows with
corrupted ones (impossible dates, negative, huge or NaN amounts, unknown currencies, blank required
cells, duplicate invoice numbers…). Every model row knows what it must become, and the invariant is:

- `read_register` never raises;
- a sound row is an invoice whose fields are the values written (not just counted);
- a corrupted row is in `bad_rows`, with an error naming the file, the row and the column at fault;
- an empty row is in `empty_rows` (and counted in a warning);
- invoices + bad rows + empty rows == the rows written: nothing is dropped silently.

The targeted tests after the property tests pin each malformed case down with its message.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import tempfile
import unicodedata
import unittest
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from openpyxl.utils import get_column_letter

from relance_erpnext.connectors.register import Register, read_register
from relance_erpnext.dunning.models import DISPUTE, HOLD

NBSP = "\u00a0"
FR, EN = "fr", "en"
REQUIRED = ("invoice", "customer", "amount", "due")
OPTIONAL = ("currency", "issued", "paid", "status")
HEADERS = {
	FR: {
		"invoice": ("N° facture", "Numéro", "Numéro de facture", "Facture"),
		"customer": ("Client",),
		"amount": ("Montant", "Montant TTC", "Total"),
		"currency": ("Devise",),
		"issued": ("Date d'émission", "Date"),
		"due": ("Échéance", "Date d'échéance"),
		"paid": ("Payé", "Montant payé"),
		"status": ("Statut",),
		"notes": ("Remarques",),
	},
	EN: {
		"invoice": ("Invoice", "Invoice number"),
		"customer": ("Customer",),
		"amount": ("Amount", "Total", "Total (incl. VAT)"),
		"currency": ("Currency",),
		"issued": ("Issued", "Issue date"),
		"due": ("Due", "Due date"),
		"paid": ("Paid",),
		"status": ("Status",),
		"notes": ("Notes",),
	},
}
# Encodings a CSV register comes in; UTF-16 without a BOM is what some exports write
ENCODINGS = ("utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16", "utf-16-le")
LATIN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -'&.,;\"éèêàçùôÉÈÀÇÔüöäßñ"
CURRENCIES = {"": "EUR", "EUR": "EUR", "eur": "EUR", "€": "EUR", "CAD": "CAD", "USD": "USD", "CHF": "CHF"}
STATUSES = {
	"": "open",
	"ouverte": "open",
	"open": "open",
	"En cours": "open",
	"payée": "paid",
	"Paid": "paid",
	"litige": DISPUTE,
	"suspendue": HOLD,
	"On hold": HOLD,
	"annulée": "cancelled",
	"Cancelled": "cancelled",
}
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


def strip_accents(text: str) -> str:
	return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@dataclass
class Row:
	"""One row as written, and what the reader must make of it."""

	cells: dict[str, Any] = field(default_factory=dict)  # column key -> the value written
	expect: str = "ok"  # "ok", "bad" or "empty"
	fields: dict[str, Any] = field(default_factory=dict)  # the invoice expected ("ok")
	fault: str | None = None  # the column key the error names ("bad"); None: the row as a whole
	kind: str = ""  # what was done to the row (in failure messages)
	extra: list[Any] = field(default_factory=list)  # cells right of the last header
	formulas: dict[str, tuple[str, Any]] = field(default_factory=dict)  # key -> (formula, saved value)
	merge_up: str | None = None  # XLSX: this cell is merged with the one above (and so empty)
	unnamed_value: Any = None  # in the column without a header (ignored)
	twin: Row | None = None  # "duplicate": the earlier row whose invoice number this row repeats
	number: int = 0  # the spreadsheet row


@dataclass
class Book:
	"""A register to write: its columns, headers and rows."""

	kind: str  # "csv" or "xlsx"
	keys: list[str]
	headers: dict[str, str]
	rows: list[Row]
	leading_empty: int = 0
	encoding: str = "utf-8"
	delimiter: str = ";"
	line_end: str = "\n"
	unnamed: bool = False  # a column without a header (its values are ignored, with a warning)


# ---------------------------------------------------------------------------------------------------
# Strategies


def amount_text(draw, amount: Decimal, currency: str, euro: bool = True) -> str:
	"""An amount as people type it: 1234.56, 1 234,56, 1,234.56, 1.234,56, with a sign or not."""
	whole, cents = f"{amount:.2f}".split(".")
	groups = f"{int(whole):,}"
	style = draw(st.sampled_from(["plain", "fr", "fr_nbsp", "en", "de", "integer"]))
	if style == "plain":
		text = f"{whole}.{cents}"
	elif style in ("fr", "fr_nbsp"):
		text = groups.replace(",", " " if style == "fr" else NBSP) + "," + cents
	elif style == "en":
		text = f"{groups}.{cents}"
	elif style == "de":
		text = groups.replace(",", ".") + "," + cents
	else:
		text = whole if cents == "00" else f"{whole},{cents}"
	if currency == "EUR" and draw(st.booleans()):
		signs = [f"{text} €", f"{text}€", f"€{text}", f"{text} EUR"] if euro else [f"{text} EUR"]
		text = draw(st.sampled_from(signs))
	elif currency in ("CAD", "USD") and draw(st.booleans()):
		text = draw(st.sampled_from([f"{text} $", f"${text}", f"{text} {currency}"]))
	return text


def date_text(draw, day: date) -> str:
	forms = ["%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y"]
	if 2000 <= day.year <= 2099:
		forms.append("%d/%m/%y")
	return day.strftime(draw(st.sampled_from(forms)))


def xlsx_date(draw, day: date) -> Any:
	form = draw(st.sampled_from(["date", "datetime", "datetime_time", "text"]))
	if form == "date":
		return day
	if form == "datetime":
		return datetime.combine(day, time(0))
	if form == "datetime_time":
		return datetime.combine(day, time(15, 30))
	return date_text(draw, day)


def xlsx_amount(draw, amount: Decimal, currency: str) -> Any:
	form = draw(st.sampled_from(["float", "int", "text"]))
	if form == "int" and amount == amount.to_integral_value():
		return int(amount)
	if form == "text":
		return amount_text(draw, amount, currency)
	return float(amount)


def sound_row(draw, book: Book, index: int, alphabet: str) -> Row:
	"""A row the reader must read as it is written."""
	xlsx = book.kind == "xlsx"
	keys = book.keys
	row = Row(kind="sound")
	if xlsx and draw(st.integers(0, 4)) == 0:
		number: Any = 1000 + index
		invoice = str(number)
	else:
		invoice = number = f"FA-{index:04d}"
	row.cells["invoice"] = number
	customer = draw(st.text(alphabet=alphabet, min_size=1, max_size=20).filter(lambda t: t.strip()))
	row.cells["customer"] = customer
	euro = book.encoding != "latin-1"  # Latin-1 has no "€"
	codes = sorted(c for c in CURRENCIES if euro or c != "€")
	currency_written = draw(st.sampled_from(codes)) if "currency" in keys else ""
	currency = CURRENCIES[currency_written]
	if "currency" in keys:
		row.cells["currency"] = currency_written
	amount = draw(st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10) ** 11, places=2))
	row.cells["amount"] = (
		xlsx_amount(draw, amount, currency) if xlsx else amount_text(draw, amount, currency, euro)
	)
	due = draw(st.dates(FIRST_DAY, LAST_DAY))
	row.cells["due"] = xlsx_date(draw, due) if xlsx else date_text(draw, due)
	issued = None
	if "issued" in keys and draw(st.booleans()):
		issued = due - timedelta(days=draw(st.integers(0, min(400, (due - FIRST_DAY).days))))
		row.cells["issued"] = xlsx_date(draw, issued) if xlsx else date_text(draw, issued)
	status = "open"
	if "status" in keys:
		written = draw(st.sampled_from(sorted(STATUSES)))
		row.cells["status"] = written
		status = STATUSES[written]
	paid = Decimal(0)
	if "paid" in keys:
		if status == "paid":
			choice = draw(st.sampled_from(["blank", "yes", "all"]))
		else:
			choice = draw(st.sampled_from(["blank", "yes", "no", "part", "all"]))
		if choice == "yes":
			row.cells["paid"], paid = draw(st.sampled_from(["oui", "Yes", "payé"])), amount
		elif choice == "no":
			row.cells["paid"] = draw(st.sampled_from(["non", "No"]))
		elif choice in ("part", "all"):
			paid = amount if choice == "all" else draw(st.decimals(Decimal(0), amount, places=2))
			row.cells["paid"] = (
				xlsx_amount(draw, paid, currency) if xlsx else amount_text(draw, paid, currency, euro)
			)
	if status == "paid":
		paid = amount  # "payée" without an amount paid: paid in full
	if "notes" in keys:
		row.cells["notes"] = draw(st.sampled_from(["", "relancé par téléphone", "=1+1", "voir contrat"]))
	if book.unnamed and draw(st.booleans()):
		row.unnamed_value = "ignored"
	if xlsx and draw(st.integers(0, 5)) == 0:
		# Formula cells, as Excel saves them: the formula and its value
		if isinstance(row.cells["amount"], float | int):
			row.formulas["amount"] = (f"={row.cells['amount']}*1", row.cells["amount"])
		elif isinstance(number, str):
			row.formulas["invoice"] = (f'=HYPERLINK("https://erp.example/{number}","{number}")', number)
	row.fields = {
		"id": invoice,
		"customer": " ".join(customer.split()),
		"currency": currency,
		"total": amount,
		"due": due,
		"issued": issued or due,
		"paid": paid,
		"hold": status if status in (DISPUTE, HOLD) else None,
		"cancelled": status == "cancelled",
	}
	return row


IMPOSSIBLE_DATES = (
	"31/02/2025",
	"30/02/2024",
	"29/02/2025",
	"2025-02-30",
	"31/04/2026",
	"00/01/2025",
	"32/01/2025",
	"2025-13-01",
	"15/13/2025",
	"31/06/26",
)
NOT_DATES = ("demain", "2025/31/12", "31 février 2025", "45000", "--", "2025-1-1-1")
NEGATIVE = ("-10", "-1 234,56", "(12,50)", "-0,01")
HUGE = ("1e400", "1E15", "99999999999999999", "1e9999999999999999999", "1 000 000 000 000 000")
NOT_FINITE = ("NaN", "nan", "inf", "-Infinity", "sNaN")
NOT_AMOUNTS = ("douze", "12 EUR 50", "1,2,3", "1.2.3", "10 GBP", "12 euros 50", "12$50")
UNKNOWN_CURRENCIES = ("XYZ", "EU", "E", "US Dollar", "ABC", "$$")
UNKNOWN_STATUSES = ("peut-être", "???", "réglée en partie?")


def corrupt(draw, book: Book, row: Row, earlier: list[Row]) -> None:
	"""Spoil one thing in a sound row: it must then be a bad row with an error naming the column."""
	xlsx = book.kind == "xlsx"
	keys = book.keys
	kinds = [
		"impossible_date",
		"not_a_date",
		"huge",
		"not_finite",
		"zero",
		"decimals",
		"not_amount",
		"blank_required",
		"extra_cell",
	]
	if "currency" in keys:
		kinds += ["unknown_currency"]
	if row.fields["currency"] == "EUR" or row.fields["currency"] in ("CAD", "USD"):
		kinds += ["symbol_conflict"]
	if "paid" in keys:
		kinds += ["paid_over"]
	if "issued" in keys:
		kinds += ["due_before_issue"]
	if "status" in keys:
		kinds += ["unknown_status"]
	numbered = [r for r in earlier if has_number(r)]
	if numbered:
		kinds += ["duplicate"]
	if xlsx:
		kinds += ["formula_without_value", "hyperlink_without_value"]
		above = earlier[-1] if earlier else None
		if above and above.expect != "empty" and not above.merge_up and row.number == above.number + 1:
			kinds += ["merged"]
	kind = draw(st.sampled_from(kinds))
	row.kind, row.expect, row.formulas = kind, "bad", {}
	currency = row.fields["currency"]
	if kind == "impossible_date":
		row.cells["due"], row.fault = draw(st.sampled_from(IMPOSSIBLE_DATES)), "due"
	elif kind == "not_a_date":
		row.cells["due"], row.fault = draw(st.sampled_from(NOT_DATES)), "due"
		if xlsx and draw(st.booleans()):
			row.cells["due"] = draw(st.sampled_from([46000, 3.5, True, time(12, 0)]))
	elif kind == "negative":
		row.cells["amount"], row.fault = draw(st.sampled_from(NEGATIVE)), "amount"
		if xlsx and draw(st.booleans()):
			row.cells["amount"] = -float(row.fields["total"])
	elif kind == "huge":
		row.cells["amount"], row.fault = draw(st.sampled_from(HUGE)), "amount"
		if xlsx and draw(st.booleans()):
			row.cells["amount"] = draw(st.sampled_from([1e300, 10**20, 1e15]))
	elif kind == "not_finite":
		row.cells["amount"], row.fault = draw(st.sampled_from(NOT_FINITE)), "amount"
	elif kind == "zero":
		row.cells["amount"], row.fault = draw(st.sampled_from(["0", "0,00", "-0", "0.001"])), "amount"
		if xlsx and draw(st.booleans()):
			row.cells["amount"] = draw(st.sampled_from([0, 0.0, 0.001, -0.0]))
	elif kind == "decimals":
		row.cells["amount"], row.fault = draw(st.sampled_from(["10.001", "1 234,567", "0,125"])), "amount"
	elif kind == "not_amount":
		row.cells["amount"], row.fault = draw(st.sampled_from(NOT_AMOUNTS)), "amount"
		if xlsx and draw(st.booleans()):
			row.cells["amount"] = draw(st.sampled_from([date(2026, 1, 1), True, time(8, 0)]))
	elif kind == "blank_required":
		key = draw(st.sampled_from(REQUIRED))
		row.cells[key], row.fault = draw(st.sampled_from(["", "  ", None])), key
	elif kind == "extra_cell":
		row.extra, row.fault = [draw(st.sampled_from(["surplus", "12", "x"]))], None
		if xlsx:
			# Cells never shift in a workbook: a value right of the headers is in a column without
			# a header, ignored with a warning (a CSV row with one cell too many is an error)
			row.expect = "ok"
	elif kind == "unknown_currency":
		row.cells["currency"], row.fault = draw(st.sampled_from(UNKNOWN_CURRENCIES)), "currency"
	elif kind == "symbol_conflict":
		sign = "$" if currency == "EUR" else "€" if book.encoding != "latin-1" else "EUR"
		row.cells["amount"], row.fault = f"{row.fields['total']:.2f}".replace(".", ",") + f" {sign}", "amount"
	elif kind == "paid_over":
		over = row.fields["total"] + Decimal("0.01") * draw(st.integers(1, 10**6))
		row.cells["paid"], row.fault = f"{over:.2f}", "paid"
		if row.cells.get("status") in ("payée", "Paid"):
			row.cells["status"] = ""
	elif kind == "due_before_issue":
		later = row.fields["due"] + timedelta(days=draw(st.integers(1, 30)))
		row.cells["issued"], row.fault = later.strftime("%d/%m/%Y"), "due"
	elif kind == "unknown_status":
		row.cells["status"], row.fault = draw(st.sampled_from(UNKNOWN_STATUSES)), "status"
	elif kind == "duplicate":
		twin = draw(st.sampled_from(numbered))
		row.cells["invoice"], row.fault, row.twin = twin.cells["invoice"], "invoice", twin
	elif kind == "formula_without_value":
		row.formulas["amount"], row.fault = ("=A2*2", None), "amount"
	elif kind == "hyperlink_without_value":
		row.formulas["invoice"], row.fault = ('=HYPERLINK("https://erp.example/x","FA-x")', None), "invoice"
	elif kind == "merged":
		row.merge_up, row.fault = "customer", "customer"


def has_number(row: Row) -> bool:
	"""Does the reader find an invoice number in this row (for a duplicate to repeat)?"""
	value = row.cells.get("invoice")
	if row.expect == "empty" or value is None or not str(value).strip():
		return False
	return row.formulas.get("invoice", ("", "saved"))[1] is not None


@st.composite
def books(draw, kind: str) -> Book:
	language = draw(st.sampled_from([FR, EN]))
	optional = [key for key in OPTIONAL if draw(st.booleans())]
	keys = draw(st.permutations([*REQUIRED, *optional, *(["notes"] if draw(st.booleans()) else [])]))
	case = draw(st.sampled_from([str, str.upper, str.lower, strip_accents]))
	headers = {key: case(draw(st.sampled_from(HEADERS[language][key]))) for key in keys}
	book = Book(kind=kind, keys=list(keys), headers=headers, rows=[])
	if kind == "csv":
		book.encoding = draw(st.sampled_from(ENCODINGS))
		book.delimiter = draw(st.sampled_from([";", ","]))
		book.line_end = draw(st.sampled_from(["\n", "\r\n"]))
	book.unnamed = draw(st.booleans())
	book.leading_empty = draw(st.integers(0, 2))
	alphabet = LATIN + ("€" if book.encoding in ("utf-8", "utf-8-sig", "utf-16") else "")
	number = book.leading_empty + 2  # the header is the row after the leading empty rows
	for index in range(draw(st.integers(0, 10))):
		what = draw(st.sampled_from(["sound"] * 6 + ["bad"] * 3 + ["empty"]))
		if what == "empty":
			row = Row(expect="empty", kind="empty")
		else:
			row = sound_row(draw, book, index, alphabet)
			row.number = number
			if what == "bad":
				corrupt(draw, book, row, book.rows)
		row.number = number
		book.rows.append(row)
		number += 1
	# The last rows must not be empty: empty rows after the table are its end, not rows (see below)
	while book.rows and book.rows[-1].expect == "empty":
		book.rows.pop()
	return book


# ---------------------------------------------------------------------------------------------------
# Writing


def row_cells(book: Book, row: Row, blank: Any) -> list[Any]:
	cells = [blank if row.cells.get(key) is None else row.cells[key] for key in book.keys]
	if book.unnamed:
		cells.append(blank if row.unnamed_value is None else row.unnamed_value)
	return cells + row.extra


def header_cells(book: Book) -> list[str]:
	return [book.headers[key] for key in book.keys] + ([""] if book.unnamed else [])


def write_csv(book: Book, path: Path) -> None:
	out = io.StringIO()
	writer = csv.writer(out, delimiter=book.delimiter, lineterminator=book.line_end)
	for _ in range(book.leading_empty):
		writer.writerow([])
	writer.writerow(header_cells(book))
	for row in book.rows:
		if row.expect == "empty":
			writer.writerow(["", " ", ""][: len(book.keys)] if row.number % 2 else [])
		else:
			writer.writerow(["" if c is None else str(c) for c in row_cells(book, row, "")])
	path.write_bytes(out.getvalue().encode(book.encoding))


def write_xlsx(book: Book, path: Path) -> None:
	workbook = openpyxl.Workbook()
	sheet = workbook.active
	sheet.title = "Factures"
	for _ in range(book.leading_empty):
		sheet.append([])
	sheet.append(header_cells(book))
	saved: dict[str, Any] = {}
	for row in book.rows:
		if row.expect == "empty":
			sheet.append([None] * len(book.keys))
			continue
		cells = row_cells(book, row, None)
		for key, (formula, value) in row.formulas.items():
			index = book.keys.index(key)
			cells[index] = formula
			if value is not None:
				saved[f"{get_column_letter(index + 1)}{row.number}"] = value
		if row.merge_up:
			cells[book.keys.index(row.merge_up)] = None
		sheet.append(cells)
		if row.merge_up:
			letter = get_column_letter(book.keys.index(row.merge_up) + 1)
			sheet.merge_cells(f"{letter}{row.number - 1}:{letter}{row.number}")
	workbook.save(path)
	if saved:
		save_formula_values(path, saved)


def save_formula_values(path: Path, values: dict[str, Any]) -> None:
	"""Give formula cells the value Excel saves with them (openpyxl writes formulas without one)."""
	with zipfile.ZipFile(path) as z:
		files = {n: z.read(n) for n in z.namelist()}
	sheet = files["xl/worksheets/sheet1.xml"].decode()
	for ref, value in values.items():
		pattern = re.compile(rf'<c r="{ref}"([^>]*)><f>(.*?)</f><v\s*/></c>')
		match = pattern.search(sheet)
		assert match, (ref, sheet)
		attrs = re.sub(r'\s*t="[^"]*"', "", match.group(1))
		if isinstance(value, str):
			cell = f'<c r="{ref}"{attrs} t="str"><f>{match.group(2)}</f><v>{value}</v></c>'
		else:
			cell = f'<c r="{ref}"{attrs}><f>{match.group(2)}</f><v>{value!r}</v></c>'
		sheet = sheet[: match.start()] + cell + sheet[match.end() :]
	files["xl/worksheets/sheet1.xml"] = sheet.encode()
	with zipfile.ZipFile(path, "w") as z:
		for name, data in files.items():
			z.writestr(name, data)


# ---------------------------------------------------------------------------------------------------
# The invariant


class TempDir(unittest.TestCase):
	def setUp(self):
		self.dir = Path(tempfile.mkdtemp(prefix="fuzz-register-"))
		self.addCleanup(shutil.rmtree, self.dir, True)

	def messages(self, register: Register) -> list[str]:
		return [str(e) for e in register.errors]

	def check(self, book: Book, path: Path) -> Register:
		register = read_register(path)  # must never raise
		shown = {key: " ".join(text.split()) for key, text in book.headers.items()}
		context = f"{[(r.number, r.kind, r.cells, r.extra) for r in book.rows]}\n{self.messages(register)}"
		self.assertFalse(register.fatal, context)
		for error in register.errors:
			self.assertEqual(error.file, path.name)
			self.assertIsNotNone(error.row, str(error))
			self.assertTrue(error.column is None or error.column in shown.values(), str(error))
		by_row = {
			number: invoice for invoice in register.invoices for number in [register.invoice_rows[invoice.id]]
		}
		expected_bad = {r.number for r in book.rows if r.expect == "bad"}
		expected_bad |= {r.twin.number for r in book.rows if r.twin}  # both copies of a number are left out
		for row in book.rows:
			event(f"{book.kind} row: {row.kind}")
			where = f"row {row.number} ({row.kind}): {row.cells} {row.extra}\n{context}"
			if row.number in expected_bad:
				self.assertIn(row.number, register.bad_rows, where)
				self.assertNotIn(row.number, by_row, where)
				named = [e for e in register.errors if e.row == row.number]
				mentioned = [
					e for e in register.errors if re.search(rf"\brows? .*\b{row.number}\b", e.message)
				]
				self.assertTrue(named or mentioned, where)
				if row.expect == "bad":
					column = shown[row.fault] if row.fault else None
					self.assertTrue(any(e.column == column for e in named), where)
			elif row.expect == "empty":
				self.assertIn(row.number, register.empty_rows, where)
			else:
				self.assertIn(row.number, by_row, where)
				self.assert_invoice(by_row[row.number], row.fields, where)
		# Nothing dropped: every row written is an invoice, a bad row or an empty row, once
		numbers = [r.number for r in book.rows]
		found = sorted([*register.invoice_rows.values(), *register.bad_rows, *register.empty_rows])
		self.assertEqual(found, numbers, context)
		self.assertEqual(
			len(register.invoices) + len(register.bad_rows) + len(register.empty_rows), len(numbers)
		)
		self.assertEqual(register.rows_read, len(register.invoices) + len(register.bad_rows))
		if register.empty_rows:
			self.assertIn(f"{path.name}: {len(register.empty_rows)} empty row(s) ignored", register.warnings)
		width = len(header_cells(book))
		unnamed = {width} if book.unnamed and any(r.unnamed_value for r in book.rows) else set()
		if book.kind == "xlsx":
			unnamed |= {width + 1 for r in book.rows if r.extra}
		for column in unnamed:
			self.assertIn(
				f"{path.name}: column {column} has no header; its values are ignored", register.warnings
			)
		return register

	def assert_invoice(self, invoice, fields: dict, where: str) -> None:
		hold = invoice.hold.kind if invoice.hold else None
		got = {
			"id": invoice.id,
			"customer": invoice.customer,
			"currency": invoice.currency,
			"total": invoice.total,
			"due": invoice.due,
			"issued": invoice.issued,
			"paid": invoice.paid,
			"hold": hold,
			"cancelled": invoice.cancelled,
		}
		self.assertEqual(got, fields, where)


FUZZ = settings(
	deadline=None,
	suppress_health_check=[
		HealthCheck.function_scoped_fixture,
		HealthCheck.too_slow,
		HealthCheck.data_too_large,
	],
)


class TestFuzzCsv(TempDir):
	@settings(FUZZ, max_examples=200)
	@given(books("csv"))
	def test_every_row_is_read_right_or_reported(self, book):
		path = self.dir / "ventes.csv"
		write_csv(book, path)
		register = self.check(book, path)
		# Latin-1 is read as cp1252 (the same letters), and a file with nothing but ASCII as UTF-8
		found = {"latin-1": ("cp1252", "utf-8"), "cp1252": ("cp1252", "utf-8")}.get(
			book.encoding, (book.encoding,)
		)
		self.assertIn(register.encoding, found)
		self.assertEqual(register.delimiter, book.delimiter)


class TestFuzzXlsx(TempDir):
	@settings(FUZZ, max_examples=60)
	@given(books("xlsx"))
	def test_every_row_is_read_right_or_reported(self, book):
		path = self.dir / "ventes.xlsx"
		write_xlsx(book, path)
		self.check(book, path)


class TestFuzzMissingColumns(TempDir):
	@settings(FUZZ, max_examples=40)
	@given(
		st.sets(st.sampled_from(REQUIRED), min_size=1),
		st.sampled_from([FR, EN]),
		st.sampled_from(["csv", "xlsx"]),
		st.integers(0, 3),
	)
	def test_a_missing_required_column_is_one_clear_error_each(self, missing, language, kind, rows):
		keys = [k for k in (*REQUIRED, "currency") if k not in missing]
		header = [HEADERS[language][k][0] for k in keys]
		data = [[f"FA-{i}" if k == "invoice" else "X" for k in keys] for i in range(rows)]
		path = self.dir / f"ventes.{kind}"
		if kind == "csv":
			path.write_text("\n".join(";".join(r) for r in [header, *data]) + "\n", encoding="utf-8")
		else:
			workbook = openpyxl.Workbook()
			for r in [header, *data]:
				workbook.active.append(r)
			workbook.save(path)
		register = read_register(path)
		self.assertTrue(register.fatal)
		self.assertFalse(register.plannable)
		self.assertEqual(register.invoices, [])
		labels = {
			"invoice": "the invoice number",
			"customer": "the customer",
			"amount": "the invoice amount incl. VAT",
			"due": "the due date",
		}
		self.assertEqual(len(register.errors), len(missing), self.messages(register))
		for key in missing:
			self.assertTrue(
				any(
					str(e).startswith(
						f"{path.name}: no column for {labels[key]} (a required column; accepted headers:"
					)
					for e in register.errors
				),
				(key, self.messages(register)),
			)


# ---------------------------------------------------------------------------------------------------
# Each malformed case, by example


HEADER = ["Facture", "Client", "Montant", "Échéance", "Devise"]


class Examples(TempDir):
	def write(self, text: str, name="ventes.csv", encoding="utf-8") -> Path:
		path = self.dir / name
		path.write_bytes(text.encode(encoding))
		return path

	def read(self, text: str, **kw) -> Register:
		return read_register(self.write(text, **kw))

	def csv_text(self, rows, delimiter=";") -> str:
		return "\n".join(delimiter.join(r) for r in [HEADER, *rows]) + "\n"

	def xlsx(self, rows, header=HEADER, name="ventes.xlsx") -> Path:
		workbook = openpyxl.Workbook()
		for r in [header, *rows]:
			workbook.active.append(r)
		path = self.dir / name
		workbook.save(path)
		return path

	def error(self, register: Register, row: int, column: str | None) -> str:
		found = [e for e in register.errors if e.row == row and e.column == column]
		self.assertEqual(len(found), 1, (row, column, self.messages(register)))
		self.assertIn(row, register.bad_rows)
		return str(found[0])


class TestEncodings(Examples):
	TEXT = "Facture;Client;Montant;Échéance\nFA-1;Société Générale à Noël;1 234,56;31/03/2026\n"

	def test_every_encoding_reads_the_same(self):
		for encoding, found in (
			("utf-8", "utf-8"),
			("utf-8-sig", "utf-8-sig"),
			("cp1252", "cp1252"),
			("latin-1", "cp1252"),  # the same letters; cp1252 is tried first
			("utf-16", "utf-16"),
			("utf-16-le", "utf-16-le"),
			("utf-16-be", "utf-16-be"),
		):
			with self.subTest(encoding=encoding):
				register = self.read(self.TEXT, encoding=encoding)
				self.assertEqual(register.errors, [])
				self.assertEqual(register.encoding, found)
				[invoice] = register.invoices
				self.assertEqual(invoice.customer, "Société Générale à Noël")
				self.assertEqual(invoice.total, Decimal("1234.56"))

	def test_euro_sign_survives_utf16_without_bom(self):
		# Fixed: read as cp1252 with its NULs removed, "€" became "¬" without an error
		register = self.read(self.TEXT.replace("Noël", "€uro"), encoding="utf-16-le")
		self.assertEqual(register.invoices[0].customer, "Société Générale à €uro")
		self.assertFalse(any("NUL" in w for w in register.warnings), register.warnings)

	def test_not_utf8_is_read_as_cp1252_with_a_warning(self):
		register = self.read(self.TEXT.replace("Noël", "Noël €"), encoding="cp1252")
		self.assertEqual(register.invoices[0].customer, "Société Générale à Noël €")
		self.assertIn("ventes.csv: not UTF-8; read as Windows-1252 (cp1252)", register.warnings)

	def test_binary_garbage_is_a_clear_error(self):
		path = self.dir / "ventes.csv"
		path.write_bytes(bytes(range(256)) * 4)
		register = read_register(path)
		self.assertTrue(register.fatal)
		self.assertTrue(
			str(register.errors[0]).startswith("ventes.csv: no column for"), self.messages(register)
		)


class TestDates(Examples):
	def test_impossible_dates(self):
		rows = [[f"FA-{i}", "X", "10", text] for i, text in enumerate(IMPOSSIBLE_DATES)]
		register = self.read(self.csv_text(rows))
		self.assertEqual(register.invoices, [])
		for number, text in enumerate(IMPOSSIBLE_DATES, start=2):
			message = self.error(register, number, "Échéance")
			self.assertIn(f'ventes.csv, row {number}, column "Échéance": "{text}" is not a date', message)

	def test_month_first_dates_are_refused_with_a_hint(self):
		register = self.read(self.csv_text([["FA-1", "X", "10", "03/31/2026"]]))
		self.assertIn("the day comes first: DD/MM/YYYY", self.error(register, 2, "Échéance"))

	def test_two_digit_years_are_this_century(self):
		register = self.read(self.csv_text([["FA-1", "X", "10", "31/03/26"]]))
		self.assertEqual(register.invoices[0].due, date(2026, 3, 31))

	def test_xlsx_date_cells_numbers_and_times(self):
		path = self.xlsx(
			[
				["FA-1", "X", 10, date(2026, 3, 31)],
				["FA-2", "X", 10, datetime(2026, 3, 31, 17, 45)],
				["FA-3", "X", 10, 46112],  # a date serial in a cell not formatted as a date
				["FA-4", "X", 10, time(12, 0)],
				["FA-5", "X", 10, "31/02/2025"],
			]
		)
		register = read_register(path)
		self.assertEqual(
			[(i.id, i.due) for i in register.invoices],
			[("FA-1", date(2026, 3, 31)), ("FA-2", date(2026, 3, 31))],
		)
		self.assertIn('"46112" is not a date', self.error(register, 4, "Échéance"))
		self.assertIn('"12:00:00" is not a date', self.error(register, 5, "Échéance"))
		self.assertIn('"31/02/2025" is not a date', self.error(register, 6, "Échéance"))


class TestAmounts(Examples):
	def test_negative_huge_and_not_finite_amounts(self):
		cases = {
			"1e400": "is too large to be an amount",
			"1E15": "is too large to be an amount",
			"99999999999999999": "is too large to be an amount",
			"1e9999999999999999999": "is not an amount",
			"NaN": "is not an amount",
			"inf": "is not an amount",
			"-Infinity": "is not an amount",
			"sNaN": "is not an amount",
			"0": "the amount is 0",
			"10.001": "has more than 2 decimals for EUR",
			"1,2,3": "is not an amount",
		}
		rows = [[f"FA-{i}", "X", text, "31/03/2026"] for i, text in enumerate(cases)]
		register = self.read(self.csv_text(rows))
		self.assertEqual(register.invoices, [])
		for number, (text, fragment) in enumerate(cases.items(), start=2):
			message = self.error(register, number, "Montant")
			self.assertIn(fragment, message)
			if fragment != "the amount is 0":
				self.assertIn(f'"{text}"', message)

	def test_negative_amounts_are_credits(self):
		# A negative row is a credit note of the customer (deducted from what is asked), not an error
		rows = [
			["AV-1", "X", "-10", "31/03/2026"],
			["AV-2", "X", "(12,50)", ""],
			["FA-3", "X", "40", "31/03/2026"],
		]
		register = self.read(self.csv_text(rows))
		self.assertEqual(register.errors, [])
		self.assertEqual([i.id for i in register.invoices], ["FA-3"])
		self.assertEqual(
			[(c.reference, c.amount) for c in register.credits],
			[("AV-1", Decimal("10")), ("AV-2", Decimal("12.50"))],
		)
		self.assertEqual(register.credit_rows, {"AV-1": 2, "AV-2": 3})

	def test_currency_sign_inside_the_number(self):
		# Fixed: "12€50" (French for 12,50 €) was read as 1250 EUR
		register = self.read(
			self.csv_text([["FA-1", "X", "12€50", "31/03/2026"], ["FA-2", "X", "12 EUR 50", "31/03/2026"]])
		)
		self.assertEqual(register.invoices, [])
		self.assertIn('"12€50": the currency sign is inside the number', self.error(register, 2, "Montant"))
		self.assertIn("inside the number", self.error(register, 3, "Montant"))

	def test_currency_written_in_the_amount_must_agree(self):
		# Fixed: "1 234,56 $" in a row without a currency was read as 1234.56 EUR
		register = self.read(
			self.csv_text(
				[
					["FA-1", "X", "1 234,56 $", "31/03/2026", ""],
					["FA-2", "X", "1 234,56 €", "31/03/2026", "CAD"],
					["FA-3", "X", "10 USD", "31/03/2026", "EUR"],
					["FA-4", "X", "1 234,56 $", "31/03/2026", "CAD"],
					["FA-5", "X", "1 234,56 €", "31/03/2026", ""],
					["FA-6", "X", "$10", "31/03/2026", "USD"],
				]
			)
		)
		self.assertEqual(
			[(i.id, i.total, i.currency) for i in register.invoices],
			[
				("FA-4", Decimal("1234.56"), "CAD"),
				("FA-5", Decimal("1234.56"), "EUR"),
				("FA-6", Decimal("10"), "USD"),
			],
		)
		self.assertIn(
			"is written in $ but the currency of the row is EUR, as no currency is given",
			self.error(register, 2, "Montant"),
		)
		self.assertIn(
			"is written in € but the currency of the row is CAD", self.error(register, 3, "Montant")
		)
		self.assertIn(
			"is written in USD but the currency of the row is EUR", self.error(register, 4, "Montant")
		)

	def test_unknown_currencies(self):
		# Fixed: any three letters were taken as a currency ("EUT" made a currency of its own)
		register = self.read(
			self.csv_text([["FA-1", "X", "10", "31/03/2026", code] for code in ("EUT", "XYZ", "US Dollar")])
		)
		self.assertEqual(register.invoices, [])
		self.assertIn('"EUT" is not a currency code in use (ISO 4217', self.error(register, 2, "Devise"))
		self.assertIn('"XYZ" is not a currency code in use', self.error(register, 3, "Devise"))
		self.assertIn('"US Dollar" is not a currency code', self.error(register, 4, "Devise"))
		ok = self.read(self.csv_text([["FA-1", "X", "10", "31/03/2026", c] for c in ("chf", "GBP", "€")][:1]))
		self.assertEqual(ok.invoices[0].currency, "CHF")

	def test_xlsx_numbers_that_are_not_amounts(self):
		path = self.xlsx(
			[
				["FA-1", "X", -5, date(2026, 3, 31)],
				["FA-2", "X", 1e300, date(2026, 3, 31)],
				["FA-3", "X", float("nan"), date(2026, 3, 31)],  # openpyxl writes nothing for NaN
				["FA-4", "X", True, date(2026, 3, 31)],
				["FA-5", "X", 0.1 + 0.2, date(2026, 3, 31)],
			]
		)
		register = read_register(path)
		self.assertEqual([(c.reference, c.amount) for c in register.credits], [("FA-1", Decimal("5"))])
		self.assertIn("is too large to be an amount", self.error(register, 3, "Montant"))
		self.assertIn("the invoice amount incl. VAT is empty", self.error(register, 4, "Montant"))
		self.assertIn('"True" is not an amount', self.error(register, 5, "Montant"))
		self.assertEqual([(i.id, i.total) for i in register.invoices], [("FA-5", Decimal("0.30"))])


def set_cell_xml(path: Path, ref: str, xml: str) -> None:
	"""Replace one cell of the first sheet by raw XML (what another program may have saved)."""
	with zipfile.ZipFile(path) as z:
		files = {n: z.read(n) for n in z.namelist()}
	sheet = files["xl/worksheets/sheet1.xml"].decode()
	sheet, count = re.subn(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', xml, sheet, count=1)
	assert count == 1, sheet
	files["xl/worksheets/sheet1.xml"] = sheet.encode()
	with zipfile.ZipFile(path, "w") as z:
		for name, data in files.items():
			z.writestr(name, data)


class TestXlsxCells(Examples):
	def test_formulas_are_read_from_their_saved_values_never_computed(self):
		path = self.xlsx(
			[
				['=HYPERLINK("https://erp.example/FA-1","FA-1")', "X", "=A1*2", date(2026, 3, 31)],
				["FA-2", "X", "=C2*2", date(2026, 3, 31)],
				['=HYPERLINK("https://erp.example/FA-3","FA-3")', "X", 10, date(2026, 3, 31)],
			]
		)
		save_formula_values(path, {"A2": "FA-1", "C2": 1440.5})
		register = read_register(path)
		self.assertEqual([(i.id, i.total) for i in register.invoices], [("FA-1", Decimal("1440.50"))])
		message = self.error(register, 3, "Montant")
		self.assertIn("cell C3 is a formula (=C2*2) without a saved value", message)
		message = self.error(register, 4, "Facture")
		self.assertIn(
			'cell A4 is a formula (=HYPERLINK("https://erp.example/FA-3","FA-3")) without a saved value',
			message,
		)

	def test_error_values_and_non_finite_numbers(self):
		path = self.xlsx(
			[[f"FA-{i}", "X", 10, date(2026, 3, 31), 5, 0] for i in range(4)],
			header=[*HEADER[:4], "Taux contractuel", "Payé"],
		)
		set_cell_xml(path, "C2", '<c r="C2" t="e"><f>1/0</f><v>#DIV/0!</v></c>')
		set_cell_xml(path, "C3", '<c r="C3" t="n"><v>1e400</v></c>')  # read as inf
		set_cell_xml(path, "E4", '<c r="E4" t="n"><v>1E309</v></c>')
		set_cell_xml(path, "F5", '<c r="F5" t="n"><v>-1e400</v></c>')
		register = read_register(path)
		self.assertEqual(register.invoices, [])
		self.assertIn("cell C2 shows the error #DIV/0!", self.error(register, 2, "Montant"))
		self.assertIn('"inf" is not an amount', self.error(register, 3, "Montant"))
		# Fixed: a rate cell holding an infinite number made read_register raise ValueError
		self.assertIn('"inf" is not a rate', self.error(register, 4, "Taux contractuel"))
		self.assertIn('"-inf" is not an amount', self.error(register, 5, "Payé"))

	def test_a_cell_openpyxl_cannot_read_is_a_clear_error_on_the_file(self):
		path = self.xlsx([["FA-1", "X", 10, date(2026, 3, 31)], ["FA-2", "X", 10, date(2026, 3, 31)]])
		set_cell_xml(path, "C3", '<c r="C3" t="n"><v>NaN</v></c>')
		register = read_register(path)
		self.assertTrue(register.fatal)
		[error] = register.errors
		self.assertTrue(str(error).startswith("ventes.xlsx: is not a readable .xlsx workbook"), str(error))
		self.assertIn("while reading row 3", str(error))

	def test_merged_cells_and_columns_without_a_header(self):
		path = self.xlsx(
			[
				["FA-1", "X", 10, date(2026, 3, 31), None, "note"],
				["FA-2", "X", 10, date(2026, 3, 31)],
				["FA-3", "Y", 10, date(2026, 3, 31), None, None, "far right"],
			],
			header=[*HEADER[:4], "Devise", None],
		)
		workbook = openpyxl.load_workbook(path)
		workbook.active.merge_cells("B2:B3")  # the customer of FA-1 spread over FA-2's row
		workbook.save(path)
		register = read_register(path)
		self.assertEqual([i.id for i in register.invoices], ["FA-1", "FA-3"])
		self.assertIn("the customer is empty", self.error(register, 3, "Client"))
		# Fixed: a value right of the headers was an error with a CSV hint ("an unquoted ','?"); in a
		# workbook cells never shift, so it is a column without a header, as column 6 is
		self.assertIn("ventes.xlsx: column 6 has no header; its values are ignored", register.warnings)
		self.assertIn("ventes.xlsx: column 7 has no header; its values are ignored", register.warnings)


class TestRows(Examples):
	def test_empty_rows_inside_are_reported_at_the_end_ignored(self):
		text = "Facture;Client;Montant;Échéance\n\nFA-1;X;10;31/03/2026\n;;;\n\nFA-2;X;10;31/03/2026\n\n;;\n"
		register = self.read(text)
		self.assertEqual([i.id for i in register.invoices], ["FA-1", "FA-2"])
		self.assertEqual(register.empty_rows, [2, 4, 5])
		self.assertIn("ventes.csv: 3 empty row(s) ignored", register.warnings)
		self.assertEqual(register.rows_read, 2)

	def test_blank_cells(self):
		register = self.read(
			self.csv_text(
				[["", "X", "10", "31/03/2026"], ["FA-2", " ", "10", "31/03/2026"], ["FA-3", "X", "", ""]]
			)
		)
		self.assertEqual(register.invoices, [])
		self.assertIn("the invoice number is empty", self.error(register, 2, "Facture"))
		self.assertIn("the customer is empty", self.error(register, 3, "Client"))
		self.assertIn("the invoice amount incl. VAT is empty", self.error(register, 4, "Montant"))
		self.assertIn("the due date is empty", self.error(register, 4, "Échéance"))

	def test_duplicate_invoice_numbers_leave_out_every_copy(self):
		register = self.read(
			self.csv_text(
				[
					["FA-1", "X", "10", "31/03/2026"],
					["FA-2", "X", "10", "31/03/2026"],
					["FA-1 ", "Y", "10", "31/03/2026"],
					["FA-1", "Z", "-1", "31/03/2026"],
				]
			)
		)
		self.assertEqual([i.id for i in register.invoices], ["FA-2"])
		self.assertEqual(register.bad_rows, [2, 4, 5])
		self.assertIn('invoice "FA-1" appears twice: rows 2 and 4', self.error(register, 4, "Facture"))
		self.assertIn(
			'invoice "FA-1" appears twice: rows 2 and 5', str([e for e in register.errors if e.row == 5])
		)

	def test_an_unclosed_quote_is_an_error_not_a_swallowed_row(self):
		# Fixed: the rows after a stray quote were read into one cell and vanished without a word
		text = 'Facture;Client;Montant;Échéance\nFA-1;"Dupont;10;31/03/2026\nFA-2;Y;20;31/03/2026\nFA-3;Z;30;31/03/2026\n'
		register = self.read(text)
		self.assertEqual(register.invoices, [])
		message = self.error(register, 2, "Client")
		self.assertIn(
			'a quote (") opened in this cell is never closed: from line 2 to line 4, the file was read',
			message,
		)

		text = 'Facture;Client;Montant;Échéance\nFA-1;"Dupont;10;31/03/2026\nFA-2;Y";20;31/03/2026\nFA-3;Z;30;31/03/2026\n'
		register = self.read(text)
		self.assertEqual([i.id for i in register.invoices], ["FA-3"])
		self.assertIn("never closed: from line 2 to line 3", self.error(register, 2, "Client"))

		text = 'Facture;Client;Montant;Échéance\nFA-1;X;10;31/03/2026\nFA-2;"Y;20;31/03/2026\n'
		register = self.read(text)
		self.assertEqual([i.id for i in register.invoices], ["FA-1"])
		self.assertIn("from line 3 to the end of the file", self.error(register, 3, "Client"))

	def test_a_quoted_address_over_two_lines_is_fine(self):
		text = 'Facture;Client;Montant;Échéance;Adresse\nFA-1;X;10;31/03/2026;"1 rue X\n75001 Paris"\nFA-2;X;10;31/03/2026;"1 rue X\n75001 Paris"\n'
		register = self.read(text)
		self.assertEqual(register.errors, [], self.messages(register))
		self.assertEqual(register.invoice_rows, {"FA-1": 2, "FA-2": 3})

	def test_a_row_the_csv_reader_refuses_is_left_out_alone(self):
		# Fixed: "the rest of the file is ignored", so the rows after it were dropped
		text = f'Facture;Client;Montant;Échéance\nFA-1;X;10;31/03/2026\nFA-2;"{"x" * 200_000}";10;31/03/2026\nFA-3;X;10;31/03/2026\n'
		register = self.read(text)
		self.assertEqual([i.id for i in register.invoices], ["FA-1", "FA-3"])
		self.assertIn("cannot be read as CSV (field larger than field limit", self.error(register, 3, None))
		self.assertEqual(register.rows_read, 3)

	def test_extra_cells_in_csv(self):
		register = self.read("Facture,Client,Montant,Échéance\nFA-1,X,1,5,31/03/2026\n")
		self.assertIn(
			'5 cells but the header has 4 (an unquoted "," inside a value?)', self.error(register, 2, None)
		)

	def test_header_only_and_empty_files(self):
		register = self.read("Facture;Client;Montant;Échéance\n\n\n")
		self.assertEqual((register.errors, register.invoices, register.empty_rows), ([], [], []))
		register = self.read("\n \n")
		self.assertTrue(register.fatal)
		self.assertEqual(self.messages(register), ["ventes.csv: the file is empty (no header row)"])


if __name__ == "__main__":
	unittest.main()
