"""Letter rendering throughput (a script, not a test).

	python benchmarks/letters_render.py                  # the sample plan 50 times, then 2,000 distinct letters
	python benchmarks/letters_render.py --repeat 200 --rows 50000

Plans the bundled sample register on the demo day (15 June 2026, sample company config) and renders
every planned action N times with render_action() (subject + HTML + text), as `relance run` does.
Prints letters per second overall and per template and language; planning is not timed.

The same letters again reuse what is kept from one letter to the next (the labels, the layouts'
parts, a prose already laid out): the sample's figure is the best case. The second figure renders
each letter of a synthetic register's plan once (benchmarks/register_read.py's rows, `--rows`, one
customer per ten rows), as a large `relance run` does, in one process.
"""

from __future__ import annotations

import argparse
import platform
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
	parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	parser.add_argument("--repeat", type=int, default=50, help="renders of each action (default 50)")
	parser.add_argument(
		"--rows", type=int, default=20000, help="rows of the synthetic register (default 20000; 0: none)"
	)
	args = parser.parse_args()

	from relance_erpnext import cli
	from relance_erpnext.connectors.register import read_register
	from relance_erpnext.dunning import BUILTIN_SCENARIOS, load_reference_rates, plan
	from relance_erpnext.dunning.letters import render_action

	config = cli.load_config(cli.SAMPLE_CONFIG)
	sender = cli.sender_from(config)
	register = read_register(cli.SAMPLE_REGISTER)
	settings = cli.settings_from(config, argparse.Namespace(min_amount=None, min_gap=None))
	result = plan(
		cli.DEMO_AS_OF,
		register.customers,
		register.invoices,
		[],
		BUILTIN_SCENARIOS,
		load_reference_rates(),
		settings,
	)
	invoices = {inv.id: inv for inv in register.invoices}
	actions = [(action, register.customers[action.customer]) for action in result.actions]
	if not actions:
		sys.exit("the sample plan has no action: nothing to render")

	# First render outside the timing: template compilation (Jinja2 caches the compiled templates)
	started = time.perf_counter()
	for action, customer in actions:
		render_action(action, sender, customer, result.as_of, invoices=invoices)
	first = time.perf_counter() - started

	per_kind: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0.0])
	size = 0
	started = time.perf_counter()
	for _ in range(args.repeat):
		for action, customer in actions:
			t0 = time.perf_counter()
			letter = render_action(action, sender, customer, result.as_of, invoices=invoices)
			spent = time.perf_counter() - t0
			entry = per_kind[(action.template, letter.language)]
			entry[0] += 1
			entry[1] += spent
			size += len(letter.html) + len(letter.text)
	elapsed = time.perf_counter() - started
	count = args.repeat * len(actions)

	print(f"# render_action() throughput — Python {platform.python_version()}, {platform.machine()}")
	print(
		f"sample plan of {result.as_of}: {len(actions)} action(s), "
		f"{sum(len(a.lines) for a, _ in actions)} invoice line(s); first pass (compiling) {first:.3f} s"
	)
	print(
		f"{count} letters in {elapsed:.3f} s: {count / elapsed:,.0f} letters/s "
		f"({elapsed / count * 1000:.2f} ms each, {size / count / 1024:.1f} KiB of HTML+text each); "
		f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
	)
	print(f"{'template':>14} {'language':>8} {'letters':>8} {'letters/s':>10} {'ms each':>8}")
	for (template, language), (n, spent) in sorted(per_kind.items()):
		print(f"{template:>14} {language:>8} {n:>8} {n / spent:>10,.0f} {spent / n * 1000:>8.2f}")
	if args.rows:
		distinct(args.rows, config, sender, settings)


def distinct(rows: int, config, sender, settings) -> None:
	"""Each letter of a synthetic register's plan rendered once."""
	import tempfile

	sys.path.insert(0, str(Path(__file__).resolve().parent))
	from register_read import write_csv

	from relance_erpnext.connectors.register import read_register
	from relance_erpnext.dunning import BUILTIN_SCENARIOS, load_reference_rates, plan
	from relance_erpnext.dunning.letters import render_action

	with tempfile.TemporaryDirectory() as folder:
		path = Path(folder) / "registre.csv"
		write_csv(path, rows)
		register = read_register(path)
	from relance_erpnext import cli

	result = plan(
		cli.DEMO_AS_OF,
		register.customers,
		register.invoices,
		[],
		BUILTIN_SCENARIOS,
		load_reference_rates(),
		settings,
	)
	invoices = {inv.id: inv for inv in register.invoices}
	started = time.perf_counter()
	for action in result.actions:
		render_action(action, sender, register.customers[action.customer], result.as_of, invoices=invoices)
	elapsed = time.perf_counter() - started
	count = len(result.actions)
	print(
		f"synthetic register of {rows:,} rows: {count:,} distinct letters in {elapsed:.3f} s:"
		f" {count / elapsed:,.0f} letters/s ({elapsed / count * 1000:.2f} ms each, templates compiled"
		" by the sample run above)"
	)


if __name__ == "__main__":
	main()
