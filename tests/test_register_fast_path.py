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
