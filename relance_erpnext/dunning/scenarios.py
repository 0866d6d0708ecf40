"""Dunning scenarios: the built-in ones (from the seeds' procedures), validation, and parsing."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import ScenarioError
from .models import (
	AMICAL,
	CATCH_UP_MODES,
	CHANNELS,
	EMAIL,
	ESCALATION,
	FERME,
	FORMEL,
	FROM_DUE,
	FROM_PREVIOUS,
	OFFSET_BASES,
	PHONE,
	REGISTERED_LETTER,
	TONES,
	ZERO,
	Scenario,
	Step,
)

KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
STEP_FIELDS = frozenset(Step.__slots__)


def _step(key, label, offset, channel, tone, template, **extra) -> Step:
	return Step(key=key, label=label, offset=offset, channel=channel, tone=tone, template=template, **extra)


STANDARD = Scenario(
	key="standard",
	name="Standard",
	steps=(
		_step("rappel_courtois", "Rappel courtois", 1, EMAIL, AMICAL, "courteous"),
		_step(
			"relance_formelle",
			"Relance formelle",
			7,
			EMAIL,
			FORMEL,
			"formal",
			claim_interest=True,
			claim_indemnity=True,
		),
		_step(
			"appel",
			"Appel téléphonique",
			15,
			PHONE,
			FORMEL,
			"call",
			claim_interest=True,
			claim_indemnity=True,
		),
		_step(
			"mise_en_demeure",
			"Dernier avis – mise en demeure",
			30,
			REGISTERED_LETTER,
			FERME,
			"formal_notice",
			claim_interest=True,
			claim_indemnity=True,
			formal_notice=True,
			notice_days=8,
		),
		_step(
			"escalade",
			"Escalade (contentieux)",
			10,
			ESCALATION,
			FERME,
			"escalation",
			relative_to=FROM_PREVIOUS,
			claim_interest=True,
			claim_indemnity=True,
			notify=("Accounts Manager",),
		),
	),
)

DOUBTFUL = Scenario(
	key="clients_douteux",
	name="Clients douteux",
	steps=(
		_step("premier_rappel", "Premier rappel", 7, EMAIL, AMICAL, "doubtful_reminder"),
		_step(
			"relance_insistante",
			"Relance insistante",
			7,
			EMAIL,
			FORMEL,
			"doubtful_urgent",
			relative_to=FROM_PREVIOUS,
			claim_interest=True,
			claim_indemnity=True,
		),
		_step(
			"derniere_relance",
			"Dernière relance avant action légale – mise en demeure",
			7,
			REGISTERED_LETTER,
			FERME,
			"doubtful_final",
			relative_to=FROM_PREVIOUS,
			claim_interest=True,
			claim_indemnity=True,
			formal_notice=True,
			notice_days=8,
		),
		_step(
			"escalade",
			"Escalade (contentieux)",
			10,
			ESCALATION,
			FERME,
			"escalation",
			relative_to=FROM_PREVIOUS,
			claim_interest=True,
			claim_indemnity=True,
			notify=("Accounts Manager",),
		),
	),
)

PREVENTIVE = Scenario(
	key="preventif",
	name="Préventif (rappel avant échéance)",
	steps=(
		_step("rappel_echeance", "Rappel avant échéance", -5, EMAIL, AMICAL, "pre_due"),
		*STANDARD.steps,
	),
)

BUILTIN_SCENARIOS = {s.key: s for s in (STANDARD, DOUBTFUL, PREVENTIVE)}


def nominal_offsets(scenario: Scenario) -> list[int]:
	"""Days from the due date of each step, when every step happens on its own date."""
	offsets = []
	for step in scenario.steps:
		if step.relative_to == FROM_PREVIOUS and offsets:
			offsets.append(offsets[-1] + step.offset)
		else:
			offsets.append(step.offset)
	return offsets


# An offset, or a delay given in a formal notice, beyond ten years is a typo (and would overflow dates)
MAX_DAYS = 3650
# A fee above this is a typo, not a fee
MAX_FEE = Decimal(1_000_000)
TEXT_FIELDS = ("key", "label", "channel", "tone", "template", "relative_to")
FLAG_FIELDS = ("claim_interest", "claim_indemnity", "formal_notice")
_WHOLE = re.compile(r"^[+-]?[0-9]+$")


def _shown(value: Any) -> str:
	"""A value as a message shows it: its repr, cut short."""
	try:
		text = repr(value)
	except ValueError:  # an integer of thousands of digits
		return f"a {type(value).__name__} too long to show"
	return text if len(text) <= 60 else text[:57] + "..."


def validate_scenario(scenario: Scenario) -> Scenario:
	"""Raise ScenarioError naming the step and field at fault; return the scenario when it is sound.

	Any object may be given: a field of the wrong type is an error too, never a crash."""
	key = getattr(scenario, "key", None)
	name = key if isinstance(key, str) and key else "?"
	if not isinstance(scenario, Scenario):
		raise ScenarioError(name, None, "steps", "not a scenario: {value}", value=_shown(scenario))
	if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
		raise ScenarioError(name, None, "key", "use lower-case letters, digits, '_' or '-'")
	if not isinstance(scenario.name, str):
		raise ScenarioError(name, None, "name", "expected text, got {value}", value=_shown(scenario.name))
	if scenario.catch_up is not None and scenario.catch_up not in CATCH_UP_MODES:
		raise ScenarioError(name, None, "catch_up", "use one of {listed}", listed=", ".join(CATCH_UP_MODES))
	if not isinstance(scenario.steps, tuple | list) or not scenario.steps:
		raise ScenarioError(name, None, "steps", "a scenario needs at least one step")
	seen: set[str] = set()
	previous_offset = None
	previous_key = None
	for index, step in enumerate(scenario.steps):
		step_key = getattr(step, "key", None)
		label = step_key if isinstance(step_key, str) and step_key else f"#{index + 1}"
		if not isinstance(step, Step):
			raise ScenarioError(name, label, "step", "not a step: {value}", value=_shown(step))
		for field in TEXT_FIELDS:
			if not isinstance(getattr(step, field), str):
				raise ScenarioError(
					name, label, field, "expected text, got {value}", value=_shown(getattr(step, field))
				)
		if not KEY_PATTERN.fullmatch(step.key):
			raise ScenarioError(name, label, "key", "use lower-case letters, digits, '_' or '-'")
		if step.key in seen:
			raise ScenarioError(name, label, "key", "duplicate step key")
		seen.add(step.key)
		if not step.label.strip():
			raise ScenarioError(name, label, "label", "a step needs a label")
		if step.channel not in CHANNELS:
			raise ScenarioError(
				name,
				label,
				"channel",
				"unknown channel {channel!r} (use {listed})",
				channel=step.channel,
				listed=", ".join(CHANNELS),
			)
		if step.tone not in TONES:
			raise ScenarioError(
				name,
				label,
				"tone",
				"unknown tone {tone!r} (use {listed})",
				tone=step.tone,
				listed=", ".join(TONES),
			)
		if step.relative_to not in OFFSET_BASES:
			raise ScenarioError(name, label, "relative_to", "use 'due' or 'previous'")
		if not isinstance(step.offset, int) or isinstance(step.offset, bool):
			raise ScenarioError(name, label, "offset", "the offset is a whole number of days")
		if abs(step.offset) > MAX_DAYS:
			raise ScenarioError(
				name,
				label,
				"offset",
				"{value} days is more than {limit} days (ten years) away",
				value=_shown(step.offset),
				limit=MAX_DAYS,
			)
		if step.relative_to == FROM_PREVIOUS:
			if index == 0:
				raise ScenarioError(name, label, "relative_to", "the first step cannot follow a previous one")
			if step.offset < 1:
				raise ScenarioError(
					name, label, "offset", "a step after the previous one needs at least 1 day"
				)
		if not step.template.strip():
			raise ScenarioError(name, label, "template", "a step needs a template")
		if not isinstance(step.fee, Decimal) or not step.fee.is_finite() or step.fee < ZERO:
			raise ScenarioError(name, label, "fee", "the fee is an amount of 0 or more")
		if step.fee > MAX_FEE:
			raise ScenarioError(
				name, label, "fee", "{fee} is not a plausible fee (over {limit})", fee=step.fee, limit=MAX_FEE
			)
		for field in FLAG_FIELDS:
			if not isinstance(getattr(step, field), bool):
				raise ScenarioError(
					name,
					label,
					field,
					"expected true or false, got {value}",
					value=_shown(getattr(step, field)),
				)
		notice_days = step.notice_days
		if not isinstance(notice_days, int) or isinstance(notice_days, bool) or notice_days < 0:
			raise ScenarioError(name, label, "notice_days", "the delay given is 0 days or more")
		if notice_days > MAX_DAYS:
			raise ScenarioError(
				name,
				label,
				"notice_days",
				"{value} days is more than {limit} days (ten years)",
				value=_shown(notice_days),
				limit=MAX_DAYS,
			)
		if not isinstance(step.notify, tuple) or not all(
			isinstance(role, str) and role.strip() for role in step.notify
		):
			raise ScenarioError(
				name, label, "notify", "expected role names, got {value}", value=_shown(step.notify)
			)
		if step.formal_notice and step.channel in (PHONE, ESCALATION):
			raise ScenarioError(
				name,
				label,
				"formal_notice",
				"a formal notice must be written (email, letter, registered letter)",
			)
		offset = step.offset if step.relative_to == FROM_DUE or previous_offset is None else None
		if offset is None:
			offset = previous_offset + step.offset
		if previous_offset is not None and offset <= previous_offset:
			raise ScenarioError(
				name,
				label,
				"offset",
				"day {offset} comes before or on day {previous_offset} of step {previous_key!r}: steps must be in order",
				offset=offset,
				previous_offset=previous_offset,
				previous_key=previous_key,
			)
		previous_offset, previous_key = offset, step.key
	return scenario


def _bool(value: Any, name: str, step: str, field: str) -> bool:
	if isinstance(value, bool):
		return value
	if isinstance(value, str) and value.strip().lower() in ("true", "yes", "oui", "1"):
		return True
	if isinstance(value, str) and value.strip().lower() in ("false", "no", "non", "0", ""):
		return False
	if isinstance(value, int) and value in (0, 1):
		return bool(value)
	raise ScenarioError(name, step, field, "expected true or false, got {value}", value=_shown(value))


def _whole(value: Any, name: str, step: str, field: str, days: bool) -> int:
	"""A whole number: an integer, or its digits as text ("7", "-5"); never a float, bool or "7.0"."""
	if isinstance(value, int) and not isinstance(value, bool):
		return value
	if isinstance(value, str) and _WHOLE.match(value.strip()):
		try:
			return int(value.strip())
		except ValueError:  # more digits than Python converts
			pass
	if days:
		raise ScenarioError(
			name, step, field, "expected a whole number of days, got {value}", value=_shown(value)
		)
	raise ScenarioError(name, step, field, "expected a whole number, got {value}", value=_shown(value))


def _text(raw: dict, field: str, name: str, step: str, default: str = "") -> str:
	value = raw.get(field)
	if value is None:
		return default
	if not isinstance(value, str):
		raise ScenarioError(name, step, field, "expected text, got {value}", value=_shown(value))
	return value.strip() or default


def scenario_from_dict(data: dict[str, Any], key: str | None = None) -> Scenario:
	"""Build and validate a scenario from plain data (a JSON/TOML table, or a Frappe document).

	Raises ScenarioError, naming the scenario, the step and the field, for anything malformed."""
	fallback = key if isinstance(key, str) and key.strip() else "?"
	if not isinstance(data, dict):
		raise ScenarioError(fallback, None, "steps", "a scenario is a table with a 'steps' list")
	if data.get("key") is not None and not isinstance(data.get("key"), str):
		raise ScenarioError(
			fallback, None, "key", "expected text, got {value}", value=_shown(data.get("key"))
		)
	key = (data.get("key") or (key if isinstance(key, str) else "") or "").strip()
	name = key or "?"
	title = data.get("name")
	if title is not None and not isinstance(title, str):
		raise ScenarioError(name, None, "name", "expected text, got {value}", value=_shown(title))
	catch_up = data.get("catch_up")
	if catch_up is not None and (not isinstance(catch_up, str) or catch_up.strip() not in CATCH_UP_MODES):
		raise ScenarioError(name, None, "catch_up", "use one of {listed}", listed=", ".join(CATCH_UP_MODES))
	raw_steps = data.get("steps")
	if not isinstance(raw_steps, list) or not raw_steps:
		raise ScenarioError(name, None, "steps", "a scenario needs a non-empty 'steps' list")
	steps = []
	for index, raw in enumerate(raw_steps):
		raw_key = raw.get("key") if isinstance(raw, dict) else None
		label = raw_key.strip() if isinstance(raw_key, str) and raw_key.strip() else f"#{index + 1}"
		if not isinstance(raw, dict):
			raise ScenarioError(name, label, "step", "each step is a table of fields")
		unknown = sorted(str(field) for field in raw if field not in STEP_FIELDS)
		if unknown:
			raise ScenarioError(name, label, unknown[0], "unknown field")
		for required in ("key", "offset", "channel", "tone"):
			if raw.get(required) is None or raw.get(required) == "":
				raise ScenarioError(name, label, required, "missing")
		for field in TEXT_FIELDS:
			_text(raw, field, name, label)  # the type of each text field, before anything else
		offset = _whole(raw["offset"], name, label, "offset", days=True)
		fee_value = raw.get("fee", "0")
		try:
			if isinstance(fee_value, bool):
				raise InvalidOperation
			fee = Decimal(str(fee_value).strip().replace(",", "."))
		except (InvalidOperation, ValueError):
			raise ScenarioError(name, label, "fee", "not an amount: {value}", value=_shown(fee_value))
		notice_days = _whole(raw.get("notice_days") or 0, name, label, "notice_days", days=False)
		notify = raw.get("notify") or ()
		if isinstance(notify, str):
			notify = notify.split(",")
		if not isinstance(notify, list | tuple) or not all(isinstance(role, str) for role in notify):
			raise ScenarioError(
				name,
				label,
				"notify",
				"expected a role name or a list of them, got {value}",
				value=_shown(notify),
			)
		step_key = _text(raw, "key", name, label)
		steps.append(
			Step(
				key=step_key,
				label=_text(raw, "label", name, label, default=step_key),
				offset=offset,
				channel=_text(raw, "channel", name, label),
				tone=_text(raw, "tone", name, label),
				template=_text(raw, "template", name, label),
				relative_to=_text(raw, "relative_to", name, label, default=FROM_DUE),
				fee=fee,
				claim_interest=_bool(raw.get("claim_interest", False), name, label, "claim_interest"),
				claim_indemnity=_bool(raw.get("claim_indemnity", False), name, label, "claim_indemnity"),
				formal_notice=_bool(raw.get("formal_notice", False), name, label, "formal_notice"),
				notice_days=notice_days,
				notify=tuple(role.strip() for role in notify if role.strip()),
			)
		)
	return validate_scenario(
		Scenario(
			key=key,
			name=(title or "").strip() or key,
			steps=tuple(steps),
			catch_up=catch_up.strip() if catch_up else None,
		)
	)


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
	extra = {"catch_up": scenario.catch_up} if scenario.catch_up else {}
	return {
		"key": scenario.key,
		"name": scenario.name,
		**extra,
		"steps": [
			{
				"key": s.key,
				"label": s.label,
				"offset": s.offset,
				"relative_to": s.relative_to,
				"channel": s.channel,
				"tone": s.tone,
				"template": s.template,
				"fee": str(s.fee),
				"claim_interest": s.claim_interest,
				"claim_indemnity": s.claim_indemnity,
				"formal_notice": s.formal_notice,
				"notice_days": s.notice_days,
				"notify": list(s.notify),
			}
			for s in scenario.steps
		],
	}
