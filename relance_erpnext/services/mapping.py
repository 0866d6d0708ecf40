"""The only place where Frappe values become core values and back: floats to Decimal, dates, codes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from frappe.utils import flt, getdate

from relance_erpnext.dunning import models as core

ZERO = Decimal("0")


def to_decimal(value) -> Decimal:
	"""A Frappe currency float (or None) to a Decimal, once, at the boundary.

	repr() of a float is the shortest text that reads back as the same float, so 1234.56 stays
	1234.56 (no binary noise), without the cost of rounding first.
	"""
	if not value:
		return ZERO
	return Decimal(repr(float(value)))


def to_float(value: Decimal, precision: int = 2) -> float:
	return flt(float(value), precision)


def to_date(value) -> date | None:
	return getdate(value) if value else None


def language_code(frappe_language: str | None, regime: str) -> str:
	"""Frappe's language codes (fr, fr-CA, en, en-US…) to the letters' fr-FR, fr-CA, en."""
	code = (frappe_language or "").lower()
	if code.startswith("en"):
		return "en"
	if code in ("fr-ca", "fr_ca"):
		return "fr-CA"
	if code.startswith("fr"):
		return "fr-CA" if regime == core.REGIME_QC else "fr-FR"
	return "fr-CA" if regime == core.REGIME_QC else "fr-FR"


def regime_of_country(country: str | None) -> str:
	return (
		core.REGIME_QC
		if (country or "").strip().lower() in ("canada", "ca", "québec", "quebec")
		else core.REGIME_FR
	)


def customer_kind(customer_type: str | None) -> str:
	return core.CONSUMER if customer_type == "Individual" else core.BUSINESS


# A Follow-up Log's status as the core reads it. A postal letter goes To Post (printed with the run's
# letters), then Posted (the day and, for a registered letter, its number), then Delivered or Returned
# (the avis de réception): its step counts from the day it was posted.
STATUS_TO_CORE = {
	"Planned": core.PLANNED,
	"To Post": core.PLANNED,
	"Posted": core.SENT,
	"Sent": core.SENT,
	"Delivered": core.SENT,
	"Returned": core.SENT,
	"Done": core.DONE,
	"Unknown": core.UNKNOWN,
	"Failed": core.FAILED,
	"Cancelled": core.CANCELLED,
}
# The statuses of a step that is done or in flight: never planned again while one is (unique key)
LIVE_STATUSES = ("Planned", "To Post", "Posted", "Sent", "Delivered", "Returned", "Done", "Unknown")
# The statuses of a communication that reached, or went to, the customer
GONE_STATUSES = ("Posted", "Sent", "Delivered", "Returned", "Done")


def scenario_from_doc(doc) -> core.Scenario:
	"""A Dunning Scenario document (or dict with its steps) to a validated core Scenario."""
	from relance_erpnext.dunning import scenario_from_dict

	return scenario_from_dict(
		scenario_dict(
			doc.get("scenario_key") or doc.get("name"), doc.get("scenario_name"), doc.get("steps") or []
		)
	)


def scenario_dict(key: str, name: str | None, steps) -> dict:
	return {
		"key": key,
		"name": name or key,
		"steps": [
			{
				"key": step.get("step_key"),
				"label": step.get("label"),
				"offset": step.get("offset_days") if step.get("offset_days") is not None else "",
				"relative_to": step.get("relative_to") or core.FROM_DUE,
				"channel": step.get("channel"),
				"tone": step.get("tone"),
				"template": step.get("template"),
				"fee": str(to_decimal(step.get("fee"))),
				"claim_interest": bool(step.get("claim_interest")),
				"claim_indemnity": bool(step.get("claim_indemnity")),
				"formal_notice": bool(step.get("formal_notice")),
				"notice_days": int(step.get("notice_days") or 0),
				"notify": [step.get("notify_role")] if step.get("notify_role") else [],
			}
			for step in steps
		],
	}


def step_rows(scenario: core.Scenario) -> list[dict]:
	"""A core scenario's steps as Dunning Scenario Step rows (install of the built-in scenarios)."""
	return [
		{
			"step_key": step.key,
			"label": step.label,
			"offset_days": step.offset,
			"relative_to": step.relative_to,
			"channel": step.channel,
			"tone": step.tone,
			"template": step.template,
			"fee": float(step.fee),
			"claim_interest": int(step.claim_interest),
			"claim_indemnity": int(step.claim_indemnity),
			"formal_notice": int(step.formal_notice),
			"notice_days": step.notice_days,
			"notify_role": step.notify[0] if step.notify else None,
		}
		for step in scenario.steps
	]


def channel_label(channel: str | None, lang: str | None = None) -> str:
	"""A channel code as people read it, translated (into `lang`, else the reader's language)."""
	from frappe import _

	labels = {
		"email": _("Email", lang),
		"letter": _("Letter", lang),
		"registered_letter": _("Registered Letter", lang),
		"phone": _("Phone Call", lang),
		"escalation": _("Escalation", lang),
		"meeting": _("Meeting", lang),
		"note": _("Note", lang),
	}
	return labels.get(channel or "", channel or "")


def site_language() -> str:
	"""The language of what is stored for everyone to read (timeline entries): the site's, not that
	of whoever (or whichever scheduled job) wrote it."""
	import frappe

	return frappe.db.get_single_value("System Settings", "language") or "en"
