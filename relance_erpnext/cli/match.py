"""`relance match`: the weekly payment check of a bank statement against the open invoices.

Without --apply nothing is changed: every credit line is reported matched (which invoices, how much
each), ambiguous (the candidates, for a person to decide) or unmatched (why). With --apply the
matched payments are recorded, never twice for the same bank line: in the journal for a register
(the planner then counts them as paid), as payments in Dolibarr for --source dolibarr.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

from relance_erpnext.dunning import format_amount
from relance_erpnext.dunning.matching import (
	ALREADY,
	AMBIGUOUS,
	MATCHED,
	UNMATCHED,
	MatchResult,
	describe_match,
	match_payments,
	open_invoices,
	with_bank_payments,
)
from relance_erpnext.dunning.money import round_money
from relance_erpnext.i18n import Text, reason, say

MATCH_FORMAT = 1  # version of the JSON output


def add_match_parser(commands, common) -> None:
	from relance_erpnext.cli.common import source_options

	sub = commands.add_parser(
		"match",
		parents=[common],
		help="check a bank statement's credits against the open invoices (--apply records the payments)",
	)
	sub.add_argument(
		"--statement", required=True, help="bank statement: CAMT.053 (.xml), OFX (.ofx) or CSV export"
	)
	source_options(sub)
	sub.add_argument(
		"--dolibarr-bank-account",
		type=int,
		help="id of the Dolibarr bank account the statement belongs to (default: the only open one)",
	)
	sub.add_argument("--journal", help="SQLite journal (with a register: where --apply records the payments)")
	sub.add_argument("--apply", action="store_true", help="record the matched payments")
	sub.add_argument("--skip-bad-rows", action="store_true", help="use the good rows when some rows are bad")
	sub.add_argument("--format", choices=("table", "json"), default="table")
	sub.set_defaults(handler=cmd_match)


def cmd_match(args, config) -> int:
	from relance_erpnext.cli.common import EXIT_OK, UsageError, warn

	if args.source == "register" and not args.register:
		raise UsageError(Text("match: --register FILE is required (or --source dolibarr)"))
	if args.source == "register" and args.apply and not args.journal:
		raise UsageError(Text("match: --apply needs --journal FILE (where the payments are recorded)"))
	if args.source == "dolibarr" and args.journal:
		raise UsageError(
			Text("match: --source dolibarr records the payments in Dolibarr: leave out --journal")
		)
	statement_path = Path(args.statement)
	if not statement_path.exists():
		raise UsageError(Text("{path}: no such file", path=statement_path))
	if args.source == "dolibarr":
		return _match_dolibarr(args, config, statement_path)

	from relance_erpnext.cli.workflow import overpayment_text, read_book

	register = read_book(Path(args.register), args.skip_bad_rows, lang=args.lang)
	journal = _open_journal(args.journal, create=args.apply)
	try:
		invoices = register.invoices
		applied: set[str] = set()
		if journal is not None:
			try:
				invoices, warnings = with_bank_payments(invoices, journal.bank_payments())
				applied = journal.applied_lines()
			except (sqlite3.Error, ValueError, ArithmeticError) as exc:
				raise UsageError(
					Text("{path}: not a usable journal ({reason})", path=args.journal, reason=reason(exc))
				)
			for warning in warnings:
				warn(overpayment_text(warning))
		names = {key: customer.name for key, customer in register.customers.items()}
		book = open_invoices(invoices, names)
		statement = _read_statement(statement_path, {inv.currency for inv in book})
		result = match_payments(statement.lines, book, applied)
		recorded = None
		if args.apply:
			try:
				recorded = journal.record_bank_payments(
					(line for line in result.lines if line.outcome == MATCHED), statement=str(statement_path)
				)
			except sqlite3.Error as exc:
				raise UsageError(
					Text(
						"{path}: the payments could not be recorded ({reason})",
						path=args.journal,
						reason=reason(exc),
					)
				)
	finally:
		if journal is not None:
			journal.close()
	_report(args, statement, result, recorded, where=args.journal)
	return EXIT_OK


def _open_journal(path: str | None, create: bool):
	from relance_erpnext.cli.common import UsageError, warn
	from relance_erpnext.connectors.journal import Journal, JournalError

	if not path:
		return None
	if not create and not Path(path).exists():
		# Without --apply nothing is changed: a journal that does not exist yet is not created
		warn(Text("{path}: no journal yet (no payment recorded so far)", path=path))
		return None
	try:
		return Journal(path)
	except JournalError as exc:
		raise UsageError(exc.args[0])


def _read_statement(path: Path, currencies: set[str]):
	from relance_erpnext.cli.common import _LANG, UsageError, complain, warn
	from relance_erpnext.connectors.bank_statement import DEFAULT_CURRENCY, read_statement

	# A CSV export rarely says its currency: the invoices' own when they all have one
	default = next(iter(currencies)) if len(currencies) == 1 else DEFAULT_CURRENCY
	statement = read_statement(path, default_currency=default)
	for warning in statement.warnings:
		warn(warning)
	if statement.errors:
		for error in statement.errors:
			complain(error.text(_LANG[0]))
		raise UsageError(
			Text("{path}: {n} error(s) in the statement; nothing matched", path=path, n=len(statement.errors))
		)
	return statement


def _match_dolibarr(args, config: dict, statement_path: Path) -> int:
	from relance_erpnext.cli.common import EXIT_OK, UsageError, warn
	from relance_erpnext.cli.workflow import dolibarr_source
	from relance_erpnext.connectors.dolibarr import DolibarrError

	source = dolibarr_source(args, config)  # as for plan and run
	try:
		try:
			invoices, names = source.load_open_invoices()
		except DolibarrError as exc:
			raise UsageError(Text("Dolibarr: {error}", error=exc.args[0]))
		try:
			account = source.bank_account(args.dolibarr_bank_account)
		except DolibarrError as exc:
			if args.apply:
				raise UsageError(Text("Dolibarr: {error}", error=exc.args[0]))
			# Without --apply the check still runs; lines already recorded are just not recognised
			warn(Text("Dolibarr: {error}; payments recorded earlier are not recognised", error=exc.args[0]))
			account = None
		for warning in source.warnings:
			warn(warning)
		book = open_invoices(invoices, names)
		statement = _read_statement(statement_path, {inv.currency for inv in book})
		try:
			applied = source.applied_bank_lines([line.id for line in statement.lines], account)
		except DolibarrError as exc:
			raise UsageError(Text("Dolibarr: {error}", error=exc.args[0]))
		result = match_payments(statement.lines, book, applied)
		recorded = None
		if args.apply:
			try:
				recorded = source.record_bank_payments(
					[line for line in result.lines if line.outcome == MATCHED], account
				)
			except DolibarrError as exc:
				raise UsageError(
					Text("Dolibarr: the payments could not all be recorded ({error})", error=exc.args[0])
				)
	finally:
		source.session.close()
	_report(args, statement, result, recorded, where=f"Dolibarr ({source.base_url})")
	return EXIT_OK


# ---------------------------------------------------------------------------------------------------
# Output


def _money(amount, currency: str) -> str:
	return str(round_money(amount, currency))


def match_to_dict(statement, result: MatchResult, recorded, language: str) -> dict:
	lines = []
	for match in result.lines:
		line = match.line
		lines.append(
			{
				"line": line.id,
				"where": line.where,
				"booked": line.booked.isoformat(),
				"amount": _money(line.amount, line.currency),
				"currency": line.currency,
				"counterparty": line.counterparty,
				"remittance": line.remittance,
				"outcome": match.outcome,
				"reason": match.reason,
				"detail": match.detail,
				"message": describe_match(match.reason, match.detail, language),
				"allocations": [
					{
						"invoice": a.invoice,
						"customer": a.customer,
						"amount": _money(a.amount, line.currency),
						"remaining": _money(a.remaining, line.currency),
					}
					for a in match.allocations
				],
				"candidates": [
					{"invoices": list(c.invoices), "total": _money(c.total, line.currency)}
					for c in match.candidates
				],
			}
		)
	return {
		"format": MATCH_FORMAT,
		"statement": str(statement.path),
		"statement_format": statement.format,
		"account": statement.account,
		"lines": lines,
		"debits": result.debits,
		"summary": {outcome: result.count(outcome) for outcome in (MATCHED, AMBIGUOUS, UNMATCHED, ALREADY)},
		"applied": None if recorded is None else {"recorded": recorded.recorded, "already": recorded.already},
	}


def _report(args, statement, result: MatchResult, recorded, where: str) -> None:
	if recorded is not None:
		from relance_erpnext.connectors.journal import RecordResult

		# The lines found recorded before matching are "already recorded" too, as the counts above say
		recorded = RecordResult(recorded.recorded, recorded.already + result.count(ALREADY))
	if args.format == "json":
		json.dump(
			match_to_dict(statement, result, recorded, args.lang), sys.stdout, ensure_ascii=False, indent=2
		)
		sys.stdout.write("\n")
		return
	print_match_table(statement, result, recorded, args.lang, where)


def print_match_table(statement, result: MatchResult, recorded, language: str, where: str, out=None) -> None:
	out = sys.stdout if out is None else out
	money = lambda amount, currency: format_amount(amount, currency, language)  # noqa: E731

	def tr(template: str, **values) -> str:
		return say(Text(template, **values), language)

	print(
		tr(
			"Payment check of {name} ({kind}): {c} credit(s); {d} debit(s) ignored",
			name=statement.path.name,
			kind=statement.format,
			c=len(result.lines),
			d=result.debits,
		),
		file=out,
	)
	print(
		"  "
		+ tr(
			"{m} matched, {a} ambiguous, {u} unmatched, {x} already recorded",
			m=result.count(MATCHED),
			a=result.count(AMBIGUOUS),
			u=result.count(UNMATCHED),
			x=result.count(ALREADY),
		),
		file=out,
	)
	titles = {
		MATCHED: Text("Matched:"),
		AMBIGUOUS: Text("Ambiguous (to decide):"),
		UNMATCHED: Text("Unmatched:"),
		ALREADY: Text("Already recorded:"),
	}
	for outcome in (MATCHED, AMBIGUOUS, UNMATCHED, ALREADY):
		group = [match for match in result.lines if match.outcome == outcome]
		if not group:
			continue
		print(f"\n{say(titles[outcome], language)}", file=out)
		for match in group:
			line = match.line
			who = line.counterparty or line.remittance
			print(
				f"  {line.booked.isoformat()}  {money(line.amount, line.currency):>14}  {who[:40]}", file=out
			)
			for allocation in match.allocations:
				rest = (
					tr("paid off")
					if not allocation.remaining
					else tr("{amount} left", amount=money(allocation.remaining, line.currency))
				)
				print(
					f"      → {allocation.invoice:<16} {money(allocation.amount, line.currency):>14}  ({rest})",
					file=out,
				)
			print(f"      · {describe_match(match.reason, match.detail, language)}", file=out)
			if match.candidates:
				listed = " ; ".join(
					f"{' + '.join(c.invoices)} ({money(c.total, line.currency)})" for c in match.candidates
				)
				print("      " + tr("candidates: {listed}", listed=listed), file=out)
			if line.remittance and outcome != MATCHED:
				print("      " + tr("text: {text}", text=line.remittance[:90]), file=out)
	print("", file=out)
	if recorded is None:
		print(tr("Nothing is recorded without --apply."), file=out)
	else:
		print(
			tr(
				"Recorded in {where}: {r} line(s) paid, {a} already recorded",
				where=where,
				r=recorded.recorded,
				a=recorded.already,
			),
			file=out,
		)
