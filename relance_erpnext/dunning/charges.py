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
then rounded once per invoice. A day whose reference rate is not published yet (or not yet in the
table) is left out: the interest is then provisional, counted up to the last day a known rate covers,
and says which half-years it waits for. A missing figure never stops a reminder.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from .models import (
	BUSINESS,
	REGIME_FR,
	REGIME_QC,
	ZERO,
	ActionLine,
	ContractRate,
	Customer,
	InterestSegment,
	Invoice,
	MissingRate,
	RatePeriod,
)
from .money import round_money
from .rates import ReferenceRates, merge_missing

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
) -> tuple[list[tuple[date, date, Decimal, str]], tuple[MissingRate, ...]]:
	"""The annual rate (percent) over the days of [start, end] whose reference rates are known, cut
	where a rate changes; and the half-years of the tables the regime needs that are not known yet.

	A missing half-year never stops the computation: its days are left out (the interest is then
	provisional, to be completed once the table holds them)."""
	if end < start:
		return [], ()
	tables = _tables_for(customer, rates)
	known_start, known_end = start, end
	missing: list[MissingRate] = []
	for table in tables:
		gaps = table.missing(start, end)
		if gaps:
			missing.extend(gaps)
			first, last = table.covered
			known_start = max(known_start, first)
			if last is not None:
				known_end = min(known_end, last)
	if known_end < known_start:
		return [], merge_missing(missing)
	cuts = sorted({known_start, *[b for table in tables for b in table.boundaries(known_start, known_end)]})
	periods = []
	for i, period_start in enumerate(cuts):
		period_end = cuts[i + 1] - ONE_DAY if i + 1 < len(cuts) else known_end
		rate, basis = annual_rate(customer, period_start, rates)
		periods.append((period_start, period_end, rate, basis))
	return periods, merge_missing(missing)


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


class Accrual(NamedTuple):
	"""Late interest of one invoice on a day: the amount (rounded once), the first day it runs, the
	rate periods used, the last day counted, and the half-years of rates not known yet (when not empty,
	the amount is provisional: counted up to `until` only)."""

	amount: Decimal
	start: date | None
	periods: tuple[RatePeriod, ...]
	until: date | None = None
	missing: tuple[MissingRate, ...] = ()
	# The same interest by base and rate (what the letter shows so that it can be recomputed)
	segments: tuple[InterestSegment, ...] = ()


def late_interest(
	invoice: Invoice,
	customer: Customer,
	as_of: date,
	rates: ReferenceRates,
	notice_day: date | None = None,
	notice_days: int = 0,
	cache: dict | None = None,
) -> tuple[Decimal, date | None, tuple[RatePeriod, ...]]:
	"""Interest due on `as_of` for this invoice, rounded once to the cent, with the rate periods used
	(`accrued_interest` also says whether it is provisional)."""
	return accrued_interest(invoice, customer, as_of, rates, notice_day, notice_days, cache)[:3]


def accrued_interest(
	invoice: Invoice,
	customer: Customer,
	as_of: date,
	rates: ReferenceRates,
	notice_day: date | None = None,
	notice_days: int = 0,
	cache: dict | None = None,
) -> Accrual:
	"""Interest due on `as_of` for this invoice, rounded once to the cent.

	Each instalment accrues from its own start day on its own unpaid balance; a payment made on day P
	stops accrual on what it paid from P + 1. Days whose reference rate is not known yet are left out
	and reported (`Accrual.missing`, `Accrual.until`). `cache` (a dict kept for one planning run)
	shares the rate periods between invoices with the same regime, start day and date.
	"""
	if len(invoice.instalments) == 1 and not invoice.payments:
		# One amount, one due date, nothing paid: amount x sum(rate x days) / 36500
		inst = invoice.instalments[0]
		start = interest_start(customer, inst.due, notice_day, notice_days)
		if start is None or start > as_of or inst.amount <= 0:
			return Accrual(ZERO, None, ())
		key = (customer.regime, customer.kind, customer.contract_rate, start, as_of)
		known = cache.get(key) if cache is not None else None
		if known is None:
			raw, missing = rate_periods(customer, start, as_of, rates)
			factor = sum((rate * ((end - begin).days + 1) for begin, end, rate, _ in raw), ZERO)
			known = (factor, _merge_periods(raw), _until(raw, start, as_of, missing), missing)
			if cache is not None:
				cache[key] = known
		factor, periods, until, missing = known
		amount = round_money(inst.amount * factor / (100 * YEAR_DAYS), invoice.currency)
		base = inst.amount
		segments = tuple(
			InterestSegment(
				p.start, p.end, p.days, base, p.rate, p.basis, base * p.rate * p.days / (100 * YEAR_DAYS)
			)
			for p in periods
		)
		return Accrual(amount, start, periods, until, missing, segments)
	exact = ZERO
	first_start = None
	legal_start = None
	used: list[tuple[date, date, Decimal, str]] = []
	bearing: list[tuple[date, date, Decimal, Decimal, str]] = []
	missing: list[MissingRate] = []
	for due, amount, allocated in instalment_balances(invoice):
		start = interest_start(customer, due, notice_day, notice_days)
		if start is None or start > as_of:
			continue
		if sum((a for day, a in allocated if day < start), ZERO) < amount:
			legal_start = start if legal_start is None else min(legal_start, start)
		balance_cuts = sorted({day + ONE_DAY for day, _ in allocated if start < day + ONE_DAY <= as_of})
		periods, gaps = rate_periods(customer, start, as_of, rates)
		missing.extend(gaps)
		for period_start, period_end, rate, basis in periods:
			cuts = [period_start, *[c for c in balance_cuts if period_start < c <= period_end]]
			for i, seg_start in enumerate(cuts):
				seg_end = cuts[i + 1] - ONE_DAY if i + 1 < len(cuts) else period_end
				balance = amount - sum((a for day, a in allocated if day < seg_start), ZERO)
				if balance <= 0:
					continue
				days = (seg_end - seg_start).days + 1
				exact += balance * rate * days / (100 * YEAR_DAYS)
				bearing.append((seg_start, seg_end, balance, rate, basis))
				if first_start is None or seg_start < first_start:
					first_start = seg_start
			used.append((period_start, period_end, rate, basis))
	missing_rates = merge_missing(missing)
	if missing_rates and first_start is None:
		first_start = legal_start  # interest runs, but no day of it has a known rate yet
	until = _until(used, first_start, as_of, missing_rates) if first_start is not None else None
	return Accrual(
		round_money(exact, invoice.currency),
		first_start,
		_merge_periods(used),
		until,
		missing_rates,
		_timeline(bearing),
	)


def _timeline(bearing: list[tuple[date, date, Decimal, Decimal, str]]) -> tuple[InterestSegment, ...]:
	"""The instalments' interest-bearing runs as one timeline: over each run of days, the sum of the
	balances bearing interest and the rate (one rate a day for a customer), merged while both hold."""
	if not bearing:
		return ()
	cuts = sorted({start for start, *_ in bearing} | {end + ONE_DAY for _, end, *_ in bearing})
	merged: list[list] = []
	for i in range(len(cuts) - 1):
		start, end = cuts[i], cuts[i + 1] - ONE_DAY
		covering = [b for b in bearing if b[0] <= start and b[1] >= end]
		if not covering:
			continue
		base = sum((b[2] for b in covering), ZERO)
		rate, basis = covering[0][3], covering[0][4]
		last = merged[-1] if merged else None
		if last and last[2] == base and last[3] == rate and last[4] == basis and last[1] + ONE_DAY == start:
			last[1] = end
		else:
			merged.append([start, end, base, rate, basis])
	return tuple(
		InterestSegment(s, e, (e - s).days + 1, b, r, k, b * r * ((e - s).days + 1) / (100 * YEAR_DAYS))
		for s, e, b, r, k in merged
	)


def _until(periods, start: date, as_of: date, missing: tuple[MissingRate, ...]) -> date:
	"""The last day counted: `as_of` when every rate is known, else the end of the last known period
	(the day before interest starts when none is known)."""
	if not missing:
		return as_of
	if not periods:
		return start - ONE_DAY
	return max(end for _, end, _, _ in periods)


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
	accrual = accrued_interest(invoice, customer, until, rates, notice_day, notice_days)
	interest, start, periods = accrual.amount, accrual.start, accrual.periods
	late = (until - invoice.due).days
	indemnity, note = recovery_indemnity(invoice, customer, late)
	if interest <= ZERO and indemnity <= ZERO and not accrual.missing:
		return None
	notes = (note,) if note else ()
	if accrual.missing:
		notes = (provisional_note(accrual), *notes)
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
		notes=notes,
		interest_until=accrual.until if accrual.missing else None,
		missing_rates=accrual.missing,
		segments=accrual.segments,
	)


NOTE_INTEREST_PROVISIONAL = "interest_provisional"


def provisional_note(accrual: Accrual) -> str:
	"""The note of a line whose interest is provisional: its code and the last day counted."""
	return f"{NOTE_INTEREST_PROVISIONAL}:{accrual.until.isoformat() if accrual.until else ''}"


def fee_allowed(customer: Customer) -> bool:
	"""No collection fee may be charged to a French consumer (C. consom. / L. 124 loi 1991 art. 32)."""
	return not (customer.regime == REGIME_FR and customer.kind != BUSINESS)
