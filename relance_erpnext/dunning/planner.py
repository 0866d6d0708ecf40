"""The planner: from a book of invoices, its history and a date, what to do today and why not the rest.

Deterministic (same inputs, same date, same plan, whatever the order of the inputs) and idempotent (a
step recorded in the history, or in flight, is never planned again; no invoice gets two steps on
one day).

The customer lives one conversation: at most one communication per customer and currency per day,
at the most advanced step due that day among its invoices, listing them all with their own steps;
no new communication while the customer was contacted less than `min_gap_days` (at least one) days
ago; a customer without any history starts at the first written reminder of its scenario (unless
the scenario or the settings say `catch_up = "by_due_date"`); a missing contact never stalls a step
(the action goes by another channel, or with a task for a person, both listed).
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Mapping
from dataclasses import replace
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
	AMICAL,
	BY_DUE_DATE,
	DONE,
	DONE_STATUSES,
	EMAIL,
	ESCALATION,
	FERME,
	FORMEL,
	FROM_PREVIOUS,
	LETTER,
	PHONE,
	POSTAL_CHANNELS,
	SECTION_ALSO_DUE,
	SECTION_DEMANDED,
	SECTION_NOT_DUE,
	SECTION_PAST_DUE,
	SENT,
	TASK_COMPLETE_ADDRESS,
	TASK_FIND_PHONE,
	UNKNOWN,
	ZERO,
	Action,
	ActionLine,
	Arrangement,
	Contact,
	Credit,
	Customer,
	HistoryEntry,
	Invoice,
	Payment,
	Plan,
	PlanSettings,
	Promise,
	Scenario,
	Skip,
	Step,
)
from .money import round_money
from .outcomes import ManualEntry, apply_outcomes
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
# Acted today, but the email's sending is uncertain (status "unknown"): to check, never sent again
SEND_UNCERTAIN = "send_uncertain"
SCENARIO_COMPLETE = "scenario_complete"
BELOW_MINIMUM = "below_minimum"
MIN_GAP = "min_gap"
NO_CONTACT = "no_contact"
# The customer's credits (credit notes, unallocated payments) in the currency cover every overdue
# amount: nothing is asked (detail: the credits' total)
CREDITS_COVER = "credits_cover"
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
# First contact with a customer without history: "first_contact:<day the next steps count from>"
NOTE_FIRST_CONTACT = "first_contact"
# A step caught up by due date jumped over earlier ones for a customer never reminded (a warning)
NOTE_CAUGHT_UP_BY_DUE_DATE = "caught_up_by_due_date"
NOTE_ADDRESS_MISSING = "address_missing"
NOTE_PHONE_MISSING_WRITTEN = "no_phone_written_reminder"

# The order of tones, for "the most advanced step" of a customer's invoices
TONE_RANK = {AMICAL: 0, FORMEL: 1, FERME: 2}
# The written reminder standing for a call when the customer has no phone number, by tone
WRITTEN_TEMPLATE_FOR_TONE = {AMICAL: "courteous", FORMEL: "formal", FERME: "formal"}
WRITTEN_CHANNELS = frozenset((EMAIL, LETTER, *POSTAL_CHANNELS))
# NOTE_INTEREST_PROVISIONAL ("interest_provisional:<last day counted>"), from charges: interest counted
# up to the last day a known reference rate covers; the line's `missing_rates` say which half-years wait

ONE_DAY = timedelta(days=1)
# An overdue invoice skipped for one of these reasons is listed all the same in the letter of a
# customer written to that day ("autres montants échus"); a hold, dispute, promise or plan keeps it out
_ALSO_DUE_REASONS = frozenset((WAITING_NEXT_STEP, STEP_DONE_TODAY, SCENARIO_COMPLETE, BELOW_MINIMUM))
_NOTICE_STATUSES = frozenset((SENT, DONE))
_new_skip = tuple.__new__  # a NamedTuple built in C: one Skip per open invoice


class _ScenarioIndex:
	"""One scenario, prepared for one planning run (`cutoff` and `waiting` depend on its day)."""

	__slots__ = (
		"by_due_date",
		"cutoff",
		"first_contact",
		"first_offset",
		"index",
		"keys",
		"nominal",
		"notice_delay",
		"rank",
		"scenario",
		"steps",
		"timing",
		"waiting",
	)

	def __init__(self, scenario: Scenario, settings: PlanSettings):
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
		self.by_due_date = (scenario.catch_up or settings.catch_up) == BY_DUE_DATE
		# The first contact of a customer without history, once the due date has passed: the first
		# written step after the due date that is not a formal notice (-1: the scenario has none)
		self.first_contact = next(
			(
				i
				for i, step in enumerate(scenario.steps)
				if step.channel in WRITTEN_CHANNELS and not step.formal_notice and self.nominal[i] > 0
			),
			-1,
		)
		# The delay given by the scenario's formal notice: a demeure (Québec) begins when it has run out,
		# whichever step is planned afterwards
		self.notice_delay = next((step.notice_days for step in scenario.steps if step.formal_notice), 0)
		# How advanced each step is, to choose the step of a customer's communication of the day
		total = len(scenario.steps)
		self.rank = tuple(
			(step.formal_notice, TONE_RANK.get(step.tone, 0), i / total)
			for i, step in enumerate(scenario.steps)
		)
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
	*,
	outcomes: Iterable[ManualEntry] = (),
	credits: Iterable[Credit] = (),
) -> Plan:
	"""Plan one dunning day. Changes nothing: the result is a value.

	`outcomes`: what was done or learnt outside the planner (dunning.outcomes: reminders sent by
	hand, calls and their outcomes, promises, disputes and holds, registered letters delivered).
	`credits`: the customers' open credit notes and unallocated payments (models.Credit)."""
	# One object per invoice and no reference cycles: pausing the cyclic garbage collector spares it
	# rescanning the whole book again and again while a large plan is built (about a quarter of the
	# time on a million invoices)
	collecting = gc.isenabled()
	gc.disable()
	try:
		return _plan(
			as_of,
			customers,
			invoices,
			history,
			scenarios,
			rates,
			settings,
			promises,
			arrangements,
			outcomes,
			credits,
		)
	finally:
		if collecting:
			gc.enable()


def _plan(
	as_of, customers, invoices, history, scenarios, rates, settings, promises, arrangements, outcomes, credits
) -> Plan:
	invoices = sorted(invoices, key=attrgetter("id"))
	# What was done by hand, and the credits made against an invoice: folded into the plain inputs
	# (history, promises, holds, payments) before anything else, so that the rules stay in one place
	delivered: dict[str, date] = {}
	outcomes = tuple(outcomes)
	if outcomes:
		by_id = {inv.id: inv for inv in invoices}
		applied = apply_outcomes(as_of, outcomes, by_id, customers, scenarios, settings)
		if applied.history:
			history = [*history, *applied.history]
		if applied.promises:
			promises = [*promises, *applied.promises]
		if applied.holds:
			invoices = [
				replace(inv, hold=applied.holds[inv.id]) if inv.id in applied.holds else inv
				for inv in invoices
			]
		delivered = applied.delivered
	credit_pool: dict[tuple[str, str], list[Credit]] = {}
	credits = tuple(credits)
	if credits:
		invoices = _settle_credits(invoices, credits, as_of, credit_pool)
	indexes = {key: _ScenarioIndex(sc, settings) for key, sc in scenarios.items()}
	# A formal notice in the history is one of a formal-notice step (or a step no scenario knows, a
	# manual entry): an adapter may record a whole communication as formal while only some of its
	# invoices were formally demanded
	plain_steps = frozenset(
		step.key for sc in scenarios.values() for step in sc.steps if not step.formal_notice
	) - frozenset(step.key for sc in scenarios.values() for step in sc.steps if step.formal_notice)

	# History, indexed in bulk: the latest entry of each live step per invoice, the first formal
	# notice, and the customers contacted less than `gap` days ago. Read in input order (an adapter
	# reads it in the order it was written): sorting a million rows by day first would cost more
	# than the planning itself, mostly by touching the rows in scattered order
	min_gap = settings.min_gap_days
	gap = max(1, min_gap)  # at most one communication per customer and day, whatever the settings
	recent_from = as_of - timedelta(days=gap - 1)
	done_steps: dict[str, dict[str, HistoryEntry]] = {}
	done_get = done_steps.get
	notices: list[HistoryEntry] = []
	recent: list[HistoryEntry] = []
	for entry in history:
		if entry.status not in DONE_STATUSES:
			continue
		invoice_id = entry.invoice
		steps = done_get(invoice_id)
		if steps is None:
			done_steps[invoice_id] = {entry.step: entry}
		else:
			known = steps.get(entry.step)
			if known is None or entry.day > known.day:
				steps[entry.step] = entry
		if entry.formal_notice and entry.status in _NOTICE_STATUSES:
			notices.append(entry)
		if entry.day >= recent_from and entry.channel != ESCALATION:
			recent.append(entry)
	invoice_customer: dict[str, str] = {}

	def customer_of(entry: HistoryEntry) -> str:
		if entry.customer:
			return entry.customer
		if not invoice_customer:
			invoice_customer.update((inv.id, inv.customer) for inv in invoices)
		return invoice_customer.get(entry.invoice, "")

	# The last contact of each customer contacted less than `gap` days ago (escalations are
	# internal notes: they do not count)
	last_contact: dict[str, date] = {}
	for entry in recent:
		who = customer_of(entry)
		contacted = last_contact.get(who)
		if contacted is None or entry.day > contacted:
			last_contact[who] = entry.day
	# Customers with any history at all: computed when first needed (a first contact held back)
	customers_followed: set[str] | None = None
	# Membership in a set is several times cheaper than a dict lookup on a big book: the fast path
	# below asks only "was this invoice ever followed up?"
	followed = set(done_steps)
	notice_day: dict[str, date] = {}
	for entry in sorted(notices, key=attrgetter("day"), reverse=True):
		if entry.step not in plain_steps:
			notice_day[entry.invoice] = entry.day  # the first formal notice is the one that counts
	for invoice_id, day in delivered.items():
		# Interest that runs from the formal notice runs from its delivery when known (a delivery
		# logged without its sending stands for both)
		sent = notice_day.get(invoice_id)
		if sent is None or day >= sent:
			notice_day[invoice_id] = day

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
	grace = timedelta(days=settings.promise_grace_days)
	step_gap = timedelta(days=gap)
	default_scenario = settings.default_scenario

	skipped: list[Skip] = []
	skip = skipped.append
	# One group per customer and currency (and one more for an escalation, an internal note):
	# its lines, and the most advanced step among them [rank, customer, index, step position]
	groups: dict[tuple[str, str, bool], list[ActionLine]] = {}
	group_info: dict[tuple[str, str, bool], list] = {}
	interest_cache: dict = {}
	# An invoice due after this day has not reached its scenario's first step yet
	for index in indexes.values():
		index.cutoff = as_of - timedelta(days=index.first_offset)

	escalations_possible = bool(promise_of or arrangement_of)
	# Overdue invoices skipped without a step today, for the letters ("autres montants échus")
	also_due: list[Invoice] = []
	also_due_add = also_due.append
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
			if anchor < as_of:
				also_due_add(inv)
			continue
		done = done_get(inv_id)
		steps = index.steps
		last = -1
		last_day = None
		# The day the steps counted from the due date count from: the due date, or later when the
		# first contact came after the step's own date (the scenario keeps its spacing from it)
		base = anchor
		if done:
			keys = index.keys
			for i in range(len(keys) - 1, -1, -1):
				known = done.get(keys[i])
				if known is not None:
					last, last_day = i, known.day
					break
			if not index.by_due_date:
				for i in range(last + 1):
					known = done.get(keys[i])
					if known is not None:
						shifted = known.day - timedelta(days=index.nominal[i])
						if shifted > base:
							base = shifted
						break
		if last == len(steps) - 1:
			skip(new_skip(Skip, (inv_id, customer_id, SCENARIO_COMPLETE, steps[last].key)))
			if anchor < as_of:
				also_due_add(inv)
			continue
		if last_day is not None and last_day >= as_of:
			# Already acted today: say which step comes next, and when
			day = last_day + step_gap
			from_previous, offset = index.timing[last + 1]
			day = max(day, (last_day if from_previous else base) + offset)
			detail = f"{steps[last + 1].key}@{day.isoformat()}"
			if done[keys[last]].status == UNKNOWN:
				# Today's email may or may not have gone out: a person must check, not "done"
				skip(Skip(inv_id, customer_id, SEND_UNCERTAIN, f"{keys[last]}@{last_day.isoformat()}"))
				continue
			skip(new_skip(Skip, (inv_id, customer_id, STEP_DONE_TODAY, detail)))
			if anchor < as_of:
				also_due_add(inv)
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
				day = base + offset
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
		first_note = None
		first = index.first_contact
		if last == -1 and chosen > first >= 0 and as_of > anchor:
			# Never followed up, and the calendar would open with a later step
			if customers_followed is None:
				# A history entry, a promise or an arrangement: the customer was spoken to
				customers_followed = {
					customer_of(next(iter(entries.values()))) for entries in done_steps.values()
				}
				for invoice_id in (*promise_of, *arrangement_of):
					other = invoices_by_id.get(invoice_id)
					if other is not None:
						customers_followed.add(other.customer)
			if customer_id in customers_followed:
				pass  # the conversation is under way: this invoice catches up by its due date
			elif index.by_due_date:
				first_note = f"{NOTE_CAUGHT_UP_BY_DUE_DATE}:{','.join(index.keys[:chosen])}"
			else:
				chosen = first
				first_note = f"{NOTE_FIRST_CONTACT}:{as_of.isoformat()}"
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
				if anchor < as_of:
					also_due_add(inv)
			continue

		if min_amount and open_amount < min_amount:
			skip(new_skip(Skip, (inv_id, customer_id, BELOW_MINIMUM, str(min_amount))))
			if anchor < as_of:
				also_due_add(inv)
			continue
		if last_contact:
			contacted = last_contact.get(customer_id)
			if contacted is not None and (as_of - contacted).days < gap:
				skip(Skip(inv_id, customer_id, MIN_GAP, (contacted + step_gap).isoformat()))
				continue

		step = steps[chosen]
		extra_notes: tuple[str, ...] = ()
		if first_note is not None:
			extra_notes = (first_note,)
		elif chosen > last + 1:
			extra_notes = (f"{NOTE_STEPS_SKIPPED}:{','.join(index.keys[last + 1 : chosen])}",)
		if escalate_note:
			extra_notes = (*extra_notes, escalate_note)
		line = _line(
			inv,
			customer,
			step,
			as_of,
			anchor,
			rates,
			notice_day.get(inv_id),
			extra_notes,
			interest_cache,
			index.notice_delay,
		)
		key = (customer_id, inv.currency, step.channel == ESCALATION)
		lines = groups.get(key)
		rank = index.rank[chosen]
		if lines is None:
			groups[key] = [line]
			group_info[key] = [rank, customer, index, chosen]
		else:
			lines.append(line)
			info = group_info[key]
			if rank > info[0]:
				info[0], info[2], info[3] = rank, index, chosen

	# The other overdue invoices of each customer written to today, in the same currency
	others: dict[tuple[str, str, bool], list[ActionLine]] = {}
	written_to = {key[0] for key in groups if not key[2]}
	for inv in also_due:
		if inv.customer not in written_to:
			continue  # most of a book: a customer not written to today
		key = (inv.customer, inv.currency, False)
		if key in groups:
			anchor = inv.instalments[0].due if not inv.payments and len(inv.instalments) == 1 else None
			anchor = anchor or _oldest_unpaid_due(inv)
			others.setdefault(key, []).append(_also_due_line(inv, anchor, as_of))
	# The credits: deducted from what the letter asks; a customer whose credits cover every overdue
	# amount in the currency is not reminded (nor escalated)
	covered: set[tuple[str, str]] = set()
	if credit_pool:
		for key in groups:
			pool = credit_pool.get(key[:2])
			if pool is None or key[2]:
				continue
			owed = sum((line.outstanding for line in groups[key]), ZERO) + sum(
				(line.outstanding for line in others.get(key, ())), ZERO
			)
			if sum((c.amount for c in pool), ZERO) >= owed:
				covered.add(key[:2])
		for key in sorted(groups):
			if key[:2] in covered:
				detail = str(sum((c.amount for c in credit_pool[key[:2]]), ZERO))
				for line in groups[key]:
					skip(Skip(line.invoice, key[0], CREDITS_COVER, detail))
	actions = [
		_action(
			key,
			group_info[key],
			groups[key],
			as_of,
			settings,
			done_steps,
			tuple(others.get(key, ())),
			tuple(credit_pool.get(key[:2], ())) if not key[2] else (),
		)
		for key in sorted(groups)
		if key[:2] not in covered
	]
	# The half-years whose reference rate is not known yet, for the lines counted up to their eve
	missing = {rate for action in actions for line in action.lines for rate in line.missing_rates}
	return Plan(
		as_of=as_of,
		actions=tuple(actions),
		skipped=tuple(skipped),
		provisional=tuple(sorted(missing)),
	)


def _settle_credits(
	invoices: list[Invoice],
	credits: tuple[Credit, ...],
	as_of: date,
	pool: dict[tuple[str, str], list[Credit]],
) -> list[Invoice]:
	"""A credit note made against an invoice settles it first (a payment on the credit's day); what is
	left of it, and every other credit, goes to the customer's pool in its currency (to deduct)."""
	by_id = {inv.id: i for i, inv in enumerate(invoices)}
	invoices = list(invoices)
	ordered = sorted(
		credits, key=lambda c: (c.customer, c.currency, c.day or date.min, c.reference, c.against_invoice)
	)
	for credit in ordered:
		if credit.amount <= ZERO or (credit.day is not None and credit.day > as_of):
			continue  # nothing to deduct, or not issued yet on the planning day
		left = credit.amount
		position = by_id.get(credit.against_invoice) if credit.against_invoice else None
		if position is not None:
			inv = invoices[position]
			if inv.customer == credit.customer and inv.currency == credit.currency and inv.outstanding > ZERO:
				take = min(left, inv.outstanding)
				day = credit.day or inv.issued
				invoices[position] = replace(inv, payments=(*inv.payments, Payment(day, take)))
				left -= take
		if left > ZERO:
			pool.setdefault((credit.customer, credit.currency), []).append(
				credit if left == credit.amount else replace(credit, amount=left)
			)
	return invoices


def _also_due_line(inv: Invoice, anchor: date, as_of: date) -> ActionLine:
	"""An overdue invoice listed in a letter without a step of its own: its principal only."""
	overdue, _ = overdue_outstanding(inv, as_of)
	return ActionLine(
		invoice=inv.id,
		step="",
		due=anchor,
		days_late=(as_of - anchor).days,
		outstanding=round_money(overdue, inv.currency),
		interest=ZERO,
		indemnity=ZERO,
		section=SECTION_ALSO_DUE,
	)


def _action(key, info, lines, as_of, settings, done_steps, also_due=(), credits=()) -> Action:
	"""The day's communication of a customer in a currency, at its most advanced step."""
	_, customer, index, position = info
	step = index.steps[position]
	currency = key[1]
	channel, template = step.channel, step.template
	notes: list[str] = []
	tasks: list[str] = []
	if channel == PHONE and not customer.phone:
		# No number to call: a person looks for it, and the customer gets the same words in writing
		tasks.append(TASK_FIND_PHONE)
		notes.append(NOTE_PHONE_MISSING_WRITTEN)
		channel, template = EMAIL, _written_template(index, position)
	if channel == EMAIL and not customer.email:
		channel = LETTER
		notes.append(NOTE_EMAIL_MISSING_LETTER)
	if channel in POSTAL_CHANNELS and not customer.address:
		# Written all the same, with a visible block for the address a person completes
		tasks.append(TASK_COMPLETE_ADDRESS)
		notes.append(NOTE_ADDRESS_MISSING)
	fee = ZERO
	if step.fee:
		if fee_allowed(customer):
			fee = round_money(step.fee, currency)
		else:
			notes.append(NOTE_FEE_NOT_ALLOWED)
	pay_by = None
	if channel != ESCALATION and channel != PHONE and (step.tone != AMICAL or step.formal_notice):
		pay_by = as_of + timedelta(days=step.notice_days or settings.payment_days)
	previous: dict[tuple, Contact] = {}
	for line in lines:
		for entry in (done_steps.get(line.invoice) or {}).values():
			if entry.channel == ESCALATION or entry.day >= as_of:
				continue
			contact_key = (entry.day, entry.channel, entry.reference)
			if contact_key not in previous or entry.formal_notice:
				previous[contact_key] = Contact(
					entry.day, entry.channel, entry.step, entry.reference, entry.formal_notice
				)
	return Action(
		customer=customer.id,
		customer_name=customer.name,
		scenario=index.scenario.key,
		step=step.key,
		step_label=step.label,
		channel=channel,
		tone=step.tone,
		template=template,
		currency=currency,
		language=customer.language,
		regime=customer.regime,
		customer_kind=customer.kind,
		formal_notice=step.formal_notice,
		notice_days=step.notice_days,
		lines=tuple(lines),
		fee=fee,
		notify=step.notify,
		contract_rate=customer.contract_rate,
		notes=tuple(notes),
		pay_by=pay_by,
		previous=tuple(previous[k] for k in sorted(previous, key=lambda k: (k[0], k[1], k[2]))),
		tasks=tuple(tasks),
		also_due=tuple(line for line in also_due if line.outstanding > ZERO),
		credits=credits,
	)


def _written_template(index: _ScenarioIndex, position: int) -> str:
	"""The written reminder standing for a call: the scenario's latest written step before it of the
	same tone that is not a formal notice, else the built-in reminder of that tone."""
	tone = index.steps[position].tone
	for step in reversed(index.steps[:position]):
		if step.channel in WRITTEN_CHANNELS and step.tone == tone and not step.formal_notice:
			return step.template
	return WRITTEN_TEMPLATE_FOR_TONE.get(tone, "formal")


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
	notice_delay: int = 0,
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
	segments = ()
	if step.claim_interest and late > 0:
		# The delay the formal notice gave (a later step gives none of its own)
		delay = step.notice_days if step.formal_notice else (step.notice_days or notice_delay)
		accrual = accrued_interest(inv, customer, as_of, rates, notice, delay, interest_cache)
		interest, interest_from, periods = accrual.amount, accrual.start, accrual.periods
		segments = accrual.segments
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
	if step.formal_notice or notice is not None:
		section = SECTION_DEMANDED
	elif late > 0:
		section = SECTION_PAST_DUE
	else:
		section = SECTION_NOT_DUE
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
		formal_notice=step.formal_notice,
		section=section,
		interest_until=until,
		missing_rates=missing,
		segments=segments,
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
	*,
	outcomes: Iterable[ManualEntry] = (),
	credits: Iterable[Credit] = (),
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
	outcomes = tuple(outcomes)
	credits = tuple(credits)
	plans = []
	for offset in range(days):
		day = as_of + timedelta(days=offset)
		result = plan(
			day,
			customers,
			invoices,
			history,
			scenarios,
			rates,
			settings,
			promises,
			arrangements,
			outcomes=outcomes,
			credits=credits,
		)
		plans.append(result)
		history.extend(
			HistoryEntry(
				invoice=line.invoice,
				step=line.step,
				day=day,
				status=SENT,
				channel=action.channel,
				formal_notice=line.formal_notice,
				customer=action.customer,
			)
			for action in result.actions
			for line in action.lines
		)
	return tuple(plans)
