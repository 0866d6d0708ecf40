"""The register's fast reading agrees with its full, cell-by-cell reading on every file.

`_fast_entries` reads the rows with nothing to say column by column; any row it declines is read
cell by cell (`read_row`), which words the errors. Turning the fast reading off
(every row declined) must give the same register: the same invoices, customers, credits, history,
errors, warnings and row lists — on the fuzzed registers (CSV and XLSX, sound and corrupted rows)
and on the files the project ships.
"""

from __future__ import annotations

import sys
from pathlib import Path
from unittest import mock

from hypothesis import given, settings

from relance_erpnext.connectors import register as register_module
from relance_erpnext.connectors.register import read_register

from .test_fuzz_register import FUZZ, TempDir, books, write_csv, write_xlsx

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = [
	ROOT / "relance_erpnext/connectors/sample/registre_exemple.csv",
	ROOT / "tests/data/bank/registre.csv",
]


def snapshot(register) -> dict:
	return {
		"invoices": register.invoices,
		# Decimal("1440") == Decimal("1440.00"): the texts tell the two apart (letters print them)
		"invoice_texts": [repr(invoice) for invoice in register.invoices],
		"customers": list(register.customers.items()),
		"credits": register.credits,
		"outcomes": register.outcomes,
		"errors": [(e.row, e.column, str(e)) for e in register.errors],
		"warnings": [str(w) for w in register.warnings],
		"bad_rows": register.bad_rows,
		"empty_rows": register.empty_rows,
		"total_rows": register.total_rows,
		"rows_read": register.rows_read,
		"invoice_rows": register.invoice_rows,
		"credit_rows": register.credit_rows,
	}


def read_both(path: Path) -> tuple[dict, dict, int]:
	"""(fast reading, full reading, rows the fast reading took)."""
	taken = 0
	real = register_module._fast_entries

	def counting(rows, *args, **kwargs):
		nonlocal taken
		entries = real(rows, *args, **kwargs)
		taken += sum(entry is not None for entry in entries)
		return entries

	with mock.patch.object(register_module, "_fast_entries", counting):
		fast = snapshot(read_register(path))
	with mock.patch.object(register_module, "_fast_entries", lambda rows, *a, **k: [None] * len(rows)):
		full = snapshot(read_register(path))
	return fast, full, taken


class TestFastReadingAgrees(TempDir):
	@settings(FUZZ, max_examples=150)
	@given(books("csv"))
	def test_fuzzed_csv(self, book):
		path = self.dir / "ventes.csv"
		write_csv(book, path)
		fast, full, _taken = read_both(path)
		self.assertEqual(fast, full)

	@settings(FUZZ, max_examples=40)
	@given(books("xlsx"))
	def test_fuzzed_xlsx(self, book):
		path = self.dir / "ventes.xlsx"
		write_xlsx(book, path)
		fast, full, _taken = read_both(path)
		self.assertEqual(fast, full)

	@settings(FUZZ, max_examples=100)
	@given(books("csv"))
	def test_whole_file_parsing_agrees_with_line_by_line(self, book):
		"""A file whose records are each one line is parsed at once (`_one_line_records`); the
		reading record by record, watching for quotes that swallow lines, must give the same."""
		path = self.dir / "ventes.csv"
		write_csv(book, path)
		at_once = snapshot(read_register(path))
		with mock.patch.object(register_module, "_one_line_records", lambda text, delimiter: None):
			one_by_one = snapshot(read_register(path))
		self.assertEqual(at_once, one_by_one)

	def test_line_ends_and_a_quote_left_open_on_the_last_line(self):
		header = "Facture;Client;Montant;Échéance"
		for text in (
			f"{header}\r\nFA-1;X;10;31/03/2026\r\nFA-2;Y;20;31/03/2026",
			f"{header}\nFA-1;X;10;31/03/2026\n\n",
			f'{header}\nFA-1;"X;Y";10;31/03/2026\nFA-2;"Y;20;31/03/2026',
			f'{header}\nFA-1;X;10;31/03/2026\nFA-2;"Y;20;31/03/2026\r\n',
			f"{header}\rFA-1;X;10;31/03/2026\rFA-2;Y;20;31/03/2026\r",
		):
			with self.subTest(text=text):
				path = self.dir / "ventes.csv"
				path.write_text(text, encoding="utf-8", newline="")
				at_once = snapshot(read_register(path))
				with mock.patch.object(register_module, "_one_line_records", lambda text, delimiter: None):
					one_by_one = snapshot(read_register(path))
				self.assertEqual(at_once, one_by_one)
				self.assertTrue(at_once["invoices"] or at_once["errors"])

	def test_shipped_registers(self):
		for path in SHIPPED:
			with self.subTest(path.name):
				fast, full, taken = read_both(path)
				self.assertEqual(fast, full)
				self.assertGreater(taken, 0)

	def test_benchmark_register_is_read_fast(self):
		"""The benchmark's register (every column, Québec and French customers, payments, disputes):
		the same result both ways, and nearly every row by the fast reading."""
		sys.path.insert(0, str(ROOT / "benchmarks"))
		try:
			import register_read
		finally:
			sys.path.remove(str(ROOT / "benchmarks"))
		for suffix, write in ((".csv", register_read.write_csv), (".xlsx", register_read.write_xlsx)):
			with self.subTest(suffix):
				path = self.dir / f"registre{suffix}"
				write(path, 3000)
				fast, full, taken = read_both(path)
				self.assertEqual(fast, full)
				self.assertEqual(fast["errors"], [])
				self.assertEqual(len(fast["invoices"]), 3000)
				self.assertGreaterEqual(taken, 2900, "the fast reading declined more rows than expected")

	def test_workbook_of_numbers_and_customers_rows_that_differ(self):
		"""Amount columns holding only numbers (read in one pass when each has at most two decimals),
		a float's binary noise, a whole number, a paid 0; customers whose rows repeat their cells, leave
		one empty, or disagree: the same result both ways, the rows with nothing to say read fast."""
		from openpyxl import Workbook

		workbook = Workbook()
		sheet = workbook.active
		sheet.append(
			["N° facture", "Client", "Courriel", "Pays", "Montant TTC", "Payé", "Échéance", "Statut"]
		)
		rows = [
			("FA-1", "Alpha SARL", "a@alpha.example", "FR", 1440.5, None, "15/05/2026", ""),
			("FA-2", "Alpha SARL", "a@alpha.example", "FR", 1440, 0, "16/05/2026", ""),
			("FA-3", "Alpha SARL", None, "FR", 1439.9999999998, 100.25, "17/05/2026", ""),
			("FA-4", "Bêta inc.", "b@beta.example", "CA-QC", 99.9, 99.9, "18/05/2026", "payée"),
			("FA-5", "Bêta inc.", "autre@beta.example", "CA-QC", 12, None, "19/05/2026", ""),
			("FA-6", "Gamma", "g@gamma.example", "FR", 250.75, None, "20/05/2026", ""),
		]
		for row in rows:
			sheet.append(list(row))
		path = self.dir / "nombres.xlsx"
		workbook.save(path)
		fast, full, taken = read_both(path)
		self.assertEqual(fast, full)
		self.assertGreaterEqual(taken, 4)
		amounts = {i.id: str(i.total) for i in read_register(path).invoices}
		self.assertEqual(amounts["FA-1"], "1440.50")  # a float: to the cent, as _amount reads it
		self.assertEqual(amounts["FA-2"], "1440")  # a whole number: as it is
		self.assertEqual(amounts["FA-3"], "1440.00")  # binary noise rounded by _amount
		self.assertNotIn("FA-4", amounts)  # Bêta's rows disagree on the email: both are errors
		self.assertEqual(
			[(e.row, e.column) for e in read_register(path).errors if "beta" in str(e)][:1],
			[(6, "Courriel")],  # the row that differs from the first
		)
