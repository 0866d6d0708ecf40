"""Plain data the rules work on. Frozen dataclasses: built once by an adapter, never mutated."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import NamedTuple

ZERO = Decimal("0")

# Customer kinds and legal regimes
BUSINESS = "business"
CONSUMER = "consumer"
CUSTOMER_KINDS = (BUSINESS, CONSUMER)

REGIME_FR = "FR"
REGIME_QC = "QC"
REGIMES = (REGIME_FR, REGIME_QC)

LANGUAGES = ("fr-FR", "fr-CA", "en")

# Step channels and tones
EMAIL = "email"
LETTER = "letter"
REGISTERED_LETTER = "registered_letter"
PHONE = "phone"
ESCALATION = "escalation"
CHANNELS = (EMAIL, LETTER, REGISTERED_LETTER, PHONE, ESCALATION)
POSTAL_CHANNELS = (LETTER, REGISTERED_LETTER)

AMICAL = "amical"
FORMEL = "formel"
FERME = "ferme"
TONES = (AMICAL, FORMEL, FERME)

# What an offset counts from
FROM_DUE = "due"
FROM_PREVIOUS = "previous"
OFFSET_BASES = (FROM_DUE, FROM_PREVIOUS)

# Follow-up history statuses. A step counts as done (never planned again) when its status is one
# of DONE_STATUSES: "planned" is in flight, "unknown" may have gone out (a crash between sending
# and recording), so neither may be repeated blindly. "failed" and "cancelled" may be retried.
PLANNED = "planned"
SENT = "sent"
DONE = "done"
UNKNOWN = "unknown"
FAILED = "failed"
CANCELLED = "cancelled"
HISTORY_STATUSES = (PLANNED, SENT, DONE, UNKNOWN, FAILED, CANCELLED)
DONE_STATUSES = frozenset((PLANNED, SENT, DONE, UNKNOWN))

# Holds
HOLD = "hold"
DISPUTE = "dispute"
HOLD_KINDS = (HOLD, DISPUTE)

# Rate periods of a contractual rate (Interest Act s.4 wants the annual equivalent stated)
PER_YEAR = "year"
PER_MONTH = "month"
PER_DAY = "day"
RATE_PERIODS = (PER_YEAR, PER_MONTH, PER_DAY)

# How an invoice never followed up enters its scenario. FIRST_CONTACT: a customer without any
# history starts at the scenario's first written reminder after the due date, whatever the delay,
# and the next steps keep the scenario's spacing from that first contact. BY_DUE_DATE: every step
# keeps its date counted from the due date, so a first run may open with a late step (a formal
# notice at the latest: catching up never jumps over one).
FIRST_CONTACT = "first_contact"
BY_DUE_DATE = "by_due_date"
CATCH_UP_MODES = (FIRST_CONTACT, BY_DUE_DATE)

# Where a line stands in a letter: formally demanded (its own step is a formal notice, or one was
# sent for it before), past due, or not yet due (a reminder ahead of the due date)
SECTION_DEMANDED = "formal_notice"
SECTION_PAST_DUE = "past_due"
SECTION_NOT_DUE = "not_yet_due"
# An overdue invoice of the customer with no step due today, listed in the day's letter all the same
# ("autres montants échus": `Action.also_due`, never recorded as a step)
SECTION_ALSO_DUE = "also_due"
SECTIONS = (SECTION_DEMANDED, SECTION_PAST_DUE, SECTION_NOT_DUE, SECTION_ALSO_DUE)

# What a person must do so that an action can go out as planned (listed by the plan and the run)
TASK_COMPLETE_ADDRESS = "complete_address"
TASK_FIND_PHONE = "find_phone"
TASKS = (TASK_COMPLETE_ADDRESS, TASK_FIND_PHONE)


@dataclass(frozen=True, slots=True)
class Hold:
	"""A hold or a dispute on an invoice or a whole customer. `until` None means until lifted."""

	kind: str = HOLD
	reason: str = ""
	until: date | None = None

	def active_on(self, day: date) -> bool:
		return self.until is None or self.until >= day


@dataclass(frozen=True, slots=True)
class ContractRate:
	"""An agreed late-payment rate, in percent per `period`."""

	rate: Decimal
	period: str = PER_YEAR

	@property
	def annual(self) -> Decimal:
		if self.period == PER_MONTH:
			return self.rate * 12
		if self.period == PER_DAY:
			return self.rate * 365
		return self.rate


@dataclass(frozen=True, slots=True)
class Customer:
	id: str
	name: str
	kind: str = BUSINESS
	regime: str = REGIME_FR
	language: str = "fr-FR"
	email: str = ""
	phone: str = ""
	address: tuple[str, ...] = ()
	scenario: str | None = None
	contract_rate: ContractRate | None = None
	hold: Hold | None = None
	account_manager: str = ""
	# The customer's account as the customer knows it (Dolibarr's code_client), printed in letters
	# instead of `id` (a source's internal key, e.g. Dolibarr's row id); empty: `id` is that account
	reference: str = ""


@dataclass(frozen=True, slots=True)
class Instalment:
	"""One row of a payment schedule: its own due date and amount (incl. VAT)."""

	due: date
	amount: Decimal


@dataclass(frozen=True, slots=True)
class Payment:
	"""Money received against one invoice (or a credit note), on a date."""

	day: date
	amount: Decimal


@dataclass(frozen=True, slots=True)
class Invoice:
	id: str
	customer: str
	currency: str
	issued: date
	instalments: tuple[Instalment, ...]
	payments: tuple[Payment, ...] = ()
	scenario: str | None = None
	hold: Hold | None = None
	cancelled: bool = False

	@property
	def total(self) -> Decimal:
		return sum((i.amount for i in self.instalments), ZERO)

	@property
	def paid(self) -> Decimal:
		return sum((p.amount for p in self.payments), ZERO)

	@property
	def outstanding(self) -> Decimal:
		return self.total - self.paid

	@property
	def due(self) -> date:
		"""The first due date (the invoice's own due date when it has a single instalment)."""
		return self.instalments[0].due


@dataclass(frozen=True, slots=True)
class HistoryEntry:
	"""Something already done (or in flight) for an invoice: a step of a scenario, or a manual action."""

	invoice: str
	step: str
	day: date
	status: str = SENT
	channel: str = ""
	formal_notice: bool = False
	customer: str = ""
	# The sending's own reference when it has one (a registered letter's number)
	reference: str = ""


@dataclass(frozen=True, slots=True)
class Contact:
	"""An earlier reminder to the customer, as a letter may cite it ("notre courriel du 3 juin 2026")."""

	day: date
	channel: str
	step: str
	reference: str = ""
	formal_notice: bool = False


@dataclass(frozen=True, slots=True)
class Credit:
	"""Money the customer may deduct: an open credit note, or a payment not allocated to any invoice.

	`against_invoice` names the invoice a credit note was made for: it settles that invoice first (as
	a payment on `day`), and only what is left over is deducted from the customer's other invoices of
	the same currency. `amount` is positive."""

	customer: str
	currency: str
	amount: Decimal
	reference: str = ""
	day: date | None = None
	against_invoice: str = ""
	# CREDIT_NOTE or UNALLOCATED_PAYMENT (what the letter calls it)
	kind: str = "credit_note"


CREDIT_NOTE = "credit_note"
UNALLOCATED_PAYMENT = "unallocated_payment"
CREDIT_KINDS = (CREDIT_NOTE, UNALLOCATED_PAYMENT)


@dataclass(frozen=True, slots=True)
class InterestSegment:
	"""A run of days over which one base bore interest at one rate: base x rate x days / 36500.

	The letter shows them so that the reader can recompute the interest; a payment (or a credit note)
	between two segments is what lowered the base."""

	start: date
	end: date
	days: int
	base: Decimal
	rate: Decimal
	basis: str
	# base x rate x days / 36500, not rounded (the line's interest is rounded once, on the sum)
	amount: Decimal


@dataclass(frozen=True, slots=True)
class Promise:
	"""The customer promised to pay `amount` (None: everything) of these invoices by `due`."""

	invoices: tuple[str, ...]
	due: date
	amount: Decimal | None = None
	made_on: date | None = None


@dataclass(frozen=True, slots=True)
class Arrangement:
	"""An agreed instalment plan covering some invoices: pay `amount` by each `day`."""

	invoices: tuple[str, ...]
	schedule: tuple[Payment, ...]
	agreed_on: date


@dataclass(frozen=True, slots=True)
class Step:
	key: str
	label: str
	offset: int
	channel: str
	tone: str
	template: str
	relative_to: str = FROM_DUE
	fee: Decimal = ZERO
	claim_interest: bool = False
	claim_indemnity: bool = False
	formal_notice: bool = False
	# Days the customer is given to pay in a formal notice (mise en demeure "sous huitaine")
	notice_days: int = 0
	notify: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Scenario:
	key: str
	name: str
	steps: tuple[Step, ...]
	# FIRST_CONTACT or BY_DUE_DATE; None: the plan settings decide
	catch_up: str | None = None

	def step(self, key: str) -> Step | None:
		for step in self.steps:
			if step.key == key:
				return step
		return None


@dataclass(frozen=True, slots=True)
class PlanSettings:
	default_scenario: str = "standard"
	min_amount: Decimal = ZERO
	min_gap_days: int = 0
	# A payment promised but not received within this many days after its date is a broken promise
	promise_grace_days: int = 0
	# See FIRST_CONTACT / BY_DUE_DATE; a scenario may set its own
	catch_up: str = FIRST_CONTACT
	# Days given to pay in a formal reminder whose step sets no notice_days (the letter's deadline)
	payment_days: int = 8


@dataclass(frozen=True, slots=True)
class RatePeriod:
	"""The rate used over [start, end] (both inclusive), and why."""

	start: date
	end: date
	days: int
	rate: Decimal
	basis: str


@dataclass(frozen=True, slots=True, order=True)
class MissingRate:
	"""A half-year of a reference-rate table that the table does not hold yet (both days inclusive).

	Interest that needs it is left out (counted up to the last day a known rate covers) and the line
	is marked provisional: a missing figure never stops a reminder."""

	table: str
	start: date
	end: date


@dataclass(frozen=True, slots=True)
class ActionLine:
	invoice: str
	step: str
	due: date
	days_late: int
	outstanding: Decimal
	interest: Decimal
	indemnity: Decimal
	interest_from: date | None = None
	periods: tuple[RatePeriod, ...] = ()
	notes: tuple[str, ...] = ()
	# This invoice's own step is a formal notice (the action's may be another invoice's step)
	formal_notice: bool = False
	section: str = SECTION_PAST_DUE

	# Provisional interest: counted up to `interest_until` only, `missing_rates` not known yet
	interest_until: date | None = None
	missing_rates: tuple[MissingRate, ...] = ()
	# The interest by base and rate, so that the reader can recompute it (empty when none is claimed)
	segments: tuple[InterestSegment, ...] = ()

	@property
	def provisional(self) -> bool:
		return bool(self.missing_rates)


@dataclass(frozen=True, slots=True)
class Action:
	"""One communication to one customer in one currency on one day, listing its invoices.

	Its step, channel and tone are those of the most advanced step due that day among the
	customer's invoices; each line keeps its own step (recorded as such in the history). An
	escalation (an internal note, not a communication) is an action of its own.
	"""

	customer: str
	customer_name: str
	scenario: str
	step: str
	step_label: str
	channel: str
	tone: str
	template: str
	currency: str
	language: str
	regime: str
	customer_kind: str
	formal_notice: bool
	notice_days: int
	lines: tuple[ActionLine, ...]
	fee: Decimal
	notify: tuple[str, ...] = ()
	contract_rate: ContractRate | None = None
	notes: tuple[str, ...] = ()
	# The date the letter asks payment by (formal reminders and notices); None: no deadline stated
	pay_by: date | None = None
	# The earlier reminders of these invoices, oldest first: what the letter may cite
	previous: tuple[Contact, ...] = ()
	# What a person must do for this action (TASKS codes)
	tasks: tuple[str, ...] = ()
	# The customer's other overdue invoices in this currency, with no step due today: listed in the
	# letter ("autres montants échus", principal only), never recorded as a step
	also_due: tuple[ActionLine, ...] = ()
	# The customer's credits in this currency (credit notes, unallocated payments) deducted from what
	# the letter asks ("avoirs à déduire")
	credits: tuple[Credit, ...] = ()

	@property
	def outstanding(self) -> Decimal:
		return sum((line.outstanding for line in self.lines), ZERO)

	@property
	def also_due_total(self) -> Decimal:
		return sum((line.outstanding for line in self.also_due), ZERO)

	@property
	def credit_total(self) -> Decimal:
		return sum((credit.amount for credit in self.credits), ZERO)

	@property
	def net_total(self) -> Decimal:
		"""What the letter asks: `total`, plus the other amounts past due, less the credits."""
		return self.total + self.also_due_total - self.credit_total

	@property
	def interest(self) -> Decimal:
		return sum((line.interest for line in self.lines), ZERO)

	@property
	def indemnity(self) -> Decimal:
		return sum((line.indemnity for line in self.lines), ZERO)

	@property
	def total(self) -> Decimal:
		return self.outstanding + self.interest + self.indemnity + self.fee

	@property
	def invoices(self) -> tuple[str, ...]:
		return tuple(line.invoice for line in self.lines)

	@property
	def provisional(self) -> bool:
		"""Some interest of this action waits for a reference rate not known yet."""
		return any(line.missing_rates for line in self.lines)


class Skip(NamedTuple):
	"""Why an open invoice gets no action today. `detail` is data for the message (a date, a step).

	A NamedTuple, not a dataclass: a plan holds one per open invoice, so it must be cheap to make.
	"""

	invoice: str
	customer: str
	reason: str
	detail: str = ""


@dataclass(frozen=True, slots=True)
class Plan:
	as_of: date
	actions: tuple[Action, ...]
	skipped: tuple[Skip, ...]
	errors: tuple[str, ...] = field(default=())
	# Every half-year of a rate table some line of the plan needed and did not find (its interest is
	# provisional); empty when every figure is final
	provisional: tuple[MissingRate, ...] = field(default=())
