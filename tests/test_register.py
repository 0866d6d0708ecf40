"""The invoice register reader (CSV/XLSX): headers, encodings, values, every error, the sample file."""

import csv
import io
import re
import shutil
import tempfile
import types
import unittest
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relance_erpnext.connectors.register import (
	Register,
	RegisterError,
	normalize_header,
	parse_date,
	read_register,
)
from relance_erpnext.dunning.models import (
	BUSINESS,
	CONSUMER,
	DISPUTE,
	HOLD,
	PER_DAY,
	PER_MONTH,
	PER_YEAR,
	REGIME_FR,
	REGIME_QC,
	ContractRate,
	Hold,
	Payment,
)
from relance_erpnext.dunning.scenarios import BUILTIN_SCENARIOS

SAMPLE = (
	Path(__file__).resolve().parent.parent
	/ "relance_erpnext"
	/ "connectors"
	/ "sample"
	/ "registre_exemple.csv"
)

FR_HEADER = ["N° facture", "Client", "Montant TTC", "Date d'émission", "Échéance"]


class TempDir(unittest.TestCase):
	def setUp(self):
		self.dir = Path(tempfile.mkdtemp(prefix="register-"))
		self.addCleanup(shutil.rmtree, self.dir, True)

	def csv(self, rows, name="ventes.csv", delimiter=";", encoding="utf-8", lineterminator="\n") -> Path:
		out = io.StringIO()
		writer = csv.writer(out, delimiter=delimiter, lineterminator=lineterminator)
		for row in rows:
			writer.writerow(row)
		path = self.dir / name
		path.write_bytes(out.getvalue().encode(encoding))
		return path

	def read(self, rows, **kw) -> Register:
		skip = kw.pop("skip_bad_rows", False)
		return read_register(self.csv(rows, **kw), skip_bad_rows=skip)

	def xlsx(self, rows, name="ventes.xlsx", setup=None) -> Path:
		book = openpyxl.Workbook()
		sheet = book.active
		sheet.title = "Factures"
		for row in rows:
			sheet.append(row)
		if setup:
			setup(book, sheet)
		path = self.dir / name
		book.save(path)
		return path

	def messages(self, register) -> list[str]:
		return [str(e) for e in register.errors]

	def assertOneError(self, register, row, column, fragment):
		found = [e for e in register.errors if e.row == row and e.column == column and fragment in e.message]
		self.assertTrue(
			found, f"no error row {row}, column {column!r}, {fragment!r} in {self.messages(register)}"
		)
		return found[0]


def patch_xlsx_cell(path: Path, ref: str, replacement: str) -> None:
	"""Give a formula cell a saved value (openpyxl writes formulas without one), as Excel would."""
	with zipfile.ZipFile(path) as z:
		files = {n: z.read(n) for n in z.namelist()}
	sheet = files["xl/worksheets/sheet1.xml"].decode()
	pattern = re.compile(rf'<c r="{ref}"[^>]*><f>(.*?)</f><v\s*/></c>')
	match = pattern.search(sheet)
	assert match, sheet
	sheet = sheet[: match.start()] + replacement.format(formula=match.group(1)) + sheet[match.end() :]
	files["xl/worksheets/sheet1.xml"] = sheet.encode()
	with zipfile.ZipFile(path, "w") as z:
		for name, data in files.items():
			z.writestr(name, data)


class TestHeaders(TempDir):
	def test_french_headers_semicolon(self):
		reg = self.read(
			[
				[*FR_HEADER, "Courriel", "Devise", "Statut"],
				[
					"FA-2026-0012",
					"SARL Dupont",
					"1 440,00",
					"01/02/2026",
					"31/03/2026",
					"compta@dupont.fr",
					"",
					"",
				],
			]
		)
		self.assertEqual(reg.errors, [])
		self.assertEqual(reg.delimiter, ";")
		self.assertEqual(reg.encoding, "utf-8")
		(inv,) = reg.invoices
		self.assertEqual(inv.id, "FA-2026-0012")
		self.assertEqual(inv.customer, "SARL Dupont")
		self.assertEqual(inv.currency, "EUR")
		self.assertEqual(inv.issued, date(2026, 2, 1))
		self.assertEqual(inv.due, date(2026, 3, 31))
		self.assertEqual(inv.total, Decimal("1440.00"))
		self.assertEqual(inv.payments, ())
		self.assertIsNone(inv.hold)
		self.assertFalse(inv.cancelled)
		customer = reg.customers["SARL Dupont"]
		self.assertEqual(customer.name, "SARL Dupont")
		self.assertEqual(customer.email, "compta@dupont.fr")
		self.assertEqual((customer.kind, customer.regime, customer.language), (BUSINESS, REGIME_FR, "fr-FR"))
		self.assertEqual(reg.rows_read, 1)
		self.assertEqual(reg.invoice_rows, {"FA-2026-0012": 2})
		self.assertTrue(reg.ok)
		self.assertTrue(reg.plannable)

	def test_english_headers_comma(self):
		reg = self.read(
			[
				[
					"Invoice number",
					"Customer",
					"E-mail",
					"Total (incl. VAT)",
					"Currency",
					"Issue date",
					"Due date",
				],
				["INV-7", "Harbour Ltd", "ap@harbour.example", "1,234.56", "cad", "2026-03-01", "2026-03-31"],
			],
			delimiter=",",
		)
		self.assertEqual(reg.errors, [])
		self.assertEqual(reg.delimiter, ",")
		(inv,) = reg.invoices
		self.assertEqual(inv.total, Decimal("1234.56"))
		self.assertEqual(inv.currency, "CAD")
		self.assertEqual(inv.issued, date(2026, 3, 1))

	def test_headers_ignore_case_accents_spaces(self):
		reg = self.read(
			[
				["  NUMERO DE FACTURE ", "client", "MONTANT", "date d echeance", "Date d’émission", "e mail"],
				["F1", "X", "10", "31/03/2026", "01/03/2026", "x@x.fr"],
			]
		)
		self.assertEqual(reg.errors, [])
		self.assertEqual(reg.invoices[0].due, date(2026, 3, 31))
		self.assertEqual(reg.invoices[0].issued, date(2026, 3, 1))
		self.assertEqual(reg.customers["X"].email, "x@x.fr")

	def test_normalize_header(self):
		self.assertEqual(normalize_header("Date d'Échéance"), "datedecheance")
		self.assertEqual(normalize_header("N° facture"), "nfacture")
		self.assertEqual(normalize_header("Total (incl. VAT)"), "totalinclvat")

	def test_every_documented_header_is_recognised(self):
		aliases = {
			"invoice": ["numéro", "numero", "n° facture", "invoice", "invoice number"],
			"customer": ["client", "customer"],
			"amount": ["montant", "montant TTC", "amount", "total", "total (incl. VAT)"],
			"due": ["échéance", "date d'échéance", "due", "due date"],
		}
		for i, invoice in enumerate(aliases["invoice"]):
			for customer in aliases["customer"]:
				amount = aliases["amount"][i % len(aliases["amount"])]
				due = aliases["due"][i % len(aliases["due"])]
				reg = self.read([[invoice, customer, amount, due], ["F1", "X", "10", "31/03/2026"]])
				self.assertEqual(reg.errors, [], (invoice, customer, amount, due))
				self.assertEqual(len(reg.invoices), 1)
		optional = {
			"Email": "a@b.fr",
			"courriel": "a@b.fr",
			"Devise": "EUR",
			"date": "01/03/2026",
			"issued": "01/03/2026",
			"issue date": "01/03/2026",
			"payé": "5",
			"montant payé": "5",
			"paid": "5",
			"type": "B2C",
			"pays": "QC",
			"country": "France",
			"langue": "en",
			"language": "fr",
			"scénario": "standard",
			"statut": "ouverte",
			"status": "open",
			"adresse": "1 rue X",
			"address": "1 rue X",
			"téléphone": "01",
			"phone": "01",
			"taux contractuel": "12 %",
			"contract rate": "12 %",
		}
		for header, value in optional.items():
			reg = self.read(
				[["Facture", "Client", "Montant", "Échéance", header], ["F1", "X", "10", "31/03/2026", value]]
			)
			self.assertEqual(reg.errors, [], header)
			self.assertFalse(any("not used" in w for w in reg.warnings), (header, reg.warnings))

	def test_unknown_columns_are_warned(self):
		reg = self.read(
			[[*FR_HEADER, "Commercial", "Remarque"], ["F1", "X", "10", "", "31/03/2026", "Paul", "?"]]
		)
		self.assertEqual(reg.errors, [])
		self.assertIn("ventes.csv: column(s) not used: 'Commercial', 'Remarque'", reg.warnings)

	def test_missing_required_columns_are_one_error_each(self):
		reg = self.read([["Client", "Date d'émission", "Total"], ["X", "01/03/2026", "10"]])
		self.assertTrue(reg.fatal)
		self.assertFalse(reg.plannable)
		self.assertEqual(reg.invoices, [])
		self.assertEqual(len(reg.errors), 2)
		invoice, due = reg.errors
		self.assertEqual((invoice.file, invoice.row, invoice.column), ("ventes.csv", None, None))
		self.assertEqual(
			str(invoice),
			'ventes.csv: no column for the invoice number (a required column; accepted headers: "N° facture", '
			'"Numéro", "Numéro de facture", "Facture", "Invoice", "Invoice number")',
		)
		self.assertIn("the due date", str(due))
		self.assertIn('"Échéance", "Date d\'échéance", "Due", "Due date"', str(due))

	def test_two_columns_for_one_field_is_an_error(self):
		reg = self.read(
			[
				["Facture", "Client", "Montant", "Échéance", "Due date"],
				["F1", "X", "10", "31/03/2026", "31/03/2026"],
			]
		)
		self.assertTrue(reg.fatal)
		self.assertOneError(reg, 1, "Due date", 'and "Échéance" both give the due date')

	def test_missing_issue_date_defaults_to_due_with_a_warning(self):
		reg = self.read(
			[
				["Facture", "Client", "Montant", "Échéance", "Date"],
				["F1", "X", "10", "31/03/2026", ""],
				["F2", "X", "10", "30/04/2026", "01/04/2026"],
				["F3", "X", "10", "31/05/2026", ""],
			]
		)
		self.assertEqual(reg.errors, [])
		self.assertEqual(
			[i.issued for i in reg.invoices], [date(2026, 3, 31), date(2026, 4, 1), date(2026, 5, 31)]
		)
		self.assertTrue(any("2 row(s) without an issue date" in w for w in reg.warnings), reg.warnings)

	def test_no_issue_date_column(self):
		reg = self.read([["Facture", "Client", "Montant", "Échéance"], ["F1", "X", "10", "31/03/2026"]])
		self.assertEqual(reg.invoices[0].issued, date(2026, 3, 31))
		self.assertTrue(any("1 row(s) without an issue date" in w for w in reg.warnings))


class TestFiles(TempDir):
	def test_cp1252_file(self):
		reg = self.read(
			[
				["N° facture", "Client", "Montant", "Échéance"],
				["FA-1", "Société Générale d'Électricité", "1 440,00 €", "31/03/2026"],
			],
			encoding="cp1252",
		)
		self.assertEqual(reg.errors, [])
		self.assertEqual(reg.encoding, "cp1252")
		self.assertIn("Société Générale d'Électricité", reg.customers)
		self.assertTrue(any("not UTF-8" in w and "cp1252" in w for w in reg.warnings))
		self.assertEqual(reg.invoices[0].total, Decimal("1440.00"))

	def test_latin1_fallback(self):
		path = self.dir / "latin.csv"
		# 0x81 is undefined in cp1252: only Latin-1 decodes it
		path.write_bytes("Facture;Client;Montant;Échéance\nF1;Caf\xe9 \x81;10;31/03/2026\n".encode("latin-1"))
		reg = read_register(path)
		self.assertEqual(reg.encoding, "latin-1")
		self.assertEqual(reg.errors, [])

	def test_utf8_bom_and_crlf(self):
		reg = self.read(
			[["Facture", "Client", "Montant", "Échéance"], ["F1", "Zoé", "10", "31/03/2026"]],
			encoding="utf-8-sig",
			lineterminator="\r\n",
		)
		self.assertEqual(reg.encoding, "utf-8-sig")
		self.assertEqual(reg.errors, [])
		self.assertIn("Zoé", reg.customers)

	def test_utf16_tab_export(self):
		reg = self.read(
			[["Invoice", "Customer", "Amount", "Due"], ["F1", "Zoé", "10.5", "2026-03-31"]],
			name="export.txt",
			delimiter="\t",
			encoding="utf-16",
		)
		self.assertEqual((reg.encoding, reg.delimiter), ("utf-16", "\t"))
		self.assertEqual(reg.errors, [])
		self.assertEqual(reg.invoices[0].total, Decimal("10.5"))

	def test_tab_delimiter(self):
		reg = self.read(
			[["Facture", "Client", "Montant", "Échéance"], ["F1", "X", "1 234,56", "31/03/2026"]],
			delimiter="\t",
		)
		self.assertEqual(reg.delimiter, "\t")
		self.assertEqual(reg.invoices[0].total, Decimal("1234.56"))

	def test_excel_sep_line(self):
		path = self.dir / "sep.csv"
		path.write_text(
			"sep=,\nFacture,Client,Montant,Échéance\nF1,X,10,31/03/2026\nF2,X,-1,31/03/2026\n",
			encoding="utf-8",
		)
		reg = read_register(path)
		self.assertEqual(reg.delimiter, ",")
		# Excel hides the sep= line: the header is row 1 (F2, negative, is a credit)
		self.assertEqual(reg.credit_rows, {"F2": 3})

	def test_quoted_multiline_address_keeps_row_numbers(self):
		reg = self.read(
			[
				["Facture", "Client", "Montant", "Échéance", "Adresse"],
				["F1", "X", "10", "31/03/2026", "1 rue A\n75001 Paris"],
				["F2", "Y", "0", "31/03/2026", "2 rue B | 69001 Lyon"],
			]
		)
		self.assertEqual(reg.customers["X"].address, ("1 rue A", "75001 Paris"))
		self.assertOneError(reg, 3, "Montant", "the amount is 0")

	def test_empty_file(self):
		path = self.dir / "vide.csv"
		path.write_bytes(b"")
		reg = read_register(path)
		self.assertTrue(reg.fatal)
		self.assertEqual(str(reg.errors[0]), "vide.csv: the file is empty (no header row)")

	def test_unsupported_files(self):
		for name, fragment in (
			("old.xls", "save the register as .xlsx or .csv"),
			("notes.pdf", "unknown kind of file"),
		):
			path = self.dir / name
			path.write_bytes(b"x")
			reg = read_register(path)
			self.assertTrue(reg.fatal)
			self.assertIn(fragment, str(reg.errors[0]))

	def test_damaged_xlsx(self):
		path = self.dir / "broken.xlsx"
		path.write_bytes(b"PK\x03\x04 not really a zip")
		reg = read_register(path)
		self.assertTrue(reg.fatal)
		self.assertIn("broken.xlsx: is not a readable .xlsx workbook", str(reg.errors[0]))

	def test_missing_file(self):
		reg = read_register(self.dir / "absent.csv")
		self.assertTrue(reg.fatal)
		self.assertIn("absent.csv: cannot be read", str(reg.errors[0]))

	def test_path_as_string(self):
		path = self.csv([["Facture", "Client", "Montant", "Échéance"], ["F1", "X", "10", "31/03/2026"]])
		reg = read_register(str(path))
		self.assertEqual(reg.path, path)
		self.assertEqual(len(reg.invoices), 1)


class TestValues(TempDir):
	HEADER = ["Facture", "Client", "Montant", "Échéance"]

	def one(self, extra_header, extra_cells, amount="1 000,00", due="31/03/2026"):
		reg = self.read([self.HEADER + extra_header, ["F1", "X", amount, due, *extra_cells]])
		self.assertEqual(reg.errors, [], self.messages(reg))
		return reg.invoices[0], reg.customers["X"]

	def test_amounts(self):
		for text, expected in (
			("1 234,56", "1234.56"),
			("1,234.56", "1234.56"),
			("1.234,56", "1234.56"),
			("1234.56", "1234.56"),
			("1\u202f234,56\u00a0€", "1234.56"),
			("€ 99", "99"),
			("1440", "1440"),
		):
			inv, _ = self.one([], [], amount=text)
			self.assertEqual(inv.total, Decimal(expected), text)

	def test_dates(self):
		for text, expected in (
			("2026-03-31", date(2026, 3, 31)),
			("31/03/2026", date(2026, 3, 31)),
			("31/03/26", date(2026, 3, 31)),
			("31-03-2026", date(2026, 3, 31)),
			("31.03.2026", date(2026, 3, 31)),
			("1/4/2026", date(2026, 4, 1)),
			("2026-03-31 00:00:00", date(2026, 3, 31)),
		):
			inv, _ = self.one([], [], due=text)
			self.assertEqual(inv.due, expected, text)

	def test_parse_date_rejects(self):
		for text in ("31/02/2025", "2025-02-30", "00/01/2026", "hier", "2026/03/31", "31/13/2026", ""):
			with self.assertRaises(ValueError, msg=text):
				parse_date(text)
		with self.assertRaisesRegex(ValueError, "day comes first"):
			parse_date("03/31/2026")

	def test_invalid_date_message(self):
		rows = [["N° facture", "Client", "Montant", "Échéance"]]
		rows += [[f"F{i}", "X", "10", "31/03/2026"] for i in range(5)]
		rows.append(["F6", "X", "10", "31/02/2025"])
		reg = self.read(rows)
		(error,) = reg.errors
		self.assertEqual(str(error), 'ventes.csv, row 7, column "Échéance": "31/02/2025" is not a date')
		self.assertEqual((error.file, error.row, error.column), ("ventes.csv", 7, "Échéance"))
		self.assertEqual(len(reg.invoices), 5)
		self.assertFalse(reg.plannable)
		self.assertEqual(reg.bad_rows, [7])

	def test_amount_errors(self):
		reg = self.read(
			[
				[*self.HEADER, "Payé"],
				["F1", "X", "-100", "31/03/2026", ""],
				["F2", "X", "0", "31/03/2026", ""],
				["F3", "X", "0,00", "31/03/2026", ""],
				["F4", "X", "douze", "31/03/2026", ""],
				["F5", "X", "100", "31/03/2026", "150"],
				["F6", "X", "100", "31/03/2026", "-5"],
				["F7", "X", "10,005", "31/03/2026", ""],
				["F8", "X", "100", "31/03/2026", "100"],
			]
		)
		# A negative amount is a credit note (F1), not an error
		self.assertEqual([(c.reference, c.amount) for c in reg.credits], [("F1", Decimal("100"))])
		self.assertOneError(reg, 3, "Montant", "the amount is 0")
		self.assertOneError(reg, 4, "Montant", "the amount is 0")
		self.assertOneError(reg, 5, "Montant", '"douze" is not an amount')
		self.assertOneError(reg, 6, "Payé", "the amount paid (150) is more than the invoice amount (100)")
		self.assertOneError(reg, 7, "Payé", '"-5" is negative')
		self.assertOneError(reg, 8, "Montant", "more than 2 decimals")
		self.assertEqual(len(reg.errors), 6)
		self.assertEqual([i.id for i in reg.invoices], ["F8"])
		self.assertEqual(reg.bad_rows, [3, 4, 5, 6, 7, 8])

	def test_required_cells_empty(self):
		reg = self.read([self.HEADER, ["", "", "", ""], ["F2", "", "", "31/03/2026"], ["F3", "X", "10", ""]])
		# Row 2 is empty: ignored, not an error
		self.assertTrue(any("1 empty row(s) ignored" in w for w in reg.warnings))
		self.assertOneError(reg, 3, "Client", "the customer is empty")
		self.assertOneError(reg, 3, "Montant", "the invoice amount incl. VAT is empty")
		self.assertOneError(reg, 4, "Échéance", "the due date is empty")
		self.assertEqual(len(reg.errors), 3)

	def test_paid_amounts_and_dates(self):
		reg = self.read(
			[
				[*self.HEADER, "Payé", "Payé le", "Statut"],
				["F1", "X", "1 000,00", "31/03/2026", "400", "15/04/2026", ""],
				["F2", "X", "1 000,00", "31/03/2026", "400", "", "partiellement payée"],
				["F3", "X", "1 000,00", "31/03/2026", "oui", "", ""],
				["F4", "X", "1 000,00", "31/03/2026", "Yes", "02/04/2026", ""],
				["F5", "X", "1 000,00", "31/03/2026", "", "", "Payée"],
				["F6", "X", "1 000,00", "31/03/2026", "", "03/04/2026", "paid"],
				["F7", "X", "1 000,00", "31/03/2026", "non", "", ""],
				["F8", "X", "1 000,00", "31/03/2026", "0", "", ""],
			]
		)
		self.assertEqual(reg.errors, [], self.messages(reg))
		payments = {i.id: i.payments for i in reg.invoices}
		due = date(2026, 3, 31)
		self.assertEqual(payments["F1"], (Payment(date(2026, 4, 15), Decimal("400")),))
		# No payment date: the due date (never over-claims interest)
		self.assertEqual(payments["F2"], (Payment(due, Decimal("400")),))
		self.assertEqual(payments["F3"], (Payment(due, Decimal("1000.00")),))
		self.assertEqual(payments["F4"], (Payment(date(2026, 4, 2), Decimal("1000.00")),))
		self.assertEqual(payments["F5"], (Payment(due, Decimal("1000.00")),))
		self.assertEqual(payments["F6"], (Payment(date(2026, 4, 3), Decimal("1000.00")),))
		self.assertEqual(payments["F7"], ())
		self.assertEqual(payments["F8"], ())
		outstanding = {i.id: i.outstanding for i in reg.invoices}
		self.assertEqual(outstanding["F1"], Decimal("600.00"))
		self.assertEqual(outstanding["F5"], 0)

	def test_paid_contradictions(self):
		reg = self.read(
			[
				[*self.HEADER, "Payé", "Payé le", "Statut"],
				["F1", "X", "1000", "31/03/2026", "400", "", "payée"],
				["F2", "X", "1000", "31/03/2026", "", "10/04/2026", ""],
				["F3", "X", "1000", "31/03/2026", "", "le 10 avril", ""],
			]
		)
		self.assertOneError(reg, 2, "Statut", "the status says paid but only 400 of 1000 is paid")
		self.assertOneError(reg, 3, "Payé le", "a payment date is given but no amount paid")
		self.assertOneError(reg, 4, "Payé le", '"le 10 avril" is not a date')

	def test_statuses(self):
		reg = self.read(
			[
				[*self.HEADER, "Statut", "Motif", "Jusqu'au"],
				["F1", "X", "10", "31/03/2026", "litige", "Livraison incomplète", ""],
				["F2", "X", "10", "31/03/2026", "Disputed", "", "30/06/2026"],
				["F3", "X", "10", "31/03/2026", "suspendue", "Attente du bon de commande", "30/06/2026"],
				["F4", "X", "10", "31/03/2026", "En attente", "", ""],
				["F5", "X", "10", "31/03/2026", "on hold", "", ""],
				["F6", "X", "10", "31/03/2026", "Annulée", "", ""],
				["F7", "X", "10", "31/03/2026", "cancelled", "", ""],
				["F8", "X", "10", "31/03/2026", "Ouverte", "", ""],
				["F9", "X", "10", "31/03/2026", "open", "", ""],
				["F10", "X", "10", "31/03/2026", "", "", ""],
			]
		)
		self.assertEqual(reg.errors, [], self.messages(reg))
		inv = {i.id: i for i in reg.invoices}
		self.assertEqual(inv["F1"].hold, Hold(DISPUTE, "Livraison incomplète", None))
		self.assertEqual(inv["F2"].hold, Hold(DISPUTE, "", date(2026, 6, 30)))
		self.assertEqual(inv["F3"].hold, Hold(HOLD, "Attente du bon de commande", date(2026, 6, 30)))
		self.assertEqual(inv["F4"].hold.kind, HOLD)
		self.assertEqual(inv["F5"].hold.kind, HOLD)
		self.assertTrue(inv["F6"].cancelled and inv["F7"].cancelled)
		for key in ("F8", "F9", "F10"):
			self.assertIsNone(inv[key].hold)
			self.assertFalse(inv[key].cancelled)

	def test_unknown_status_and_stray_reason(self):
		reg = self.read(
			[
				[*self.HEADER, "Statut", "Motif"],
				["F1", "X", "10", "31/03/2026", "perdue", ""],
				["F2", "X", "10", "31/03/2026", "", "appelé le 3/4"],
			]
		)
		error = self.assertOneError(reg, 2, "Statut", '"perdue" is not known')
		self.assertIn("litige/disputed", error.message)
		self.assertTrue(
			any("reason or end date ignored on row(s) 3" in w for w in reg.warnings), reg.warnings
		)

	def test_customer_kind_country_language(self):
		cases = [
			(["B2B", "FR", ""], (BUSINESS, REGIME_FR, "fr-FR")),
			(["entreprise", "France", "français"], (BUSINESS, REGIME_FR, "fr-FR")),
			(["B2C", "", ""], (CONSUMER, REGIME_FR, "fr-FR")),
			(["particulier", "QC", ""], (CONSUMER, REGIME_QC, "fr-CA")),
			(["business", "CA-QC", "fr"], (BUSINESS, REGIME_QC, "fr-CA")),
			(["consumer", "Québec", "anglais"], (CONSUMER, REGIME_QC, "en")),
			(["", "quebec", "fr-FR"], (BUSINESS, REGIME_QC, "fr-FR")),
			(["", "", "English"], (BUSINESS, REGIME_FR, "en")),
			(["", "", "fr-CA"], (BUSINESS, REGIME_FR, "fr-CA")),
		]
		for cells, expected in cases:
			_, customer = self.one(["Type", "Pays", "Langue"], cells)
			self.assertEqual((customer.kind, customer.regime, customer.language), expected, cells)

	def test_bad_kind_country_language(self):
		reg = self.read(
			[
				[*self.HEADER, "Type", "Country", "Language"],
				["F1", "X", "10", "31/03/2026", "B2G", "Belgique", "de"],
			]
		)
		self.assertOneError(reg, 2, "Type", '"B2G" is not known')
		self.assertOneError(reg, 2, "Country", '"Belgique" is not known (use "FR/France" or "CA-QC/Québec")')
		self.assertOneError(reg, 2, "Language", '"de" is not known')
		self.assertEqual(len(reg.errors), 3)

	def test_contract_rates(self):
		for text, expected in (
			("12 %", ContractRate(Decimal("12"), PER_YEAR)),
			("12%", ContractRate(Decimal("12"), PER_YEAR)),
			("10,5 % par an", ContractRate(Decimal("10.5"), PER_YEAR)),
			("1,5 % par mois", ContractRate(Decimal("1.5"), PER_MONTH)),
			("1.5% per month", ContractRate(Decimal("1.5"), PER_MONTH)),
			("2 %/mois", ContractRate(Decimal("2"), PER_MONTH)),
			("0,05 % par jour", ContractRate(Decimal("0.05"), PER_DAY)),
			("18 % per annum", ContractRate(Decimal("18"), PER_YEAR)),
		):
			_, customer = self.one(["Taux contractuel"], [text])
			self.assertEqual(customer.contract_rate, expected, text)
		reg = self.read(
			[
				[*self.HEADER, "Taux contractuel"],
				["F1", "X", "10", "31/03/2026", "beaucoup"],
				["F2", "Y", "10", "31/03/2026", "2 % par semaine"],
				["F3", "Z", "10", "31/03/2026", "0 %"],
			]
		)
		self.assertOneError(reg, 2, "Taux contractuel", "is not a rate")
		self.assertOneError(reg, 3, "Taux contractuel", "unknown period")
		self.assertOneError(reg, 4, "Taux contractuel", "above 0")

	def test_email_phone_address_scenario_currency(self):
		inv, customer = self.one(
			["E-mail", "Téléphone", "Adresse", "Scénario", "Devise"],
			[
				"A@Dupont.fr; b@dupont.fr",
				" 01 02 03 04 05 ",
				"12 rue X / 75001 Paris",
				"Clients douteux",
				"€",
			],
		)
		self.assertEqual(customer.email, "A@Dupont.fr, b@dupont.fr")
		self.assertEqual(customer.phone, "01 02 03 04 05")
		self.assertEqual(customer.address, ("12 rue X", "75001 Paris"))
		self.assertEqual(customer.scenario, "clients_douteux")
		self.assertIn(customer.scenario, BUILTIN_SCENARIOS)
		self.assertEqual(inv.currency, "EUR")
		_, customer = self.one(["Scénario"], ["Préventif"])
		self.assertEqual(customer.scenario, "preventif")
		reg = self.read(
			[
				[*self.HEADER, "Email", "Devise", "Scénario"],
				["F1", "X", "10", "31/03/2026", "pas un mail", "euro dollars", "!!"],
			]
		)
		self.assertOneError(reg, 2, "Email", '"pas" is not an e-mail address')
		self.assertOneError(reg, 2, "Devise", "is not a currency code")
		self.assertOneError(reg, 2, "Scénario", "is not a scenario key")

	def test_quebec_without_currency_is_warned(self):
		reg = self.read([[*self.HEADER, "Pays"], ["F1", "X", "10", "31/03/2026", "QC"]])
		self.assertEqual(reg.invoices[0].currency, "EUR")
		self.assertTrue(any("Québec customers without a currency: EUR assumed" in w for w in reg.warnings))

	def test_due_before_issue(self):
		reg = self.read([[*self.HEADER, "Date d'émission"], ["F1", "X", "10", "01/03/2026", "31/03/2026"]])
		self.assertOneError(reg, 2, "Échéance", "the due date 01/03/2026 is before the issue date 31/03/2026")

	def test_extra_cells(self):
		path = self.dir / "shift.csv"
		path.write_text(
			"Invoice,Customer,Amount,Due\nF1,X,1 440,00,2026-03-31\nF2,X,10,2026-03-31,,\n", encoding="utf-8"
		)
		reg = read_register(path)
		error = self.assertOneError(reg, 2, None, "5 cells but the header has 4")
		self.assertIn('unquoted ","', error.message)
		self.assertEqual([i.id for i in reg.invoices], ["F2"])


class TestErrors(TempDir):
	def test_all_errors_listed_at_once_in_row_order(self):
		reg = self.read(
			[
				["N° facture", "Client", "Montant", "Échéance", "Date d'émission"],
				["F1", "X", "10", "31/03/2026", "01/03/2026"],
				["F2", "X", "abc", "31/02/2025", "hier"],
				["F3", "X", "10", "31/03/2026", ""],
				["F4", "", "-3", "", "01/03/2026"],
				["F5", "Y", "10", "30/04/2026", ""],
			]
		)
		self.assertEqual(
			self.messages(reg),
			[
				'ventes.csv, row 3, column "Montant": "abc" is not an amount',
				'ventes.csv, row 3, column "Échéance": "31/02/2025" is not a date',
				'ventes.csv, row 3, column "Date d\'émission": "hier" is not a date (expected DD/MM/YYYY or YYYY-MM-DD)',
				# A credit note (negative) needs its customer; no due date
				'ventes.csv, row 5, column "Client": the customer is empty',
			],
		)
		self.assertEqual([i.id for i in reg.invoices], ["F1", "F3", "F5"])
		self.assertEqual(reg.bad_rows, [3, 5])
		self.assertEqual(reg.rows_read, 5)
		self.assertFalse(reg.plannable)

	def test_skip_bad_rows_policy(self):
		rows = [
			["Facture", "Client", "Montant", "Échéance"],
			["F1", "X", "10", "31/03/2026"],
			["F2", "X", "0", "31/03/2026"],
		]
		default = self.read(rows)
		skipping = self.read(rows, skip_bad_rows=True)
		for reg in (default, skipping):
			self.assertEqual([i.id for i in reg.invoices], ["F1"])
			self.assertEqual(len(reg.errors), 1)
			self.assertFalse(reg.ok)
		self.assertFalse(default.plannable)
		self.assertTrue(skipping.plannable)
		fatal = self.read([["Client"], ["X"]], skip_bad_rows=True)
		self.assertFalse(fatal.plannable)

	def test_register_error_str(self):
		self.assertEqual(
			str(RegisterError("a.csv", 7, "Échéance", "bad")), 'a.csv, row 7, column "Échéance": bad'
		)
		self.assertEqual(str(RegisterError("a.csv", 7, None, "bad")), "a.csv, row 7: bad")
		self.assertEqual(str(RegisterError("a.csv", None, None, "bad")), "a.csv: bad")

	def test_duplicate_invoice_names_both_rows(self):
		reg = self.read(
			[
				["Facture", "Client", "Montant", "Échéance"],
				["FA-1", "X", "10", "31/03/2026"],
				["FA-2", "X", "10", "31/03/2026"],
				["FA-1", "Y", "20", "30/04/2026"],
			]
		)
		(error,) = reg.errors
		self.assertEqual(
			str(error), 'ventes.csv, row 4, column "Facture": invoice "FA-1" appears twice: rows 2 and 4'
		)
		self.assertEqual([i.id for i in reg.invoices], ["FA-2"])
		self.assertEqual(reg.bad_rows, [2, 4])
		self.assertNotIn("Y", reg.customers)

	def test_conflicting_customer_attributes(self):
		reg = self.read(
			[
				["Facture", "Client", "Montant", "Échéance", "Email", "Pays", "Type", "Adresse"],
				["F1", "SARL Dupont", "10", "31/03/2026", "a@dupont.fr", "FR", "B2B", "1 rue X"],
				["F2", "SARL Dupont", "10", "31/03/2026", "", "France", "", "1 rue X"],
				["F3", "SARL Dupont", "10", "31/03/2026", "b@dupont.fr", "", "B2C", ""],
				["F4", "SARL Dupont", "10", "31/03/2026", "A@dupont.fr", "", "", ""],
				["F5", "Autre", "10", "31/03/2026", "c@autre.fr", "", "", ""],
			]
		)
		email = self.assertOneError(reg, 4, "Email", 'customer "SARL Dupont" has different values')
		self.assertIn('"a@dupont.fr" in row(s) 2, 5; "b@dupont.fr" in row(s) 4', email.message)
		self.assertIn("its other row(s) 3 are left out too", email.message)
		kind = self.assertOneError(reg, 4, "Type", 'customer "SARL Dupont"')
		self.assertIn('"business" in row(s) 2; "consumer" in row(s) 4', kind.message)
		self.assertEqual(len(reg.errors), 2, self.messages(reg))
		self.assertEqual([i.id for i in reg.invoices], ["F5"])
		self.assertEqual(list(reg.customers), ["Autre"])
		self.assertEqual(reg.bad_rows, [2, 3, 4, 5])

	def test_language_conflict_after_country_default(self):
		# "fr" means fr-CA for a Québec customer, even when the country is on another row
		reg = self.read(
			[
				["Facture", "Client", "Montant", "Échéance", "Pays", "Langue"],
				["F1", "X", "10", "31/03/2026", "QC", "fr-CA"],
				["F2", "X", "10", "31/03/2026", "", "fr"],
				["F3", "Y", "10", "31/03/2026", "QC", "fr-CA"],
				["F4", "Y", "10", "31/03/2026", "", "en"],
			]
		)
		self.assertEqual(reg.customers["X"].language, "fr-CA")
		self.assertOneError(reg, 5, "Langue", 'customer "Y"')
		self.assertEqual(len(reg.errors), 1)

	def test_same_phone_and_address_written_differently(self):
		reg = self.read(
			[
				["Facture", "Client", "Montant", "Échéance", "Téléphone", "Adresse"],
				["F1", "X", "10", "31/03/2026", "01 02 03 04 05", "1 rue X / 75001 Paris"],
				["F2", "X", "10", "31/03/2026", "01.02.03.04.05", "1 RUE X\n75001  Paris"],
			]
		)
		self.assertEqual(reg.errors, [], self.messages(reg))

	def test_similar_customer_names_are_warned(self):
		reg = self.read(
			[
				["Facture", "Client", "Montant", "Échéance"],
				["F1", "SARL Dupont", "10", "31/03/2026"],
				["F2", "Sarl  Dupont ", "10", "31/03/2026"],
				["F3", "sarl dupont", "10", "31/03/2026"],
			]
		)
		self.assertEqual(reg.errors, [])
		# Spaces are collapsed ("Sarl  Dupont " is "Sarl Dupont"); names differing by case stay apart, with a warning
		self.assertEqual(sorted(reg.customers), ["SARL Dupont", "Sarl Dupont", "sarl dupont"])
		self.assertTrue(any("differ only by case" in w for w in reg.warnings), reg.warnings)

	def test_empty_rows_ignored_and_counted(self):
		reg = self.read(
			[
				["Facture", "Client", "Montant", "Échéance"],
				["F1", "X", "10", "31/03/2026"],
				[],
				["", " ", "", ""],
				["F2", "X", "10", "31/03/2026"],
				["F3", "X", "0", "31/03/2026"],
				[],
				[],
			]
		)
		self.assertEqual([i.id for i in reg.invoices], ["F1", "F2"])
		self.assertIn("ventes.csv: 2 empty row(s) ignored", reg.warnings)
		self.assertOneError(reg, 6, "Montant", "the amount is 0")
		self.assertEqual(reg.rows_read, 3)

	def test_leading_empty_rows_keep_spreadsheet_numbers(self):
		reg = self.read([[], ["Facture", "Client", "Montant", "Échéance"], ["F1", "X", "abc", "31/03/2026"]])
		self.assertOneError(reg, 3, "Montant", "is not an amount")


class TestXlsx(TempDir):
	HEADER = [
		"N° facture",
		"Client",
		"Montant TTC",
		"Date d'émission",
		"Échéance",
		"Payé",
		"Taux contractuel",
	]

	def test_real_cells(self):
		def setup(book, sheet):
			sheet["G2"].number_format = "0.00%"
			book.create_sheet("Notes")

		path = self.xlsx(
			[
				self.HEADER,
				["FA-1", "SARL Dupont", 1440, datetime(2026, 3, 1), date(2026, 3, 31), 440.5, 0.12],
				[12, "SARL Dupont", 99.99, "01/03/2026", "2026-04-30", True, None],
				["FA-3", "Y", "1 234,56", date(2026, 3, 1), datetime(2026, 4, 30, 0, 0), False, 3],
			],
			setup=setup,
		)
		reg = read_register(path)
		self.assertEqual(reg.errors, [], self.messages(reg))
		self.assertEqual((reg.sheet, reg.encoding, reg.delimiter), ("Factures", None, None))
		self.assertTrue(any("the workbook has 2 sheets" in w for w in reg.warnings))
		inv = {i.id: i for i in reg.invoices}
		self.assertEqual(sorted(inv), ["12", "FA-1", "FA-3"])
		self.assertEqual(inv["FA-1"].issued, date(2026, 3, 1))
		self.assertEqual(inv["FA-1"].due, date(2026, 3, 31))
		self.assertEqual(inv["FA-1"].total, Decimal("1440"))
		self.assertEqual(inv["FA-1"].paid, Decimal("440.50"))
		self.assertEqual(inv["12"].total, Decimal("99.99"))
		self.assertEqual(inv["12"].paid, Decimal("99.99"))
		self.assertEqual(inv["12"].issued, date(2026, 3, 1))
		self.assertEqual(inv["FA-3"].total, Decimal("1234.56"))
		self.assertEqual(inv["FA-3"].payments, ())
		self.assertEqual(reg.customers["SARL Dupont"].contract_rate, ContractRate(Decimal("12"), PER_YEAR))
		self.assertEqual(reg.customers["Y"].contract_rate, ContractRate(Decimal("3"), PER_YEAR))
		self.assertEqual(reg.invoice_rows, {"FA-1": 2, "12": 3, "FA-3": 4})

	def test_float_noise_is_rounded(self):
		path = self.xlsx([self.HEADER[:5], ["F1", "X", 0.1 + 0.2, date(2026, 3, 1), date(2026, 3, 31)]])
		reg = read_register(path)
		self.assertEqual(reg.invoices[0].total, Decimal("0.30"))

	def test_formula_without_saved_value_is_an_error_naming_the_cell(self):
		path = self.xlsx(
			[
				["Facture", "Client", "HT", "Montant TTC", "Échéance"],
				["F1", "X", 100, "=C2*1.2", date(2026, 3, 31)],
				["F2", "X", 200, "=C3*1.2", date(2026, 3, 31)],
			]
		)
		patch_xlsx_cell(path, "D3", '<c r="D3"><f>{formula}</f><v>240</v></c>')
		reg = read_register(path)
		(error,) = reg.errors
		self.assertEqual((error.row, error.column), (2, "Montant TTC"))
		self.assertIn("cell D2 is a formula (=C2*1.2) without a saved value", error.message)
		self.assertIn("formulas are not computed here", error.message)
		# The formula with a saved value is read from that value, never computed
		self.assertEqual([(i.id, i.total) for i in reg.invoices], [("F2", Decimal("240"))])
		self.assertTrue(any("column(s) not used: 'HT'" in w for w in reg.warnings))

	def test_formula_error_value(self):
		path = self.xlsx(
			[["Facture", "Client", "Montant", "Échéance"], ["F1", "X", "=1/0", date(2026, 3, 31)]]
		)
		patch_xlsx_cell(path, "C2", '<c r="C2" t="e"><f>{formula}</f><v>#DIV/0!</v></c>')
		reg = read_register(path)
		self.assertOneError(reg, 2, "Montant", "cell C2 shows the error #DIV/0!")

	def test_xlsx_errors_name_rows_and_columns(self):
		path = self.xlsx(
			[
				[],
				["Invoice", "Customer", "Amount", "Due date"],
				["F1", "X", 100, "31/02/2025"],
				["F2", "X", -5, date(2026, 3, 31)],
				[None, None, None, None],
				["F3", "X", 10, 46000],
				["F3", "X", date(2026, 1, 1), date(2026, 3, 31)],
			]
		)
		reg = read_register(path)
		self.assertEqual(
			self.messages(reg),
			[
				'ventes.xlsx, row 3, column "Due date": "31/02/2025" is not a date',
				'ventes.xlsx, row 6, column "Due date": "46000" is not a date',
				'ventes.xlsx, row 7, column "Amount": "2026-01-01" is not an amount',
				'ventes.xlsx, row 7, column "Invoice": invoice "F3" appears twice: rows 6 and 7',
			],
		)
		self.assertEqual(reg.invoices, [])
		self.assertIn("ventes.xlsx: 1 empty row(s) ignored", reg.warnings)

	def test_missing_column_in_xlsx(self):
		reg = read_register(self.xlsx([["Invoice", "Customer", "Due date"], ["F1", "X", date(2026, 3, 31)]]))
		self.assertTrue(reg.fatal)
		self.assertIn("ventes.xlsx: no column for the invoice amount incl. VAT", str(reg.errors[0]))


class TestDoneElsewhere(TempDir):
	"""The last reminder sent outside relance, and the credits, read from the register."""

	HEADER = ["Facture", "Client", "Montant", "Échéance", "Relancé le", "Niveau", "N° LRAR", "AR le"]

	def test_last_reminder_columns_become_manual_entries(self):
		from relance_erpnext.dunning.outcomes import DELIVERED, ManualEntry

		reg = self.read(
			[
				self.HEADER,
				["F1", "X", "100", "31/03/2026", "10/04/2026", "2", "", ""],
				["F2", "X", "100", "31/03/2026", "12/04/2026", "courriel", "", ""],
				["F3", "X", "100", "31/03/2026", "01/05/2026", "LRAR", "1A 23", "04/05/2026"],
				["F4", "X", "100", "31/03/2026", "02/05/2026", "", "", ""],
				["F5", "X", "100", "31/03/2026", "", "", "", ""],
			]
		)
		self.assertEqual(reg.errors, [])
		self.assertFalse([w for w in reg.warnings if "not used" in w])
		self.assertEqual(
			reg.outcomes,
			[
				ManualEntry(("F1",), date(2026, 4, 10), level=2, customer="X"),
				ManualEntry(("F2",), date(2026, 4, 12), channel="email", customer="X"),
				ManualEntry(
					("F3",), date(2026, 5, 1), channel="registered_letter", reference="1A 23", customer="X"
				),
				ManualEntry(("F3",), date(2026, 5, 4), outcome=DELIVERED, customer="X"),
				ManualEntry(("F4",), date(2026, 5, 2), customer="X"),
			],
		)

	def test_a_step_without_its_date_is_an_error(self):
		reg = self.read([self.HEADER, ["F1", "X", "100", "31/03/2026", "", "2", "", ""]])
		self.assertOneError(reg, 2, "Niveau", "without its date")

	def test_credit_notes_and_unallocated_payments(self):
		reg = self.read(
			[
				["Facture", "Client", "Montant", "Échéance", "Statut", "Payé", "Facture d'origine"],
				["F1", "X", "100", "31/03/2026", "", "", ""],
				["AV1", "X", "-30", "", "", "", "F1"],
				["AV2", "X", "50", "", "avoir", "20", ""],
				["AC1", "X", "15", "", "paiement non affecté", "", ""],
				["AV3", "X", "-10", "", "soldée", "", ""],
			]
		)
		self.assertEqual(reg.errors, [])
		self.assertEqual(
			[(c.reference, c.amount, c.against_invoice, c.kind) for c in reg.credits],
			[
				("AV1", Decimal("30"), "F1", "credit_note"),
				("AV2", Decimal("30"), "", "credit_note"),
				("AC1", Decimal("15"), "", "unallocated_payment"),
			],
		)
		self.assertEqual([i.id for i in reg.invoices], ["F1"])
		self.assertEqual(set(reg.credit_rows), {"AV1", "AV2", "AC1", "AV3"})
		reg = self.read(
			[
				["Facture", "Client", "Montant", "Échéance", "Facture d'origine"],
				["F1", "X", "100", "31/03/2026", "F0"],
			]
		)
		self.assertOneError(reg, 2, "Facture d'origine", "only a credit note corrects an invoice")


class TestSample(unittest.TestCase):
	def test_bundled_sample_reads_cleanly(self):
		reg = read_register(SAMPLE)
		self.assertEqual(reg.errors, [])
		self.assertEqual(reg.warnings, [])
		self.assertEqual((reg.encoding, reg.delimiter), ("utf-8", ";"))
		self.assertEqual(reg.rows_read, 27)
		self.assertEqual(len(reg.invoices), 26)
		# A credit note not yet used, and a reminder sent before relance (history)
		self.assertEqual(
			[(c.reference, c.amount) for c in reg.credits], [("AV-2026-0003", Decimal("480.00"))]
		)
		self.assertEqual([(o.invoices, o.level) for o in reg.outcomes], [(("FA-2026-0018",), 2)])
		self.assertTrue(any(not c.address and c.email for c in reg.customers.values()))
		self.assertEqual(len(reg.customers), 11)
		customers = reg.customers.values()
		self.assertEqual(sum(c.kind == CONSUMER for c in customers), 2)
		quebec = [c for c in customers if c.regime == REGIME_QC]
		self.assertEqual(len(quebec), 2)
		self.assertTrue(all(c.language == "fr-CA" for c in quebec))
		self.assertEqual(
			reg.customers["Ébénisterie Tremblay inc."].contract_rate, ContractRate(Decimal("1.5"), PER_MONTH)
		)
		self.assertEqual(sum(c.language == "en" for c in customers), 1)
		self.assertTrue(any(not c.email and c.address for c in customers))
		self.assertEqual({c.scenario for c in customers} - {None}, {"clients_douteux", "preventif"})
		invoices = reg.invoices
		self.assertTrue(
			all(i.currency == "CAD" for i in invoices if reg.customers[i.customer].regime == REGIME_QC)
		)
		self.assertEqual(sum(1 for i in invoices if i.hold and i.hold.kind == DISPUTE), 1)
		held = [i for i in invoices if i.hold and i.hold.kind == HOLD]
		self.assertEqual(len(held), 1)
		self.assertIsNotNone(held[0].hold.until)
		self.assertEqual(sum(1 for i in invoices if i.outstanding == 0), 2)
		self.assertEqual(sum(1 for i in invoices if 0 < i.paid < i.total), 1)
		dues = [i.due for i in invoices]
		self.assertEqual((min(dues), max(dues)), (date(2026, 1, 15), date(2026, 6, 30)))
		as_of = date(2026, 6, 15)
		late = {(as_of - i.due).days for i in invoices}
		self.assertTrue({1, 7, 15, 30} <= late)
		self.assertGreaterEqual(sum(1 for i in invoices if i.due > as_of), 3)
		for inv in invoices:
			self.assertRegex(inv.id, r"^FA-2026-\d{4}$")

	def test_sample_plans_many_steps(self):
		from relance_erpnext.dunning import PlanSettings, load_reference_rates, plan

		reg = read_register(SAMPLE)
		result = plan(
			date(2026, 6, 15),
			reg.customers,
			reg.invoices,
			[],
			BUILTIN_SCENARIOS,
			load_reference_rates(),
			PlanSettings(catch_up="by_due_date"),
		)
		self.assertEqual(result.errors, ())
		steps = {line.step for action in result.actions for line in action.lines}
		self.assertTrue(
			{
				"rappel_courtois",
				"relance_formelle",
				"appel",
				"mise_en_demeure",
				"premier_rappel",
				"rappel_echeance",
			}
			<= steps,
			steps,
		)


GARBAGE_HEADER = [
	"N° facture",
	"Client",
	"Montant",
	"Échéance",
	"Date",
	"Payé",
	"Payé le",
	"Statut",
	"Pays",
	"Type",
	"Taux contractuel",
	"Jusqu'au",
]
plausible = st.sampled_from(
	[
		"",
		" ",
		"FA-1",
		"X",
		"Y",
		"10",
		"0",
		"-1",
		"1 234,56",
		"1,234.56",
		"31/02/2025",
		"31/03/2026",
		"2026-01-01",
		"oui",
		"payée",
		"litige",
		"QC",
		"B2C",
		"1,5 % par mois",
		"abc",
		";",
		'"',
		"\n",
		"=1+1",
	]
)
cell = st.one_of(plausible, st.text(max_size=12))


class TestGarbage(TempDir):
	@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
	@given(st.lists(st.lists(cell, min_size=0, max_size=len(GARBAGE_HEADER) + 2), max_size=12))
	def test_garbage_rows_never_crash(self, rows):
		# "\r\n" line ends make the writer quote any cell holding "\r" or "\n", as a spreadsheet would
		reg = self.read([GARBAGE_HEADER, *rows], lineterminator="\r\n")
		self.assertFalse(reg.fatal)
		good = set(reg.invoice_rows.values()) | set(reg.credit_rows.values())
		error_rows = {e.row for e in reg.errors}
		self.assertTrue(set(reg.bad_rows) >= error_rows)
		for e in reg.errors:
			self.assertEqual(e.file, "ventes.csv")
		for number, row in enumerate(rows, start=2):
			if all(not c.replace("\x00", "").strip() for c in row):  # NULs are removed, with a warning
				self.assertNotIn(number, good)
				continue
			if number in reg.total_rows:  # "CUMUL", "Total" and no invoice number: a total, said in a warning
				self.assertTrue(any("are totals" in w for w in reg.warnings), reg.warnings)
				continue
			self.assertTrue(number in good or number in reg.bad_rows, (number, row, self.messages(reg)))
			if number in reg.bad_rows:
				named = number in error_rows or any(
					re.search(rf"\b{number}\b", e.message) for e in reg.errors
				)
				self.assertTrue(named, (number, self.messages(reg)))
		self.assertEqual(len(reg.invoices) + len(reg.credit_rows), len(good))
		for credit in reg.credits:
			self.assertGreater(credit.amount, 0)
		for inv in reg.invoices:
			self.assertGreater(inv.total, 0)
			self.assertLessEqual(inv.paid, inv.total)
			self.assertIn(inv.customer, reg.customers)

	@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
	@given(st.binary(max_size=400))
	def test_random_bytes_never_crash(self, data):
		path = self.dir / "bytes.csv"
		path.write_bytes(b"Facture;Client;Montant;\xc9ch\xe9ance\n" + data)
		reg = read_register(path)
		self.assertIsInstance(reg, Register)
		for e in reg.errors:
			self.assertTrue(str(e).startswith("bytes.csv"))

	@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
	@given(
		st.lists(
			st.lists(
				st.one_of(
					st.none(),
					st.integers(-(10**6), 10**6),
					st.floats(allow_nan=False, allow_infinity=False, width=32),
					st.dates(date(1990, 1, 1), date(2100, 1, 1)),
					st.booleans(),
					st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF), max_size=10),
				),
				min_size=4,
				max_size=6,
			),
			max_size=6,
		)
	)
	def test_random_xlsx_cells_never_crash(self, rows):
		path = self.xlsx(
			[["Facture", "Client", "Montant", "Échéance", "Payé", "Taux"], *rows], name="hyp.xlsx"
		)
		reg = read_register(path)
		self.assertFalse(reg.fatal, self.messages(reg))
		good = set(reg.invoice_rows.values()) | set(reg.credit_rows.values())
		for number, row in enumerate(rows, start=2):
			if all(c is None or (isinstance(c, str) and not c.strip()) for c in row):
				continue
			if number in reg.total_rows:  # "CUMUL", "Total" and no invoice number: a total, said in a warning
				self.assertTrue(any("are totals" in w for w in reg.warnings), reg.warnings)
				continue
			self.assertTrue(number in good or number in reg.bad_rows, (number, row, self.messages(reg)))


if __name__ == "__main__":
	unittest.main()


class TestFormulaCellsFromXml(unittest.TestCase):
	"""Formula cells are found in the sheet's XML in one pass; layouts it cannot place fall back."""

	def sheet(self, xml: bytes):
		import zipfile

		buffer = io.BytesIO()
		with zipfile.ZipFile(buffer, "w") as archive:
			archive.writestr("xl/worksheets/sheet1.xml", xml)
		archive = zipfile.ZipFile(buffer)
		self.addCleanup(archive.close)
		parent = types.SimpleNamespace(_archive=archive)
		return types.SimpleNamespace(parent=parent, _worksheet_path="xl/worksheets/sheet1.xml")

	def test_cells_and_their_formulas(self):
		from relance_erpnext.connectors.register import _formula_cells

		xml = (
			b'<worksheet><cols><col min="1" max="2"/></cols><sheetData><row r="2">'
			b'<c r="A2" s="1"/><c r="B2" t="str"><f>HYPERLINK("x","a&amp;b")</f><v>a&amp;b</v></c>'
			b'<c r="C2"><v>3</v></c><c r="AA2"><f t="shared" si="0" ref="AA2:AA3">C2*2</f></c></row>'
			b'<row r="3"><c r="AA3"><f t="shared" si="0"/></c><c r="D3"><f t="array" ref="D3">SUM(C2:C3)</f>'
			b"<v>6</v></c></row></sheetData></worksheet>"
		)
		self.assertEqual(
			_formula_cells(self.sheet(xml)),
			{(2, 1): '=HYPERLINK("x","a&b")', (2, 26): "=C2*2", (3, 26): "=", (3, 3): "=SUM(C2:C3)"},
		)
		prefixed = b'<x:worksheet><x:sheetData><x:row r="1"><x:c r="B1"><x:f>1+1</x:f></x:c></x:row></x:sheetData></x:worksheet>'
		self.assertEqual(_formula_cells(self.sheet(prefixed)), {(1, 1): "=1+1"})
		self.assertEqual(_formula_cells(self.sheet(b"<worksheet><c r='A1'><v>1</v></c></worksheet>")), {})

	def test_a_cell_without_its_reference_falls_back_to_openpyxl(self):
		from relance_erpnext.connectors.register import _formula_cells

		self.assertIsNone(_formula_cells(self.sheet(b"<worksheet><row><c><f>1+1</f></c></row></worksheet>")))
		self.assertIsNone(_formula_cells(types.SimpleNamespace(parent=None)))
