"""The weekly payment check: which open invoices do the credits of a bank statement pay?

Pure rules, no I/O: the statement readers (connectors/bank_statement.py) give `BankLine`s, the
caller gives the open invoices, and `match_payments` says for each credit line:

- matched: the invoices it pays, and how much each (a partial payment is allowed when the remittance
  cites one invoice and the amount is below what it still owes);
- ambiguous: the candidates and why a person must choose (nothing is applied);
- unmatched: why nothing fits.

The signals, strongest first: invoice numbers cited in the remittance text (spacing, case,
separators and leading zeros do not matter: "FA-2026-0012", "fa2026 12", "FA20260012"), then the
exact amount together with the payer's name (one invoice of a customer whose name is like the payer's,
or a set of that customer's open invoices adding up exactly to the credit). An amount alone, or a
name alone, is never enough: it is reported as ambiguous. Debits are not payments: counted, never
matched.

Deterministic: the lines are taken in booking order (then statement order), and what an earlier line
paid is no longer owed for the next ones; candidates are listed by due date, then number.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from difflib import SequenceMatcher
from itertools import combinations

from .models import ZERO, Invoice, Payment
from .money import round_money

MATCHED = "matched"
AMBIGUOUS = "ambiguous"
UNMATCHED = "unmatched"
ALREADY = "already_applied"
OUTCOMES = (MATCHED, AMBIGUOUS, UNMATCHED, ALREADY)

# Reason codes (the stable interface: JSON output); `describe_match` gives the words
CITED_FULL = "cited_full"  # the cited invoices, paid in full
CITED_PARTIAL = "cited_partial"  # one cited invoice, part paid
AMOUNT_AND_NAME = "amount_and_name"  # one invoice of the payer's customer has exactly this amount
SUM_OF_CUSTOMER = "sum_of_customer"  # a set of the payer's customer's invoices adds up to the amount
CITED_OVERPAID = "cited_overpaid"  # more than the cited invoices still owe
CITED_TOTAL_DIFFERS = "cited_total_differs"  # several cited invoices, the credit is not their total
SEVERAL_AMOUNT = "several_amount"  # several invoices of the payer have exactly this amount
SEVERAL_SUMS = "several_sums"  # several sets of the payer's invoices add up to the amount
AMOUNT_ONLY = "amount_only"  # the amount fits, the payer's name does not
NAME_ONLY = "name_only"  # the payer is a customer, but no invoice or set of invoices fits the amount
NOTHING_FITS = "nothing_fits"
NO_OPEN_INVOICE = "no_open_invoice"  # no open invoice in the line's currency
APPLIED_BEFORE = "applied_before"

# Name similarity (0..1) from which a payer is taken to be a customer
NAME_THRESHOLD = 0.85
# Up to this many open invoices of one customer, every subset is tried for a sum; above it only the
# oldest-first runs (paying the oldest invoices first is what customers do)
SUBSET_LIMIT = 16
# Candidates listed at most, per ambiguous line
MAX_CANDIDATES = 6

_SEPARATORS = r"[\s\-_./#:]*"
# Legal forms and small words that say nothing about who a company is
_NOISE_WORDS = frozenset(
	"sarl sas sasu sa eurl sci snc selarl scop eirl ei ltd ltee inc cie co corp llc gmbh"
	" et and the de du des la le les l d mr mme m mlle monsieur madame ste societe vir virement sepa"
	" recu de from".split()
)


@dataclass(frozen=True, slots=True)
class BankLine:
	"""One statement line. `amount` is positive for a credit (money in), negative for a debit."""

	id: str
	booked: date
	amount: Decimal
	currency: str
	remittance: str = ""
	counterparty: str = ""
	# Where it is in the statement ("entry 3", "row 7"), for messages
	where: str = ""

	@property
	def is_credit(self) -> bool:
		return self.amount > 0


@dataclass(frozen=True, slots=True)
class OpenInvoice:
	number: str
	customer: str
	customer_name: str
	outstanding: Decimal
	currency: str
	due: date


@dataclass(frozen=True, slots=True)
class Allocation:
	invoice: str
	customer: str
	amount: Decimal
	# What the invoice still owes after this payment
	remaining: Decimal


@dataclass(frozen=True, slots=True)
class Candidate:
	invoices: tuple[str, ...]
	total: Decimal


@dataclass(frozen=True, slots=True)
class LineMatch:
	line: BankLine
	outcome: str
	reason: str
	allocations: tuple[Allocation, ...] = ()
	candidates: tuple[Candidate, ...] = ()
	# Data for the reason's message (a total, a currency, the numbers cited)
	detail: str = ""

	@property
	def invoices(self) -> tuple[str, ...]:
		return tuple(a.invoice for a in self.allocations)


@dataclass(frozen=True, slots=True)
class MatchResult:
	lines: tuple[LineMatch, ...]
	debits: int

	def count(self, outcome: str) -> int:
		return sum(1 for line in self.lines if line.outcome == outcome)


# ---------------------------------------------------------------------------------------------------
# Invoice numbers and names


def _fold(text: str) -> str:
	decomposed = unicodedata.normalize("NFKD", text)
	return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def number_parts(number: str) -> tuple[str, ...]:
	"""The letter and digit runs of an invoice number, digits without leading zeros:
	"FA-2026-0012" -> ("fa", "2026", "12")."""
	parts = re.findall(r"[^\W\d_]+|\d+", _fold(number))
	return tuple(str(int(part)) if part.isdigit() else part for part in parts)


def number_pattern(number: str) -> re.Pattern | None:
	"""A pattern finding the number in free text, whatever its separators, case and leading zeros.
	None when the number has no letter or digit (it cannot be cited)."""
	parts = number_parts(number)
	if not parts:
		return None
	pieces = [f"0*{re.escape(part)}" if part.isdigit() else re.escape(part) for part in parts]
	# Not inside a longer word or number ("FA-2026-0012" is not cited by "FA-2026-00123"), nor the
	# whole part of an amount ("1042" is not cited by "1042,00")
	before = r"(?<!\d)" if parts[0].isdigit() else r"(?<![^\W\d_])"
	after = r"(?!\d)(?![.,]\d)" if parts[-1].isdigit() else r"(?![^\W\d_])"
	return re.compile(before + _SEPARATORS.join(pieces) + after)


def cited_numbers(text: str, invoices: Iterable[OpenInvoice]) -> list[OpenInvoice]:
	"""The invoices whose number appears in the text, in the order given."""
	folded = _fold(text)
	found = []
	for invoice in invoices:
		parts = number_parts(invoice.number)
		# Cheap test first: the last run must be in the text for the pattern to be worth trying
		if not parts or parts[-1] not in folded:
			continue
		pattern = _pattern(invoice.number)
		if pattern is not None and pattern.search(folded):
			found.append(invoice)
	return found


_PATTERNS: dict[str, re.Pattern | None] = {}


def _pattern(number: str) -> re.Pattern | None:
	if number not in _PATTERNS:
		if len(_PATTERNS) > 100_000:  # a long-lived process: never grows without bound
			_PATTERNS.clear()
		_PATTERNS[number] = number_pattern(number)
	return _PATTERNS[number]


def name_words(name: str) -> tuple[str, ...]:
	words = re.findall(r"[^\W_]+", _fold(name))
	kept = tuple(word for word in words if word not in _NOISE_WORDS)
	return kept or tuple(words)


def name_similarity(payer: str, customer: str) -> float:
	"""0..1: how alike two names are, legal forms, case, accents and word order aside.

	1.0 when every word of the shorter name is in the longer one ("MARTIN BOULANGERIE" and
	"Boulangerie Martin SARL"), else the similarity of the sorted words."""
	left, right = name_words(payer), name_words(customer)
	if not left or not right:
		return 0.0
	small, large = sorted((set(left), set(right)), key=len)
	if small <= large and len("".join(small)) >= 4:
		return 1.0
	return SequenceMatcher(None, " ".join(sorted(left)), " ".join(sorted(right))).ratio()


# ---------------------------------------------------------------------------------------------------
# Matching


def _order(invoices: Iterable[OpenInvoice]) -> list[OpenInvoice]:
	return sorted(invoices, key=lambda inv: (inv.due, inv.number))


def _sums(invoices: list[OpenInvoice], amount: Decimal) -> list[tuple[OpenInvoice, ...]]:
	"""Sets of at least two invoices adding up exactly to the amount (at most MAX_CANDIDATES + 1)."""
	found: list[tuple[OpenInvoice, ...]] = []
	if len(invoices) < 2 or sum((inv.outstanding for inv in invoices), ZERO) < amount:
		return found
	if len(invoices) <= SUBSET_LIMIT:
		for size in range(2, len(invoices) + 1):
			for subset in combinations(invoices, size):
				if sum((inv.outstanding for inv in subset), ZERO) == amount:
					found.append(subset)
					if len(found) > MAX_CANDIDATES:
						return found
		return found
	total = ZERO
	for index, invoice in enumerate(invoices):  # the oldest first
		total += invoice.outstanding
		if index >= 1 and total == amount:
			found.append(tuple(invoices[: index + 1]))
		if total >= amount:
			break
	return found


def _allocate(line: BankLine, invoices: Sequence[OpenInvoice], reason: str, detail: str = "") -> LineMatch:
	"""Pay the invoices in full, except the last one which gets what is left (a partial payment)."""
	left = line.amount
	allocations = []
	for invoice in invoices:
		paid = min(invoice.outstanding, left)
		left -= paid
		allocations.append(
			Allocation(
				invoice.number,
				invoice.customer,
				paid,
				round_money(invoice.outstanding - paid, invoice.currency),
			)
		)
	return LineMatch(line, MATCHED, reason, tuple(allocations), detail=detail)


def _candidates(sets: Iterable[Sequence[OpenInvoice]]) -> tuple[Candidate, ...]:
	return tuple(
		Candidate(tuple(inv.number for inv in group), sum((inv.outstanding for inv in group), ZERO))
		for group in list(sets)[:MAX_CANDIDATES]
	)


def match_line(line: BankLine, invoices: Sequence[OpenInvoice]) -> LineMatch:
	"""One credit line against the open invoices (already restricted to what is still owed)."""
	amount = line.amount
	open_ = _order(inv for inv in invoices if inv.currency == line.currency and inv.outstanding > 0)
	if not open_:
		return LineMatch(line, UNMATCHED, NO_OPEN_INVOICE, detail=line.currency)

	cited = cited_numbers(line.remittance, open_)
	if cited:
		numbers = ", ".join(inv.number for inv in cited)
		owed = sum((inv.outstanding for inv in cited), ZERO)
		if owed == amount:
			return _allocate(line, cited, CITED_FULL, numbers)
		if len(cited) == 1 and amount < owed:
			return _allocate(line, cited, CITED_PARTIAL, numbers)
		if amount > owed:
			return LineMatch(
				line, AMBIGUOUS, CITED_OVERPAID, candidates=_candidates([cited]), detail=str(owed)
			)
		# Several invoices cited, less than their total: which one is paid is for a person to say
		subsets = _sums(cited, amount) + [(inv,) for inv in cited if inv.outstanding == amount]
		return LineMatch(
			line, AMBIGUOUS, CITED_TOTAL_DIFFERS, candidates=_candidates(subsets or [cited]), detail=str(owed)
		)

	# No number cited: the amount and the payer's name
	names = {inv.customer: inv.customer_name for inv in open_}
	similar = {
		customer
		for customer, name in names.items()
		if name_similarity(line.counterparty, name) >= NAME_THRESHOLD
	}
	if similar:
		theirs = [inv for inv in open_ if inv.customer in similar]
		exact = [inv for inv in theirs if inv.outstanding == amount]
		if len(exact) == 1:
			return _allocate(line, exact, AMOUNT_AND_NAME)
		if len(exact) > 1:
			return LineMatch(line, AMBIGUOUS, SEVERAL_AMOUNT, candidates=_candidates([inv] for inv in exact))
		sums = [
			subset
			for customer in sorted(similar)
			for subset in _sums([inv for inv in theirs if inv.customer == customer], amount)
		]
		if len(sums) == 1:
			return _allocate(line, sums[0], SUM_OF_CUSTOMER)
		if sums:
			return LineMatch(line, AMBIGUOUS, SEVERAL_SUMS, candidates=_candidates(sums))
		return LineMatch(line, AMBIGUOUS, NAME_ONLY, candidates=_candidates([inv] for inv in theirs))
	exact = [inv for inv in open_ if inv.outstanding == amount]
	if exact:
		return LineMatch(line, AMBIGUOUS, AMOUNT_ONLY, candidates=_candidates([inv] for inv in exact))
	return LineMatch(line, UNMATCHED, NOTHING_FITS)


def match_payments(
	lines: Iterable[BankLine], invoices: Iterable[OpenInvoice], applied: Iterable[str] = ()
) -> MatchResult:
	"""Match every credit line; `applied` are the ids of lines already recorded (never matched again)."""
	done = set(applied)
	credits = []
	debits = 0
	for index, line in enumerate(lines):
		if line.is_credit:
			credits.append((line.booked, index, line))
		else:
			debits += 1
	owed = {inv.number: inv for inv in invoices}
	results = []
	seen: set[str] = set()
	for _, _, line in sorted(credits, key=lambda item: item[:2]):
		if line.id in done or line.id in seen:
			results.append(LineMatch(line, ALREADY, APPLIED_BEFORE))
			continue
		seen.add(line.id)
		result = match_line(line, list(owed.values()))
		for allocation in result.allocations:
			owed[allocation.invoice] = replace(owed[allocation.invoice], outstanding=allocation.remaining)
		results.append(result)
	return MatchResult(tuple(results), debits)


def open_invoices(invoices: Iterable[Invoice], customer_names: dict[str, str]) -> list[OpenInvoice]:
	"""The core's invoices still owed (not cancelled), as the matcher wants them."""
	found = []
	for invoice in invoices:
		if invoice.cancelled or invoice.outstanding <= 0:
			continue
		found.append(
			OpenInvoice(
				number=invoice.id,
				customer=invoice.customer,
				customer_name=customer_names.get(invoice.customer, invoice.customer),
				outstanding=round_money(invoice.outstanding, invoice.currency),
				currency=invoice.currency,
				due=invoice.due,
			)
		)
	return found


@dataclass(frozen=True, slots=True)
class BankPayment:
	"""A payment recorded from a statement line: `amount` of `invoice`, booked on `day`."""

	line_id: str
	invoice: str
	amount: Decimal
	day: date


class Overpayment(str):
	"""The warning of a bank payment larger than what was still owed: its English text, and the data
	an adapter says it with in its user's language."""

	invoice: str
	amount: Decimal
	line_id: str
	owed: Decimal
	counted: Decimal

	def __new__(cls, invoice: str, amount: Decimal, line_id: str, owed: Decimal, counted: Decimal):
		self = super().__new__(
			cls,
			f"{invoice}: the payment of {amount} from bank line {line_id} is more than the {owed} still"
			f" owed; counted as {counted}",
		)
		self.invoice, self.amount, self.line_id, self.owed, self.counted = (
			invoice,
			amount,
			line_id,
			owed,
			counted,
		)
		return self


def with_bank_payments(
	invoices: Iterable[Invoice], payments: Iterable[BankPayment]
) -> tuple[list[Invoice], list[Overpayment]]:
	"""The invoices with the payments recorded from bank statements added (and warnings).

	The register's own "paid" amount is kept. When it already covers the bank payments dated on or
	before its date (the register was updated after the payment check), those are not counted twice.
	What is paid is never more than the invoice's total: the excess is ignored, with a warning."""
	by_invoice: dict[str, list[BankPayment]] = {}
	for payment in payments:
		by_invoice.setdefault(payment.invoice, []).append(payment)
	result = []
	warnings = []
	for invoice in invoices:
		mine = sorted(by_invoice.get(invoice.id, ()), key=lambda p: (p.day, p.line_id))
		if not mine:
			result.append(invoice)
			continue
		last = max((p.day for p in invoice.payments), default=None)
		if last is not None:
			before = sum((p.amount for p in mine if p.day <= last), ZERO)
			if before and invoice.paid >= before:
				mine = [p for p in mine if p.day > last]
		added = []
		room = invoice.total - invoice.paid
		for payment in mine:
			amount = min(payment.amount, room)
			if amount < payment.amount:
				warnings.append(
					Overpayment(
						invoice.id, payment.amount, payment.line_id, max(room, ZERO), max(amount, ZERO)
					)
				)
			if amount > 0:
				added.append(Payment(payment.day, amount))
				room -= amount
		result.append(replace(invoice, payments=invoice.payments + tuple(added)))
	return result, warnings


# ---------------------------------------------------------------------------------------------------
# Words

REASONS: dict[str, tuple[str, str]] = {
	CITED_FULL: (
		"invoice(s) cited and paid in full: {detail}",
		"facture(s) citée(s), payée(s) en totalité : {detail}",
	),
	CITED_PARTIAL: ("invoice cited, part paid: {detail}", "facture citée, payée en partie : {detail}"),
	AMOUNT_AND_NAME: ("exact amount of one invoice of the payer", "montant exact d'une facture du payeur"),
	SUM_OF_CUSTOMER: (
		"sum of several open invoices of the payer",
		"somme de plusieurs factures ouvertes du payeur",
	),
	CITED_OVERPAID: (
		"more than the cited invoice(s) still owe ({detail})",
		"plus que le reste dû des factures citées ({detail})",
	),
	CITED_TOTAL_DIFFERS: (
		"several invoices cited, the amount is not their total ({detail}): which are paid?",
		"plusieurs factures citées, le montant n'est pas leur total ({detail}) : lesquelles sont payées ?",
	),
	SEVERAL_AMOUNT: (
		"several invoices of the payer have this amount",
		"plusieurs factures du payeur ont ce montant",
	),
	SEVERAL_SUMS: (
		"several sets of the payer's invoices add up to this amount",
		"plusieurs ensembles de factures du payeur font ce montant",
	),
	AMOUNT_ONLY: (
		"the amount fits, but neither an invoice number nor the payer's name",
		"le montant correspond, mais ni un numéro de facture ni le nom du payeur",
	),
	NAME_ONLY: (
		"the payer is a customer, but no invoice (or sum of invoices) has this amount",
		"le payeur est un client, mais aucune facture (ni somme de factures) n'a ce montant",
	),
	NOTHING_FITS: (
		"no invoice number, amount or customer name fits",
		"aucun numéro de facture, montant ni nom de client ne correspond",
	),
	NO_OPEN_INVOICE: ("no open invoice in {detail}", "aucune facture ouverte en {detail}"),
	APPLIED_BEFORE: ("already recorded by an earlier check", "déjà enregistré lors d'un pointage précédent"),
}


def describe_match(reason: str, detail: str = "", language: str = "fr") -> str:
	english, french = REASONS.get(reason, (reason, reason))
	text = french if language.startswith("fr") else english
	return text.format(detail=detail)
