"""How a customer pays: its delays over the last twelve months, and whether it should follow the
doubtful customers' scenario (seed 003: a tighter follow-up for customers who pay late).

Pure data and functions: the front-ends read the invoices (settled or not), the broken promises and
the last contact in bulk, and show or apply what comes out of here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

WINDOW_DAYS = 365


@dataclass(frozen=True, slots=True)
class InvoiceRecord:
	"""An invoice as its payment went: due on `due`, settled on `settled_on` (None: still open)."""

	due: date
	settled_on: date | None = None


@dataclass(frozen=True, slots=True)
class PaymentBehaviour:
	invoices: int  # invoices due in the twelve months before the day
	paid_late: int  # of which settled after their due date, or still unpaid past it
	average_days_late: Decimal  # over those invoices, an open one counted up to the day (0 when on time)
	broken_promises: int  # in the same twelve months
	last_contact: date | None

	@property
	def share_late(self) -> Decimal:
		"""Paid late, as a percentage of the invoices (0 when there are none)."""
		if not self.invoices:
			return Decimal(0)
		return (Decimal(100) * self.paid_late / self.invoices).quantize(Decimal("1"), ROUND_HALF_UP)


def payment_behaviour(
	records: Iterable[InvoiceRecord],
	as_of: date,
	broken_promise_days: Iterable[date] = (),
	last_contact: date | None = None,
	window_days: int = WINDOW_DAYS,
) -> PaymentBehaviour:
	start = as_of - timedelta(days=window_days)
	delays = [
		max(((record.settled_on or as_of) - record.due).days, 0)
		for record in records
		if start < record.due <= as_of
	]
	average = (
		(Decimal(sum(delays)) / len(delays)).quantize(Decimal("0.1"), ROUND_HALF_UP) if delays else Decimal(0)
	)
	return PaymentBehaviour(
		invoices=len(delays),
		paid_late=sum(1 for delay in delays if delay > 0),
		average_days_late=average,
		broken_promises=sum(1 for day in broken_promise_days if start < day <= as_of),
		last_contact=last_contact,
	)


@dataclass(frozen=True, slots=True)
class DoubtfulRule:
	"""When a customer moves to the doubtful customers' scenario: at least `min_invoices` in the
	window and any of the thresholds reached. It moves back when none is reached any more."""

	min_invoices: int = 3
	average_days_late: Decimal = Decimal(30)
	share_late: Decimal = Decimal(50)  # percent
	broken_promises: int = 2


@dataclass(frozen=True, slots=True)
class Verdict:
	doubtful: bool
	reasons: tuple[str, ...]  # codes with their figure: "average_days_late:42.5", "share_late:67", …


def doubtful(behaviour: PaymentBehaviour, rule: DoubtfulRule) -> Verdict:
	"""Whether the customer pays like a doubtful customer, and why (the figures that decided)."""
	if behaviour.invoices < rule.min_invoices and behaviour.broken_promises < rule.broken_promises:
		return Verdict(False, (f"too_few_invoices:{behaviour.invoices}",))
	reasons = []
	if behaviour.invoices >= rule.min_invoices:
		if behaviour.average_days_late >= rule.average_days_late:
			reasons.append(f"average_days_late:{behaviour.average_days_late}")
		if behaviour.share_late >= rule.share_late:
			reasons.append(f"share_late:{behaviour.share_late}")
	if behaviour.broken_promises >= rule.broken_promises:
		reasons.append(f"broken_promises:{behaviour.broken_promises}")
	return Verdict(bool(reasons), tuple(reasons))


REASON_TEXTS = {
	"average_days_late": ("paid {0} days late on average", "paie en moyenne avec {0} jours de retard"),
	"share_late": ("{0} % of its invoices paid late", "{0} % de ses factures payées en retard"),
	"broken_promises": ("{0} broken payment promises", "{0} promesses de paiement non tenues"),
	"too_few_invoices": ("only {0} invoices in twelve months", "seulement {0} factures en douze mois"),
}


def verdict_text(verdict: Verdict, language: str = "fr") -> str:
	"""The reasons in words, e.g. "paie en moyenne avec 42.5 jours de retard ; 67 % de ses factures…"."""
	french = language.startswith("fr")
	parts = []
	for reason in verdict.reasons:
		code, _, figure = reason.partition(":")
		texts = REASON_TEXTS.get(code)
		if texts:
			figure = figure.replace(".", ",") if french else figure
			parts.append((texts[1] if french else texts[0]).format(figure))
	return " ; ".join(parts) if french else "; ".join(parts)
