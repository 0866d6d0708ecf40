"""The whole `relance plan` and `relance run` commands on a synthetic register (a script, not a test).

	python benchmarks/cli_commands.py                          # 200,000 rows, plan and run
	python benchmarks/cli_commands.py --sizes 20000,200000 --commands run
	python benchmarks/cli_commands.py --trees /tmp/main,.     # the same file, two checkouts back to back

Writes a synthetic CSV register (benchmarks/register_read.py's `write_csv`), then runs each command
as a child process on it with the sample company's config (`entreprise_exemple.toml`), `--quiet`,
`--as-of 2026-06-15`, standard output to /dev/null; `run` with a new journal and a new output folder
each time (all kept until the end: see files_per_second). Prints for each: the seconds of the whole
command, the letters written (the .html files of the day folder, a_imprimer.* not counted), letters
per second of the whole command, and the child's own peak RSS (os.wait4, its processes included).
The child is `relance` itself, started through this script (`--child`) so that it can also say where
its time went: reading the register, planning, the letters (rendered and written: seconds, and CPU
seconds of the command and of the processes it started for them; on a loaded machine the two
differ), a_imprimer.pdf, the journal. Python's csv module reading the same file, no check, is
printed for reference, and how many files the machine creates a second right now. Figures only, no
asserts.

`--trees A,B` runs the commands of each checkout (its folder on PYTHONPATH) one after the other on
the same file: a before/after measured back to back on this shared machine.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
AS_OF = "2026-06-15"
CONFIG = ROOT / "relance_erpnext" / "connectors" / "sample" / "entreprise_exemple.toml"

# What the child times, when the checkout has it (module, class or "", function, phase); reading
# happens inside make_plan and is subtracted by the parent
TIMED = (
	("relance_erpnext.cli.workflow", "", "read_book", "read"),
	("relance_erpnext.cli.workflow", "", "make_plan", "read+plan"),
	# Before: every letter rendered in memory, then written
	("relance_erpnext.cli.workflow", "", "render_letters", "letters"),
	("relance_erpnext.cli.workflow", "", "write_letters", "letters"),
	("relance_erpnext.cli.workflow", "", "merge_letters", "letters"),
	# After: rendered and written one at a time, a_imprimer.html as they go
	("relance_erpnext.cli.workflow", "", "write_day_letters", "letters"),
	("relance_erpnext.connectors.pdf", "PdfRenderer", "render", "pdf"),
	("relance_erpnext.connectors.journal", "Journal", "record_actions", "journal"),
)


def child(argv: list[str]) -> None:
	"""`relance ARGV` in this process, each TIMED function wrapped to add up its seconds; the totals
	go to standard error as one JSON line at the end."""
	import importlib

	spent: dict[str, float] = {}
	started = time.perf_counter()

	def cpu() -> float:
		# This process and its children waited for (the processes rendering letters)
		times = os.times()
		return times.user + times.system + times.children_user + times.children_system

	def timed(function, phase):
		def wrapper(*args, **kwargs):
			t0, c0 = time.perf_counter(), cpu()
			try:
				return function(*args, **kwargs)
			finally:
				spent[phase] = spent.get(phase, 0.0) + time.perf_counter() - t0
				spent[f"{phase} cpu"] = spent.get(f"{phase} cpu", 0.0) + cpu() - c0

		return wrapper

	for module_name, class_name, name, phase in TIMED:
		try:
			owner = importlib.import_module(module_name)
		except ImportError:
			continue
		if class_name:
			owner = getattr(owner, class_name, None)
		if owner is not None and hasattr(owner, name):
			original = getattr(owner, name)
			wrapper = timed(original, phase)
			setattr(owner, name, wrapper)
			# and wherever it was imported by name (cli.plan: from workflow import make_plan)
			for module in list(sys.modules.values()):
				if getattr(module, "__name__", "").startswith("relance_erpnext") and module is not owner:
					for key, value in list(vars(module).items()):
						if value is original:
							setattr(module, key, wrapper)

	def report():
		spent["total_in_process"] = time.perf_counter() - started
		print("BENCH-PHASES " + json.dumps(spent), file=sys.stderr, flush=True)

	atexit.register(report)
	from relance_erpnext import cli

	code = cli.main(argv)
	sys.stdout.flush()
	raise SystemExit(code)


def run_child(tree: Path, argv: list[str]) -> dict:
	"""One command in a child process: its seconds, exit status, peak RSS and the phases it timed."""
	env = dict(os.environ)
	env["PYTHONPATH"] = os.pathsep.join(p for p in (str(tree), env.get("PYTHONPATH", "")) if p)
	env["PYTHONIOENCODING"] = "utf-8"
	env["PYTHONDONTWRITEBYTECODE"] = "1"
	with tempfile.TemporaryFile() as err, open(os.devnull, "w") as devnull:
		started = time.perf_counter()
		process = subprocess.Popen(
			[sys.executable, str(Path(__file__).resolve()), "--child", *argv],
			stdout=devnull,
			stderr=err,
			env=env,
			cwd=tree,
		)
		_, status, usage = os.wait4(process.pid, 0)
		elapsed = time.perf_counter() - started
		process.returncode = os.waitstatus_to_exitcode(status)
		err.seek(0)
		stderr = err.read().decode("utf-8", "replace")
	phases = {}
	lines = []
	for line in stderr.splitlines():
		if line.startswith("BENCH-PHASES "):
			phases = json.loads(line.removeprefix("BENCH-PHASES "))
		else:
			lines.append(line)
	return {
		"code": process.returncode,
		"seconds": elapsed,
		"peak_mb": usage.ru_maxrss / 1024,
		"phases": phases,
		"stderr": lines,
	}


def csv_module(path: Path) -> float:
	"""Seconds for Python's csv module alone to read every row of the file (no check)."""
	import csv

	started = time.perf_counter()
	with path.open(encoding="utf-8", newline="") as handle:
		for _row in csv.reader(handle, delimiter=";"):
			pass
	return time.perf_counter() - started


def files_per_second(folder: Path, count: int = 2000) -> float:
	"""How many 8 KB files this machine creates a second right now, in a new folder (its file system
	and load; the files are left until the end, see main)."""
	target = folder / f"calibration-{time.monotonic_ns()}"
	target.mkdir()
	data = b"x" * 8000
	started = time.perf_counter()
	for number in range(count):
		descriptor = os.open(target / f"{number:05d}.html", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
		os.write(descriptor, data)
		os.close(descriptor)
	return count / (time.perf_counter() - started)


def letters_in(folder: Path) -> tuple[int, int]:
	"""(letters: the .html files but a_imprimer*, every file) under the folder, sub-folders included."""
	letters = files = 0
	for _, _, names in os.walk(folder):
		for name in names:
			files += 1
			if name.endswith(".html") and not name.startswith("a_imprimer"):
				letters += 1
	return letters, files


def main() -> None:
	parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	parser.add_argument("--sizes", default="200000", help="register rows, comma-separated (default 200000)")
	parser.add_argument("--commands", default="plan,run", help="plan, run or both (default)")
	parser.add_argument(
		"--trees", default=str(ROOT), help="checkouts to run, comma-separated (default this one)"
	)
	parser.add_argument(
		"--catch-up",
		default="",
		help='by_due_date: the sample config with catch_up = "by_due_date" (a first run then writes'
		" formal notices and registered letters, a_imprimer.* included); default: the config as it is",
	)
	parser.add_argument(
		"--dir",
		help="where to write the register and the letters (default: the system's temporary folder);"
		" e.g. /dev/shm, a file system no other work is creating and deleting files in",
	)
	parser.add_argument(
		"--keep", action="store_true", help="keep the register and the letters (prints the folder)"
	)
	parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
	args = parser.parse_args()
	if args.child is not None:
		child(args.child)
		return

	# The same synthetic rows as the register benchmark (imported here only: the child must find
	# relance_erpnext in its own tree, and register_read puts this checkout on sys.path)
	sys.path.insert(0, str(HERE))
	from register_read import write_csv

	trees = [Path(t).resolve() for t in args.trees.split(",")]
	commands = args.commands.split(",")
	print(f"# relance plan / run, whole commands — Python {platform.python_version()}, {platform.machine()}")
	print(
		f"# as of {AS_OF}, config {CONFIG.name}, --quiet, stdout to /dev/null; trees: {', '.join(map(str, trees))}"
	)
	folder = Path(tempfile.mkdtemp(prefix="relance-cli-bench-", dir=args.dir))
	config = CONFIG
	if args.catch_up:
		config = folder / f"entreprise_{args.catch_up}.toml"
		text = CONFIG.read_text(encoding="utf-8")
		config.write_text(
			text.replace("[settings]", f'[settings]\ncatch_up = "{args.catch_up}"'), encoding="utf-8"
		)
		print(f"# [settings] catch_up = {args.catch_up!r}")
	print(f"# files in {folder}")
	try:
		for n in (int(x) for x in args.sizes.split(",")):
			register = folder / f"registre_{n}.csv"
			started = time.perf_counter()
			write_csv(register, n)
			print(
				f"\n## {n:,} rows ({register.stat().st_size / 1e6:.1f} MB, written in"
				f" {time.perf_counter() - started:.1f} s); csv module alone reads it in {csv_module(register):.2f} s",
				flush=True,
			)
			print(
				f"this machine now creates {files_per_second(folder):,.0f} files of 8 KB a second", flush=True
			)
			print(
				f"{'tree':>10} {'command':>7} {'exit':>4} {'s':>7} {'letters':>8} {'letters/s':>9} {'peak MB':>8}"
				f" {'read s':>7} {'plan s':>7} {'letters s':>9} {'letters/s':>9} {'cpu s':>6} {'pdf s':>6} {'journal s':>9}"
				f" {'files':>7} {'biggest folder':>14}"
			)
			for command in commands:
				for number, tree in enumerate(trees):
					name = tree.name if tree.name != ROOT.name or len(trees) == 1 else f"{number}:{tree.name}"
					work = folder / f"{command}-{n}-{number}"
					work.mkdir()
					argv = [
						command,
						"--register",
						str(register),
						"--as-of",
						AS_OF,
						"--config",
						str(config),
						"--quiet",
					]
					if command == "run":
						argv += ["--journal", str(work / "journal.sqlite"), "--out", str(work / "lettres")]
					r = run_child(tree, argv)
					ph = r["phases"]
					read = ph.get("read", 0.0)
					plan_s = ph.get("read+plan", 0.0) - read
					letters_s = ph.get("letters", 0.0)
					letters = files = biggest = 0
					if command == "run" and (work / "lettres").exists():
						letters, files = letters_in(work / "lettres")
						biggest = max(len(names) for _, _, names in os.walk(work / "lettres"))
					print(
						f"{name[:10]:>10} {command:>7} {r['code']:>4} {r['seconds']:>7.2f} {letters:>8,}"
						f" {letters / r['seconds'] if letters else 0:>9,.0f} {r['peak_mb']:>8.0f}"
						f" {read:>7.2f} {plan_s:>7.2f} {letters_s:>9.2f}"
						f" {letters / letters_s if letters and letters_s else 0:>9,.0f} {ph.get('letters cpu', 0.0):>6.2f}"
						f" {ph.get('pdf', 0.0):>6.2f} {ph.get('journal', 0.0):>9.2f} {files:>7,} {biggest:>14,}",
						flush=True,
					)
					if r["code"] not in (0, 5):
						print("\n".join(f"    {line}" for line in r["stderr"][-5:]), flush=True)
			# Nothing is deleted before the end: ext4 scans the inodes deleted in the last seconds when it
			# makes a new file (recently_deleted), so letters deleted between two runs slow the next
			# one's files down (seen here: 0.05 to 1 ms a file, all of it system time)
	finally:
		if args.keep:
			print(f"# files kept in {folder}")
		else:
			shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
	main()
