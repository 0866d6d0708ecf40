"""Register reading throughput and peak memory (a script, not a test).

	python benchmarks/register_read.py                    # CSV and XLSX, 10k and 100k rows
	python benchmarks/register_read.py --sizes 1000000 --formats csv

Writes synthetic registers into a temporary folder: CSV the way a French spreadsheet exports it
(`;`, French headers, "1 440,00", DD/MM/YYYY, UTF-8) and XLSX with real date and number cells.
Each (format, size) is read in its own process so that peak memory (max RSS) is its own; only
read_register() is timed, not writing the file nor importing the modules. Beside it, each in its own
process too, the same file read by the library alone, no check: the csv module (CSV); openpyxl's
read-only mode and python-calamine (XLSX), and relance's own reading of the cells before any row is
checked (`_xlsx_rows`: calamine's values, and the formulas, error cells and percent formats from the
sheet's XML).
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

HEADER = [
	"N° facture",
	"Client",
	"Type",
	"Pays",
	"Langue",
	"Courriel",
	"Téléphone",
	"Adresse",
	"Scénario",
	"Taux contractuel",
	"Date d'émission",
	"Échéance",
	"Montant TTC",
	"Devise",
	"Payé",
	"Payé le",
	"Statut",
	"Motif",
	"Jusqu'au",
]
AS_OF = date(2026, 6, 15)
SCENARIOS = ["", "", "", "clients_douteux", "preventif"]


def _customer(i: int) -> dict:
	quebec = i % 17 == 0
	return {
		"name": f"Client {i:06d} {'inc.' if quebec else 'SARL'}",
		"kind": "B2C" if i % 10 == 0 else "B2B",
		"country": "CA-QC" if quebec else "FR",
		"language": "fr-CA" if quebec else "fr",
		"email": f"compta{i}@client{i}.example",
		"phone": f"04 78 {i % 100:02d} {i // 100 % 100:02d} {i % 97:02d}",
		"address": f"{i % 200 + 1} rue de la République / 69002 Lyon",
		"scenario": SCENARIOS[i % len(SCENARIOS)],
		"rate": "1,5 % par mois" if quebec and i % 2 else "",
		"currency": "CAD" if quebec else "EUR",
	}


def rows(n: int, seed: int = 11):
	"""n register rows as Python values: (customer dict, issued, due, amount in cents, paid cents, paid on, status)."""
	rng = random.Random(seed)
	customers = [_customer(i) for i in range(max(1, n // 10))]
	for k in range(n):
		cust = customers[k % len(customers)]
		due = AS_OF + timedelta(days=rng.randint(-120, 60))
		issued = due - timedelta(days=30)
		cents = rng.randint(1000, 2_000_000)
		draw = rng.random()
		paid, paid_on, status = 0, None, ""
		if draw < 0.25:
			paid, paid_on, status = cents, due + timedelta(days=rng.randint(-5, 20)), "payée"
		elif draw < 0.32:
			paid, paid_on, status = cents // 3, due + timedelta(days=3), "partiellement payée"
		elif draw < 0.34:
			status = "litige"
		yield k, cust, issued, due, cents, paid, paid_on, status


def _fr_amount(cents: int) -> str:
	units, rest = divmod(cents, 100)
	return f"{units:,}".replace(",", " ") + f",{rest:02d}"


def write_csv(path: Path, n: int) -> None:
	with path.open("w", encoding="utf-8", newline="") as handle:
		writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
		writer.writerow(HEADER)
		for k, c, issued, due, cents, paid, paid_on, status in rows(n):
			writer.writerow(
				[
					f"FA-{k:08d}",
					c["name"],
					c["kind"],
					c["country"],
					c["language"],
					c["email"],
					c["phone"],
					c["address"],
					c["scenario"],
					c["rate"],
					issued.strftime("%d/%m/%Y"),
					due.strftime("%d/%m/%Y"),
					_fr_amount(cents),
					c["currency"],
					_fr_amount(paid) if paid else "",
					paid_on.strftime("%d/%m/%Y") if paid_on else "",
					status,
					"Quantité contestée" if status == "litige" else "",
					"",
				]
			)


def write_xlsx(path: Path, n: int) -> None:
	import openpyxl

	book = openpyxl.Workbook(write_only=True)
	sheet = book.create_sheet("Factures")
	sheet.append(HEADER)
	for k, c, issued, due, cents, paid, paid_on, status in rows(n):
		sheet.append(
			[
				f"FA-{k:08d}",
				c["name"],
				c["kind"],
				c["country"],
				c["language"],
				c["email"],
				c["phone"],
				c["address"],
				c["scenario"] or None,
				c["rate"] or None,
				datetime.combine(issued, datetime.min.time()),
				datetime.combine(due, datetime.min.time()),
				cents / 100,
				c["currency"],
				paid / 100 if paid else None,
				datetime.combine(paid_on, datetime.min.time()) if paid_on else None,
				status or None,
				"Quantité contestée" if status == "litige" else None,
				None,
			]
		)
	book.save(path)


LIBRARIES = {
	"csv": "csv module alone on the same file (no check)",
	"openpyxl": "openpyxl read-only alone on the same file (no check)",
	"calamine": "python-calamine alone on the same file (no check)",
	"cells": "relance's reading of the cells alone (_xlsx_rows: before the rows are checked)",
	"objects": "csv module + the objects the planner is given, no check (a floor for any reader)",
}


def baseline(path: Path, library: str) -> dict:
	"""The same file read by a library alone, no check at all, every cell visited: Python's csv module
	(CSV), openpyxl's read-only mode or python-calamine (XLSX); or "cells": relance's reading of the
	workbook's cells (`_xlsx_rows`), before the rows are checked."""
	started = time.perf_counter()
	n = 0
	if library == "csv":
		with path.open(encoding="utf-8", newline="") as handle:
			for _row in csv.reader(handle, delimiter=";"):
				n += 1
	elif library == "openpyxl":
		import openpyxl

		book = openpyxl.load_workbook(path, read_only=True, data_only=True)
		for row in book.active.iter_rows(values_only=True):
			n += 1
			for _cell in row:
				pass
		book.close()
	elif library == "calamine":
		from python_calamine import CalamineWorkbook

		book = CalamineWorkbook.from_path(str(path))
		for row in book.get_sheet_by_index(0).iter_rows():
			n += 1
			for _cell in row:
				pass
		book.close()
	elif library == "objects":
		n = _objects_alone(path)
	else:
		from relance_erpnext.connectors.register import Register, _xlsx_rows

		rows, _ = _xlsx_rows(path, Register(path=path))
		n = len(rows)
	elapsed = time.perf_counter() - started
	return {
		"rows": n - 1,
		"seconds": round(elapsed, 3),
		"rows_per_second": round((n - 1) / elapsed),
		"peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
	}


def _objects_alone(path: Path) -> int:
	"""The CSV read by the csv module and made into what the planner is given, without one check: an
	Invoice (with its Instalment and Payment) a row, a Customer per name, dates through a memo, amounts
	through str.replace and Decimal. No reader that hands the planner these objects can be faster in
	this Python; the rows read, header included."""
	import gc
	from decimal import Decimal

	from relance_erpnext.dunning.models import Customer, Instalment, Invoice, Payment

	gc.disable()
	at = {name: HEADER.index(name) for name in HEADER}
	text = path.read_bytes().decode("utf-8")
	records = list(csv.reader(text.splitlines(True), delimiter=";"))
	del text
	days: dict = {}

	def day(cell: str):
		if not cell:
			return None
		if cell not in days:
			d, m, y = cell.split("/")
			days[cell] = date(int(y), int(m), int(d))
		return days[cell]

	def amount(cell: str):
		return Decimal(cell.replace(" ", "").replace(",", ".")) if cell else None

	customers: dict = {}
	invoices: list = []
	for record in records[1:]:
		name = record[at["Client"]]
		if name not in customers:
			customers[name] = Customer(id=name, name=name, email=record[at["Courriel"]])
		due, issued = day(record[at["Échéance"]]), day(record[at["Date d'émission"]])
		paid = amount(record[at["Payé"]])
		invoices.append(
			Invoice(
				record[at["N° facture"]],
				name,
				record[at["Devise"]] or "EUR",
				issued or due,
				(Instalment(due, amount(record[at["Montant TTC"]])),),
				(Payment(day(record[at["Payé le"]]) or due, paid),) if paid else (),
			)
		)
	gc.enable()
	return len(records)


def measure(path: Path) -> dict:
	from relance_erpnext.connectors.register import read_register

	rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
	started = time.perf_counter()
	register = read_register(path)
	elapsed = time.perf_counter() - started
	rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
	return {
		"rows": register.rows_read,
		"invoices": len(register.invoices),
		"customers": len(register.customers),
		"errors": len(register.errors),
		"first_error": str(register.errors[0]) if register.errors else "",
		"seconds": round(elapsed, 3),
		"rows_per_second": round(register.rows_read / elapsed) if elapsed else 0,
		"peak_rss_mb": round(rss_after / 1024),
		"rss_for_read_mb": round((rss_after - rss_before) / 1024),
	}


def main() -> None:
	parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	parser.add_argument("--sizes", default="10000,100000")
	parser.add_argument("--formats", default="csv,xlsx")
	parser.add_argument("--keep", action="store_true", help="keep the generated files (prints the folder)")
	parser.add_argument("--one", help=argparse.SUPPRESS)
	parser.add_argument("--baseline", help=argparse.SUPPRESS)
	parser.add_argument("--library", help=argparse.SUPPRESS)
	args = parser.parse_args()
	if args.one:
		print(json.dumps(measure(Path(args.one))))
		return
	if args.baseline:
		print(json.dumps(baseline(Path(args.baseline), args.library)))
		return
	print(f"# read_register() throughput — Python {platform.python_version()}, {platform.machine()}")
	print(
		f"{'format':>6} {'rows':>8} {'file MB':>8} {'write s':>8} {'read s':>8} {'rows/s':>9}"
		f" {'invoices':>9} {'errors':>7} {'peak MB':>8} {'read MB':>8}"
	)
	folder = Path(tempfile.mkdtemp(prefix="relance-bench-"))
	try:
		for n in (int(x) for x in args.sizes.split(",")):
			for fmt in args.formats.split(","):
				path = folder / f"registre_{n}.{fmt}"
				started = time.perf_counter()
				(write_csv if fmt == "csv" else write_xlsx)(path, n)
				written = time.perf_counter() - started
				out = subprocess.run(
					[sys.executable, __file__, "--one", str(path)], check=True, capture_output=True, text=True
				).stdout
				r = json.loads(out)
				print(
					f"{fmt:>6} {r['rows']:>8} {path.stat().st_size / 1e6:>8.1f} {written:>8.1f} {r['seconds']:>8}"
					f" {r['rows_per_second']:>9} {r['invoices']:>9} {r['errors']:>7}"
					f" {r['peak_rss_mb']:>8} {r['rss_for_read_mb']:>8}",
					flush=True,
				)
				if r["errors"]:
					print(f"       first error: {r['first_error']}", flush=True)
				for library in ("csv", "objects") if fmt == "csv" else ("openpyxl", "calamine", "cells"):
					b = json.loads(
						subprocess.run(
							[sys.executable, __file__, "--baseline", str(path), "--library", library],
							check=True,
							capture_output=True,
							text=True,
						).stdout
					)
					print(
						f"{'':>6} {'':>8} {'':>8} {'':>8} {b['seconds']:>8} {b['rows_per_second']:>9}"
						f" {'':>9} {'':>7} {b['peak_rss_mb']:>8} {'':>8}"
						f"  <- {LIBRARIES[library]}; relance reads at"
						f" {r['rows_per_second'] / b['rows_per_second']:.0%} of its speed",
						flush=True,
					)
				if not args.keep:
					path.unlink()
	finally:
		if args.keep:
			print(f"# files kept in {folder}")
		else:
			for leftover in folder.iterdir():
				leftover.unlink()
			folder.rmdir()


if __name__ == "__main__":
	main()
