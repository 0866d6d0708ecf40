"""Planning throughput and peak memory of the core on a synthetic book (a script, not a test).

	python benchmarks/plan_throughput.py                 # 10k, 100k and 1M invoices
	python benchmarks/plan_throughput.py --sizes 1000000 --customers-ratio 10

Each size runs in its own process so that peak memory (max RSS) is its own. Two histories:
"steady" is the daily run of a book already followed up (every step due before today is in the
history, as after months of daily runs); "cold" is the first run ever (empty history: every late
invoice gets a step at once, the worst case). Only plan() is timed, not building the book: the best
of --repeat plans of the same book (the slower ones also measure the machine's other work).
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import resource
import subprocess
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

AS_OF = date(2026, 6, 15)


# Share of open invoices already late, and how late they get
PROFILES = {
	# A sound book: 30-60 day terms, most open invoices not yet due, 30 % late by up to 90 days
	"typical": (0.30, 90, 60),
	# A delinquent book: two thirds late, up to 120 days
	"delinquent": (0.67, 120, 60),
}


def build_book(n_invoices: int, n_customers: int, seed: int = 7, profile: str = "typical"):
	from relance_erpnext.dunning import BUILTIN_SCENARIOS, Customer, HistoryEntry, Instalment, Invoice
	from relance_erpnext.dunning.scenarios import nominal_offsets

	rng = random.Random(seed)
	late_share, max_late, max_ahead = PROFILES[profile]
	scenario_keys = list(BUILTIN_SCENARIOS)
	customers = {}
	for i in range(n_customers):
		cid = f"CUST-{i:06d}"
		customers[cid] = Customer(
			id=cid,
			name=f"Client {i}",
			kind="business" if i % 10 else "consumer",
			regime="QC" if i % 17 == 0 else "FR",
			language="fr-CA" if i % 17 == 0 else "fr-FR",
			email=f"compta{i}@example.fr",
			phone="0102030405",
			address=("1 rue X", "75001 Paris"),
			scenario=scenario_keys[i % 7] if i % 7 < len(scenario_keys) else None,
		)
	offsets = {key: nominal_offsets(sc) for key, sc in BUILTIN_SCENARIOS.items()}
	cids = list(customers)
	invoices = []
	steady = []
	for i in range(n_invoices):
		cid = cids[i % n_customers]
		if rng.random() < late_share:
			due = AS_OF - timedelta(days=rng.randint(1, max_late))
		else:
			due = AS_OF + timedelta(days=rng.randint(0, max_ahead))
		amount = Decimal(rng.randint(1000, 500000)) / 100
		invoices.append(
			Invoice(
				id=f"FA-{i:08d}",
				customer=cid,
				currency="CAD" if customers[cid].regime == "QC" else "EUR",
				issued=due - timedelta(days=30),
				instalments=(Instalment(due, amount),),
			)
		)
		scenario = customers[cid].scenario or "standard"
		for step, offset in zip(BUILTIN_SCENARIOS[scenario].steps, offsets[scenario], strict=True):
			day = due + timedelta(days=offset)
			if day < AS_OF:
				steady.append(HistoryEntry(f"FA-{i:08d}", step.key, day, "sent", customer=cid))
	return customers, invoices, steady


def measure(n_invoices: int, n_customers: int, mode: str, profile: str, repeat: int = 3) -> dict:
	from relance_erpnext.dunning import BUILTIN_SCENARIOS, PlanSettings, load_reference_rates, plan

	rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
	customers, invoices, steady = build_book(n_invoices, n_customers, profile=profile)
	history = steady if mode == "steady" else []
	rates = load_reference_rates()
	rss_book = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
	timings = []
	for _ in range(repeat):
		result = None  # the previous plan is freed before the next one is made
		started = time.perf_counter()
		result = plan(AS_OF, customers, invoices, history, BUILTIN_SCENARIOS, rates, PlanSettings())
		timings.append(time.perf_counter() - started)
	rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
	# The best of the runs: the slower ones measure the machine's other work as well
	elapsed = min(timings)
	return {
		"invoices": n_invoices,
		"customers": n_customers,
		"history": mode,
		"profile": profile,
		"history_rows": len(history),
		"seconds": round(elapsed, 3),
		"median_seconds": round(sorted(timings)[len(timings) // 2], 3),
		"invoices_per_second": round(n_invoices / elapsed),
		"actions": len(result.actions),
		"invoices_acted_on": sum(len(a.lines) for a in result.actions),
		"skipped": len(result.skipped),
		"peak_rss_mb": round(rss_after / 1024),
		"rss_for_plan_mb": round((rss_after - rss_book) / 1024),
		"rss_for_book_mb": round((rss_book - rss_before) / 1024),
	}


def main() -> None:
	parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	parser.add_argument("--sizes", default="10000,100000,1000000")
	parser.add_argument("--customers-ratio", type=int, default=10, help="invoices per customer")
	parser.add_argument("--modes", default="steady,cold")
	parser.add_argument("--profiles", default="typical,delinquent")
	parser.add_argument("--repeat", type=int, default=3, help="plans per size (the best is shown)")
	parser.add_argument("--one", help=argparse.SUPPRESS)
	args = parser.parse_args()
	if args.one:
		n, mode, profile = args.one.split(":")
		print(json.dumps(measure(int(n), max(1, int(n) // args.customers_ratio), mode, profile, args.repeat)))
		return
	print(f"# plan() throughput — Python {platform.python_version()}, {platform.machine()}, as of {AS_OF}")
	print(
		f"{'invoices':>10} {'customers':>10} {'book':>10} {'history':>8} {'hist rows':>10} {'best s':>8} {'median s':>8}"
		f" {'inv/s':>10} {'acted':>8} {'peak MB':>8} {'plan MB':>8}"
	)
	for n in (int(x) for x in args.sizes.split(",")):
		for profile in args.profiles.split(","):
			for mode in args.modes.split(","):
				out = subprocess.run(
					[
						sys.executable,
						__file__,
						"--one",
						f"{n}:{mode}:{profile}",
						"--customers-ratio",
						str(args.customers_ratio),
						"--repeat",
						str(args.repeat),
					],
					check=True,
					capture_output=True,
					text=True,
				).stdout
				r = json.loads(out)
				print(
					f"{r['invoices']:>10} {r['customers']:>10} {r['profile']:>10} {r['history']:>8} {r['history_rows']:>10}"
					f" {r['seconds']:>8} {r['median_seconds']:>8} {r['invoices_per_second']:>10} {r['invoices_acted_on']:>8}"
					f" {r['peak_rss_mb']:>8} {r['rss_for_plan_mb']:>8}",
					flush=True,
				)


if __name__ == "__main__":
	main()
