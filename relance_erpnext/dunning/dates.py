"""Dates: days late, delay buckets, payment terms and the legal caps on them (C. com. L441-10)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

DEFAULT_BUCKETS = (7, 15)  # 1-7, 8-15, >15 days late (the weekly procedure, seed 000)
AGEING_BUCKETS = (30, 60, 90)

NOT_DUE = "not_due"

# "45 jours fin de mois" is counted two ways; both are accepted in France.
EOM_45_THEN_END = "a"  # invoice date + 45 days, then end of that month
END_THEN_45 = "b"  # end of the invoice month, then + 45 days


def days_late(due: date, as_of: date) -> int:
	"""Days past the due date: 0 on the due date, 1 the day after."""
	return (as_of - due).days


def end_of_month(day: date) -> date:
	return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def bucket_labels(bounds: tuple[int, ...] = DEFAULT_BUCKETS) -> tuple[str, ...]:
	"""(7, 15) -> ("1-7", "8-15", ">15")."""
	check_bucket_bounds(bounds)
	labels = []
	low = 1
	for high in bounds:
		labels.append(f"{low}-{high}")
		low = high + 1
	labels.append(f">{bounds[-1]}")
	return tuple(labels)


def check_bucket_bounds(bounds: tuple[int, ...]) -> None:
	if not bounds:
		raise ValueError("at least one bucket bound is needed")
	previous = 0
	for bound in bounds:
		if not isinstance(bound, int) or bound <= previous:
			raise ValueError(f"bucket bounds must be increasing whole days above 0, got {bounds!r}")
		previous = bound


def bucket(late: int, bounds: tuple[int, ...] = DEFAULT_BUCKETS) -> str:
	"""The delay bucket label for a number of days late; NOT_DUE for 0 or less."""
	if late <= 0:
		return NOT_DUE
	low = 1
	for high in bounds:
		if late <= high:
			return f"{low}-{high}"
		low = high + 1
	return f">{bounds[-1]}"


# Payment terms -------------------------------------------------------------------------------


def due_net(issued: date, days: int) -> date:
	"""N days net: invoice date + N."""
	return issued + timedelta(days=days)


def due_end_of_month_plus(issued: date, days: int) -> date:
	"""End of month + N days ("fin de mois + N jours"): end of the invoice month, then + N."""
	return end_of_month(issued) + timedelta(days=days)


def due_days_end_of_month(issued: date, days: int) -> date:
	"""N days end of month ("N jours fin de mois"): invoice date + N, then end of that month."""
	return end_of_month(issued + timedelta(days=days))


def due_45_days_end_of_month(issued: date, method: str = EOM_45_THEN_END) -> date:
	""" "45 jours fin de mois" by method a (date + 45 then end of month) or b (end of month + 45)."""
	if method == EOM_45_THEN_END:
		return due_days_end_of_month(issued, 45)
	if method == END_THEN_45:
		return due_end_of_month_plus(issued, 45)
	raise ValueError(f"unknown method {method!r}: use 'a' or 'b'")


@dataclass(frozen=True, slots=True)
class TermCheck:
	"""Whether a due date respects the caps of C. com. L441-10 I (business to business)."""

	issued: date
	due: date
	cap_60_days: date
	cap_45_eom_a: date
	cap_45_eom_b: date

	@property
	def latest_allowed(self) -> date:
		return max(self.cap_60_days, self.cap_45_eom_a, self.cap_45_eom_b)

	@property
	def within_caps(self) -> bool:
		return self.due <= self.latest_allowed

	@property
	def days_over(self) -> int:
		return max(0, (self.due - self.latest_allowed).days)


def check_payment_term(issued: date, due: date) -> TermCheck:
	"""At most 60 days from the invoice date, or 45 days end of month (counted either way)."""
	if due < issued:
		raise ValueError(f"due date {due.isoformat()} is before the invoice date {issued.isoformat()}")
	return TermCheck(
		issued=issued,
		due=due,
		cap_60_days=due_net(issued, 60),
		cap_45_eom_a=due_45_days_end_of_month(issued, EOM_45_THEN_END),
		cap_45_eom_b=due_45_days_end_of_month(issued, END_THEN_45),
	)


def half_year_start(day: date) -> date:
	return date(day.year, 1 if day.month <= 6 else 7, 1)
