"""The weekly overview for the finance lead (seed 000, steps 3 and 8; DESIGN.md "who supervises").

Late invoices by delay bucket, what comes due this week (the planner's own forecast, see
`planner.plan_ahead`), the promises falling due, holds and disputes, and totals per bucket and per
customer. Every total is per currency: EUR and CAD are never added together.

Pure: plain data in, a value out. The `relance overview` command and the ERPNext app only format it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from .charges import overdue_outstanding
from .dates import DEFAULT_BUCKETS, bucket, bucket_labels, days_late
from .models import ZERO, Customer, Invoice, MissingRate, Plan, Promise
from .money import round_money
from .planner import next_steps


@dataclass(frozen=True, slots=True)
class LateInvoice:
	"""An invoice with an amount past due on the day of the overview."""

	invoice: str
	customer: str
	customer_name: str
	currency: str
	due: date  # the oldest due date still unpaid (an instalment's, for a payment schedule)
	days_late: int
	bucket: str
	late_amount: Decimal  # due and unpaid on that day: what the buckets add up
	outstanding: Decimal  # everything still unpaid, later instalments included
	hold: str  # "", "hold" or "dispute" when one is active on that day
	next_step: str  # the step due today, or the next one ("" when none is known)
	next_day: date | None


@dataclass(frozen=True, slots=True)
class BucketTotal:
	currency: str
	bucket: str
	invoices: int
	amount: Decimal


@dataclass(frozen=True, slots=True)
class CurrencyTotal:
	currency: str
	invoices: int
	amount: Decimal


@dataclass(frozen=True, slots=True)
class CustomerTotal:
	customer: str
	customer_name: str
	currency: str
	invoices: int
	by_bucket: tuple[Decimal, ...]  # in the order of Overview.buckets
	total: Decimal
	oldest_days_late: int


@dataclass(frozen=True, slots=True)
class WeekAction:
	"""An action of the plan of one day of the week (today's, or the forecast of a later day)."""

	day: date
	customer: str
	customer_name: str
	scenario: str
	step: str
	step_label: str
	channel: str
	currency: str
	invoices: tuple[str, ...]
	outstanding: Decimal
	total: Decimal  # with the interest, indemnity and fee computed for that day


@dataclass(frozen=True, slots=True)
class PromiseDue:
	"""A payment promise falling due this week, on invoices still open (one row per currency)."""

	due: date
	customer: str
	customer_name: str
	currency: str
	invoices: tuple[str, ...]
	promised: Decimal | None  # None: everything (or an amount over several currencies)
	outstanding: Decimal
	made_on: date | None


@dataclass(frozen=True, slots=True)
class HeldInvoice:
	"""An open invoice whose follow-up is stopped by a hold or a dispute (its own or its customer's)."""

	invoice: str
	customer: str
	customer_name: str
	currency: str
	kind: str  # "hold" or "dispute"
	on_customer: bool  # the hold is the customer's, not the invoice's
	reason: str
	until: date | None
	due: date
	days_late: int  # 0 or less when not yet due
	outstanding: Decimal


@dataclass(frozen=True, slots=True)
class Overview:
	as_of: date
	until: date  # last day of the week covered (as_of + days - 1)
	buckets: tuple[str, ...]
	late: tuple[LateInvoice, ...]
	bucket_totals: tuple[BucketTotal, ...]  # every bucket of every currency with a late invoice
	currency_totals: tuple[CurrencyTotal, ...]
	customer_totals: tuple[CustomerTotal, ...]
	actions: tuple[WeekAction, ...]
	promises: tuple[PromiseDue, ...]
	holds: tuple[HeldInvoice, ...]
	errors: tuple[str, ...]
	# Half-years of rate tables some action of the week needed and did not find (provisional interest)
	provisional: tuple[MissingRate, ...] = ()


def build_overview(
	as_of: date,
	customers: Mapping[str, Customer],
	invoices: Iterable[Invoice],
	plans: Sequence[Plan],
	promises: Iterable[Promise] = (),
	bounds: tuple[int, ...] = DEFAULT_BUCKETS,
) -> Overview:
	"""The overview of the week starting on `as_of`.

	`plans` are the plans of the days of the week, today's first (`planner.plan_ahead`); the week
	has as many days as there are plans. Amounts are rounded once per invoice, then added.
	"""
	if not plans or plans[0].as_of != as_of:
		raise ValueError("plans must start with the plan of as_of (see planner.plan_ahead)")
	labels = bucket_labels(bounds)
	until = as_of + timedelta(days=len(plans) - 1)
	upcoming = next_steps(plans[0])
	invoices = sorted(invoices, key=lambda inv: inv.id)
	open_invoices = [inv for inv in invoices if not inv.cancelled and inv.outstanding > ZERO]

	def name_of(customer_id: str) -> str:
		customer = customers.get(customer_id)
		return customer.name if customer is not None else customer_id

	def active_hold(inv: Invoice):
		customer = customers.get(inv.customer)
		hold = inv.hold or (customer.hold if customer is not None else None)
		return hold if hold is not None and hold.active_on(as_of) else None

	late: list[LateInvoice] = []
	holds: list[HeldInvoice] = []
	for inv in open_invoices:
		hold = active_hold(inv)
		overdue, oldest = overdue_outstanding(inv, as_of)
		outstanding = round_money(inv.outstanding, inv.currency)
		if hold is not None:
			due = oldest or inv.due
			holds.append(
				HeldInvoice(
					invoice=inv.id,
					customer=inv.customer,
					customer_name=name_of(inv.customer),
					currency=inv.currency,
					kind=hold.kind,
					on_customer=inv.hold is None,
					reason=hold.reason,
					until=hold.until,
					due=due,
					days_late=days_late(due, as_of),
					outstanding=outstanding,
				)
			)
		if overdue <= ZERO or oldest is None:
			continue
		late_days = days_late(oldest, as_of)
		step, day = upcoming.get(inv.id, ("", None))
		late.append(
			LateInvoice(
				invoice=inv.id,
				customer=inv.customer,
				customer_name=name_of(inv.customer),
				currency=inv.currency,
				due=oldest,
				days_late=late_days,
				bucket=bucket(late_days, bounds),
				late_amount=round_money(overdue, inv.currency),
				outstanding=outstanding,
				hold=hold.kind if hold is not None else "",
				next_step=step,
				next_day=day,
			)
		)
	late.sort(key=lambda row: (-row.days_late, row.invoice))
	holds.sort(key=lambda row: (row.kind, -row.days_late, row.invoice))

	return Overview(
		as_of=as_of,
		until=until,
		buckets=labels,
		late=tuple(late),
		bucket_totals=_bucket_totals(late, labels),
		currency_totals=_currency_totals(late),
		customer_totals=_customer_totals(late, labels),
		actions=_week_actions(plans),
		promises=_promises_due(promises, open_invoices, as_of, until, name_of),
		holds=tuple(holds),
		errors=tuple(dict.fromkeys(error for result in plans for error in result.errors)),
		provisional=tuple(sorted({m for result in plans for m in result.provisional})),
	)


def _bucket_totals(late: list[LateInvoice], labels: tuple[str, ...]) -> tuple[BucketTotal, ...]:
	counts: dict[tuple[str, str], int] = defaultdict(int)
	amounts: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
	for row in late:
		counts[row.currency, row.bucket] += 1
		amounts[row.currency, row.bucket] += row.late_amount
	# Every bucket of each currency, empty ones included: a table with a missing row misleads
	return tuple(
		BucketTotal(currency, label, counts[currency, label], amounts[currency, label])
		for currency in sorted({row.currency for row in late})
		for label in labels
	)


def _currency_totals(late: list[LateInvoice]) -> tuple[CurrencyTotal, ...]:
	counts: dict[str, int] = defaultdict(int)
	amounts: dict[str, Decimal] = defaultdict(Decimal)
	for row in late:
		counts[row.currency] += 1
		amounts[row.currency] += row.late_amount
	return tuple(CurrencyTotal(currency, counts[currency], amounts[currency]) for currency in sorted(counts))


def _customer_totals(late: list[LateInvoice], labels: tuple[str, ...]) -> tuple[CustomerTotal, ...]:
	rows: dict[tuple[str, str], list[LateInvoice]] = defaultdict(list)
	for row in late:
		rows[row.customer, row.currency].append(row)
	totals = []
	for (customer, currency), own in rows.items():
		by_bucket = {label: ZERO for label in labels}
		for row in own:
			by_bucket[row.bucket] += row.late_amount
		totals.append(
			CustomerTotal(
				customer=customer,
				customer_name=own[0].customer_name,
				currency=currency,
				invoices=len(own),
				by_bucket=tuple(by_bucket[label] for label in labels),
				total=sum((row.late_amount for row in own), ZERO),
				oldest_days_late=max(row.days_late for row in own),
			)
		)
	# Per currency, the largest amounts first: who to call first
	totals.sort(key=lambda t: (t.currency, -t.total, t.customer_name, t.customer))
	return tuple(totals)


def _week_actions(plans: Sequence[Plan]) -> tuple[WeekAction, ...]:
	return tuple(
		WeekAction(
			day=result.as_of,
			customer=action.customer,
			customer_name=action.customer_name,
			scenario=action.scenario,
			step=action.step,
			step_label=action.step_label,
			channel=action.channel,
			currency=action.currency,
			invoices=action.invoices,
			outstanding=action.outstanding,
			total=action.total,
		)
		for result in plans
		for action in result.actions
	)


def _promises_due(
	promises: Iterable[Promise], open_invoices: list[Invoice], as_of: date, until: date, name_of
) -> tuple[PromiseDue, ...]:
	by_id = {inv.id: inv for inv in open_invoices}
	rows = []
	for promise in promises:
		if not as_of <= promise.due <= until:
			continue
		still_open = [by_id[i] for i in promise.invoices if i in by_id]
		if not still_open:
			continue  # paid (or cancelled) meanwhile: nothing to watch
		per_currency: dict[str, list[Invoice]] = defaultdict(list)
		for inv in still_open:
			per_currency[inv.currency].append(inv)
		for currency, own in sorted(per_currency.items()):
			rows.append(
				PromiseDue(
					due=promise.due,
					customer=own[0].customer,
					customer_name=name_of(own[0].customer),
					currency=currency,
					invoices=tuple(inv.id for inv in own),
					# An amount has no currency of its own: shown only when the promise has one currency
					promised=promise.amount if len(per_currency) == 1 else None,
					outstanding=sum((round_money(inv.outstanding, currency) for inv in own), ZERO),
					made_on=promise.made_on,
				)
			)
	rows.sort(key=lambda row: (row.due, row.customer_name, row.currency, row.invoices))
	return tuple(rows)
