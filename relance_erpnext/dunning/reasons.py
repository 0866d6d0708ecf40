"""Words for the planner's reason and note codes, in English and French.

The codes are the stable interface (JSON plan, logs); these texts are for people. Frappe translates
the English text through its own catalogue (locale/fr.po); the `relance` command uses these.
"""

from __future__ import annotations

REASONS: dict[str, tuple[str, str]] = {
	"paid": ("paid", "payée"),
	"cancelled": ("cancelled", "annulée"),
	"unknown_customer": ("customer unknown", "client inconnu"),
	"no_due_date": ("no due date", "pas de date d'échéance"),
	"on_hold": ("on hold: {detail}", "suspendue : {detail}"),
	"disputed": ("disputed: {detail}", "en litige : {detail}"),
	"promise_pending": ("payment promised for {detail}", "paiement promis pour le {detail}"),
	"arrangement_active": (
		"payment plan kept, next instalment {detail}",
		"échéancier respecté, prochaine échéance le {detail}",
	),
	"unknown_scenario": ("unknown scenario {detail}", "scénario inconnu {detail}"),
	"not_yet_due": ("not yet due (first reminder {detail})", "pas encore échue (premier rappel le {detail})"),
	"waiting_next_step": (
		"waiting for the next step ({detail})",
		"en attente de l'étape suivante ({detail})",
	),
	"step_done_today": (
		"already followed up today; next step {detail}",
		"déjà relancée aujourd'hui ; étape suivante {detail}",
	),
	"send_uncertain": (
		"email of today's step may not have gone out ({detail}): check the sent mail, then mark it sent or"
		" failed; never sent again by itself",
		"envoi incertain du courriel de l'étape du jour ({detail}) : vérifiez les courriels envoyés, puis"
		" marquez-le envoyé ou en échec ; jamais renvoyé de lui-même",
	),
	"scenario_complete": (
		"every step done (last: {detail}); follow up by hand",
		"toutes les étapes faites (dernière : {detail}) ; suivi manuel",
	),
	"below_minimum": ("below the minimum amount {detail}", "sous le montant minimum {detail}"),
	"min_gap": (
		"customer reminded recently; next reminder from {detail}",
		"client relancé récemment ; prochaine relance à partir du {detail}",
	),
	"no_contact": ("no contact for channel {detail}", "aucun contact pour le canal {detail}"),
	"credits_cover": (
		"the customer's credits ({detail}) cover every overdue amount: nothing to ask",
		"les avoirs du client ({detail}) couvrent tout ce qui est échu : rien à réclamer",
	),
	# Plans made before missing rates became provisional interest (never given now)
	"rate_missing": ("no reference rate for {detail}", "aucun taux de référence pour le {detail}"),
}

# Short titles of the reasons, for counts ("disputed: 3")
REASON_TITLES: dict[str, tuple[str, str]] = {
	"paid": ("paid", "payées"),
	"cancelled": ("cancelled", "annulées"),
	"unknown_customer": ("customer unknown", "client inconnu"),
	"no_due_date": ("no due date", "sans date d'échéance"),
	"on_hold": ("on hold", "suspendues"),
	"disputed": ("disputed", "en litige"),
	"promise_pending": ("payment promised", "paiement promis"),
	"arrangement_active": ("payment plan kept", "échéancier respecté"),
	"unknown_scenario": ("unknown scenario", "scénario inconnu"),
	"not_yet_due": ("not yet due", "pas encore échues"),
	"waiting_next_step": ("waiting for the next step", "en attente de l'étape suivante"),
	"step_done_today": ("already followed up today", "déjà relancées aujourd'hui"),
	"send_uncertain": ("email sending uncertain", "envoi incertain"),
	"scenario_complete": ("every step done", "toutes les étapes faites"),
	"below_minimum": ("below the minimum amount", "sous le montant minimum"),
	"min_gap": ("customer reminded recently", "client relancé récemment"),
	"no_contact": ("no contact for the channel", "aucun contact pour le canal"),
	"credits_cover": ("covered by credits", "couvertes par des avoirs"),
	"rate_missing": ("reference rate missing", "taux de référence manquant"),
}

NOTES: dict[str, tuple[str, str]] = {
	"steps_skipped": ("earlier steps skipped (catch-up): {detail}", "étapes sautées (rattrapage) : {detail}"),
	"promise_broken": ("payment promise broken: escalated", "promesse de paiement non tenue : escalade"),
	"arrangement_broken": ("payment plan broken: escalated", "échéancier non respecté : escalade"),
	"no_email_sent_by_letter": (
		"no email address: sent by letter",
		"pas d'adresse e-mail : envoi par courrier",
	),
	"fee_not_allowed_consumer": (
		"no fee charged to a consumer",
		"aucun frais facturé à un consommateur",
	),
	"interest_runs_from_notice": (
		"interest runs only from the formal notice",
		"les intérêts ne courent qu'à compter de la mise en demeure",
	),
	"first_contact": (
		"first contact: the next steps will count from {detail}",
		"premier contact : les étapes suivantes partiront du {detail}",
	),
	"caught_up_by_due_date": (
		"first contact caught up by due date (catch_up = by_due_date), earlier steps never sent: {detail}",
		"premier contact rattrapé selon l'échéance (catch_up = by_due_date), étapes jamais envoyées : {detail}",
	),
	"address_missing": (
		"no postal address: the letter is written with the address to complete",
		"pas d'adresse postale : courrier écrit avec l'adresse à compléter",
	),
	"no_phone_written_reminder": (
		"no phone number: the reminder goes in writing",
		"pas de numéro de téléphone : la relance part par écrit",
	),
	"interest_provisional": (
		"provisional interest, counted up to {detail}: a reference rate is not known yet (relance rates update)",
		"intérêts provisoires, arrêtés au {detail} : un taux de référence n'est pas encore connu (relance rates update)",
	),
	"indemnity_eur_only": (
		"the 40 EUR indemnity is claimed on EUR invoices only",
		"l'indemnité de 40 EUR n'est réclamée que sur les factures en euros",
	),
}


# What a person must do for an action to go out as planned
TASK_TEXTS: dict[str, tuple[str, str]] = {
	"complete_address": (
		"complete the postal address on the letter before posting it",
		"compléter l'adresse postale sur le courrier avant de le poster",
	),
	"find_phone": (
		"find the customer's phone number (a written reminder goes meanwhile)",
		"trouver le numéro de téléphone du client (une relance écrite part en attendant)",
	),
}


def task_text(code: str, language: str = "en") -> str:
	texts = TASK_TEXTS.get(code)
	if texts is None:
		return code
	return texts[1] if language.startswith("fr") else texts[0]


def describe(code: str, detail: str = "", language: str = "en", labels: dict | None = None) -> str:
	"""The text for a reason or note code ("code" or "code:detail"); with `labels` (step key → its
	label), a step and a day in the detail ("relance_formelle@2026-06-21") read as words."""
	if ":" in code and not detail:
		code, detail = code.split(":", 1)
	texts = REASONS.get(code) or NOTES.get(code)
	if texts is None:
		return f"{code} {detail}".strip()
	text = texts[1] if language.startswith("fr") else texts[0]
	if labels is not None:
		detail = readable_detail(detail, language, labels)
	return text.format(detail=detail)


def readable_detail(detail: str, language: str, labels: dict) -> str:
	""" "relance_formelle@2026-06-21" → "Relance formelle le 21 juin 2026" (en: "… on 21 June 2026");
	an ISO day alone → "21 juin 2026"; anything else as it is."""
	from datetime import date

	from .letters import format_date

	def day_text(text: str) -> str | None:
		try:
			return format_date(date.fromisoformat(text), language)
		except ValueError:
			return None

	step, at, day = detail.partition("@")
	if at and day_text(day):
		joiner = " le " if language.startswith("fr") else " on "
		return f"{labels.get(step, step)}{joiner}{day_text(day)}"
	return day_text(detail) or labels.get(detail, detail)


def reason_title(code: str, language: str = "en") -> str:
	"""A reason's short title, without its detail."""
	texts = REASON_TITLES.get(code)
	if texts is None:
		return code
	return texts[1] if language.startswith("fr") else texts[0]
