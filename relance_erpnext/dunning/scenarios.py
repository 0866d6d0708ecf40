"""Dunning scenarios: the built-in ones (from the seeds' procedures), validation, and parsing."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import ScenarioError
from .models import (
	AMICAL,
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
		_step("premier_rappel", "Premier rappel", 7, EMAIL, AMICAL, "courteous"),
		_step(
			"relance_insistante",
			"Relance insistante",
			7,
			EMAIL,
			FORMEL,
			"formal",
			relative_to=FROM_PREVIOUS,
			claim_interest=True,
			claim_indemnity=True,
		),
		_step(
			"derniere_relance",
			"Dernière relance avant action légale",
			7,
			REGISTERED_LETTER,
			FERME,
			"formal_notice",
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


def validate_scenario(scenario: Scenario) -> Scenario:
	"""Raise ScenarioError naming the step and field at fault; return the scenario when it is sound."""
	name = scenario.key or "?"
	if not scenario.key or not KEY_PATTERN.match(scenario.key):
		raise ScenarioError(name, None, "key", "use lower-case letters, digits, '_' or '-'")
	if not scenario.steps:
		raise ScenarioError(name, None, "steps", "a scenario needs at least one step")
	seen: set[str] = set()
	previous_offset = None
	previous_key = None
	for index, step in enumerate(scenario.steps):
		label = step.key or f"#{index + 1}"
		if not step.key or not KEY_PATTERN.match(step.key):
			raise ScenarioError(name, label, "key", "use lower-case letters, digits, '_' or '-'")
		if step.key in seen:
			raise ScenarioError(name, label, "key", "duplicate step key")
		seen.add(step.key)
		if not (step.label or "").strip():
			raise ScenarioError(name, label, "label", "a step needs a label")
		if step.channel not in CHANNELS:
			raise ScenarioError(
				name, label, "channel", f"unknown channel {step.channel!r} (use {', '.join(CHANNELS)})"
			)
		if step.tone not in TONES:
			raise ScenarioError(name, label, "tone", f"unknown tone {step.tone!r} (use {', '.join(TONES)})")
		if step.relative_to not in OFFSET_BASES:
			raise ScenarioError(name, label, "relative_to", "use 'due' or 'previous'")
		if not isinstance(step.offset, int) or isinstance(step.offset, bool):
			raise ScenarioError(name, label, "offset", "the offset is a whole number of days")
		if step.relative_to == FROM_PREVIOUS:
			if index == 0:
				raise ScenarioError(name, label, "relative_to", "the first step cannot follow a previous one")
			if step.offset < 1:
				raise ScenarioError(
					name, label, "offset", "a step after the previous one needs at least 1 day"
				)
		if not (step.template or "").strip():
			raise ScenarioError(name, label, "template", "a step needs a template")
		if not isinstance(step.fee, Decimal) or not step.fee.is_finite() or step.fee < ZERO:
			raise ScenarioError(name, label, "fee", "the fee is an amount of 0 or more")
		if not isinstance(step.notice_days, int) or step.notice_days < 0:
			raise ScenarioError(name, label, "notice_days", "the delay given is 0 days or more")
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
				f"day {offset} comes before or on day {previous_offset} of step {previous_key!r}: steps must be in order",
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
	raise ScenarioError(name, step, field, f"expected true or false, got {value!r}")


def scenario_from_dict(data: dict[str, Any], key: str | None = None) -> Scenario:
	"""Build and validate a scenario from plain data (a JSON/TOML table, or a Frappe document)."""
	if not isinstance(data, dict):
		raise ScenarioError(key or "?", None, "steps", "a scenario is a table with a 'steps' list")
	key = str(data.get("key") or key or "").strip()
	name = key or "?"
	raw_steps = data.get("steps")
	if not isinstance(raw_steps, list) or not raw_steps:
		raise ScenarioError(name, None, "steps", "a scenario needs a non-empty 'steps' list")
	steps = []
	for index, raw in enumerate(raw_steps):
		label = str(raw.get("key") or f"#{index + 1}") if isinstance(raw, dict) else f"#{index + 1}"
		if not isinstance(raw, dict):
			raise ScenarioError(name, label, "step", "each step is a table of fields")
		unknown = set(raw) - STEP_FIELDS
		if unknown:
			raise ScenarioError(name, label, sorted(unknown)[0], "unknown field")
		for required in ("key", "offset", "channel", "tone"):
			if raw.get(required) in (None, ""):
				raise ScenarioError(name, label, required, "missing")
		try:
			offset = int(raw["offset"]) if not isinstance(raw["offset"], bool) else None
			if offset is None or str(raw["offset"]).strip().lstrip("+-").isdigit() is False:
				raise ValueError
		except (TypeError, ValueError):
			raise ScenarioError(
				name, label, "offset", f"expected a whole number of days, got {raw['offset']!r}"
			)
		try:
			fee = Decimal(str(raw.get("fee", "0")).replace(",", "."))
		except InvalidOperation:
			raise ScenarioError(name, label, "fee", f"not an amount: {raw.get('fee')!r}")
		try:
			notice_days = int(raw.get("notice_days", 0) or 0)
		except (TypeError, ValueError):
			raise ScenarioError(
				name, label, "notice_days", f"expected a whole number, got {raw['notice_days']!r}"
			)
		notify = raw.get("notify") or ()
		if isinstance(notify, str):
			notify = tuple(n.strip() for n in notify.split(",") if n.strip())
		steps.append(
			Step(
				key=str(raw["key"]).strip(),
				label=str(raw.get("label") or raw["key"]).strip(),
				offset=offset,
				channel=str(raw["channel"]).strip(),
				tone=str(raw["tone"]).strip(),
				template=str(raw.get("template") or "").strip(),
				relative_to=str(raw.get("relative_to") or FROM_DUE).strip(),
				fee=fee,
				claim_interest=_bool(raw.get("claim_interest", False), name, label, "claim_interest"),
				claim_indemnity=_bool(raw.get("claim_indemnity", False), name, label, "claim_indemnity"),
				formal_notice=_bool(raw.get("formal_notice", False), name, label, "formal_notice"),
				notice_days=notice_days,
				notify=tuple(notify),
			)
		)
	return validate_scenario(Scenario(key=key, name=str(data.get("name") or key), steps=tuple(steps)))


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
	return {
		"key": scenario.key,
		"name": scenario.name,
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
