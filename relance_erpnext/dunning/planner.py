"""The planner: from a book of invoices, its history and a date, what to do today and why not the rest.

Deterministic (same inputs, same date, same plan, whatever the order of the inputs) and idempotent (a
step recorded in the history, or in flight, is never planned again; no invoice gets two steps on
one day).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from operator import attrgetter

from .charges import fee_allowed, late_interest, overdue_outstanding, recovery_indemnity
from .errors import RateMissing
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
RATE_MISSING = "rate_missing"

# Notes on a line or an action
NOTE_STEPS_SKIPPED = "steps_skipped"
NOTE_PROMISE_BROKEN = "promise_broken"
NOTE_ARRANGEMENT_BROKEN = "arrangement_broken"
NOTE_EMAIL_MISSING_LETTER = "no_email_sent_by_letter"
NOTE_FEE_NOT_ALLOWED = "fee_not_allowed_consumer"
NOTE_INTEREST_FROM_NOTICE = "interest_runs_from_notice"

ONE_DAY = timedelta(days=1)
_SHIFTS = [timedelta(days=n) for n in range(-400, 401)]


def _shift(day: date, days: int) -> date:
	# timedelta objects are cached: this is the hot loop of a million-invoice run
	return day + (_SHIFTS[days + 400] if -400 <= days <= 400 else timedelta(days=days))


class _ScenarioIndex:
	__slots__ = ("index", "scenario", "steps")

	def __init__(self, scenario: Scenario):
		self.scenario = scenario
		self.steps = scenario.steps
		self.index = {step.key: i for i, step in enumerate(scenario.steps)}


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
	invoices = sorted(invoices, key=attrgetter("id"))
	invoice_customer = {inv.id: inv.customer for inv in invoices}
	indexes = {key: _ScenarioIndex(sc) for key, sc in scenarios.items()}

	done_steps: dict[str, dict[str, date]] = {}
	notice_day: dict[str, date] = {}
	last_contact: dict[str, date] = {}
	for entry in history:
		if entry.status not in DONE_STATUSES:
			continue
		steps = done_steps.get(entry.invoice)
		if steps is None:
			steps = done_steps[entry.invoice] = {}
		previous = steps.get(entry.step)
		if previous is None or entry.day > previous:
			steps[entry.step] = entry.day
		if entry.formal_notice and entry.status in (SENT, DONE):
			known = notice_day.get(entry.invoice)
			if known is None or entry.day < known:
				notice_day[entry.invoice] = entry.day
		customer_id = entry.customer or invoice_customer.get(entry.invoice)
		if customer_id:
			known = last_contact.get(customer_id)
			if known is None or entry.day > known:
				last_contact[customer_id] = entry.day

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
	step_gap = max(1, min_gap)
	default_scenario = settings.default_scenario

	skipped: list[Skip] = []
	skip = skipped.append
	groups: dict[tuple[str, str, str, str], list[ActionLine]] = {}
	group_info: dict[tuple[str, str, str, str], tuple[Customer, Scenario, Step, tuple[str, ...]]] = {}
	errors: dict[str, None] = {}

	for inv in invoices:
		inv_id = inv.id
		customer_id = inv.customer
		if inv.cancelled:
			skip(Skip(inv_id, customer_id, CANCELLED_INVOICE))
			continue
		customer = customers.get(customer_id)
		if customer is None:
			skip(Skip(inv_id, customer_id, UNKNOWN_CUSTOMER))
			continue
		instalments = inv.instalments
		if not instalments:
			skip(Skip(inv_id, customer_id, NO_DUE_DATE))
			continue
		# The schedule is anchored on the oldest instalment still unpaid
		if not inv.payments and len(instalments) == 1:
			anchor = instalments[0].due
			open_amount = instalments[0].amount
		else:
			open_amount = inv.outstanding
			anchor = _oldest_unpaid_due(inv)
		if open_amount <= ZERO or anchor is None:
			skip(Skip(inv_id, customer_id, PAID))
			continue
		hold = inv.hold or customer.hold
		if hold is not None and hold.active_on(as_of):
			skip(
				Skip(
					inv_id,
					customer_id,
					DISPUTED if hold.kind == "dispute" else ON_HOLD,
					hold.until.isoformat() if hold.until else hold.reason,
				)
			)
			continue

		scenario_key = inv.scenario or customer.scenario or default_scenario
		index = indexes.get(scenario_key)
		if index is None:
			skip(Skip(inv_id, customer_id, UNKNOWN_SCENARIO, scenario_key))
			continue
		steps = index.steps
		done = done_steps.get(inv_id)
		last = -1
		last_day = None
		if done:
			for i in range(len(steps) - 1, -1, -1):
				day = done.get(steps[i].key)
				if day is not None:
					last, last_day = i, day
					break
		if last == len(steps) - 1:
			skip(Skip(inv_id, customer_id, SCENARIO_COMPLETE, steps[last].key))
			continue
		if last_day is not None and last_day >= as_of:
			skip(Skip(inv_id, customer_id, STEP_DONE_TODAY, steps[last].key))
			continue

		escalate_note = None
		if promise_of or arrangement_of:
			state = _commitment_state(
				inv, as_of, grace, last_day, promise_of, arrangement_of, invoices_by_id, arrangement_state
			)
			if state is not None:
				kind, detail = state
				if kind in (PROMISE_PENDING, ARRANGEMENT_ACTIVE):
					skip(Skip(inv_id, customer_id, kind, detail))
					continue
				escalate_note = kind

		# Latest step whose date has come (catch-up), never earlier than a day after the last one done
		chosen = -1
		first_date = None
		prev_day = last_day
		earliest = _shift(last_day, step_gap) if last_day is not None else None
		for i in range(last + 1, len(steps)):
			step = steps[i]
			if step.relative_to == FROM_PREVIOUS and prev_day is not None:
				day = _shift(prev_day, step.offset)
			else:
				day = _shift(anchor, step.offset)
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
				skip(Skip(inv_id, customer_id, NOT_YET_DUE, first_date.isoformat()))
			else:
				skip(Skip(inv_id, customer_id, WAITING_NEXT_STEP, f"{steps[last + 1].key}@{first_date.isoformat()}"))
			continue

		if min_amount and open_amount < min_amount:
			skip(Skip(inv_id, customer_id, BELOW_MINIMUM, str(min_amount)))
			continue
		if min_gap:
			contacted = last_contact.get(customer_id)
			if contacted is not None and (as_of - contacted).days < min_gap:
				skip(Skip(inv_id, customer_id, MIN_GAP, _shift(contacted, min_gap).isoformat()))
				continue

		step = steps[chosen]
		channel = step.channel
		action_notes: tuple[str, ...] = ()
		if channel == EMAIL and not customer.email:
			if not customer.address:
				skip(Skip(inv_id, customer_id, NO_CONTACT, EMAIL))
				continue
			channel = LETTER
			action_notes = (NOTE_EMAIL_MISSING_LETTER,)
		elif channel in POSTAL_CHANNELS and not customer.address:
			skip(Skip(inv_id, customer_id, NO_CONTACT, channel))
			continue
		elif channel == PHONE and not customer.phone:
			skip(Skip(inv_id, customer_id, NO_CONTACT, PHONE))
			continue

		try:
			line = _line(inv, customer, step, as_of, anchor, rates, notice_day.get(inv_id))
		except RateMissing as exc:
			errors[str(exc)] = None
			skip(Skip(inv_id, customer_id, RATE_MISSING, exc.day.isoformat()))
			continue
		notes = line.notes
		if chosen > last + 1:
			notes = (*notes, f"{NOTE_STEPS_SKIPPED}:{','.join(s.key for s in steps[last + 1 : chosen])}")
		if escalate_note:
			notes = (*notes, escalate_note)
		if notes is not line.notes:
			line = _replace_notes(line, notes)
		key = (customer_id, inv.currency, scenario_key, step.key)
		lines = groups.get(key)
		if lines is None:
			groups[key] = [line]
			group_info[key] = (customer, index.scenario, step, (channel, *action_notes))
		else:
			lines.append(line)

	actions = []
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
	return Plan(as_of=as_of, actions=tuple(actions), skipped=tuple(skipped), errors=tuple(errors))


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
) -> ActionLine:
	late = (as_of - anchor).days
	overdue, _ = overdue_outstanding(inv, as_of)
	# Before the due date (a courtesy reminder), the amount falling due is what the letter names
	outstanding = overdue if late > 0 else inv.outstanding
	interest = ZERO
	interest_from = None
	periods = ()
	notes: tuple[str, ...] = ()
	if step.claim_interest and late > 0:
		interest, interest_from, periods = late_interest(inv, customer, as_of, rates, notice, step.notice_days)
		if interest_from is None:
			notes = (NOTE_INTEREST_FROM_NOTICE,)
	indemnity = ZERO
	if step.claim_indemnity:
		indemnity, note = recovery_indemnity(inv, customer, late)
		if note:
			notes = (*notes, note)
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
	)


def _replace_notes(line: ActionLine, notes: tuple[str, ...]) -> ActionLine:
	return ActionLine(
		invoice=line.invoice,
		step=line.step,
		due=line.due,
		days_late=line.days_late,
		outstanding=line.outstanding,
		interest=line.interest,
		indemnity=line.indemnity,
		interest_from=line.interest_from,
		periods=line.periods,
		notes=notes,
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
