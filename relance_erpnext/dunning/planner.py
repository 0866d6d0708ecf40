"""The planner: from a book of invoices, its history and a date, what to do today and why not the rest.

Deterministic (same inputs, same date, same plan, whatever the order of the inputs) and idempotent (a
step recorded in the history, or in flight, is never planned again; no invoice gets two steps on
one day).
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from operator import attrgetter

from .charges import (
	NOTE_INTEREST_PROVISIONAL,
	accrued_interest,
	fee_allowed,
	overdue_outstanding,
	provisional_note,
	recovery_indemnity,
)
from .models import (
	DONE,
	DONE_STATUSES,
	EMAIL,
	ESCALATION,
	FROM_PREVIOUS,
	LETTER,
	PHONE,
	POSTAL_CHANNELS,
	SENT,
	ZERO,
	Action,
	ActionLine,
	Arrangement,
	Customer,
	HistoryEntry,
	Invoice,
	Plan,
	PlanSettings,
	Promise,
	Scenario,
	Skip,
	Step,
)
from .money import round_money
from .rates import ReferenceRates
from .scenarios import nominal_offsets

# Why an open invoice gets no action today
PAID = "paid"
CANCELLED_INVOICE = "cancelled"
UNKNOWN_CUSTOMER = "unknown_customer"
NO_DUE_DATE = "no_due_date"
ON_HOLD = "on_hold"
DISPUTED = "disputed"
PROMISE_PENDING = "promise_pending"
ARRANGEMENT_ACTIVE = "arrangement_active"
UNKNOWN_SCENARIO = "unknown_scenario"
NOT_YET_DUE = "not_yet_due"
WAITING_NEXT_STEP = "waiting_next_step"
STEP_DONE_TODAY = "step_done_today"
SCENARIO_COMPLETE = "scenario_complete"
BELOW_MINIMUM = "below_minimum"
MIN_GAP = "min_gap"
NO_CONTACT = "no_contact"
# No longer given by the planner (a missing rate makes interest provisional, never stops a reminder);
# kept for the plans and logs recorded before
RATE_MISSING = "rate_missing"

# Notes on a line or an action
NOTE_STEPS_SKIPPED = "steps_skipped"
NOTE_PROMISE_BROKEN = "promise_broken"
NOTE_ARRANGEMENT_BROKEN = "arrangement_broken"
NOTE_EMAIL_MISSING_LETTER = "no_email_sent_by_letter"
NOTE_FEE_NOT_ALLOWED = "fee_not_allowed_consumer"
NOTE_INTEREST_FROM_NOTICE = "interest_runs_from_notice"
# NOTE_INTEREST_PROVISIONAL ("interest_provisional:<last day counted>"), from charges: interest counted
# up to the last day a known reference rate covers; the line's `missing_rates` say which half-years wait

ONE_DAY = timedelta(days=1)
_NOTICE_STATUSES = frozenset((SENT, DONE))
_new_skip = tuple.__new__  # a NamedTuple built in C: one Skip per open invoice


class _ScenarioIndex:
	"""One scenario, prepared for one planning run (`cutoff` and `waiting` depend on its day)."""

	__slots__ = (
		"cutoff",
		"first_offset",
		"index",
		"keys",
		"nominal",
		"scenario",
		"steps",
		"timing",
		"waiting",
	)

	def __init__(self, scenario: Scenario):
		self.scenario = scenario
		self.steps = scenario.steps
		self.keys = tuple(step.key for step in scenario.steps)
		self.index = {step.key: i for i, step in enumerate(scenario.steps)}
		# (counts from the previous step?, offset) per step, precomputed for the hot loop
		self.timing = tuple(
			(step.relative_to == FROM_PREVIOUS, timedelta(days=step.offset)) for step in scenario.steps
		)
		# Days from the due date of each step when none was done yet (the fast path, no history)
		self.nominal = tuple(nominal_offsets(scenario))
		self.first_offset = self.nominal[0] if self.nominal else 0
		# Set by the planning run: an invoice due after `cutoff` has not reached the first step; the
		# reason given to such invoices, per due date
		self.cutoff: date | None = None
		self.waiting: dict[date, tuple[str, str]] = {}


def plan(
	as_of: date,
	customers: Mapping[str, Customer],
	invoices: Iterable[Invoice],
	history: Iterable[HistoryEntry],
	scenarios: Mapping[str, Scenario],
	rates: ReferenceRates,
	settings: PlanSettings = PlanSettings(),  # noqa: B008 (frozen, shared safely)
	promises: Iterable[Promise] = (),
	arrangements: Iterable[Arrangement] = (),
) -> Plan:
	"""Plan one dunning day. Changes nothing: the result is a value."""
	# One object per invoice and no reference cycles: pausing the cyclic garbage collector spares it
	# rescanning the whole book again and again while a large plan is built (about a quarter of the
	# time on a million invoices)
	collecting = gc.isenabled()
	gc.disable()
	try:
		return _plan(as_of, customers, invoices, history, scenarios, rates, settings, promises, arrangements)
	finally:
		if collecting:
			gc.enable()


def _plan(as_of, customers, invoices, history, scenarios, rates, settings, promises, arrangements) -> Plan:
	invoices = sorted(invoices, key=attrgetter("id"))
	indexes = {key: _ScenarioIndex(sc) for key, sc in scenarios.items()}

	# History, indexed in bulk: the latest day of each live step per invoice, the first formal notice,
	# and (only when a minimum gap is set) the last contact with each customer. Read in input order
	# (an adapter reads it in the order it was written): sorting a million rows by day first would
	# cost more than the planning itself, mostly by touching the rows in scattered order
	done_steps: dict[str, dict[str, date]] = {}
	done_get = done_steps.get
	notices: list[HistoryEntry] = []
	last_contact: dict[str, date] = {}
	track_contacts = bool(settings.min_gap_days)
	if track_contacts:
		invoice_customer = {inv.id: inv.customer for inv in invoices}
	for entry in history:
		if entry.status not in DONE_STATUSES:
			continue
		invoice_id = entry.invoice
		steps = done_get(invoice_id)
		if steps is None:
			done_steps[invoice_id] = {entry.step: entry.day}
		else:
			day = steps.get(entry.step)
			if day is None or entry.day > day:
				steps[entry.step] = entry.day
		if entry.formal_notice and entry.status in _NOTICE_STATUSES:
			notices.append(entry)
		if track_contacts:
			who = entry.customer or invoice_customer.get(invoice_id, "")
			contacted = last_contact.get(who)
			if contacted is None or entry.day > contacted:
				last_contact[who] = entry.day
	# Membership in a set is several times cheaper than a dict lookup on a big book: the fast path
	# below asks only "was this invoice ever followed up?"
	followed = set(done_steps)
	notice_day: dict[str, date] = {}
	for entry in sorted(notices, key=attrgetter("day"), reverse=True):
		notice_day[entry.invoice] = entry.day  # the first formal notice is the one that counts

	promise_of: dict[str, Promise] = {}
	for promise in sorted(promises, key=lambda p: (p.due, p.made_on or p.due)):
		for invoice_id in promise.invoices:
			promise_of[invoice_id] = promise  # the latest promise wins
	arrangement_of: dict[str, Arrangement] = {}
	for arrangement in sorted(arrangements, key=attrgetter("agreed_on")):
		for invoice_id in arrangement.invoices:
			arrangement_of[invoice_id] = arrangement
	invoices_by_id = {inv.id: inv for inv in invoices} if (promise_of or arrangement_of) else {}
	arrangement_state: dict[int, tuple[str, date | None]] = {}

	min_amount = settings.min_amount
	min_gap = settings.min_gap_days
	grace = timedelta(days=settings.promise_grace_days)
	step_gap = timedelta(days=max(1, min_gap))
	default_scenario = settings.default_scenario

	skipped: list[Skip] = []
	skip = skipped.append
	groups: dict[tuple[str, str, str, str], list[ActionLine]] = {}
	group_info: dict[tuple[str, str, str, str], tuple[Customer, Scenario, Step, tuple[str, ...]]] = {}
	interest_cache: dict = {}
	# An invoice due after this day has not reached its scenario's first step yet
	for index in indexes.values():
		index.cutoff = as_of - timedelta(days=index.first_offset)

	escalations_possible = bool(promise_of or arrangement_of)
	customers_get = customers.get
	indexes_get = indexes.get
	new_skip = _new_skip
	for inv in invoices:
		inv_id = inv.id
		customer_id = inv.customer
		if inv.cancelled:
			skip(new_skip(Skip, (inv_id, customer_id, CANCELLED_INVOICE, "")))
			continue
		customer = customers_get(customer_id)
		if customer is None:
			skip(new_skip(Skip, (inv_id, customer_id, UNKNOWN_CUSTOMER, "")))
			continue
		instalments = inv.instalments
		if not instalments:
			skip(new_skip(Skip, (inv_id, customer_id, NO_DUE_DATE, "")))
			continue
		# The schedule is anchored on the oldest instalment still unpaid
		if not inv.payments and len(instalments) == 1:
			anchor = instalments[0].due
			open_amount = instalments[0].amount
		else:
			open_amount = inv.outstanding
			anchor = _oldest_unpaid_due(inv)
		if open_amount <= ZERO or anchor is None:
			skip(new_skip(Skip, (inv_id, customer_id, PAID, "")))
			continue
		hold = inv.hold or customer.hold
		if hold is not None and hold.active_on(as_of):
			skip(
				Skip(
					inv_id,
					customer_id,
					DISPUTED if hold.kind == "dispute" else ON_HOLD,
					" → ".join(x for x in (hold.reason, hold.until.isoformat() if hold.until else "") if x),
				)
			)
			continue

		scenario_key = inv.scenario or customer.scenario or default_scenario
		index = indexes_get(scenario_key)
		if index is None:
			skip(new_skip(Skip, (inv_id, customer_id, UNKNOWN_SCENARIO, scenario_key)))
			continue
		if not escalations_possible and anchor > index.cutoff and inv_id not in followed:
			# Fast path: nothing done yet and the first step's day has not come. Most of a book shares
			# a few hundred due dates, so the reason and its detail are made once per date and scenario
			waiting = index.waiting.get(anchor)
			if waiting is None:
				first_day = (anchor + index.timing[0][1]).isoformat()
				if as_of <= anchor:
					waiting = (NOT_YET_DUE, first_day)
				else:
					waiting = (WAITING_NEXT_STEP, f"{index.keys[0]}@{first_day}")
				index.waiting[anchor] = waiting
			skip(new_skip(Skip, (inv_id, customer_id, waiting[0], waiting[1])))
			continue
		done = done_get(inv_id)
		steps = index.steps
		last = -1
		last_day = None
		if done:
			keys = index.keys
			for i in range(len(keys) - 1, -1, -1):
				day = done.get(keys[i])
				if day is not None:
					last, last_day = i, day
					break
		if last == len(steps) - 1:
			skip(new_skip(Skip, (inv_id, customer_id, SCENARIO_COMPLETE, steps[last].key)))
			continue
		if last_day is not None and last_day >= as_of:
			# Already acted today: say which step comes next, and when
			day = last_day + step_gap
			from_previous, offset = index.timing[last + 1]
			day = max(day, (last_day if from_previous else anchor) + offset)
			detail = f"{steps[last + 1].key}@{day.isoformat()}"
			skip(new_skip(Skip, (inv_id, customer_id, STEP_DONE_TODAY, detail)))
			continue

		escalate_note = None
		if promise_of or arrangement_of:
			state = _commitment_state(
				inv, as_of, grace, last_day, promise_of, arrangement_of, invoices_by_id, arrangement_state
			)
			if state is not None:
				kind, detail = state
				if kind in (PROMISE_PENDING, ARRANGEMENT_ACTIVE):
					skip(new_skip(Skip, (inv_id, customer_id, kind, detail)))
					continue
				escalate_note = kind

		# Latest step whose date has come (catch-up), never earlier than a day after the last one done
		chosen = -1
		first_date = None
		prev_day = last_day
		earliest = last_day + step_gap if last_day is not None else None
		timing = index.timing
		for i in range(last + 1, len(steps)):
			from_previous, offset = timing[i]
			if from_previous and prev_day is not None:
				day = prev_day + offset
			else:
				day = anchor + offset
			if earliest is not None and day < earliest:
				day = earliest
			if first_date is None:
				first_date = day
			if day <= as_of:
				chosen = i
			prev_day = day
		if escalate_note is not None and chosen == -1:
			chosen = last + 1
		# Catching up never jumps over a formal notice: escalation needs the mise en demeure first
		for i in range(last + 1, chosen):
			if steps[i].formal_notice:
				chosen = i
				break
		if chosen == -1:
			if as_of <= anchor and (first_date is None or first_date > as_of):
				skip(new_skip(Skip, (inv_id, customer_id, NOT_YET_DUE, first_date.isoformat())))
			else:
				skip(
					new_skip(
						Skip,
						(
							inv_id,
							customer_id,
							WAITING_NEXT_STEP,
							f"{steps[last + 1].key}@{first_date.isoformat()}",
						),
					)
				)
			continue

		if min_amount and open_amount < min_amount:
			skip(new_skip(Skip, (inv_id, customer_id, BELOW_MINIMUM, str(min_amount))))
			continue
		if min_gap:
			contacted = last_contact.get(customer_id)
			if contacted is not None and (as_of - contacted).days < min_gap:
				skip(Skip(inv_id, customer_id, MIN_GAP, (contacted + timedelta(days=min_gap)).isoformat()))
				continue

		step = steps[chosen]
		channel = step.channel
		action_notes: tuple[str, ...] = ()
		if channel == EMAIL and not customer.email:
			if not customer.address:
				skip(new_skip(Skip, (inv_id, customer_id, NO_CONTACT, EMAIL)))
				continue
			channel = LETTER
			action_notes = (NOTE_EMAIL_MISSING_LETTER,)
		elif channel in POSTAL_CHANNELS and not customer.address:
			skip(new_skip(Skip, (inv_id, customer_id, NO_CONTACT, channel)))
			continue
		elif channel == PHONE and not customer.phone:
			skip(new_skip(Skip, (inv_id, customer_id, NO_CONTACT, PHONE)))
			continue

		extra_notes: tuple[str, ...] = ()
		if chosen > last + 1:
			extra_notes = (f"{NOTE_STEPS_SKIPPED}:{','.join(index.keys[last + 1 : chosen])}",)
		if escalate_note:
			extra_notes = (*extra_notes, escalate_note)
		line = _line(
			inv, customer, step, as_of, anchor, rates, notice_day.get(inv_id), extra_notes, interest_cache
		)
		key = (customer_id, inv.currency, scenario_key, step.key)
		lines = groups.get(key)
		if lines is None:
			groups[key] = [line]
			group_info[key] = (customer, index.scenario, step, (channel, *action_notes))
		else:
			lines.append(line)

	actions = []
	missing = set()
	for lines in groups.values():
		for line in lines:
			if line.missing_rates:
				missing.update(line.missing_rates)
	for key in sorted(groups, key=lambda k: (k[0], k[1], k[2], indexes[k[2]].index[k[3]])):
		customer, scenario, step, (channel, *action_notes) = group_info[key]
		currency = key[1]
		fee = ZERO
		if step.fee:
			if fee_allowed(customer):
				fee = round_money(step.fee, currency)
			else:
				action_notes.append(NOTE_FEE_NOT_ALLOWED)
		actions.append(
			Action(
				customer=customer.id,
				customer_name=customer.name,
				scenario=scenario.key,
				step=step.key,
				step_label=step.label,
				channel=channel,
				tone=step.tone,
				template=step.template,
				currency=currency,
				language=customer.language,
				regime=customer.regime,
				customer_kind=customer.kind,
				formal_notice=step.formal_notice,
				notice_days=step.notice_days,
				lines=tuple(groups[key]),
				fee=fee,
				notify=step.notify,
				contract_rate=customer.contract_rate,
				notes=tuple(action_notes),
			)
		)
	return Plan(
		as_of=as_of,
		actions=tuple(actions),
		skipped=tuple(skipped),
		provisional=tuple(sorted(missing)),
	)


def _oldest_unpaid_due(inv: Invoice) -> date | None:
	paid = inv.paid
	for inst in sorted(inv.instalments, key=attrgetter("due")):
		if paid >= inst.amount:
			paid -= inst.amount
			continue
		return inst.due
	return None


def _line(
	inv: Invoice,
	customer: Customer,
	step: Step,
	as_of: date,
	anchor: date,
	rates: ReferenceRates,
	notice: date | None,
	extra_notes: tuple[str, ...],
	interest_cache: dict,
) -> ActionLine:
	late = (as_of - anchor).days
	overdue, _ = overdue_outstanding(inv, as_of)
	# Before the due date (a courtesy reminder), the amount falling due is what the letter names
	outstanding = overdue if late > 0 else inv.outstanding
	interest = ZERO
	interest_from = None
	periods = ()
	notes: tuple[str, ...] = ()
	until = None
	missing = ()
	if step.claim_interest and late > 0:
		accrual = accrued_interest(inv, customer, as_of, rates, notice, step.notice_days, interest_cache)
		interest, interest_from, periods = accrual.amount, accrual.start, accrual.periods
		if interest_from is None:
			notes = (NOTE_INTEREST_FROM_NOTICE,)
		elif accrual.missing:
			notes = (provisional_note(accrual),)
			until, missing = accrual.until, accrual.missing
	indemnity = ZERO
	if step.claim_indemnity:
		indemnity, note = recovery_indemnity(inv, customer, late)
		if note:
			notes = (*notes, note)
	if extra_notes:
		notes = (*notes, *extra_notes)
	return ActionLine(
		invoice=inv.id,
		step=step.key,
		due=anchor,
		days_late=late,
		outstanding=round_money(outstanding, inv.currency),
		interest=interest,
		indemnity=indemnity,
		interest_from=interest_from,
		periods=periods,
		notes=notes,
		interest_until=until,
		missing_rates=missing,
	)


def _commitment_state(
	inv: Invoice,
	as_of: date,
	grace: timedelta,
	last_day: date | None,
	promise_of: dict[str, Promise],
	arrangement_of: dict[str, Arrangement],
	invoices_by_id: dict[str, Invoice],
	arrangement_state: dict[int, tuple[str, date | None]],
) -> tuple[str, str] | None:
	"""(PROMISE_PENDING | ARRANGEMENT_ACTIVE, detail) pauses; (NOTE_*_BROKEN, "") escalates; None: neither."""
	arrangement = arrangement_of.get(inv.id)
	if arrangement is not None:
		state = arrangement_state.get(id(arrangement))
		if state is None:
			state = arrangement_state[id(arrangement)] = _arrangement_state(
				arrangement, as_of, grace, invoices_by_id
			)
		kind, day = state
		if kind == ARRANGEMENT_ACTIVE:
			return ARRANGEMENT_ACTIVE, day.isoformat() if day else ""
		# Broken: escalate once, unless a step was already taken after the missed instalment
		if kind == NOTE_ARRANGEMENT_BROKEN and (last_day is None or last_day <= day):
			return NOTE_ARRANGEMENT_BROKEN, ""
	promise = promise_of.get(inv.id)
	if promise is not None:
		if as_of <= promise.due + grace:
			return PROMISE_PENDING, promise.due.isoformat()
		paid_since = sum(
			(p.amount for p in inv.payments if promise.made_on is None or p.day >= promise.made_on), ZERO
		)
		kept = promise.amount is not None and paid_since >= promise.amount
		if not kept and (last_day is None or last_day <= promise.due):
			return NOTE_PROMISE_BROKEN, ""
	return None


def _arrangement_state(
	arrangement: Arrangement, as_of: date, grace: timedelta, invoices_by_id: dict[str, Invoice]
) -> tuple[str, date | None]:
	paid = ZERO
	for invoice_id in arrangement.invoices:
		inv = invoices_by_id.get(invoice_id)
		if inv is not None:
			paid += sum((p.amount for p in inv.payments if p.day >= arrangement.agreed_on), ZERO)
	owed = ZERO
	upcoming = None
	for instalment in sorted(arrangement.schedule, key=attrgetter("day")):
		if instalment.day + grace < as_of:
			owed += instalment.amount
			if paid < owed:
				return NOTE_ARRANGEMENT_BROKEN, instalment.day
		elif upcoming is None:
			upcoming = instalment.day
	if upcoming is None:
		return "arrangement_done", None
	return ARRANGEMENT_ACTIVE, upcoming


def next_steps(result: Plan) -> dict[str, tuple[str, date | None]]:
	"""For each invoice of a plan: the step due today, or the next one and its date when known."""
	out: dict[str, tuple[str, date | None]] = {}
	for action in result.actions:
		for line in action.lines:
			out[line.invoice] = (line.step, result.as_of)
	for skip in result.skipped:
		if skip.reason in (WAITING_NEXT_STEP, STEP_DONE_TODAY) and "@" in skip.detail:
			step, day = skip.detail.split("@", 1)
			out[skip.invoice] = (step, date.fromisoformat(day))
		elif skip.reason == NOT_YET_DUE and skip.detail:
			out[skip.invoice] = ("", date.fromisoformat(skip.detail))
		elif skip.reason == MIN_GAP and skip.detail:
			out[skip.invoice] = ("", date.fromisoformat(skip.detail))
		elif skip.reason == PROMISE_PENDING and skip.detail:
			out[skip.invoice] = ("", date.fromisoformat(skip.detail) + ONE_DAY)
		else:
			out[skip.invoice] = ("", None)
	return out


def plan_ahead(
	as_of: date,
	customers: Mapping[str, Customer],
	invoices: Iterable[Invoice],
	history: Iterable[HistoryEntry],
	scenarios: Mapping[str, Scenario],
	rates: ReferenceRates,
	settings: PlanSettings = PlanSettings(),  # noqa: B008 (frozen, shared safely)
	promises: Iterable[Promise] = (),
	arrangements: Iterable[Arrangement] = (),
	days: int = 7,
) -> tuple[Plan, ...]:
	"""The plans of `days` days from `as_of` (today's first, the same as `plan` gives): what comes due.

	Each day assumes the actions of the days before were carried out (recorded as sent) and nothing
	was paid meanwhile, so catch-up, the minimum gap between reminders and promises falling due play
	as they will on those days. A forecast: the real plan of a later day is made on that day.
	"""
	if days < 1:
		raise ValueError(f"days must be 1 or more, got {days}")
	invoices = list(invoices)
	history = list(history)
	promises = tuple(promises)
	arrangements = tuple(arrangements)
	plans = []
	for offset in range(days):
		day = as_of + timedelta(days=offset)
		result = plan(day, customers, invoices, history, scenarios, rates, settings, promises, arrangements)
		plans.append(result)
		history.extend(
			HistoryEntry(
				invoice=line.invoice,
				step=line.step,
				day=day,
				status=SENT,
				channel=action.channel,
				formal_notice=action.formal_notice,
				customer=action.customer,
			)
			for action in result.actions
			for line in action.lines
		)
	return tuple(plans)
