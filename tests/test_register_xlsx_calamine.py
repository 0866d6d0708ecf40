"""XLSX read through python-calamine: every check openpyxl made is kept (error cells, formulas with and
without a saved value, percent formats, the sheet read, row numbers past leading empty rows, empty
cells), and openpyxl, the fallback, reads every workbook into the same Register."""

from __future__ import annotations

import re
import sys
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relance_erpnext.connectors import register as reader
from relance_erpnext.connectors.register import read_register
from relance_erpnext.dunning.models import PER_YEAR, ContractRate
from relance_erpnext.i18n import say

pytest.importorskip("python_calamine")

HEADER = ["Facture", "Client", "Montant", "Échéance", "Payé", "Taux contractuel"]
FIELDS = (
	"customers",
	"invoices",
	"errors",
	"warnings",
	"rows_read",
	"empty_rows",
	"sheet",
	"customer_sheet",
	"invoice_rows",
	"bad_rows",
	"fatal",
	"outcomes",
	"credits",
	"credit_rows",
	"title_rows",
	"total_rows",
)


def workbook(path: Path, rows, setup=None, title="Factures") -> Path:
	book = openpyxl.Workbook()
	sheet = book.active
	sheet.title = title
	for row in rows:
		sheet.append(row)
	if setup:
		setup(book, sheet)
	book.save(path)
	return path


def edit_sheet(path: Path, edit, part="xl/worksheets/sheet1.xml") -> None:
	"""Rewrite a sheet's XML (what Excel saves and openpyxl does not write: formula values, errors)."""
	with zipfile.ZipFile(path) as archive:
		files = {name: archive.read(name) for name in archive.namelist()}
	files[part] = edit(files[part].decode()).encode()
	with zipfile.ZipFile(path, "w") as archive:
		for name, data in files.items():
			archive.writestr(name, data)


def set_cell(path: Path, ref: str, xml: str) -> None:
	def edit(sheet: str) -> str:
		sheet, count = re.subn(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', xml, sheet, count=1)
		assert count == 1, sheet
		return sheet

	edit_sheet(path, edit)


def summary(register) -> dict:
	return {name: getattr(register, name) for name in FIELDS}


def read_both(path: Path, monkeypatch, **kw):
	"""The register read through calamine (checked: openpyxl is not used) and through openpyxl."""
	used = []
	openpyxl_rows = reader._openpyxl_rows

	def spy(*args, **kwargs):
		used.append(args[0])
		return openpyxl_rows(*args, **kwargs)

	with monkeypatch.context() as patch:
		patch.setattr(reader, "_openpyxl_rows", spy)
		fast = read_register(path, **kw)
	with monkeypatch.context() as patch:
		patch.setattr(reader, "_CALAMINE", False)
		slow = read_register(path, **kw)
	return fast, slow, used


def same(path: Path, monkeypatch, **kw):
	fast, slow, used = read_both(path, monkeypatch, **kw)
	assert used == [], "calamine did not read the workbook"
	assert summary(fast) == summary(slow)
	assert [e.text("fr") for e in fast.errors] == [e.text("fr") for e in slow.errors]
	return fast


def messages(register) -> list[str]:
	return [str(e) for e in register.errors]


def test_percent_formatted_rates(tmp_path, monkeypatch):
	def setup(book, sheet):
		sheet["F2"].number_format = "0.00%"  # built in (10)
		sheet["F3"].number_format = "0%"  # built in (9)
		sheet["F4"].number_format = "0.000%"  # the workbook's own format
		sheet["C5"].number_format = "0.00%"  # a percent amount is still an amount

	path = workbook(
		tmp_path / "ventes.xlsx",
		[
			HEADER,
			["FA-1", "A", 100, date(2026, 3, 31), None, 0.015],
			["FA-2", "B", 100, date(2026, 3, 31), None, 0.12],
			["FA-3", "C", 100, date(2026, 3, 31), None, 0.105],
			["FA-4", "D", 100, date(2026, 3, 31), None, 8],
		],
		setup,
	)
	register = same(path, monkeypatch)
	assert register.errors == [], messages(register)
	rates = {name: customer.contract_rate for name, customer in register.customers.items()}
	assert rates == {
		"A": ContractRate(Decimal("1.5"), PER_YEAR),
		"B": ContractRate(Decimal("12"), PER_YEAR),
		"C": ContractRate(Decimal("10.5"), PER_YEAR),
		"D": ContractRate(Decimal("8"), PER_YEAR),
	}


def test_a_percent_style_is_found_whatever_the_order_of_the_attributes(tmp_path, monkeypatch):
	path = workbook(tmp_path / "ventes.xlsx", [HEADER, ["FA-1", "A", 100, date(2026, 3, 31), None, 0.015]])
	style = re.search(r'<c r="F2" s="(\d+)"', zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode())
	assert style is None  # not formatted yet: 0.015 % a year
	register = same(path, monkeypatch)
	assert register.customers["A"].contract_rate == ContractRate(Decimal("0.015"), PER_YEAR)

	def setup(book, sheet):
		sheet["F2"].number_format = "0.00%"

	path = workbook(
		tmp_path / "ventes.xlsx", [HEADER, ["FA-1", "A", 100, date(2026, 3, 31), None, 0.015]], setup
	)
	xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
	style = re.search(r'<c r="F2" s="(\d+)"', xml).group(1)
	set_cell(path, "F2", f'<c s="{style}" t="n" r="F2"><v>0.015</v></c>')
	register = same(path, monkeypatch)
	assert register.customers["A"].contract_rate == ContractRate(Decimal("1.5"), PER_YEAR)


def test_error_cells_are_errors_naming_the_cell(tmp_path, monkeypatch):
	path = workbook(
		tmp_path / "ventes.xlsx",
		[HEADER, *([f"FA-{i}", "X", 100, date(2026, 3, 31), 10, None] for i in range(1, 5))],
	)
	set_cell(path, "C2", '<c r="C2" t="e"><f>1/0</f><v>#DIV/0!</v></c>')
	set_cell(path, "E3", '<c r="E3" t="e"><v>#N/A</v></c>')  # no formula: an error all the same
	set_cell(path, "E4", '<c r="E4" t="e"/>')  # an error type without a value: an empty cell
	register = same(path, monkeypatch)
	assert messages(register) == [
		'ventes.xlsx, row 2, column "Montant": cell C2 shows the error #DIV/0!',
		'ventes.xlsx, row 3, column "Payé": cell E3 shows the error #N/A',
	]
	assert [i.id for i in register.invoices] == ["FA-3", "FA-4"]
	assert register.invoices[0].paid == Decimal("0")  # the empty cell E4


def test_formulas_with_and_without_a_saved_value(tmp_path, monkeypatch):
	path = workbook(
		tmp_path / "ventes.xlsx",
		[
			["Facture", "Client", "HT", "Montant TTC", "Échéance"],
			["F1", "X", 100, "=C2*1.2", date(2026, 3, 31)],
			['=HYPERLINK("https://erp.example/F2","F2")', "X", 200, "=C3*1.2", date(2026, 3, 31)],
			["F3", "X", 300, "=C4*1.2", date(2026, 3, 31)],
		],
	)
	set_cell(path, "A3", '<c r="A3" t="str"><f>HYPERLINK("https://erp.example/F2","F2")</f><v>F2</v></c>')
	set_cell(path, "D3", '<c r="D3"><f>C3*1.2</f><v>240</v></c>')
	set_cell(path, "D4", '<c r="D4" t="str"><f>C4*1.2</f><v></v></c>')  # an empty saved value
	register = same(path, monkeypatch)
	assert messages(register) == [
		'ventes.xlsx, row 2, column "Montant TTC": cell D2 is a formula (=C2*1.2) without a saved value:'
		" open the file in Excel or LibreOffice and save it (formulas are not computed here)",
		'ventes.xlsx, row 4, column "Montant TTC": cell D4 is a formula (=C4*1.2) without a saved value:'
		" open the file in Excel or LibreOffice and save it (formulas are not computed here)",
	]
	assert [(i.id, i.total) for i in register.invoices] == [("F2", Decimal("240"))]


def test_a_formula_without_value_past_the_last_value(tmp_path, monkeypatch):
	# calamine's grid ends at the last cell with a value: the formula at G5 is past it, row and column,
	# and the row 9 of a total without its value (an empty row at the end, ignored as openpyxl's was)
	path = workbook(
		tmp_path / "ventes.xlsx",
		[[*HEADER[:4], "Devise", "Notes", "Taux contractuel"], ["F1", "X", 10, date(2026, 3, 31)]],
	)
	edit_sheet(
		path,
		lambda xml: xml.replace(
			"</sheetData>",
			'<row r="5"><c r="A5" t="inlineStr"><is><t>F2</t></is></c><c r="B5" t="inlineStr"><is><t>X</t>'
			'</is></c><c r="C5"><v>10</v></c><c r="D5" s="0"><v>46112</v></c><c r="G5"><f>1/100</f><v/></c>'
			'</row><row r="9"><c r="C9"><f>SUM(C2:C5)</f></c></row></sheetData>',
		),
	)
	register = same(path, monkeypatch)
	assert (
		'ventes.xlsx, row 5, column "Taux contractuel": cell G5 is a formula (=1/100)'
		in messages(register)[-1]
	)


def test_leading_empty_rows_and_columns_keep_the_sheets_numbers(tmp_path, monkeypatch):
	rows = [
		[],
		[],
		[None, *HEADER[:4]],
		[None, "FA-1", "X", 10, date(2026, 3, 31)],
		[None, "FA-2", "X", "dix", date(2026, 3, 31)],
		[None, "FA-3", "X", "=1/0", date(2026, 3, 31)],
	]
	path = workbook(tmp_path / "ventes.xlsx", rows)
	set_cell(path, "D6", '<c r="D6" t="e"><f>1/0</f><v>#DIV/0!</v></c>')
	register = same(path, monkeypatch)
	assert messages(register) == [
		'ventes.xlsx, row 5, column "Montant": "dix" is not an amount',
		'ventes.xlsx, row 6, column "Montant": cell D6 shows the error #DIV/0!',
	]
	assert register.invoice_rows == {"FA-1": 4}


def test_empty_strings_spaces_and_missing_cells_are_empty(tmp_path, monkeypatch):
	path = workbook(
		tmp_path / "ventes.xlsx",
		[
			HEADER[:5],
			["FA-1", "X", 10, date(2026, 3, 31), ""],
			["FA-2", "X", 10, date(2026, 3, 31), "   "],
			["FA-3", "X", 10, date(2026, 3, 31)],
			["", " ", None, "", None],  # an empty row, in the middle
			["FA-4", "", 10, date(2026, 3, 31), True],
			["FA-5", "X", 10, date(2026, 3, 31), False],
		],
	)
	set_cell(path, "E3", '<c r="E3" t="inlineStr"><is><t xml:space="preserve">   </t></is></c>')
	register = same(path, monkeypatch)
	assert messages(register) == ['ventes.xlsx, row 6, column "Client": the customer is empty']
	assert register.empty_rows == [5]
	assert [(i.id, i.paid) for i in register.invoices] == [
		("FA-1", 0),
		("FA-2", 0),
		("FA-3", 0),
		("FA-5", 0),
	]


def test_whole_numbers_are_ints_and_dates_are_dates(tmp_path, monkeypatch):
	path = workbook(
		tmp_path / "ventes.xlsx",
		[
			["Facture", "Client", "Montant", "Échéance", "Date"],
			[12, "X", 1440, 46112, datetime(2026, 3, 1, 0, 0)],
			[3.0, "X", 0.1 + 0.2, date(2026, 3, 31), datetime(2026, 3, 1, 12, 30)],
			["F4", "X", 1e300, date(2026, 3, 31), "01/03/2026"],
			["F5", "X", 9000000352681984.0, date(2026, 3, 31)],  # written "9000000352681984": an int
			["F6", "X", 1e16, date(2026, 3, 31)],  # written "1e+16": a float
		],
	)
	register = same(path, monkeypatch)
	assert messages(register) == [
		'ventes.xlsx, row 2, column "Échéance": "46112" is not a date',
		'ventes.xlsx, row 4, column "Montant": "1e+300" is too large to be an amount',
		'ventes.xlsx, row 5, column "Montant": "9000000352681984" is too large to be an amount',
		'ventes.xlsx, row 6, column "Montant": "1e+16" is too large to be an amount',
	]
	assert [(i.id, i.total, i.issued) for i in register.invoices] == [
		("3", Decimal("0.30"), date(2026, 3, 1))
	]


def test_trailing_cells_and_a_dimension_that_lies(tmp_path, monkeypatch):
	path = workbook(
		tmp_path / "ventes.xlsx",
		[HEADER[:4], *([f"FA-{i}", "X", 10, date(2026, 3, 31)] for i in range(1, 6)), [], [None] * 9],
	)
	edit_sheet(path, lambda xml: re.sub(r'<dimension ref="[^"]*" ?/>', '<dimension ref="A1:B2"/>', xml))
	register = same(path, monkeypatch)
	assert [i.id for i in register.invoices] == [f"FA-{i}" for i in range(1, 6)]


def test_the_sheet_read(tmp_path, monkeypatch):
	def setup(book, sheet):
		customers = book.create_sheet("Clients")
		customers.append(["Client", "E-mail"])
		customers.append(["X", "x@example.org"])
		book.create_sheet("Notes").append(["rien"])
		book.active = 1  # the customers' sheet: the invoices are read from the first other one

	path = workbook(tmp_path / "ventes.xlsx", [HEADER[:4], ["FA-1", "X", 10, date(2026, 3, 31)]], setup)
	register = same(path, monkeypatch)
	assert (register.sheet, register.customer_sheet) == ("Factures", "Clients")
	assert register.customers["X"].email == "x@example.org"
	assert "ventes.xlsx: read the sheet 'Factures' (the workbook has 3 sheets)" in register.warnings

	def second(book, sheet):
		book.create_sheet("Mars").append(HEADER[:4])
		book["Mars"].append(["FA-9", "Y", 10, date(2026, 3, 31)])
		book.active = 1

	path = workbook(tmp_path / "mars.xlsx", [["vide"]], second)
	register = same(path, monkeypatch)
	assert register.sheet == "Mars" and [i.id for i in register.invoices] == ["FA-9"]


def test_a_customers_workbook(tmp_path, monkeypatch):
	invoices = workbook(tmp_path / "ventes.xlsx", [HEADER[:4], ["FA-1", "X", 10, date(2026, 3, 31)]])

	def setup(book, sheet):
		sheet["C2"].number_format = "0.00%"

	customers = workbook(
		tmp_path / "clients.xlsx",
		[["Client", "E-mail", "Taux contractuel"], ["X", "x@example.org", 0.015]],
		setup,
	)
	register = same(invoices, monkeypatch, customers=customers)
	assert register.customers["X"].email == "x@example.org"
	assert register.customers["X"].contract_rate == ContractRate(Decimal("1.5"), PER_YEAR)


def test_a_customers_workbook_is_read_from_its_customers_sheet(tmp_path, monkeypatch):
	# Fixed: a --customers workbook whose active sheet was "Clients" was read from its other sheet
	# ("Notes": no header row with a customer column)
	invoices = workbook(tmp_path / "ventes.xlsx", [HEADER[:4], ["FA-1", "X", 10, date(2026, 3, 31)]])

	def notes_too(active):
		def setup(book, sheet):
			book.create_sheet("Notes").append(["Client", "Remarque"])
			book["Notes"].append(["Y", "rien"])
			book.active = active

		return setup

	for active in (0, 1):
		customers = workbook(
			tmp_path / "clients.xlsx",
			[["Client", "E-mail"], ["X", "x@example.org"]],
			notes_too(active),
			"Clients",
		)
		register = same(invoices, monkeypatch, customers=customers)
		assert register.errors == [], messages(register)
		assert register.customers["X"].email == "x@example.org"
	# Without a customers sheet: the active one
	customers = workbook(
		tmp_path / "contacts.xlsx", [["Client", "E-mail"], ["X", "x@example.org"]], title="Feuil1"
	)
	register = same(invoices, monkeypatch, customers=customers)
	assert register.customers["X"].email == "x@example.org"


def shared_strings(path: Path) -> None:
	"""Turn the inline strings openpyxl writes into shared strings, as Excel and LibreOffice save them."""
	with zipfile.ZipFile(path) as archive:
		files = {name: archive.read(name) for name in archive.namelist()}
	table: list[str] = []

	def share(match) -> str:
		table.append(match.group(3))
		return f'<c r="{match.group(1)}"{match.group(2)} t="s"><v>{len(table) - 1}</v></c>'

	sheet = files["xl/worksheets/sheet1.xml"].decode()
	sheet = re.sub(r'<c r="([A-Z]+[0-9]+)"([^>]*?) t="inlineStr"><is>(.*?)</is></c>', share, sheet)
	files["xl/worksheets/sheet1.xml"] = sheet.encode()
	files["xl/sharedStrings.xml"] = (
		'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
		+ "".join(f"<si>{text}</si>" for text in table)
		+ "</sst>"
	).encode()
	files["xl/_rels/workbook.xml.rels"] = files["xl/_rels/workbook.xml.rels"].replace(
		b"</Relationships>",
		b'<Relationship Id="rIdS" Target="sharedStrings.xml" Type="http://schemas.openxmlformats.org/'
		b'officeDocument/2006/relationships/sharedStrings"/></Relationships>',
	)
	files["[Content_Types].xml"] = files["[Content_Types].xml"].replace(
		b"</Types>",
		b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
		b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
	)
	with zipfile.ZipFile(path, "w") as archive:
		for name, data in files.items():
			archive.writestr(name, data)


def test_shared_strings_as_excel_saves_them(tmp_path, monkeypatch):
	path = workbook(
		tmp_path / "ventes.xlsx",
		[
			HEADER,
			["FA-1", "Société Générale", 100, "31/03/2026", "payé", "1,5 % par mois"],
			["FA-2", " ", 100, date(2026, 3, 31), None, None],
			["FA-3", "A & B <SARL>", "=1/0", date(2026, 3, 31), None, None],
		],
	)
	set_cell(path, "C4", '<c r="C4" t="e"><f>1/0</f><v>#DIV/0!</v></c>')
	shared_strings(path)
	assert b"sharedStrings" in zipfile.ZipFile(path).read("xl/_rels/workbook.xml.rels")
	register = same(path, monkeypatch)
	assert messages(register) == [
		'ventes.xlsx, row 3, column "Client": the customer is empty',
		'ventes.xlsx, row 4, column "Montant": cell C4 shows the error #DIV/0!',
	]
	assert register.invoices[0].customer == "Société Générale"


def test_a_damaged_file_is_the_same_clear_error(tmp_path, monkeypatch):
	for name, data in (("broken.xlsx", b"PK\x03\x04 not really a zip"), ("text.xlsx", b"Facture;Client")):
		path = tmp_path / name
		path.write_bytes(data)
		fast, slow, _ = read_both(path, monkeypatch)
		assert summary(fast) == summary(slow)
		assert fast.fatal and str(fast.errors[0]).startswith(f"{name}: is not a readable .xlsx workbook (")


def test_what_calamine_cannot_tell_is_read_by_openpyxl(tmp_path, monkeypatch):
	# A NaN cell: openpyxl refuses the file, as it did
	path = workbook(
		tmp_path / "ventes.xlsx", [HEADER[:4], *([f"FA-{i}", "X", 10, date(2026, 3, 31)] for i in (1, 2))]
	)
	set_cell(path, "C3", '<c r="C3" t="n"><v>NaN</v></c>')
	fast, slow, used = read_both(path, monkeypatch)
	assert used == [path] and summary(fast) == summary(slow)
	assert "while reading row 3" in str(fast.errors[0])
	# A cell without its reference holding a formula, a sheet far wider than its cells
	path = workbook(tmp_path / "ventes.xlsx", [HEADER[:4], ["FA-1", "X", 10, date(2026, 3, 31)]])
	set_cell(path, "C2", "<c><f>5+5</f><v>10</v></c>")
	fast, slow, used = read_both(path, monkeypatch)
	assert used == [path] and summary(fast) == summary(slow)
	path = workbook(tmp_path / "ventes.xlsx", [HEADER[:4], ["FA-1", "X", 10, date(2026, 3, 31)]])
	edit_sheet(
		path, lambda xml: xml.replace("</row></sheetData>", '<c r="XFD2"><v>1</v></c></row></sheetData>')
	)
	monkeypatch.setattr(reader, "_DENSE_CELLS", 1000)  # 16,384 columns x 2 rows: a grid of 32,768
	fast, slow, used = read_both(path, monkeypatch)
	assert used == [path] and summary(fast) == summary(slow)
	assert "ventes.xlsx: column 16384 has no header; its values are ignored" in fast.warnings


def test_without_python_calamine_openpyxl_reads(tmp_path, monkeypatch):
	path = workbook(tmp_path / "ventes.xlsx", [HEADER[:4], ["FA-1", "X", 10, date(2026, 3, 31)]])
	fast = read_register(path)
	monkeypatch.setitem(sys.modules, "python_calamine", None)  # import python_calamine: ImportError
	used = []
	openpyxl_rows = reader._openpyxl_rows
	monkeypatch.setattr(reader, "_openpyxl_rows", lambda *a: used.append(a[0]) or openpyxl_rows(*a))
	slow = read_register(path)
	assert used == [path] and summary(fast) == summary(slow)


def test_cell_messages_in_french(tmp_path, monkeypatch):
	path = workbook(
		tmp_path / "ventes.xlsx",
		[HEADER[:4], ["F1", "X", "=1/0", date(2026, 3, 31)], ["F2", "X", "=2*5", date(2026, 3, 31)]],
	)
	set_cell(path, "C2", '<c r="C2" t="e"><f>1/0</f><v>#DIV/0!</v></c>')
	register = same(path, monkeypatch)
	assert [e.text("fr") for e in register.errors] == [
		"ventes.xlsx, ligne 2, colonne « Montant » : la cellule C2 affiche l'erreur #DIV/0!",
		"ventes.xlsx, ligne 3, colonne « Montant » : la cellule C3 est une formule (=2*5) sans valeur"
		" enregistrée : ouvrez le fichier dans Excel ou LibreOffice et enregistrez-le (les formules ne"
		" sont pas calculées ici)",
	]
	path.write_bytes(b"PK\x03\x04")
	assert say(read_register(path).errors[0].message, "fr").startswith(
		"n'est pas un classeur .xlsx lisible ("
	)


CELLS = st.one_of(
	st.none(),
	st.sampled_from(["", " ", "FA-1", "X", "payée", "1 234,56", "31/03/2026", "12 %", "#N/A", "=1+1"]),
	st.integers(-(10**6), 10**6),
	st.floats(allow_nan=False, allow_infinity=False, width=32),
	st.booleans(),
	st.dates(date(1950, 1, 1), date(2100, 1, 1)),
	st.datetimes(datetime(1950, 1, 1), datetime(2100, 1, 1)).map(lambda d: d.replace(microsecond=0)),
)


@settings(
	max_examples=40,
	deadline=None,
	suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
	st.lists(st.lists(CELLS, min_size=0, max_size=8), max_size=8),
	st.integers(0, 2),
	st.sets(st.integers(0, 7), max_size=3),
)
def test_random_cells_read_the_same_both_ways(tmp_path, monkeypatch, rows, empty, percent):
	def setup(book, sheet):
		for row in sheet.iter_rows(min_row=empty + 2):
			for cell in row:
				if cell.column - 1 in percent:
					cell.number_format = "0.00%"

	path = workbook(
		tmp_path / "hyp.xlsx", [*([] for _ in range(empty)), [*HEADER, "Statut", "Devise"], *rows], setup
	)
	same(path, monkeypatch)


def test_the_fuzzed_registers_read_the_same_both_ways(tmp_path, monkeypatch):
	from tests.test_fuzz_register import books, write_xlsx

	@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
	@given(books("xlsx"))
	def check(book):
		path = tmp_path / "ventes.xlsx"
		write_xlsx(book, path)
		same(path, monkeypatch)

	check()
