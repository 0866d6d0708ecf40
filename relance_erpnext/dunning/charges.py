"""Late interest and the fixed recovery indemnity, as French and Québec law set them.

France, business to business (C. com. L441-10 II, D441-5): penalties run from the day after the due
date without any reminder, at the ECB main refinancing rate in force on 1 January (for January to
June) or 1 July (July to December) + 10 points; an agreed rate is honoured but may not be below three
times the legal interest rate; plus 40 EUR per invoice paid late.
France, consumers (C. civ. 1231-6, C. consom.): interest at the legal rate only from the mise en
demeure; no indemnity, no fees.
Québec (C.c.Q. 1617, 1595; Interest Act s.3-4): the agreed rate, else the legal rate (5 %), from the
demeure, i.e. once the delay given in the written demand has run out; no fixed indemnity.

Interest is simple, on a 365-day year, computed exactly per outstanding segment and per rate period,
then rounded once per invoice.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from .errors import RateMissing
from .models import (
	BUSINESS,
	REGIME_FR,
	REGIME_QC,
	ZERO,
	ActionLine,
	ContractRate,
	Customer,
	Invoice,
	RatePeriod,
)
from .money import round_money
from .rates import ReferenceRates

FR_B2B_INDEMNITY = Decimal("40.00")
FR_B2B_MARGIN = Decimal("10")
FR_FLOOR_MULTIPLIER = Decimal("3")
YEAR_DAYS = Decimal("365")
ONE_DAY = timedelta(days=1)

# Why a rate applies, for the letter and the log
BASIS_ECB_PLUS_10 = "ecb_plus_10"
BASIS_CONTRACT = "contract"
BASIS_FLOOR_3X_LEGAL = "floor_3x_legal"
BASIS_FR_LEGAL = "fr_legal"
BASIS_QC_LEGAL = "qc_legal"


def instalment_balances(invoice: Invoice) -> list[tuple[date, Decimal, list[tuple[date, Decimal]]]]:
	"""For each instalment: its due date, amount and the payments allocated to it.

	Payments are applied in date order to the oldest instalment first (FIFO), as a payment schedule
	is settled.
	"""
	remaining = [[inst.due, inst.amount, []] for inst in sorted(invoice.instalments, key=lambda i: i.due)]
	index = 0
	for payment in sorted(invoice.payments, key=lambda p: p.day):
		left = payment.amount
		while left > 0 and index < len(remaining):
			due, amount, allocated = remaining[index]
			open_amount = amount - sum((a for _, a in allocated), ZERO)
			if open_amount <= 0:
				index += 1
				continue
			take = min(left, open_amount)
			allocated.append((payment.day, take))
			left -= take
			if take == open_amount:
				index += 1
	return [(due, amount, allocated) for due, amount, allocated in remaining]


def overdue_outstanding(invoice: Invoice, as_of: date) -> tuple[Decimal, date | None]:
	"""What is due and unpaid on `as_of`, and the oldest unpaid due date (None when nothing is)."""
	if not invoice.payments and len(invoice.instalments) == 1:
		inst = invoice.instalments[0]
		return (inst.amount, inst.due) if inst.due < as_of and inst.amount > 0 else (ZERO, None)
	total = ZERO
	oldest = None
	for due, amount, allocated in instalment_balances(invoice):
		if due >= as_of:
			continue
		paid = sum((a for day, a in allocated if day <= as_of), ZERO)
		if amount - paid > 0:
			total += amount - paid
			if oldest is None:
				oldest = due
	return total, oldest


def rate_periods(
	customer: Customer, start: date, end: date, rates: ReferenceRates
) -> list[tuple[date, date, Decimal, str]]:
	"""The annual rate (percent) over [start, end], cut where a reference rate changes.

	Raises RateMissing when a day of the range is outside a table the regime needs.
	"""
	if end < start:
		return []
	tables = _tables_for(customer, rates)
	for table in tables:
		first, last = table.covered
		if start < first:
			raise RateMissing(table.name, start, table.covered)
		if last is not None and end > last:
			raise RateMissing(table.name, max(start, last + ONE_DAY), table.covered)
	cuts = sorted({start, *[b for table in tables for b in table.boundaries(start, end)]})
	periods = []
	for i, period_start in enumerate(cuts):
		period_end = cuts[i + 1] - ONE_DAY if i + 1 < len(cuts) else end
		rate, basis = annual_rate(customer, period_start, rates)
		periods.append((period_start, period_end, rate, basis))
	return periods


def _tables_for(customer: Customer, rates: ReferenceRates):
	if customer.regime == REGIME_QC:
		return [] if customer.contract_rate else [rates.qc_legal]
	if customer.kind == BUSINESS and customer.contract_rate is None:
		return [rates.ecb_refi]
	return [rates.fr_legal]


def annual_rate(customer: Customer, day: date, rates: ReferenceRates) -> tuple[Decimal, str]:
	"""The annual late-interest rate (percent) that applies to this customer on `day`, and its basis."""
	contract: ContractRate | None = customer.contract_rate
	if customer.regime == REGIME_QC:
		if contract is not None:
			return contract.annual, BASIS_CONTRACT
		return rates.qc_legal.rate_on(day), BASIS_QC_LEGAL
	if customer.kind == BUSINESS:
		if contract is None:
			return rates.ecb_refi.rate_on(day) + FR_B2B_MARGIN, BASIS_ECB_PLUS_10
		floor = FR_FLOOR_MULTIPLIER * rates.fr_legal.rate_on(day)
		if contract.annual < floor:
			return floor, BASIS_FLOOR_3X_LEGAL
		return contract.annual, BASIS_CONTRACT
	return rates.fr_legal.rate_on(day), BASIS_FR_LEGAL


def interest_start(customer: Customer, due: date, notice_day: date | None, notice_days: int) -> date | None:
	"""First day interest runs on an amount due on `due`; None when it does not run yet.

	FR business: the day after the due date. FR consumer: the day after the mise en demeure.
	Québec: the day after the delay given by the demand has run out (the demeure).
	"""
	if customer.regime == REGIME_FR and customer.kind == BUSINESS:
		return due + ONE_DAY
	if notice_day is None:
		return None
	start = notice_day + ONE_DAY
	if customer.regime == REGIME_QC:
		start += timedelta(days=notice_days)
	return max(start, due + ONE_DAY)


def late_interest(
	invoice: Invoice,
	customer: Customer,
	as_of: date,
	rates: ReferenceRates,
	notice_day: date | None = None,
	notice_days: int = 0,
	cache: dict | None = None,
) -> tuple[Decimal, date | None, tuple[RatePeriod, ...]]:
	"""Interest due on `as_of` for this invoice, rounded once to the cent, with the rate periods used.

	Each instalment accrues from its own start day on its own unpaid balance; a payment made on day P
	stops accrual on what it paid from P + 1. `cache` (a dict kept for one planning run) shares the
	rate periods between invoices with the same regime, start day and date.
	"""
	if len(invoice.instalments) == 1 and not invoice.payments:
		# One amount, one due date, nothing paid: amount x sum(rate x days) / 36500
		inst = invoice.instalments[0]
		start = interest_start(customer, inst.due, notice_day, notice_days)
		if start is None or start > as_of or inst.amount <= 0:
			return ZERO, None, ()
		key = (customer.regime, customer.kind, customer.contract_rate, start, as_of)
		known = cache.get(key) if cache is not None else None
		if known is None:
			raw = rate_periods(customer, start, as_of, rates)
			factor = sum((rate * ((end - begin).days + 1) for begin, end, rate, _ in raw), ZERO)
			known = (factor, _merge_periods(raw))
			if cache is not None:
				cache[key] = known
		factor, periods = known
		return round_money(inst.amount * factor / (100 * YEAR_DAYS), invoice.currency), start, periods
	exact = ZERO
	first_start = None
	used: list[tuple[date, date, Decimal, str]] = []
	for due, amount, allocated in instalment_balances(invoice):
		start = interest_start(customer, due, notice_day, notice_days)
		if start is None or start > as_of:
			continue
		balance_cuts = sorted({day + ONE_DAY for day, _ in allocated if start < day + ONE_DAY <= as_of})
		for period_start, period_end, rate, basis in rate_periods(customer, start, as_of, rates):
			cuts = [period_start, *[c for c in balance_cuts if period_start < c <= period_end]]
			for i, seg_start in enumerate(cuts):
				seg_end = cuts[i + 1] - ONE_DAY if i + 1 < len(cuts) else period_end
				balance = amount - sum((a for day, a in allocated if day < seg_start), ZERO)
				if balance <= 0:
					continue
				days = (seg_end - seg_start).days + 1
				exact += balance * rate * days / (100 * YEAR_DAYS)
				if first_start is None or seg_start < first_start:
					first_start = seg_start
			used.append((period_start, period_end, rate, basis))
	return round_money(exact, invoice.currency), first_start, _merge_periods(used)


def _merge_periods(periods: list[tuple[date, date, Decimal, str]]) -> tuple[RatePeriod, ...]:
	"""One display period per run of days at the same rate (instalments' periods overlap)."""
	merged: list[list] = []
	for start, end, rate, basis in sorted(periods):
		last = merged[-1] if merged else None
		if last and last[2] == rate and last[3] == basis and start <= last[1] + ONE_DAY:
			last[1] = max(last[1], end)
		else:
			merged.append([start, end, rate, basis])
	return tuple(RatePeriod(start=s, end=e, days=(e - s).days + 1, rate=r, basis=b) for s, e, r, b in merged)


def recovery_indemnity(invoice: Invoice, customer: Customer, late: int) -> tuple[Decimal, str | None]:
	"""The 40 EUR fixed indemnity (FR business only, once per invoice paid late), and a note if withheld."""
	if late <= 0 or customer.regime != REGIME_FR or customer.kind != BUSINESS:
		return ZERO, None
	if invoice.currency.upper() != "EUR":
		return ZERO, "indemnity_eur_only"
	return FR_B2B_INDEMNITY, None


PENALTY_STEP = "penalty_claim"


def penalty_claim(
	invoice: Invoice,
	customer: Customer,
	letter_day: date,
	rates: ReferenceRates,
	notice_day: date | None = None,
	notice_days: int = 0,
) -> ActionLine | None:
	"""The late-payment penalties of one invoice claimed on their own (a final letter or a penalty
	invoice): interest up to its last payment when it is settled, else up to `letter_day`, and the
	indemnity. None when nothing is due (paid on time, or a consumer never put on notice)."""
	last_payment = max((p.day for p in invoice.payments), default=None)
	settled = invoice.outstanding <= ZERO
	until = last_payment if settled and last_payment is not None else letter_day
	interest, start, periods = late_interest(invoice, customer, until, rates, notice_day, notice_days)
	late = (until - invoice.due).days
	indemnity, note = recovery_indemnity(invoice, customer, late)
	if interest <= ZERO and indemnity <= ZERO:
		return None
	return ActionLine(
		invoice=invoice.id,
		step=PENALTY_STEP,
		due=invoice.due,
		days_late=late,
		outstanding=max(round_money(invoice.outstanding, invoice.currency), ZERO),
		interest=interest,
		indemnity=indemnity,
		interest_from=start,
		periods=periods,
		notes=(note,) if note else (),
	)


def fee_allowed(customer: Customer) -> bool:
	"""No collection fee may be charged to a French consumer (C. consom. / L. 124 loi 1991 art. 32)."""
	return not (customer.regime == REGIME_FR and customer.kind != BUSINESS)
