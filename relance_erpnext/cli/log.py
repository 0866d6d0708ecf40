"""`relance log`: record by hand what was done or learnt outside relance (the core's manual entries).

	relance log sent FA-1 --date 2026-06-03 --channel registered_letter --number "1A 234 567 8901 2"
	relance log delivered FA-1 --date 2026-06-05
	relance log call FA-1 FA-2 --outcome promise --until 2026-06-25 --amount 1200
	relance log promise FA-1 --until 2026-06-25
	relance log dispute FA-1 --reason "bon de livraison manquant"
	relance log hold FA-1 --until 2026-07-01 --reason "bon de commande attendu"
	relance log resume FA-1

Each is one `dunning.outcomes.ManualEntry`, written to the journal (--journal, with a register) or as
agenda events in Dolibarr (--source dolibarr, the same shape as the events `run` writes). The next
plan reads it: a reminder sent is history (the next step counts from it, a letter cites it), a
promise pauses, a dispute or hold stops, a delivery dates the formal notice.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import InvalidOperation
from pathlib import Path

from relance_erpnext.dunning.models import EMAIL, LETTER, PHONE, REGISTERED_LETTER
from relance_erpnext.dunning.money import parse_amount
from relance_erpnext.dunning.outcomes import (
	DELIVERED,
	EFFECT_DISPUTE,
	EFFECT_HOLD,
	EFFECT_PROMISE,
	OUTCOMES,
	PROMISE_DEFAULT_DAYS,
	RESUME,
	SENT_OUTCOME,
	ManualEntry,
	outcome_of,
	parse_channel,
	resolve_step,
)
from relance_erpnext.i18n import Text, say

# What the command's first word records: (outcome, channel) — None: given by --outcome / --channel
KINDS = {
	"sent": (SENT_OUTCOME, None),
	"delivered": (DELIVERED, ""),
	"call": (None, PHONE),
	"promise": ("promise", ""),
	"dispute": ("dispute", ""),
	"hold": ("hold", ""),
	"resume": (RESUME, ""),
}
CALL_OUTCOMES = tuple(code for code in OUTCOMES if code not in (SENT_OUTCOME, DELIVERED, RESUME, "hold"))


def add_log_parser(commands, common) -> None:
	from relance_erpnext.cli.common import _date, source_options

	sub = commands.add_parser(
		"log",
		parents=[common],
		help="record by hand a reminder sent, a registered letter delivered, a call, a promise, a dispute",
	)
	sub.add_argument("kind", choices=tuple(KINDS), help="what happened")
	sub.add_argument("invoices", nargs="+", metavar="INVOICE", help="the invoice number(s) it concerns")
	source_options(sub)
	sub.add_argument("--journal", help="SQLite journal to record it in (with --register)")
	sub.add_argument("--date", type=_date, default=date.today(), help="when it happened (default today)")
	sub.add_argument(
		"--channel", help="sent: email, letter (default) or registered_letter (courriel, lettre, LRAR…)"
	)
	sub.add_argument("--step", help="the scenario's step it stands for (default: found from the delay)")
	sub.add_argument("--level", type=int, help="or: the n-th reminder after the due date")
	sub.add_argument("--number", help="a registered letter's number (implies --channel registered_letter)")
	sub.add_argument("--outcome", help=f"call: what it gave ({', '.join(CALL_OUTCOMES)}); default no_answer")
	sub.add_argument("--until", type=_date, help="a promise's date; the end of a dispute or hold")
	sub.add_argument("--amount", help="the amount promised (default: everything)")
	sub.add_argument("--reason", default="", help="a dispute's or hold's reason, or a note")
	sub.add_argument("--skip-bad-rows", action="store_true", help="use the good rows when some rows are bad")
	sub.set_defaults(handler=cmd_log)


def entry_from(args) -> ManualEntry:
	from relance_erpnext.cli.common import UsageError

	outcome, channel = KINDS[args.kind]
	if args.kind == "call":
		outcome = args.outcome or "no_answer"
		try:
			outcome = outcome_of(outcome).code
		except KeyError:
			raise UsageError(
				Text(
					"log call: unknown --outcome {outcome!r} (use {listed})",
					outcome=args.outcome,
					listed=", ".join(CALL_OUTCOMES),
				)
			)
		if outcome not in CALL_OUTCOMES:
			raise UsageError(Text("log call: --outcome {outcome} is not a call's outcome", outcome=outcome))
	elif args.outcome:
		raise UsageError(Text("log {kind}: --outcome is for calls", kind=args.kind))
	if args.kind == "sent":
		channel = (
			parse_channel(args.channel) if args.channel else (REGISTERED_LETTER if args.number else LETTER)
		)
		if channel not in (EMAIL, LETTER, REGISTERED_LETTER):
			raise UsageError(
				Text(
					"log sent: --channel {channel!r} is not email, letter or registered_letter",
					channel=args.channel,
				)
			)
		if args.number and channel != REGISTERED_LETTER:
			raise UsageError(
				Text("log sent: --number is a registered letter's number (--channel registered_letter)")
			)
	elif args.channel or args.number or args.step or args.level:
		if args.kind != "call" or args.channel or args.number:
			raise UsageError(
				Text(
					"log {kind}: --channel, --number, --step and --level are for sent (and call)",
					kind=args.kind,
				)
			)
	effect = OUTCOMES[outcome].effect
	if effect == EFFECT_PROMISE and outcome == "promise" and args.until is None:
		raise UsageError(Text("log {kind}: a promise needs its date (--until YYYY-MM-DD)", kind=args.kind))
	if args.until is not None and effect not in (EFFECT_PROMISE, EFFECT_DISPUTE, EFFECT_HOLD):
		raise UsageError(
			Text("log {kind}: --until is a promise's date or the end of a dispute or hold", kind=args.kind)
		)
	if args.until is not None and args.until < args.date:
		raise UsageError(Text("log: --until comes before --date"))
	amount = None
	if args.amount is not None:
		if effect != EFFECT_PROMISE:
			raise UsageError(Text("log {kind}: --amount is a promise's amount", kind=args.kind))
		try:
			amount = parse_amount(args.amount)
		except (ValueError, InvalidOperation):
			raise UsageError(Text("log: --amount {amount!r} is not an amount", amount=args.amount))
		if amount <= 0:
			raise UsageError(Text("log: --amount must be above 0"))
	if args.level is not None and args.level < 1:
		raise UsageError(Text("log: --level is 1 or more"))
	return ManualEntry(
		invoices=tuple(dict.fromkeys(args.invoices)),
		day=args.date,
		outcome=outcome,
		channel=channel or "",
		step=args.step or "",
		level=args.level or 0,
		reference=" ".join((args.number or "").split()),
		amount=amount,
		until=args.until,
		reason=" ".join(args.reason.split()),
	)


def effect_text(entry: ManualEntry, fr: bool) -> str:
	"""What the entry does to the next plans, for the person who typed it."""
	lang = "fr" if fr else "en"
	effect = OUTCOMES[entry.outcome].effect
	if effect == EFFECT_PROMISE:
		until = entry.until or entry.day + timedelta(days=PROMISE_DEFAULT_DAYS)
		return say(
			Text("reminders paused until {day}; without payment then, escalated", day=until.isoformat()), lang
		)
	if effect in (EFFECT_DISPUTE, EFFECT_HOLD):
		if entry.until:
			return say(Text("reminders stopped until {day}", day=entry.until.isoformat()), lang)
		return say(Text("reminders stopped until 'relance log resume'"), lang)
	if entry.outcome == RESUME:
		return say(Text("reminders resume"), lang)
	if entry.outcome == DELIVERED:
		return say(Text("interest due from the formal notice runs from its delivery"), lang)
	return say(Text("the next steps will count from this reminder"), lang)


def cmd_log(args, config) -> int:
	from relance_erpnext.cli.common import EXIT_OK, UsageError
	from relance_erpnext.cli.workflow import read_book

	fr = args.lang.startswith("fr")
	entry = entry_from(args)
	if args.source == "dolibarr":
		if args.journal:
			raise UsageError(Text("log: --source dolibarr records in Dolibarr's agenda: leave out --journal"))
		return _log_dolibarr(args, config, entry, fr)
	if not args.register or not args.journal:
		raise UsageError(Text("log: --register FILE and --journal FILE are required (or --source dolibarr)"))
	register = read_book(Path(args.register), args.skip_bad_rows, lang=args.lang)
	invoices = {inv.id: inv for inv in register.invoices}
	unknown = [number for number in entry.invoices if number not in invoices]
	if unknown:
		raise UsageError(
			Text(
				"log: not an open invoice of {register}: {listed}",
				register=args.register,
				listed=", ".join(unknown),
			)
		)
	customers = {invoices[number].customer for number in entry.invoices}
	if len(customers) > 1:
		raise UsageError(Text("log: the invoices of one entry belong to one customer"))
	from dataclasses import replace

	entry = replace(entry, customer=customers.pop())
	from relance_erpnext.connectors.journal import Journal, JournalError

	try:
		with Journal(args.journal) as journal:
			entries = _as_recorded(entry, journal.history())
			for one in entries:
				steps = _steps(one, invoices, register.customers, args, config)
				journal.record_outcome(one)
				print(_summary(one, steps, fr))
	except JournalError as exc:
		raise UsageError(exc.args[0])
	return EXIT_OK


def _as_recorded(entry: ManualEntry, history) -> list[ManualEntry]:
	"""A letter logged as sent without its step, for invoices whose step `run` recorded (planned, on
	or before that day): the step recorded for each, one entry per step (the letter a run wrote for
	several invoices keeps each invoice's own step). Otherwise the entry as it is."""
	from dataclasses import replace

	from relance_erpnext.dunning.models import DONE_STATUSES

	if entry.outcome != SENT_OUTCOME or entry.step or entry.level or not entry.channel:
		return [entry]
	recorded: dict[str, tuple] = {}
	for h in history:
		if h.invoice in entry.invoices and h.status in DONE_STATUSES and h.day <= entry.day:
			known = recorded.get(h.invoice)
			if known is None or h.day > known[0]:
				recorded[h.invoice] = (h.day, h.step)
	if not recorded:
		return [entry]
	by_step: dict[str, list[str]] = {}
	for invoice in entry.invoices:
		by_step.setdefault(recorded.get(invoice, (None, ""))[1], []).append(invoice)
	return [replace(entry, invoices=tuple(numbers), step=step) for step, numbers in by_step.items()]


def _steps(entry, invoices, customers, args, config) -> dict:
	"""The scenario step each invoice's communication stands for ({} when the entry is none)."""
	from relance_erpnext.cli.common import UsageError
	from relance_erpnext.cli.config import load_scenarios, settings_from

	if not entry.channel:
		return {}
	args.min_amount = getattr(args, "min_amount", None)
	args.min_gap = getattr(args, "min_gap", None)
	scenarios = load_scenarios(None, config)
	settings = settings_from(config, args)
	steps = {}
	for number in entry.invoices:
		inv = invoices[number]
		customer = customers.get(inv.customer)
		key = inv.scenario or (customer.scenario if customer else None) or settings.default_scenario
		scenario = scenarios.get(key)
		if entry.step and (scenario is None or scenario.step(entry.step) is None):
			raise UsageError(Text("log: scenario {key!r} has no step {step!r}", key=key, step=entry.step))
		step = resolve_step(scenario, inv.due, entry) if scenario is not None else None
		steps[number] = step
	return steps


def _summary(entry: ManualEntry, steps: dict, fr: bool) -> str:
	from relance_erpnext.cli.common import channel_label

	lang = "fr" if fr else "en"
	label = OUTCOMES[entry.outcome].label(lang)
	parts = [
		say(
			Text(
				"{day} {invoices}: {what}",
				day=entry.day.isoformat(),
				invoices=", ".join(entry.invoices),
				what=label,
			),
			lang,
		)
	]
	if entry.channel:
		named = ", ".join(f"{n} → {s.key}" for n, s in steps.items() if s is not None)
		channel = channel_label(entry.channel, lang)
		if entry.reference:
			parts.append(
				say(
					Text(
						"{channel} No. {number} ({steps})",
						channel=channel,
						number=entry.reference,
						steps=named,
					),
					lang,
				)
			)
		else:
			parts.append(f"{channel} ({named})")
	if entry.amount is not None:
		parts.append(str(entry.amount))
	if entry.reason:
		parts.append(entry.reason)
	head = say(Text("Recorded: {what}", what=" ; ".join(parts)), lang)
	return f"{head}\n  → {effect_text(entry, fr)}"


def _log_dolibarr(args, config, entry: ManualEntry, fr: bool) -> int:
	from dataclasses import replace

	from relance_erpnext.cli.common import EXIT_OK, UsageError
	from relance_erpnext.cli.workflow import dolibarr_source
	from relance_erpnext.connectors.dolibarr import DolibarrError

	source = dolibarr_source(args, config)
	try:
		customers, invoices, _ = source.load_book(entry.day)
		by_id = {inv.id: inv for inv in invoices}
		unknown = [number for number in entry.invoices if number not in by_id]
		if unknown:
			raise UsageError(
				Text("log: not an open invoice in Dolibarr: {listed}", listed=", ".join(unknown))
			)
		owners = {by_id[number].customer for number in entry.invoices}
		if len(owners) > 1:
			raise UsageError(Text("log: the invoices of one entry belong to one customer"))
		entry = replace(entry, customer=owners.pop())
		steps = _steps(entry, by_id, customers, args, config)
		written = source.record_outcome(entry, {n: s.key for n, s in steps.items() if s is not None})
	except DolibarrError as exc:
		raise UsageError(Text("Dolibarr: {error}", error=exc.args[0]))
	finally:
		source.session.close()
	print(_summary(entry, steps, fr))
	print(say(Text("Dolibarr: {n} agenda event(s) written", n=written), "fr" if fr else "en"))
	return EXIT_OK
