"""What happened outside the planner: the follow-up's manual entries, one model for every front-end.

A reminder sent by hand (a letter posted, a registered letter with its number), a registered letter
delivered (the date of the avis de réception), a call made and its outcome, a payment promise, a
dispute or a hold and its end: each is a `ManualEntry`. The register's columns ("relancé le",
"niveau"), `relance log` (the local journal, or Dolibarr's agenda) and, later, ERPNext's Follow-up
Log (manual entries, whose `outcome` options map here through `ERPNEXT_OUTCOMES`) all make the same
entries, and `plan(..., outcomes=...)` reads them through `apply_outcomes`:

- an entry with a `channel` (email, letter, registered_letter, phone) is a communication of ours: it
  becomes a history entry of the scenario's step it stands for (`resolve_step`: the step named, else
  the level, else the step of that channel the delay had reached), so the next step is counted from
  it, the minimum gap holds, and a letter cites it ("notre courrier du 3 juin 2026", with the
  registered letter's number);
- its `outcome` then says what the customer's answer does to the plan (`OUTCOMES`): a promise pauses
  the follow-up until its date (a broken one escalates, as any core `Promise`), a dispute or hold
  stops it (until its end date, or until an entry `resume`), a delivery dates the formal notice
  (interest running from a mise en demeure — consumers, Québec — runs from its delivery when known,
  else from its sending);
- entries dated after the planning day are not known yet on that day: they are left out.

Pure data and functions: no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from .models import (
	DISPUTE,
	EMAIL,
	ESCALATION,
	HOLD,
	LETTER,
	PHONE,
	POSTAL_CHANNELS,
	REGISTERED_LETTER,
	SENT,
	Customer,
	HistoryEntry,
	Hold,
	Invoice,
	PlanSettings,
	Promise,
	Scenario,
	Step,
)
from .scenarios import nominal_offsets

# What an outcome does to the plan
EFFECT_NONE = "none"  # recorded (and the communication, if any, counts): nothing else changes
EFFECT_PROMISE = "promise"  # pauses until `until` (default: PROMISE_DEFAULT_DAYS after the entry)
EFFECT_DISPUTE = "dispute"  # stops the follow-up of these invoices until `until` or a `resume`
EFFECT_HOLD = "hold"  # the same, as a hold (no disagreement: a purchase order awaited, a signatory away)
EFFECT_RESUME = "resume"  # ends the disputes and holds entered before it
EFFECT_DELIVERY = "delivery"  # the formal notice of these invoices was delivered on that day
EFFECTS = (EFFECT_NONE, EFFECT_PROMISE, EFFECT_DISPUTE, EFFECT_HOLD, EFFECT_RESUME, EFFECT_DELIVERY)

# Days a promise without a date (a cheque sent, a weekly payment run) pauses the follow-up
PROMISE_DEFAULT_DAYS = 7

SENT_OUTCOME = "sent"
CONTACT_CHANNELS = (EMAIL, LETTER, REGISTERED_LETTER, PHONE)
DELIVERED = "delivered"
RESUME = "resume"


@dataclass(frozen=True, slots=True)
class Outcome:
	"""One outcome code: its French and English labels and what it does to the plan."""

	code: str
	fr: str
	en: str
	effect: str

	def label(self, language: str = "en") -> str:
		return self.fr if language.startswith("fr") else self.en


# The codes are the stable interface (journal, Dolibarr's events, JSON); the labels are for people
OUTCOMES: dict[str, Outcome] = {
	o.code: o
	for o in (
		Outcome(SENT_OUTCOME, "relance envoyée", "reminder sent", EFFECT_NONE),
		Outcome(
			DELIVERED,
			"lettre recommandée distribuée (avis de réception)",
			"registered letter delivered (return receipt)",
			EFFECT_DELIVERY,
		),
		Outcome("no_answer", "pas de réponse", "no answer", EFFECT_NONE),
		Outcome("promise", "promesse de paiement", "promise to pay", EFFECT_PROMISE),
		Outcome("dispute", "litige", "dispute", EFFECT_DISPUTE),
		Outcome("not_received", "facture non reçue", "invoice not received", EFFECT_NONE),
		Outcome("cheque_sent", "chèque envoyé", "cheque sent", EFFECT_PROMISE),
		Outcome("cheque_lost", "chèque perdu", "cheque lost", EFFECT_NONE),
		Outcome("cash_difficulties", "difficultés de trésorerie", "cash-flow problems", EFFECT_NONE),
		Outcome("hold", "suspension", "on hold", EFFECT_HOLD),
		Outcome(RESUME, "fin du litige ou de la suspension", "dispute or hold ended", EFFECT_RESUME),
		Outcome("paid", "payée selon le client", "paid, the customer says", EFFECT_PROMISE),
		Outcome("refused", "refus de payer", "refused to pay", EFFECT_NONE),
		Outcome(
			"waiting_their_customer",
			"attend le paiement de son propre client",
			"waiting for their customer",
			EFFECT_NONE,
		),
		Outcome("signatory_absent", "signataire absent", "signatory absent", EFFECT_PROMISE),
		Outcome(
			"due_date_disputed",
			"calcul de l'échéance contesté",
			"due date disputed",
			EFFECT_DISPUTE,
		),
		Outcome("wrong_details", "erreur sur la facture", "wrong invoice details", EFFECT_DISPUTE),
		Outcome("delivery_note_missing", "bon de livraison manquant", "delivery note missing", EFFECT_NONE),
		Outcome(
			"weekly_payment_run",
			"paiement au prochain jour de règlement",
			"weekly payment run",
			EFFECT_PROMISE,
		),
		Outcome("other", "autre", "other", EFFECT_NONE),
	)
}

# ERPNext's Follow-up Log `outcome` options -> codes (the adapter maps a manual log through this)
ERPNEXT_OUTCOMES = {
	"No Answer": "no_answer",
	"Promise to Pay": "promise",
	"Dispute": "dispute",
	"Paid": "paid",
	"Refused": "refused",
	"Invoice Not Received": "not_received",
	"Cheque Lost": "cheque_lost",
	"Waiting for Their Customer": "waiting_their_customer",
	"Signatory Absent": "signatory_absent",
	"Due Date Disputed": "due_date_disputed",
	"Wrong Invoice Details": "wrong_details",
	"Delivery Note Missing": "delivery_note_missing",
	"Weekly Payment Run": "weekly_payment_run",
	"Cash-flow Problems": "cash_difficulties",
	"Other": "other",
}

# Channels a person may name, in French or English (register cells, `relance log`)
_CHANNEL_WORDS = {
	EMAIL: ("email", "e-mail", "mail", "courriel", "mel", "message"),
	LETTER: ("letter", "lettre", "courrier", "lettre simple", "courrier simple", "post", "postal"),
	REGISTERED_LETTER: (
		"registered_letter",
		"registered",
		"registered letter",
		"recommande",
		"recommandee",
		"lettre recommandee",
		"lrar",
		"lr",
		"ar",
		"recommande ar",
		"lettre recommandee avec accuse de reception",
		"mise en demeure",
		"med",
	),
	PHONE: ("phone", "call", "appel", "telephone", "tel", "appel telephonique", "relance telephonique"),
}
CHANNEL_ALIASES = {
	re.sub(r"[^a-z0-9]", "", word): channel for channel, words in _CHANNEL_WORDS.items() for word in words
}
_LEVEL = re.compile(
	r"^(?:niveau|niv|n|level|relance|rappel|etape|step|r)?\s*(\d{1,2})\s*"
	r"(?:e|er|re|eme|ere|nd|rd|st|th)?\s*(?:relance|rappel|reminder)?$"
)


@dataclass(frozen=True, slots=True)
class ManualEntry:
	"""Something done or learnt outside the planner, about some invoices of one customer.

	`channel` set: a communication of ours on `day` (its `step` the scenario's step it stands for; when
	empty, `level` — the n-th reminder after the due date — or else the step of that channel the
	delay had reached). `outcome`: an `OUTCOMES` code. `until`: a promise's date, or the end of a
	dispute or hold. `amount`: a promise's amount (None: everything). `reference`: a registered
	letter's number."""

	invoices: tuple[str, ...]
	day: date
	outcome: str = SENT_OUTCOME
	channel: str = ""
	step: str = ""
	level: int = 0
	reference: str = ""
	amount: Decimal | None = None
	until: date | None = None
	reason: str = ""
	customer: str = ""


def outcome_of(code: str) -> Outcome:
	"""The outcome of a code (an ERPNext label is accepted too); KeyError when unknown."""
	code = ERPNEXT_OUTCOMES.get(code, code)
	return OUTCOMES[code]


def _plain(text: str) -> str:
	decomposed = unicodedata.normalize("NFKD", str(text)).casefold()
	return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def parse_channel(text: str) -> str | None:
	"""email, letter, registered_letter or phone from a person's word ("courriel", "LRAR", "appel")."""
	return CHANNEL_ALIASES.get(re.sub(r"[^a-z0-9]", "", _plain(text)))


def parse_level(text: str) -> int | None:
	"""The n-th reminder a cell names: "2", "niveau 2", "2e relance", "N2"; None when it names none."""
	plain = " ".join(re.sub(r"[^a-z0-9]+", " ", _plain(text)).split())
	match = _LEVEL.match(plain) or _LEVEL.match(plain.replace(" ", ""))
	if match is None:
		return None
	level = int(match.group(1))
	return level if level >= 1 else None


def parse_step_cell(text: str) -> tuple[str, int, str]:
	"""A register's "niveau" / "étape" cell as (step key, level, channel): one of the three is set."""
	level = parse_level(text)
	if level is not None:
		return "", level, ""
	channel = parse_channel(text)
	if channel is not None:
		return "", 0, channel
	key = re.sub(r"\s+", "_", _plain(text).strip())
	return key, 0, ""


def resolve_step(scenario: Scenario, due: date, entry: ManualEntry) -> Step | None:
	"""The step of `scenario` a communication made on `entry.day` stands for.

	The step named, when the scenario has it; else the `level`-th step after the due date (the last
	one when beyond); else, among the written (or call) steps of the entry's channel, the latest whose
	day (counted from the due date) had come, else the first of them; a registered letter stands for
	the scenario's formal notice when it has one. None: an escalation, or nothing fits."""
	steps = [s for s in scenario.steps if s.channel != ESCALATION]
	if not steps:
		return None
	if entry.step:
		named = scenario.step(entry.step)
		if named is not None:
			return named
	offsets = dict(zip((s.key for s in scenario.steps), nominal_offsets(scenario), strict=True))
	if entry.level:
		after_due = [s for s in steps if offsets[s.key] > 0] or steps
		return after_due[min(entry.level, len(after_due)) - 1]
	delay = (entry.day - due).days
	channel = entry.channel
	if channel == REGISTERED_LETTER:
		fitting = [s for s in steps if s.formal_notice] or [s for s in steps if s.channel in POSTAL_CHANNELS]
	elif channel == PHONE:
		fitting = [s for s in steps if s.channel == PHONE]
	elif channel in (EMAIL, LETTER):
		fitting = [s for s in steps if s.channel in (EMAIL, LETTER) and not s.formal_notice]
	else:
		fitting = []
	if not fitting:
		fitting = [s for s in steps if not s.formal_notice] or steps
	reached = [s for s in fitting if offsets[s.key] <= delay]
	return reached[-1] if reached else fitting[0]


@dataclass
class Applied:
	"""What the manual entries of a book add to the planner's inputs."""

	history: list[HistoryEntry] = field(default_factory=list)
	promises: list[Promise] = field(default_factory=list)
	# Invoice -> the hold or dispute entered by hand that is active on the planning day
	holds: dict[str, Hold] = field(default_factory=dict)
	# Invoice -> the day its formal notice was delivered (the earliest delivery logged)
	delivered: dict[str, date] = field(default_factory=dict)


def apply_outcomes(
	as_of: date,
	entries: Iterable[ManualEntry],
	invoices: Mapping[str, Invoice],
	customers: Mapping[str, Customer],
	scenarios: Mapping[str, Scenario],
	settings: PlanSettings,
) -> Applied:
	"""The history entries, promises, holds and delivery days the manual entries stand for on `as_of`.

	Entries are read in date order (a `resume` ends what was entered before it); those dated after
	`as_of` are left out. An invoice not in `invoices` (paid, or unknown) is left out."""
	applied = Applied()
	active: dict[str, tuple[date, Hold]] = {}
	for entry in sorted(
		(e for e in entries if e.day <= as_of),
		key=lambda e: (e.day, e.outcome == RESUME, e.invoices, e.outcome, e.channel, e.step),
	):
		known = tuple(i for i in entry.invoices if i in invoices)
		if not known:
			continue
		outcome = OUTCOMES.get(ERPNEXT_OUTCOMES.get(entry.outcome, entry.outcome))
		effect = outcome.effect if outcome is not None else EFFECT_NONE
		# A communication of ours: on a known channel, or a reminder sent whose channel is not known
		# (a register's "relancé le" with a level only: cited as "notre relance du …")
		if entry.channel in CONTACT_CHANNELS or (not entry.channel and entry.outcome == SENT_OUTCOME):
			for invoice_id in known:
				inv = invoices[invoice_id]
				customer = customers.get(inv.customer)
				key = inv.scenario or (customer.scenario if customer else None) or settings.default_scenario
				scenario = scenarios.get(key)
				step = resolve_step(scenario, inv.due, entry) if scenario is not None else None
				applied.history.append(
					HistoryEntry(
						invoice=invoice_id,
						step=step.key
						if step is not None
						else (entry.step or f"manual_{entry.channel or 'reminder'}"),
						day=entry.day,
						status=SENT,
						channel=entry.channel,
						formal_notice=bool(step is not None and step.formal_notice),
						customer=inv.customer,
						reference=entry.reference,
					)
				)
		if effect == EFFECT_PROMISE:
			until = entry.until or entry.day + timedelta(days=PROMISE_DEFAULT_DAYS)
			applied.promises.append(Promise(known, until, entry.amount, entry.day))
		elif effect in (EFFECT_DISPUTE, EFFECT_HOLD):
			hold = Hold(DISPUTE if effect == EFFECT_DISPUTE else HOLD, entry.reason, entry.until)
			for invoice_id in known:
				active[invoice_id] = (entry.day, hold)
		elif effect == EFFECT_RESUME:
			for invoice_id in known:
				active.pop(invoice_id, None)
		elif effect == EFFECT_DELIVERY:
			for invoice_id in known:
				if invoice_id not in applied.delivered:
					applied.delivered[invoice_id] = entry.day
	for invoice_id, (_, hold) in active.items():
		if hold.active_on(as_of):
			applied.holds[invoice_id] = hold
	return applied
