"""One run workflow for every source (a register, a Dolibarr): read the book, plan, write the day's
letters, record the steps, send the emails, report. The command modules (plan, run, demo, log,
match, overview) are thin layers over it."""

from __future__ import annotations

import contextlib
import errno
import gc
import io
import json
import os
import pickle
import re
import shutil
import sqlite3
import sys
from datetime import date
from pathlib import Path

try:
	import fcntl
except ImportError:  # Windows: a dead run's folder of letters is left alone
	fcntl = None

from relance_erpnext.cli import common
from relance_erpnext.cli.common import (
	DOLIBARR_KEY_ENV,
	EXIT_NOT_SENT,
	EXIT_OK,
	PRINT_FILE,
	PRINT_PDF,
	Progress,
	UsageError,
	channel_label,
	complain,
	tone_label,
	warn,
)
from relance_erpnext.cli.config import load_rates, load_scenarios, sender_from, settings_from, smtp_from
from relance_erpnext.connectors.dolibarr_journal import DolibarrJournal, JournalUnusable
from relance_erpnext.connectors.pdf import (
	PAGE_BREAK,
	PDF_MAX_LETTERS,
	PdfRenderer,
	PrintFile,
	merge_pages,
	page_body,
	page_head,
)
from relance_erpnext.dunning import (
	describe,
	format_amount,
	plan,
	plan_to_dict,
	task_text,
)
from relance_erpnext.dunning.models import EMAIL
from relance_erpnext.dunning.serialize import plan_json_chunks
from relance_erpnext.i18n import Text, gettext, reason, say


def rates_for(args):
	"""The rates of --rates DIR, else of the default folder when it exists, else the bundled ones."""
	from relance_erpnext.cli.rates import rates_dir

	return load_rates(rates_dir(args.rates), explicit=bool(args.rates))


def warn_provisional(result, args) -> int:
	"""Say which rate tables lack a half-year the plan needed; EXIT_PROVISIONAL when one does."""
	from relance_erpnext.cli.rates import EXIT_PROVISIONAL, provisional_message

	if not result.provisional:
		return EXIT_OK
	print(provisional_message(result.provisional, args.rates, args.lang.startswith("fr")), file=sys.stderr)
	return EXIT_PROVISIONAL


def read_book(
	path: Path, skip_bad_rows: bool, customers: Path | None = None, lang: str = "en", quiet: bool = True
):
	from relance_erpnext.connectors.register import read_register

	if not path.exists():
		raise UsageError(Text("{path}: no such file", path=path))
	if customers is not None and not customers.exists():
		raise UsageError(Text("{path}: no such file", path=customers))
	with Progress("Reading the register", quiet=quiet, lang=lang) as bar:
		register = read_register(path, skip_bad_rows=skip_bad_rows, customers=customers, progress=bar.update)
	for warning in register.warnings:
		warn(warning, lang)
	if register.errors:
		for error in register.errors:
			complain(error.text(lang), lang)
		if not register.plannable:
			if register.fatal:
				raise UsageError(Text("{path}: the file cannot be used; nothing planned", path=path))
			raise UsageError(
				Text(
					"{path}: {n} error(s); nothing planned (fix them, or use --skip-bad-rows)",
					path=path,
					n=len(register.errors),
				)
			)
		warn(Text("{n} bad row(s) left out (--skip-bad-rows)", n=len(register.bad_rows)), lang)
	return register


class Book:
	"""Customers and open invoices, as read from a source other than a register."""

	def __init__(self, customers: dict, invoices: list, names: dict | None = None, credits=(), outcomes=()):
		self.customers = customers
		self.invoices = invoices
		self.names = names or {}  # customer id -> name, also for the customers left out
		self.credits = list(credits)  # open credit notes (core Credit)
		self.outcomes = list(outcomes)  # what was done by hand (core ManualEntry)


def customer_names(book) -> dict[str, str]:
	"""Customer id -> the name a person knows (a Dolibarr id is a bare row number)."""
	names = dict(getattr(book, "names", None) or {})
	names.update((key, customer.name) for key, customer in book.customers.items() if customer.name)
	return names


def plan_dict(result, book) -> dict:
	"""The plan as JSON, each skipped invoice with its customer's name beside its id."""
	data = plan_to_dict(result)
	names = customer_names(book)
	for skipped in data["skipped"]:
		skipped["customer_name"] = names.get(skipped["customer"], skipped["customer"])
	return data


def write_plan_json(result, book, handle) -> None:
	"""The plan as plan_dict makes it, written as JSON in pieces (one action, one skipped invoice a
	line): `relance run`'s plan.json."""
	for chunk in plan_json_chunks(result, customer_names(book)):
		handle.write(chunk)


def dolibarr_source(args, config: dict | None = None):
	"""The Dolibarr at --dolibarr-url, its API key from the environment. The command line wins over
	the [dolibarr] table of --config (url, api_key_env)."""
	from relance_erpnext.connectors.dolibarr import DolibarrError, DolibarrSource

	table = (config or {}).get("dolibarr")
	table = table if isinstance(table, dict) else {}
	url = args.dolibarr_url or str(table.get("url") or "")
	if not url:
		raise UsageError(Text("--source dolibarr needs --dolibarr-url URL (or url in the [dolibarr] table)"))
	name = args.dolibarr_key_env or str(table.get("api_key_env") or "") or DOLIBARR_KEY_ENV
	key = os.environ.get(name, "")
	if not key.strip():
		raise UsageError(
			Text(
				"--source dolibarr: the environment variable {name} (the Dolibarr API key) is not set",
				name=name,
			)
		)
	try:
		source = DolibarrSource(url, key, page_size=common.DOLIBARR_PAGE_SIZE)
	except DolibarrError as exc:
		raise UsageError(Text("Dolibarr: {error}", error=exc.args[0]))
	return source


def read_dolibarr(args, config: dict | None = None):
	"""(book, history, journal) from the Dolibarr at --dolibarr-url, its API key from the environment."""
	from relance_erpnext.connectors.dolibarr import DolibarrError

	source = dolibarr_source(args, config)
	try:
		customers, invoices, history = source.load_book(args.as_of)
	except DolibarrError as exc:
		raise UsageError(Text("Dolibarr: {error}", error=exc.args[0]))
	for warning in source.warnings:
		warn(warning, args.lang)
	book = Book(
		customers,
		invoices,
		source.customer_names,
		getattr(source, "credits", ()),
		getattr(source, "outcomes", ()),
	)
	return book, history, DolibarrJournal(source)


def make_plan(args, config: dict, create_journal: bool = False, planner=None):
	# planner: called as `plan` is (the overview passes one that also plans the days ahead)
	planner = planner or plan
	if getattr(args, "source", "register") == "dolibarr":
		if args.journal:
			raise UsageError(
				Text("--source dolibarr keeps the follow-up in Dolibarr's agenda: leave out --journal")
			)
		scenarios = load_scenarios(Path(args.scenarios) if args.scenarios else None, config)
		settings = settings_from(config, args)
		if settings.default_scenario not in scenarios:
			raise UsageError(
				Text(
					"settings: default_scenario {scenario!r} is not a known scenario",
					scenario=settings.default_scenario,
				)
			)
		rates = rates_for(args)
		book, history, journal = read_dolibarr(args, config)
		journal.inputs = (history, scenarios, rates, settings)  # to rebuild a letter not attached
		try:
			result = planner(
				args.as_of,
				book.customers,
				book.invoices,
				history,
				scenarios,
				rates,
				settings,
				outcomes=book.outcomes,
				credits=book.credits,
			)
		except BaseException:
			journal.close()
			raise
		if not create_journal and journal.source.letters_pending:
			warn(
				Text(
					"{n} letter(s) recorded in Dolibarr's agenda with no copy known among their invoice's"
					" documents: `relance run` checks and attaches them",
					n=len(journal.source.letters_pending),
				),
				args.lang,
			)
		if not create_journal:
			journal.close()
			journal = None
		return book, result, journal
	customers = getattr(args, "customers", None)
	register = read_book(
		Path(args.register),
		args.skip_bad_rows,
		Path(customers) if customers else None,
		args.lang,
		quiet=getattr(args, "quiet", False),
	)
	scenarios = load_scenarios(Path(args.scenarios) if args.scenarios else None, config)
	settings = settings_from(config, args)
	if settings.default_scenario not in scenarios:
		raise UsageError(
			Text(
				"settings: default_scenario {scenario!r} is not a known scenario",
				scenario=settings.default_scenario,
			)
		)
	rates = rates_for(args)
	history = []
	outcomes = list(register.outcomes)
	journal = None
	if args.journal:
		from relance_erpnext.connectors.journal import Journal, JournalError

		if not create_journal and not Path(args.journal).exists():
			# `plan` changes nothing: a journal that does not exist yet is not created
			warn(Text("{path}: no journal yet (nothing recorded so far)", path=args.journal), args.lang)
		else:
			try:
				journal = Journal(args.journal)
			except JournalError as exc:
				raise UsageError(exc.args[0])
			try:
				history = journal.history()
				outcomes.extend(journal.outcomes())  # `relance log`

				# Payments found on bank statements (`relance match --apply`): no longer owed
				register.invoices = apply_journal_payments(register.invoices, journal)
			except (sqlite3.Error, ValueError) as exc:
				journal.close()
				raise UsageError(
					Text("{path}: not a usable journal ({reason})", path=args.journal, reason=reason(exc))
				)
	try:
		result = planner(
			args.as_of,
			register.customers,
			register.invoices,
			history,
			scenarios,
			rates,
			settings,
			outcomes=outcomes,
			credits=register.credits,
		)
	except BaseException:
		if journal is not None:
			journal.close()
		raise
	return register, result, journal


def print_table(result, language: str, out=None, names: dict | None = None) -> None:
	out = sys.stdout if out is None else out  # at call time: sys.stdout may have been redirected
	names = names or {}  # customer id -> name, for the invoices without action

	def tr(template: str, **values) -> str:
		return say(Text(template, **values), language)

	def money(amount, currency) -> str:
		return format_amount(amount, currency, language)

	# The words said on every line, translated once (a plan of 200,000 invoices has as many lines)
	days_late = gettext("{n} d", language)
	also_past_due, credit_deducted = gettext("also past due", language), gettext("credit deducted", language)
	lines = [
		tr(
			"Plan for {day}: {a} action(s), {s} invoice(s) without action",
			day=result.as_of.isoformat(),
			a=len(result.actions),
			s=len(result.skipped),
		)
	]
	add = lines.append
	for action in result.actions:
		currency = action.currency
		add(
			f"\n{action.customer_name} — {action.step_label}"
			f" [{channel_label(action.channel, language)}, {tone_label(action.tone, language)}]"
			f" — {money(action.total, currency)}"
		)
		for line in action.lines:
			extra = ""
			if line.interest:
				extra += "  " + tr("interest {amount}", amount=money(line.interest, currency))
			if line.indemnity:
				extra += "  " + tr("indemnity {amount}", amount=money(line.indemnity, currency))
			late = days_late.format(n=line.days_late)
			add(
				f"  {line.invoice:<16} {line.due.isoformat()}  {late:>6}  {money(line.outstanding, currency):>14}{extra}"
			)
			for note in line.notes:
				add(f"    · {describe(note, language=language)}")
		if action.fee:
			add("  " + tr("fee {amount}", amount=money(action.fee, currency)))
		for line in action.also_due:
			late = days_late.format(n=line.days_late)
			add(
				f"  {line.invoice:<16} {line.due.isoformat()}  {late:>6}  "
				f"{money(line.outstanding, currency):>14}  ({also_past_due})"
			)
		for credit in action.credits:
			add(
				f"  {credit.reference or '—':<16} {credit.day.isoformat() if credit.day else '':<10}  {'':>6}  "
				f"{money(-credit.amount, currency):>14}  ({credit_deducted})"
			)
		if action.also_due or action.credits:
			add("  " + tr("net due {amount}", amount=money(action.net_total, currency)))
		for note in action.notes:
			add(f"  · {describe(note, language=language)}")
		for task in action.tasks:
			add("  " + tr("TO DO: {task}", task=task_text(task, language)))
	tasks = [(action, task) for action in result.actions for task in action.tasks]
	if tasks:
		add("\n" + tr("To do before sending ({n}):", n=len(tasks)))
		for action, task in tasks:
			add(
				"  "
				+ tr(
					"{customer} ({step}): {task}",
					customer=action.customer_name,
					step=action.step,
					task=task_text(task, language),
				)
			)
	if result.skipped:
		add("\n" + tr("No action:"))
		for skip in result.skipped:
			add(
				f"  {skip.invoice:<16} {names.get(skip.customer, skip.customer)[:28]:<28}"
				f" {describe(skip.reason, skip.detail, language)}"
			)
	for error in result.errors:
		add("\n" + tr("ERROR: {error}", error=error))
	# One write: print() line by line took seconds on a large plan
	out.write("\n".join(lines) + "\n")


def letter_stem(number: int, action) -> str:
	"""The name of a letter's files: 001_client_step. The customer's name, not its id (a Dolibarr id is
	a bare number): the stem also names the file attached to the email."""
	return f"{number:03d}_{_slug(action.customer_name or action.customer)}_{action.step}"


def render_letters(result, register, sender, first: int = 1, bar=None) -> list[tuple[str, object]]:
	"""Every letter of the plan, rendered in memory (file stem, letter). `relance run` writes them as
	they come instead (write_day_letters)."""
	from relance_erpnext.dunning.letters import render_action

	invoices = {inv.id: inv for inv in register.invoices}
	letters = []
	for number, action in enumerate(result.actions, start=first):
		customer = register.customers[action.customer]
		letter = render_action(action, sender, customer, result.as_of, invoices=invoices)
		letters.append((letter_stem(number, action), letter))
		if bar is not None:
			bar.step()
	return letters


def write_letters(letters, out_dir: Path) -> list[Path]:
	"""Each letter as .html and .txt; a file already there is never overwritten (FileExistsError)."""
	written = []
	for stem, letter in letters:
		_write_letter(out_dir, stem, letter)
		written.append(out_dir / f"{stem}.html")
	return written


def _write_letter(folder: Path, stem: str, letter, text: bool = True) -> None:
	"""The letter's .html and, unless `text` is false (an email of `relance run`, whose text goes to
	the day's emails.txt), its .txt: the subject, a blank line, the text."""
	_new_file(folder / f"{stem}.html", letter.html)
	if text:
		_new_file(folder / f"{stem}.txt", letter_text(letter))


# O_BINARY where there is one (Windows): the line ends are those of text mode, made here
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def _new_file(path: Path, text: str) -> None:
	"""A new file holding `text` (UTF-8, the platform's line ends, as open(path, "x") writes it),
	never over an existing one (FileExistsError). Without a text stream: a letter's file costs no
	stat, seek nor terminal check (a run writes 20,000 of them)."""
	if os.linesep != "\n":
		text = text.replace("\n", os.linesep)
	data = text.encode("utf-8")
	descriptor = os.open(path, _NEW_FILE, 0o666)
	try:
		view = memoryview(data)
		while view:
			view = view[os.write(descriptor, view) :]
	finally:
		os.close(descriptor)


def letter_text(letter) -> str:
	"""What a letter's .txt holds: its subject, a blank line, its text."""
	return f"{letter.subject}\n\n{letter.text}"


# The emails' text versions of a run, in one file of the day folder (emails.txt, emails-2.txt…): each
# one under a line naming its letter's files, and a blank line after it
EMAILS_FILE = "emails.txt"


def email_entry(stem: str, letter) -> str:
	"""One email in emails.txt: `=== 001_client_step ===`, then what its .txt would hold, then a blank
	line."""
	return f"=== {stem} ===\n{letter_text(letter)}\n"


_EMAIL_HEAD = re.compile(r"^=== ([0-9]{3,}_[^\s/]+) ===$", re.MULTILINE)


def email_texts(text: str) -> dict[str, str]:
	"""The emails of an emails.txt: {stem: what its .txt would hold (subject, blank line, text)}."""
	heads = list(_EMAIL_HEAD.finditer(text))
	found = {}
	for number, head in enumerate(heads):
		end = heads[number + 1].start() if number + 1 < len(heads) else len(text)
		found[head.group(1)] = text[head.end() + 1 : end].removesuffix("\n")
	return found


class DayLetters:
	"""What write_day_letters wrote: one stem per action of the plan (in its order), the print file
	(a_imprimer.html, when there are postal letters), and the letters kept in memory."""

	def __init__(self):
		self.stems: list[str] = []
		self.kept: dict[int, object] = {}  # action's index -> its letter (emails to send, letters to attach)
		self.print_file: Path | None = None
		self.postal = 0
		self.emails_file: Path | None = None  # emails.txt: the emails' text versions (their .txt)
		self.emails = 0
		# The postal letters' pages for a_imprimer.pdf, up to PDF_MAX_LETTERS (None beyond)
		self.pages: list[str] | None = []

	def letters(self) -> list[tuple[str, object]]:
		"""(stem, letter) per action, the letter None when it was not kept."""
		return [(stem, self.kept.get(index)) for index, stem in enumerate(self.stems)]


# The letters are rendered by several processes when a run has at least this many, on Linux (fork)
# with more than one processor: rendering is what costs (Jinja, about half a millisecond a letter).
# RELANCE_PROCESSES=1 in the environment keeps them in one process.
PARALLEL_MIN_LETTERS = 400
MAX_PROCESSES = 4
SPAN = 64  # letters rendered by a process at a time (and the progress bar's step)


class _Job:
	"""What the processes rendering the letters share (inherited through fork, never pickled)."""

	def __init__(
		self, result, register, sender, work: Path, stems: list[str], keep: list[bool], texts: list[bool]
	):
		self.actions = result.actions
		self.as_of = result.as_of
		self.customers = register.customers
		self.invoices = {inv.id: inv for inv in register.invoices}
		self.sender = sender
		self.work = work
		self.stems = stems
		self.keep = keep
		self.texts = texts  # the letters written with their own .txt (the others are emails)


_JOB: _Job | None = None


class _Span:
	"""What rendering the letters start:stop gave: the letters kept, and their postal letters (written
	to a part of the print file, `part`; the first one's head; their pages while few)."""

	def __init__(self, start: int, stop: int):
		self.start, self.stop = start, stop
		self.kept: dict[int, object] = {}
		self.postal = 0
		self.head = ""
		self.pages: list[str] = []
		self.part: Path | None = None
		# Their emails' entries of emails.txt, sent back (a file of their own, deleted at the end,
		# would slow down the files made just after it on a file system that checks every free inode
		# for a recent deletion)
		self.emails: list[str] = []


def _render_span(bounds: tuple[int, int]) -> _Span:
	"""Render and write the letters start:stop of the job (in this process or a worker)."""
	from relance_erpnext.dunning.letters import render_action
	from relance_erpnext.dunning.models import POSTAL_CHANNELS

	job = _JOB
	span = _Span(*bounds)
	part = None
	try:
		for index in range(span.start, span.stop):
			action = job.actions[index]
			customer = job.customers[action.customer]
			letter = render_action(action, job.sender, customer, job.as_of, invoices=job.invoices)
			text = job.texts[index]
			_write_letter(job.work, job.stems[index], letter, text)
			if not text:
				span.emails.append(email_entry(job.stems[index], letter))
			if action.channel in POSTAL_CHANNELS:
				if part is None:
					span.part = job.work / f".print-{span.start:09d}"
					part = span.part.open("x", encoding="utf-8", newline="")
					span.head = page_head(letter.html)
				else:
					part.write(PAGE_BREAK)
				part.write(page_body(letter.html))
				span.postal += 1
				if len(span.pages) <= PDF_MAX_LETTERS:
					span.pages.append(letter.html)
			if job.keep[index]:
				span.kept[index] = letter
	finally:
		if part is not None:
			part.close()
	return span


def _render_span_in_worker(bounds: tuple[int, int]) -> _Span:
	# An error goes back to the parent as it is, when it can be pickled
	try:
		return _render_span(bounds)
	except Exception as exc:
		try:
			pickle.loads(pickle.dumps(exc))
		except Exception:
			raise RuntimeError(f"{type(exc).__name__}: {exc}") from None
		raise


def letter_processes(count: int) -> int:
	"""How many processes render `count` letters."""
	wanted = os.environ.get("RELANCE_PROCESSES", "").strip()
	if count < PARALLEL_MIN_LETTERS or sys.platform != "linux" or wanted in ("0", "1"):
		return 1  # fork is missing (Windows) or unsafe (macOS) elsewhere
	try:
		cpus = len(os.sched_getaffinity(0))
	except (AttributeError, OSError):
		cpus = os.cpu_count() or 1
	limit = int(wanted) if wanted.isdigit() else MAX_PROCESSES
	return max(1, min(cpus, limit, count // SPAN))


def _start_pool(processes: int, actions):
	"""The processes that render the letters (forked: they share the register and the plan), or None
	where they cannot start (no /dev/shm for their locks in some containers): one process then."""
	import multiprocessing
	import warnings

	from relance_erpnext.dunning.letters import prepare

	prepare((action.template, action.language) for action in actions)
	with warnings.catch_warnings():
		# Python 3.12+ warns when forking beside a thread: the progress bar's, which the workers never use
		warnings.filterwarnings("ignore", message=".*multi-threaded.*fork", category=DeprecationWarning)
		try:
			return multiprocessing.get_context("fork").Pool(processes)
		except (OSError, ValueError):
			return None


def write_day_letters(
	result, register, sender, day: DayFolder, keep=None, bar=None, meanwhile=None
) -> DayLetters:
	"""Each letter of the plan rendered and written at once (.html and .txt), never all of them held in
	memory; every postal letter added to a_imprimer.html, in the plan's order. An email has no .txt of
	its own: its text version (the same subject and text) goes to the run's emails.txt, in the plan's
	order (a file a letter costs as much as rendering it). A large run renders its letters in several
	processes (letter_processes), each writing its own.

	Nothing is written when one fails: the letters are written into a folder of this run inside the
	day folder (.relance-run-N), then moved into the day folder once every one is written (never over
	an existing file: FileExistsError, and those already moved are taken back); a failure removes that
	folder and raises. `keep(action)`: the letters also kept in memory (the emails to send, the
	letters to attach in Dolibarr).

	`meanwhile(work)`, called once the letters are being made (by other processes, when there are),
	writes the run's other files into the run's folder and returns {name: target}: each file `name` of
	the run's folder moved to `target` with the letters, never over an existing file, except the
	run's plan file (claimed empty, see DayFolder.claim), replaced last."""
	global _JOB

	done = DayLetters()
	actions = result.actions
	done.stems = [letter_stem(day.first_letter + index, action) for index, action in enumerate(actions)]
	flags = [bool(keep is not None and keep(action)) for action in actions]
	texts = [action.channel != EMAIL for action in actions]
	work = day.work_folder()
	printing = PrintFile(work / PRINT_FILE)
	emails = None  # emails.txt, opened at the first email
	spans = [(start, min(start + SPAN, len(actions))) for start in range(0, len(actions), SPAN)]
	processes = letter_processes(len(actions))
	pool = None
	# What exists now (the register, the plan) is left out of the garbage collector's rounds while the
	# letters are made: nothing of it becomes garbage meanwhile, and forked processes then do not
	# copy its pages by touching them
	gc.freeze()
	try:
		_JOB = _Job(result, register, sender, work, done.stems, flags, texts)
		if processes > 1:
			pool = _start_pool(processes, actions)
		if pool is not None:
			rendered = pool.imap(_render_span_in_worker, spans)
		else:
			rendered = map(_render_span, spans)
		reports = meanwhile(work) if meanwhile is not None else {}
		for span in rendered:
			done.kept.update(span.kept)
			if span.postal:
				printing.add_part(span.head, span.part, span.postal)
				if done.pages is not None:
					done.pages.extend(span.pages)
					if len(done.pages) > PDF_MAX_LETTERS:
						done.pages = None
			if span.emails:
				if emails is None:
					emails = (work / EMAILS_FILE).open("x", encoding="utf-8")
				emails.write("".join(span.emails))
				done.emails += len(span.emails)
			if bar is not None:
				bar.step(span.stop - span.start)
		if pool is not None:
			pool.close()
			pool.join()
			pool = None
		printing.close()
		if emails is not None:
			emails.close()
		done.postal = printing.count
		done.print_file, done.emails_file = day.publish(
			work,
			done.stems,
			printing.path if printing.count else None,
			texts=texts,
			emails_file=work / EMAILS_FILE if done.emails else None,
			reports={work / name: target for name, target in reports.items()},
		)
	except BaseException:
		printing.discard()
		if emails is not None:
			emails.close()
		raise
	finally:
		_JOB = None
		if pool is not None:
			pool.terminate()
			pool.join()
		gc.unfreeze()
		day.drop(work)
	return done


class DayFolder:
	"""The output of a day: OUT/YYYY-MM-DD/. The first run of the day writes plan.json, summary.txt,
	a_imprimer.html/.pdf, emails.txt and its letters 001_…; a later run of the same day never deletes
	nor rewrites them: it adds plan-2.json, summary-2.txt, a_imprimer-2.*, emails-2.txt and letters
	numbered on (or nothing when it has nothing new). The run's number is claimed by creating its plan file, so two runs at once
	never take the same one. A run writes its letters into a folder of its own first (.relance-run-N,
	locked while it works), moved into the day folder at the end; one left by a run that died is
	removed by the next run of the day."""

	WORK_PREFIX = ".relance-run-"

	def __init__(self, out: Path, day: date):
		self.path = out / day.isoformat()
		self.run = 0
		self.first_letter = 1
		self._lock = None

	def earlier_runs(self) -> bool:
		return (self.path / "plan.json").exists()

	def claim(self) -> None:
		self.path.mkdir(parents=True, exist_ok=True)
		number = 1
		while True:
			try:
				with self.file("plan", ".json", number).open("x", encoding="utf-8"):
					pass
			except FileExistsError:
				number += 1
				continue
			break
		self.run = number
		numbers = [int(p.name[:3]) for p in self.path.glob("[0-9][0-9][0-9]_*.html") if p.name[:3].isdigit()]
		self.first_letter = max(numbers, default=0) + 1
		self._remove_dead_work()

	def release(self) -> None:
		"""After a run that wrote nothing (a letter failed): its number given back (its empty plan
		file removed), and the day's folder when nothing else is in it."""
		plan_file = self.file("plan", ".json")
		with contextlib.suppress(OSError):
			if plan_file.stat().st_size == 0:
				plan_file.unlink()
		with contextlib.suppress(OSError):
			self.path.rmdir()  # only when empty

	def file(self, stem: str, suffix: str, run: int | None = None) -> Path:
		run = self.run if run is None else run
		return self.path / (f"{stem}{suffix}" if run <= 1 else f"{stem}-{run}{suffix}")

	def work_folder(self) -> Path:
		"""This run's folder for its letters being written, locked (fcntl, where there is one) until
		drop(): a later run of the day removes only a folder whose lock is free."""
		lock = self.path / f"{self.WORK_PREFIX}{self.run}.lock"
		self._lock = lock.open("a")
		if fcntl is not None:
			fcntl.flock(self._lock, fcntl.LOCK_EX)
		work = self.path / f"{self.WORK_PREFIX}{self.run}"
		work.mkdir()
		return work

	def publish(
		self,
		work: Path,
		stems: list[str],
		print_file: Path | None,
		texts: list[bool] | None = None,
		emails_file: Path | None = None,
		reports: dict[Path, Path] | None = None,
	) -> tuple[Path | None, Path | None]:
		"""The letters moved from the run's folder into the day folder (each .html, and its .txt where
		`texts` says so: every one when None), then the print file and emails.txt; (print file, emails
		file) returned, at their place. None over an existing file (FileExistsError: those moved are
		taken back). `reports`: other files of the run {source: target}, moved last; the run's plan file
		(created empty by claim) is replaced, after every other one."""
		placed: list[Path] = []
		plan_file = self.file("plan", ".json")
		printed = emailed = None
		try:
			for index, stem in enumerate(stems):
				placed.append(_place(work / f"{stem}.html", self.path / f"{stem}.html"))
				if texts is None or texts[index]:
					placed.append(_place(work / f"{stem}.txt", self.path / f"{stem}.txt"))
			if print_file is not None:
				printed = _place(print_file, self.file(Path(PRINT_FILE).stem, ".html"))
				placed.append(printed)
			if emails_file is not None:
				emailed = _place(emails_file, self.file(Path(EMAILS_FILE).stem, ".txt"))
				placed.append(emailed)
			plan_source = None
			for source, target in (reports or {}).items():
				if target == plan_file:
					plan_source = source
				else:
					placed.append(_place(source, target))
			if plan_source is not None:
				os.replace(plan_source, plan_file)
		except BaseException:
			for path in placed:
				with contextlib.suppress(OSError):
					path.unlink()
			raise
		return printed, emailed

	def drop(self, work: Path) -> None:
		"""This run's folder removed (whatever is left in it), and its lock."""
		shutil.rmtree(work, ignore_errors=True)
		if self._lock is not None:
			with contextlib.suppress(OSError):
				(self.path / f"{self.WORK_PREFIX}{self.run}.lock").unlink()
			self._lock.close()
			self._lock = None

	def _remove_dead_work(self) -> None:
		# A run killed while writing its letters (the power went off, kill -9) leaves its folder: taken
		# away when its lock is free (a run at work holds its lock). Without fcntl, left alone.
		if fcntl is None:
			return
		for lock in self.path.glob(f"{self.WORK_PREFIX}*.lock"):
			try:
				handle = lock.open("a")
			except OSError:
				continue
			with handle:
				try:
					fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
				except OSError:
					continue  # a run at work
				shutil.rmtree(lock.with_suffix(""), ignore_errors=True)
				with contextlib.suppress(OSError):
					lock.unlink()


def _place(source: Path, target: Path) -> Path:
	"""source moved to target, never over an existing file (FileExistsError)."""
	try:
		os.link(source, target)
	except FileExistsError:
		raise
	except OSError:
		# A file system without hard links (FAT, some shares): looked for, then renamed
		if os.path.lexists(target):
			raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(target)) from None
		os.rename(source, target)
		return target
	os.unlink(source)
	return target


def _slug(text: str) -> str:
	keep = "".join(ch if ch.isalnum() else "-" for ch in text.lower())
	return "-".join(part for part in keep.split("-") if part)[:40] or "client"


def merge_letters(pages: list[str]) -> str:
	"""One HTML file holding every letter, each starting on a new page (to print them all at once)."""
	return merge_pages(pages)


def postal_letters(letters, actions) -> list[tuple[object, object]]:
	"""(letter, action) of every letter and registered letter of the plan, in its order."""
	from relance_erpnext.dunning.models import POSTAL_CHANNELS

	return [
		(letter, action)
		for (_, letter), action in zip(letters, actions, strict=True)
		if action.channel in POSTAL_CHANNELS
	]


class SendReport:
	def __init__(self):
		self.sent = self.failed = self.unknown = self.not_ours = 0
		self.recorded = self.already = 0
		self.invoice_pdfs = 0  # invoice PDFs attached to the emails sent (--source dolibarr)
		self.lines: list[str] = []  # one line per email that did not go out cleanly


class _NotMarked(Exception):
	"""The journal failed while moving an email's entries to a new status: `invoices` were not moved."""

	def __init__(self, error: Exception, invoices: list[str]):
		super().__init__(str(error))
		self.error = error
		self.invoices = invoices


def send_emails(
	items, journal, mailer, customers, day: date, fr: bool, invoice_files: dict | None = None
) -> SendReport:
	"""Send the email actions, one journal entry per invoice line (see the README). `invoice_files`
	({invoice: Attachment}, read beforehand): each email also carries its invoices' PDFs, each once.

	planned (recorded here, before anything is sent) → unknown (just before DATA) → sent (the server
	accepted the message) or failed (refused, or the server is unusable: the next run retries).
	A crash after DATA leaves "unknown": that step is never sent again without a person deciding.
	A journal that fails (Dolibarr unreachable...) stops the sending: nothing more goes out that could
	not be recorded, and every email concerned is in the report, with its invoices.
	"""
	from dataclasses import replace

	from relance_erpnext.connectors.mailer import MailError
	from relance_erpnext.dunning.models import CANCELLED, FAILED, SENT, UNKNOWN

	journal_errors = (UsageError, JournalUnusable, sqlite3.Error)
	report = SendReport()
	fatal = None
	broken = None  # the journal's error: the emails after it are not tried (nor recorded)
	# The journal keeps the English text (str); the person running the command reads its language
	lang = "fr" if fr else "en"

	def problem(exc: Exception):
		"""The journal's error as a value of a message (its Text, said in `lang`)."""
		if isinstance(exc, UsageError | JournalUnusable) and exc.args:
			return exc.args[0]
		return reason(exc)

	for stem, letter, action in items:
		who = f"{action.customer_name} ({action.step})"

		def report_line(template: str, who=who, **values) -> None:
			report.lines.append(say(Text(template, who=who, **values), lang))

		if broken is not None:
			report.failed += 1
			report_line(
				"{who}: not tried, nothing recorded (the journal fails): planned again by the next run"
			)
			continue
		mine = []

		def mark(status: str, detail: str, lines=mine) -> None:
			for index, line in enumerate(lines):
				try:
					journal.set_status(line.invoice, line.step, status, detail)
				except journal_errors as exc:
					left = list(dict.fromkeys(other.invoice for other in lines[index:]))
					raise _NotMarked(exc, left) from None

		try:
			for line in action.lines:
				if journal.record_actions([replace(action, lines=(line,))], day, status="planned").recorded:
					mine.append(line)
				else:
					report.already += 1
		except journal_errors as exc:
			broken = exc
			report.failed += 1
			# The lines recorded before the failure must not stand for an email never sent
			try:
				mark(CANCELLED, "not sent: its other steps could not be recorded")
			except _NotMarked as stuck:
				report_line(
					"{who}: not sent, its steps could not be recorded ({error}); {invoices}: step recorded"
					" as to do though not sent, delete it",
					error=problem(exc),
					invoices=", ".join(stuck.invoices),
				)
			else:
				report_line("{who}: not sent, its steps could not be recorded ({error})", error=problem(exc))
			continue
		report.recorded += len(mine)

		if len(mine) != len(action.lines):
			# Another run recorded (some of) these steps meanwhile: it sends them, not this one
			try:
				mark(CANCELLED, "recorded by another run at the same time; not sent by this one")
			except _NotMarked as stuck:
				broken = stuck.error
			report.not_ours += 1
			continue
		invoices_of = ", ".join(dict.fromkeys(line.invoice for line in mine))
		try:
			if fatal is not None:
				report.failed += 1
				report_line("{who}: not tried ({error})", error=fatal.describe(lang))
				mark(FAILED, f"not tried: {fatal}")
				continue
			# An invoice listed on several lines of the action (instalments) is attached once
			invoices = dict.fromkeys(line.invoice for line in action.lines)
			attachments = [invoice_files[ref] for ref in invoices if ref in (invoice_files or {})]
			try:
				receipt = mailer.send(
					letter,
					customers[action.customer].email,
					attachments,
					stem=stem,
					before_data=lambda: mark(UNKNOWN, "being sent: if this stays, check whether it went out"),
				)
			except _NotMarked as stuck:
				# Before DATA: the message did not go out
				broken = stuck.error
				report.failed += 1
				report_line(
					"{who}: not sent, its status could not be recorded before sending ({error}); invoices"
					" {invoices}: check their step in the journal (this email did not go out)",
					error=problem(stuck.error),
					invoices=invoices_of,
				)
				continue
			except MailError as exc:
				if exc.maybe_sent:
					report.unknown += 1
					report_line("{who}: may have gone out: {error}", error=exc.describe(lang))
					mark(UNKNOWN, str(exc))
				else:
					report.failed += 1
					report_line("{who}: failed: {error}", error=exc.describe(lang))
					mark(FAILED, str(exc))
				if exc.fatal:
					fatal = exc
				continue
			report.sent += 1
			report.invoice_pdfs += len(attachments)
			try:
				mark(SENT, receipt.describe())
			except _NotMarked as stuck:
				# It went out, and the journal does not say so: its entries stay "unknown" (never sent
				# again by themselves), which the next run says
				report.sent -= 1
				report.unknown += 1
				report_line(
					"{who}: sent ({receipt}), but its status could not be recorded ({error}): invoices"
					' {invoices} stay "unknown" (may have gone out); mark them sent',
					receipt=receipt.describe(lang),
					error=problem(stuck.error),
					invoices=", ".join(stuck.invoices),
				)
				broken = stuck.error
		except _NotMarked as stuck:
			# A failed or uncertain email whose status could not be recorded
			broken = stuck.error
			report_line(
				"{who}: status not recorded ({error}): invoices {invoices} to check in the journal",
				error=problem(stuck.error),
				invoices=", ".join(stuck.invoices),
			)
	return report


def read_invoice_pdfs(journal, emails, customers, fr: bool) -> tuple[dict, int]:
	"""The PDFs Dolibarr has (or builds) for the invoices of the day's emails, all read before the first
	email, and how many it built; one warning per invoice without one (its email goes all the same)."""
	files, failures, built = journal.invoice_pdfs([action for _, _, action in emails], customers)
	for invoice, error in failures:
		warn(
			Text(
				"invoice {invoice}: its PDF could be neither read nor built in Dolibarr; the email goes"
				" without it: {error}",
				invoice=invoice,
				error=error,
			),
			"fr" if fr else "en",
		)
	return files, built


def run(args, config) -> int:
	"""plan → write the day's letters → record → send → report (`relance run`, `relance demo`)."""
	dolibarr = getattr(args, "source", "register") == "dolibarr"
	if not args.journal and not dolibarr:
		raise UsageError(Text("run: --journal FILE is required (it remembers what was done)"))
	if args.send and not config.get("smtp"):
		raise UsageError(
			Text("run: --send needs an [smtp] table in --config (the mail server); see the README")
		)
	sender = sender_from(config)  # before anything is read or written: a bad [company] stops here
	smtp = smtp_from(config, sender) if args.send else None  # and so does a bad [smtp]
	out = Path(args.out)
	lang = args.lang
	fr = lang.startswith("fr")

	def tr(template: str, **values) -> str:
		return say(Text(template, **values), lang)

	report = None
	attachment_kind = ""
	pdf = PdfRenderer(fr, send=args.send, dolibarr=dolibarr)
	attached, attach_failures = 0, []  # letters added to the invoices' documents (--source dolibarr)
	invoice_files, pdfs_built = None, 0  # the invoices' PDFs for the emails (--source dolibarr)
	register, result, journal = make_plan(args, config, create_journal=True)
	day = DayFolder(out, result.as_of)
	written = 0
	letters = []  # (stem, letter) per action; the letter kept only for the emails to send and the
	# letters to attach in Dolibarr
	print_files = []  # a_imprimer.html (and .pdf) of this run
	summary = None  # the plan's table, written to summary.txt and printed
	try:
		try:
			nothing_new = not result.actions and day.earlier_runs()
			if not nothing_new:
				from relance_erpnext.dunning.models import EMAIL, POSTAL_CHANNELS

				day.claim()

				def keep(action) -> bool:
					if args.send and action.channel == EMAIL:
						return True
					return dolibarr and action.channel in POSTAL_CHANNELS

				summary = io.StringIO()

				def reports(work: Path) -> dict[str, Path]:
					# While the letters are being made: the plan's table (summary.txt, and printed
					# below) and plan.json, written as it is encoded, one action or skipped invoice a
					# line (the whole text of a large plan is never held: 250 MB for 200,000 invoices);
					# both moved into the day folder with the letters
					print_table(result, args.lang, out=summary, names=customer_names(register))
					with (work / "summary.txt").open("x", encoding="utf-8") as handle:
						handle.write(summary.getvalue())
					with (work / "plan.json").open("x", encoding="utf-8") as handle:
						write_plan_json(result, register, handle)
					return {
						"summary.txt": day.file("summary", ".txt"),
						"plan.json": day.file("plan", ".json"),
					}

				try:
					with Progress(
						"Writing the letters",
						len(result.actions),
						quiet=getattr(args, "quiet", False),
						lang=args.lang,
					) as bar:
						day_letters = write_day_letters(
							result, register, sender, day, keep=keep, bar=bar, meanwhile=reports
						)
				except BaseException:
					day.release()
					raise
				written = len(day_letters.stems)
				letters = day_letters.letters()
				# Every postal letter of this run in one file to print, with or without --send: the HTML
				# written as they came, the PDF made here up to PDF_MAX_LETTERS letters
				if day_letters.print_file is not None:
					print_files.append(day_letters.print_file)
					if day_letters.pages is None:
						if pdf.get() is not None:
							pdf.too_many(day_letters.postal, day_letters.print_file)
					else:
						printable = pdf.render_pages(day_letters.pages)
						if printable is not None:
							print_pdf = day.file(Path(PRINT_PDF).stem, ".pdf")
							with print_pdf.open("xb") as handle:
								handle.write(printable)
							print_files.insert(0, print_pdf)
		except FileExistsError as exc:
			raise UsageError(
				Text("{path}: already written by an earlier run; nothing is overwritten", path=exc.filename)
			)
		except OSError as exc:
			raise UsageError(
				Text("{path}: cannot write the letters ({reason})", path=args.out, reason=reason(exc))
			)

		def attach_letters() -> None:
			# Right after the events: a letter that cannot be attached never costs its step's event,
			# and a failure of the emails below never costs the letters (nor their warnings)
			nonlocal attached, attach_failures
			if not dolibarr:
				return
			attached, attach_failures = journal.attach_letters(
				postal_letters(letters, result.actions), result.as_of, pdf
			)
			for invoice, error in attach_failures:
				warn(
					Text(
						"invoice {invoice}: letter not attached to its documents in Dolibarr, attach it by hand"
						" (the agenda event is recorded): {error}",
						invoice=invoice,
						error=error,
					),
					lang,
				)

		retried = None
		if dolibarr:
			# Letters an earlier run recorded and did not attach (stopped, or Dolibarr refused)
			retried = journal.retry_letters(register, sender, pdf, fr)
		# Recorded only once the letters are on disk: a failure above leaves the journal as it was
		try:
			if not args.send:
				recorded = journal.record_actions(result.actions, result.as_of, status="planned")
				attach_letters()
			else:
				from relance_erpnext.connectors.journal import RecordResult
				from relance_erpnext.connectors.mailer import Mailer
				from relance_erpnext.dunning.models import EMAIL

				# Letters, registered letters, calls and escalations stay "planned" (done by a person)
				others = [action for action in result.actions if action.channel != EMAIL]
				kept = journal.record_actions(others, result.as_of, status="planned")
				attach_letters()
				emails = [
					(stem, letter, action)
					for (stem, letter), action in zip(letters, result.actions, strict=True)
					if action.channel == EMAIL
				]
				if dolibarr and emails:
					invoice_files, pdfs_built = read_invoice_pdfs(journal, emails, register.customers, fr)
				with Mailer(smtp) as mailer:
					attachment_kind = mailer.attachment_kind
					report = send_emails(
						emails, journal, mailer, register.customers, result.as_of, fr, invoice_files
					)
				recorded = RecordResult(kept.recorded + report.recorded, kept.already + report.already)
		except sqlite3.Error as exc:
			raise UsageError(
				Text(
					"{path}: the steps could not be recorded ({reason})",
					path=args.journal,
					reason=reason(exc),
				)
			)
	finally:
		journal.close()
	if summary is not None:
		sys.stdout.write(summary.getvalue())  # the same table, made once
	else:
		print_table(result, args.lang, names=customer_names(register))
	if nothing_new:
		print(
			"\n"
			+ tr(
				"Nothing new for {day}: the files of the earlier run(s) stay in {out}",
				day=result.as_of.isoformat(),
				out=day.path,
			)
		)
	print(
		"\n"
		+ tr(
			"{n} letter(s) written to {out}; journal: {r} step(s) recorded, {a} already there",
			n=written,
			out=day.path,
			r=recorded.recorded,
			a=recorded.already,
		)
	)
	if print_files:
		print(tr("Letters to print: {path}", path=print_files[0]))
	if attached or attach_failures:
		print(
			tr(
				"Dolibarr: {n} letter(s) attached to the invoices' documents, {f} failed",
				n=attached,
				f=len(attach_failures),
			)
		)
	if retried is not None and (retried.found or retried.attached or retried.failures):
		print(
			tr(
				"Dolibarr: letters of an earlier run with no copy known: {a} rebuilt and attached,"
				" {k} attached already, {f} still missing",
				a=retried.attached,
				k=retried.found,
				f=len(retried.failures),
			)
		)
	provisional = warn_provisional(result, args)
	if report is None:
		return provisional
	values = dict(
		server=smtp, s=report.sent, f=report.failed, u=report.unknown, kind=attachment_kind or "HTML"
	)
	lines = [
		tr(
			"Sending ({server}): {s} email(s) sent, {f} failed (retried on the next run), {u} uncertain"
			" (never sent again without you); letter attached as {kind}; {pdfs} invoice PDF(s) attached"
			" ({built} built by Dolibarr)",
			pdfs=report.invoice_pdfs,
			built=pdfs_built,
			**values,
		)
		if dolibarr
		else tr(
			"Sending ({server}): {s} email(s) sent, {f} failed (retried on the next run), {u} uncertain"
			" (never sent again without you); letter attached as {kind}",
			**values,
		),
		*(f"  {line}" for line in report.lines),
	]
	if report.not_ours:
		lines.append(
			"  " + tr("{n} email(s) left to another run working at the same time", n=report.not_ours)
		)
	if print_files:
		lines.append("  " + tr("Letters to print: {path}", path=print_files[0]))
	text = "\n".join(lines)
	print("\n" + text)
	if day.run:
		try:
			with day.file("summary", ".txt").open("a", encoding="utf-8") as handle:
				handle.write("\n" + text + "\n")
		except OSError as exc:
			warn(Text("{path}: {reason}", path=day.file("summary", ".txt"), reason=reason(exc)), lang)
	for line in report.lines:
		complain(line.strip(), lang)
	return EXIT_NOT_SENT if report.failed or report.unknown else provisional


def apply_journal_payments(invoices, journal) -> list:
	"""The register's invoices with the payments `relance match --apply` recorded in the journal."""
	from relance_erpnext.dunning.matching import with_bank_payments

	invoices, warnings = with_bank_payments(invoices, journal.bank_payments())
	for warning in warnings:
		warn(overpayment_text(warning))
	return invoices


def overpayment_text(warning) -> Text:
	"""A bank payment larger than what was still owed (dunning.matching.Overpayment), as a Text."""
	return Text(
		"{invoice}: the payment of {amount} from bank line {line} is more than the {owed} still owed;"
		" counted as {counted}",
		invoice=warning.invoice,
		amount=warning.amount,
		line=warning.line_id,
		owed=warning.owed,
		counted=warning.counted,
	)
