"""Fuzzing scenario validation: any data a TOML/JSON file or a form can hold either makes a sound
scenario (which round-trips through `scenario_to_dict`) or raises `ScenarioError` naming the
scenario, the step and the field at fault. Nothing else is ever raised."""

from __future__ import annotations

import json
import math
import shutil
import tempfile
import unittest
from dataclasses import fields as dataclass_fields
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from relance_erpnext.dunning import PlanSettings
from relance_erpnext.dunning.errors import ScenarioError
from relance_erpnext.dunning.models import (
	CHANNELS,
	EMAIL,
	ESCALATION,
	FROM_DUE,
	FROM_PREVIOUS,
	LETTER,
	PHONE,
	REGISTERED_LETTER,
	TONES,
	Scenario,
	Step,
)
from relance_erpnext.dunning.scenarios import (
	BUILTIN_SCENARIOS,
	MAX_DAYS,
	scenario_from_dict,
	scenario_to_dict,
	validate_scenario,
)

from .helpers import customer, invoice, run
from .test_cli import run_cli

WRITTEN = (EMAIL, LETTER, REGISTERED_LETTER)
TEMPLATES = ("pre_due", "courteous", "formal", "call", "formal_notice", "escalation")
KEY_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_-"
step_keys = st.text(alphabet=KEY_CHARS, min_size=1, max_size=12).filter(lambda k: k[0] not in "_-")
# Garbage as JSON and TOML can hold it (and a bit more: what a Python caller may pass)
scalars = st.one_of(
	st.none(),
	st.booleans(),
	st.integers(),
	st.floats(),
	st.text(max_size=20),
	st.decimals(allow_nan=True),
	st.just(10**400),
	st.sampled_from(["", " ", "1e400", "NaN", "-inf", "٣", "7.0", "+7", "0x10", "1_000", "١٢", "🙂"]),
)
garbage = st.recursive(
	scalars,
	lambda inner: st.one_of(
		st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
	),
	max_leaves=6,
)
unicode_keys = st.one_of(
	st.sampled_from(["colour", "clé", "délai", "ключ", "键", "🙂", "Offset", "offset ", "fees", ""]),
	st.text(min_size=1, max_size=8),
)


# ---------------------------------------------------------------------------------------------------
# Sound scenarios, written as people write them


@st.composite
def sound_steps(draw) -> tuple[list[dict], list[Step]]:
	"""Steps as data (numbers as numbers or as text, flags as words…) and the Steps they must make."""
	keys = draw(st.lists(step_keys, min_size=1, max_size=6, unique=True))
	raw_steps, steps = [], []
	previous = None
	for index, key in enumerate(keys):
		relative = FROM_PREVIOUS if index and draw(st.booleans()) else FROM_DUE
		if relative == FROM_PREVIOUS:
			offset = draw(st.integers(1, 60))
			absolute = previous + offset
		else:
			low = -MAX_DAYS if previous is None else previous + 1
			offset = draw(st.integers(low, min(MAX_DAYS, low + 60)))
			absolute = offset
		if absolute > MAX_DAYS:  # keep within reach of the steps after it
			break
		previous = absolute
		channel = draw(st.sampled_from(CHANNELS))
		formal = channel in WRITTEN and draw(st.booleans())
		fee = draw(st.decimals(Decimal(0), Decimal(500), places=2))
		notice = draw(st.integers(0, 60))
		notify = draw(st.lists(st.sampled_from(["Accounts Manager", "Sales Manager", "Gérant"]), max_size=2))
		raw = {
			"key": draw(st.sampled_from([key, f" {key} "])),
			"offset": draw(
				st.sampled_from(
					[offset, str(offset), f" {offset} "] + ([f"+{offset}"] if offset >= 0 else [])
				)
			),
			"channel": channel,
			"tone": draw(st.sampled_from(TONES)),
		}
		label = draw(st.sampled_from(["", f"Étape {index + 1} – relance", "Rappel « courtois »"]))
		if label or draw(st.booleans()):
			raw["label"] = label
		raw["template"] = draw(st.sampled_from(TEMPLATES))
		if relative == FROM_PREVIOUS or draw(st.booleans()):
			raw["relative_to"] = relative
		if fee or draw(st.booleans()):
			raw["fee"] = draw(st.sampled_from([str(fee), str(fee).replace(".", ","), float(fee), fee]))
			if isinstance(raw["fee"], float):
				fee = Decimal(str(raw["fee"]))
		flags = {}
		for name in ("claim_interest", "claim_indemnity", "formal_notice"):
			value = formal if name == "formal_notice" else draw(st.booleans())
			flags[name] = value
			if value or draw(st.booleans()):
				raw[name] = draw(
					st.sampled_from(
						{True: [True, "true", "oui", 1], False: [False, "false", "non", 0, ""]}[value]
					)
				)
		if notice or draw(st.booleans()):
			raw["notice_days"] = draw(st.sampled_from([notice, str(notice)]))
		if notify or draw(st.booleans()):
			raw["notify"] = draw(st.sampled_from([notify, ", ".join(notify)]))
		raw_steps.append(raw)
		steps.append(
			Step(
				key=key,
				label=label.strip() or key,
				offset=offset,
				channel=channel,
				tone=raw["tone"],
				template=raw["template"],
				relative_to=relative,
				fee=fee,
				notice_days=notice,
				notify=tuple(notify),
				**flags,
			)
		)
	return raw_steps, steps


@st.composite
def sound_scenarios(draw) -> tuple[dict, Scenario]:
	raw_steps, steps = draw(sound_steps())
	key = draw(step_keys)
	name = draw(st.sampled_from(["", "Clients douteux", "Préventif (avant échéance)"]))
	data = {"key": key, "steps": raw_steps}
	if name:
		data["name"] = name
	return data, Scenario(key=key, name=name or key, steps=tuple(steps))


SETTINGS = settings(
	deadline=None,
	suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


class TestSoundScenarios(unittest.TestCase):
	@settings(SETTINGS, max_examples=100)
	@given(sound_scenarios())
	def test_read_as_written_and_round_trip(self, case):
		data, expected = case
		scenario = scenario_from_dict(data)
		self.assertEqual(scenario, expected)
		self.assertIs(validate_scenario(scenario), scenario)
		as_dict = scenario_to_dict(scenario)
		self.assertEqual(scenario_from_dict(as_dict), scenario)
		# What is saved is plain JSON (and TOML: no null), and reads back the same
		text = json.dumps(as_dict)
		self.assertNotIn(
			None, [v for step in as_dict["steps"] for v in step.values()] + list(as_dict.values())
		)
		self.assertEqual(scenario_from_dict(json.loads(text)), scenario)

	def test_builtin_scenarios_round_trip(self):
		for scenario in BUILTIN_SCENARIOS.values():
			self.assertEqual(scenario_from_dict(json.loads(json.dumps(scenario_to_dict(scenario)))), scenario)


# ---------------------------------------------------------------------------------------------------
# One thing wrong in a sound scenario: the error names that step and that field


def wrong_values(field: str):
	"""Values that are wrong for a field whatever the rest of the step."""
	return {
		"key": st.one_of(
			st.sampled_from(["Bad Key", "clé", "a b", "-a", "_a", "a" * 64, "a.b", "a\nb", "A"]),
			st.lists(scalars, max_size=2),
			st.integers(),
			st.dictionaries(st.text(max_size=3), scalars, max_size=2),
		),
		"offset": st.one_of(
			st.sampled_from(["7.5", "abc", "1e3", "٣", "0x10", "1_000", "", " ", "7 days", "--1"]),
			st.floats(),
			st.booleans(),
			st.integers(MAX_DAYS + 1, 10**30).flatmap(lambda n: st.sampled_from([n, -n, str(n), str(-n)])),
			st.just(10**400),
			st.just("9" * 5000),
			st.lists(st.integers(), max_size=2),
			st.dictionaries(st.text(max_size=3), scalars, max_size=2),
		),
		"channel": st.one_of(
			st.text(max_size=12).filter(lambda t: t.strip() not in CHANNELS and t.strip()),
			st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=2),
			st.integers(),
			st.floats(),
		),
		"tone": st.one_of(
			st.text(max_size=12).filter(lambda t: t.strip() not in TONES and t.strip()),
			st.lists(st.sampled_from(TONES), min_size=1, max_size=2),
			st.integers(),
		),
		"fee": st.one_of(
			st.sampled_from(
				["-5", "-0.01", "abc", "NaN", "sNaN", "inf", "-Infinity", "1e10", "1 000,50", "12 €"]
			),
			st.decimals(max_value=Decimal("-0.01")),
			st.floats(max_value=-0.01),
			st.just(math.nan),
			st.just(math.inf),
			st.integers(1_000_001, 10**30),
			st.booleans(),
			st.lists(scalars, max_size=2),
			st.dictionaries(st.text(max_size=3), scalars, max_size=2),
			st.just(None),
		),
		"notice_days": st.one_of(
			st.integers(max_value=-1),
			st.integers(MAX_DAYS + 1, 10**30),
			st.floats().filter(lambda f: f != 0),
			st.just(True),
			st.sampled_from(["x", "1.5", "-1", "1e3", "9" * 5000]),
			st.lists(st.integers(), min_size=1, max_size=2),
		),
		"claim_interest": st.one_of(
			st.sampled_from(["maybe", "2", "peut-être", "vrai?"]),
			st.integers().filter(lambda n: n not in (0, 1)),
			st.floats(),
			st.lists(st.booleans(), min_size=1, max_size=2),
			st.just(None),
		),
		"notify": st.one_of(
			st.integers().filter(bool),
			st.floats().filter(bool),
			st.dictionaries(st.text(min_size=1, max_size=3), scalars, min_size=1, max_size=2),
			st.lists(st.one_of(st.integers(), st.none(), st.booleans()), min_size=1, max_size=3),
		),
		"label": st.one_of(st.integers(), st.lists(st.text(max_size=3), max_size=2), st.floats()),
		"template": st.one_of(
			st.sampled_from(["", "  ", None]), st.integers(), st.lists(st.text(max_size=3), max_size=2)
		),
		"relative_to": st.one_of(
			st.sampled_from(["sometimes", "before", "Due", "previous "[:-1] + "!"]), st.integers()
		),
	}[field]


def step_label(raw: dict, index: int) -> str:
	key = raw.get("key")
	return key.strip() if isinstance(key, str) and key.strip() else f"#{index + 1}"


def check_error(test: unittest.TestCase, data, error: ScenarioError, step: str | None, field: str) -> None:
	where = f"{data!r}\n-> {error}"
	test.assertEqual((error.step, error.field), (step, field), where)
	text = str(error)
	test.assertTrue(text.startswith(f"scenario {error.scenario!r}"), text)
	if step is not None:
		test.assertIn(f", step {step!r}", text)
	test.assertIn(f"field {field!r}: ", text)
	test.assertLess(len(text), 400, text)  # garbage is shown cut short, not whole


class TestOneWrongField(unittest.TestCase):
	@settings(SETTINGS, max_examples=200)
	@given(st.data())
	def test_the_error_names_the_step_and_the_field(self, data):
		raw, _ = data.draw(sound_scenarios())
		steps = raw["steps"]
		index = data.draw(st.integers(0, len(steps) - 1))
		step = steps[index]
		kind = data.draw(
			st.sampled_from(
				[
					"wrong_value",
					"wrong_value",
					"wrong_value",
					"missing",
					"unknown_field",
					"duplicate_key",
					"formal_notice_by_phone",
				]
			)
		)
		event(kind)
		if kind == "wrong_value":
			field = data.draw(
				st.sampled_from(
					[
						"key",
						"offset",
						"channel",
						"tone",
						"fee",
						"notice_days",
						"claim_interest",
						"notify",
						"label",
						"template",
						"relative_to",
					]
				)
			)
			event(f"wrong {field}")
			step[field] = data.draw(wrong_values(field))
		elif kind == "missing":
			field = data.draw(st.sampled_from(["key", "offset", "channel", "tone"]))
			if data.draw(st.booleans()):
				del step[field]
			else:
				step[field] = data.draw(st.sampled_from([None, ""]))
		elif kind == "unknown_field":
			field = data.draw(
				unicode_keys.filter(lambda k: k not in {f.name for f in dataclass_fields(Step)})
			)
			step[field] = data.draw(garbage)
			field = str(field)
		elif kind == "duplicate_key":
			if len(steps) < 2:
				return
			other = data.draw(st.sampled_from([i for i in range(len(steps)) if i != index]))
			first, second = sorted((index, other))
			steps[second]["key"] = steps[first]["key"]
			index, step, field = second, steps[second], "key"
		else:  # a formal notice must be written
			step["channel"] = data.draw(st.sampled_from([PHONE, ESCALATION]))
			step["formal_notice"] = True
			field = "formal_notice"
		with self.assertRaises(ScenarioError, msg=repr(raw)) as caught:
			scenario_from_dict(raw)
		check_error(self, raw, caught.exception, step_label(step, index), field)


class TestAnything(unittest.TestCase):
	"""Whatever the data, ScenarioError or a sound scenario; never another exception."""

	@settings(SETTINGS, max_examples=200)
	@given(st.data())
	def test_garbage_anywhere(self, data):
		raw, _ = data.draw(sound_scenarios())
		where = data.draw(st.sampled_from(["top", "scenario_field", "steps", "step", "step_field"]))
		event(where)
		if where == "top":
			raw = data.draw(garbage)
		elif where == "scenario_field":
			raw[data.draw(st.sampled_from(["key", "name", "steps", "other"]))] = data.draw(garbage)
		elif where == "steps":
			raw["steps"] = data.draw(st.one_of(garbage, st.lists(garbage, max_size=3)))
		elif where == "step":
			raw["steps"][data.draw(st.integers(0, len(raw["steps"]) - 1))] = data.draw(garbage)
		else:
			step = data.draw(st.sampled_from(raw["steps"]))
			for _ in range(data.draw(st.integers(1, 3))):
				key = data.draw(
					st.one_of(st.sampled_from([f.name for f in dataclass_fields(Step)]), unicode_keys)
				)
				step[key] = data.draw(garbage)
		key_argument = data.draw(st.one_of(st.none(), step_keys, garbage))
		try:
			scenario = scenario_from_dict(raw, key_argument)
		except ScenarioError as error:
			event("ScenarioError")
			self.assertIsInstance(error.field, str)
			self.assertIsInstance(error.scenario, str)
			self.assertTrue(error.step is None or isinstance(error.step, str))
			self.assertIn(f"field {error.field!r}: ", str(error))
			self.assertLess(len(str(error)), 400)
			return
		event("sound")
		self.assertIs(validate_scenario(scenario), scenario)
		self.assertEqual(scenario_from_dict(scenario_to_dict(scenario)), scenario)

	@settings(SETTINGS, max_examples=120)
	@given(st.data())
	def test_validate_scenario_on_any_object(self, data):
		"""`validate_scenario` checks the types too: a Step built by code with a wrong type is an
		error naming the field, not a TypeError."""
		_, scenario = data.draw(sound_scenarios())
		steps = list(scenario.steps)
		index = data.draw(st.integers(0, len(steps) - 1))
		field = data.draw(st.sampled_from([f.name for f in dataclass_fields(Step)]))
		steps[index] = replace(steps[index], **{field: data.draw(garbage)})
		container = data.draw(st.sampled_from([tuple, list]))
		candidate = replace(scenario, steps=container(steps))
		if data.draw(st.integers(0, 5)) == 0:
			candidate = replace(
				candidate, **{data.draw(st.sampled_from(["key", "name", "steps"])): data.draw(garbage)}
			)
		try:
			validate_scenario(candidate)
		except ScenarioError as error:
			self.assertIsInstance(error.field, str)
			self.assertIn(f"field {error.field!r}: ", str(error))


# ---------------------------------------------------------------------------------------------------
# Examples


OK = {"key": "a", "offset": 1, "channel": "email", "tone": "amical", "template": "courteous"}


class TestExamples(unittest.TestCase):
	def error(self, data, step, field, fragment="") -> ScenarioError:
		with self.assertRaises(ScenarioError) as caught:
			scenario_from_dict(data)
		check_error(self, data, caught.exception, step, field)
		self.assertIn(fragment, str(caught.exception))
		return caught.exception

	def one(self, **changes):
		return {"key": "s", "steps": [{**OK, **changes}]}

	def test_crashes_that_are_now_errors(self):
		# Fixed: each of these raised OverflowError or TypeError instead of ScenarioError
		self.error(self.one(offset=math.inf), "a", "offset", "whole number")
		self.error(self.one(notice_days=math.inf), "a", "notice_days", "whole number")
		self.error(self.one(notify=5), "a", "notify", "role name")
		self.error({"key": "s", "steps": [{**OK, 1: "x", "clé": "y"}]}, "a", "1", "unknown field")
		validate = [
			Scenario("s", "S", (replace(Step("a", "A", 1, "email", "amical", "courteous"), key=1),)),
			Scenario("s", "S", (replace(Step("a", "A", 1, "email", "amical", "courteous"), label=None),)),
			Scenario(None, "S", ()),
		]
		for scenario in validate:
			with self.subTest(scenario=scenario), self.assertRaises(ScenarioError):
				validate_scenario(scenario)

	def test_silent_misreadings_that_are_now_errors(self):
		# Fixed: a float was truncated (1.7 days -> 1), True read as 1, garbage turned into text
		self.error(self.one(notice_days=1.7), "a", "notice_days", "1.7")
		self.error(self.one(notice_days=True), "a", "notice_days")
		self.error(self.one(label=["Rappel"]), "a", "label", "expected text")
		self.error(self.one(template=5), "a", "template", "expected text")
		self.error(self.one(key=1), "#1", "key", "expected text")
		self.error(self.one(notify=[1, None]), "a", "notify")
		self.error({"key": "s", "name": ["x"], "steps": [OK]}, None, "name", "expected text")
		self.error({"key": ["s"], "steps": [OK]}, None, "key", "expected text")

	def test_huge_offsets_fees_and_delays(self):
		# Fixed: accepted, then the planner overflowed (a date 10**18 days away) or Decimal failed
		self.error(self.one(offset=10**18), "a", "offset", f"more than {MAX_DAYS} days")
		self.error(self.one(offset=str(-(10**6))), "a", "offset", f"more than {MAX_DAYS} days")
		self.error(self.one(offset="9" * 5000), "a", "offset", "whole number")
		self.error(self.one(notice_days=10**9), "a", "notice_days", f"more than {MAX_DAYS} days")
		self.error(self.one(fee="1e999999999"), "a", "fee", "not a plausible fee")
		self.error(self.one(fee="-5"), "a", "fee", "0 or more")
		self.error(self.one(fee=math.nan), "a", "fee", "0 or more")

	def test_the_limits_plan_without_overflow(self):
		steps = [
			{**OK, "key": "avant", "offset": -MAX_DAYS},
			{
				**OK,
				"key": "apres",
				"offset": MAX_DAYS,
				"channel": "letter",
				"formal_notice": True,
				"notice_days": MAX_DAYS,
			},
		]
		scenario = scenario_from_dict({"key": "long", "steps": steps})
		due = date(2026, 3, 1)
		for as_of in (date(2016, 3, 3), date(2036, 3, 1)):
			result = run(
				as_of,
				[customer("C1", scenario="long")],
				[invoice("F1", "C1", due=due, issued=date(2016, 1, 1))],
				scenarios={**BUILTIN_SCENARIOS, "long": scenario},
				settings=PlanSettings(),
			)
			self.assertEqual(result.errors, ())

	def test_numbers_as_text_and_words_for_flags(self):
		scenario = scenario_from_dict(
			{
				"key": "s",
				"steps": [
					{
						**OK,
						"offset": "-5",
						"fee": "7,50",
						"claim_interest": "oui",
						"notice_days": "8",
						"notify": " A , B ,",
					},
					{**OK, "key": "b", "offset": " +3", "relative_to": "previous"},
				],
			}
		)
		first, second = scenario.steps
		self.assertEqual(
			(first.offset, first.fee, first.claim_interest, first.notice_days), (-5, Decimal("7.50"), True, 8)
		)
		self.assertEqual(first.notify, ("A", "B"))
		self.assertEqual((second.offset, second.relative_to), (3, FROM_PREVIOUS))

	def test_duplicate_keys(self):
		# In JSON the last of two equal keys wins (the parser's rule); two steps with one key are refused
		data = json.loads(
			'{"key": "s", "steps": [{"key": "a", "offset": 1, "offset": 9, "channel": "email", "tone": "amical", "template": "courteous"}]}'
		)
		self.assertEqual(scenario_from_dict(data).steps[0].offset, 9)
		self.error({"key": "s", "steps": [OK, {**OK, "offset": 2}]}, "a", "key", "duplicate step key")


class TestScenarioFiles(unittest.TestCase):
	"""The user's path: `relance scenarios --scenarios FILE` with a malformed file."""

	def setUp(self):
		self.dir = Path(tempfile.mkdtemp(prefix="fuzz-scenarios-"))
		self.addCleanup(shutil.rmtree, self.dir, True)

	def run_file(self, name: str, text: str) -> tuple[int, str, str]:
		path = self.dir / name
		path.write_text(text, encoding="utf-8")
		return run_cli("--lang", "en", "scenarios", "--scenarios", path)

	def test_malformed_files_are_clear_errors(self):
		cases = [
			(
				"s.toml",
				'[relance]\nkey = "relance"\n[[relance.steps]]\nkey = "a"\noffset = 1\noffset = 2\n',
				"invalid TOML",
			),
			(
				"s.toml",
				'[relance]\n[[relance.steps]]\nkey = "a"\noffset = 1e400\nchannel = "email"\ntone = "amical"\ntemplate = "courteous"\n',
				"field 'offset'",
			),
			(
				"s.toml",
				'[relance]\n[[relance.steps]]\nkey = "a"\noffset = 7\nchannel = "fax"\ntone = "amical"\ntemplate = "courteous"\n',
				"step 'a', field 'channel': unknown channel 'fax'",
			),
			(
				"s.json",
				'{"relance": {"steps": [{"key": "a", "offset": 1, "channel": "email", "tone": "amical", "template": "courteous", "🙂": 1}]}}',
				"step 'a', field '🙂': unknown field",
			),
			("s.json", '{"relance": {"steps": [[1, 2]]}}', "step '#1', field 'step'"),
			("s.json", '{"relance": 5}', "field 'steps'"),
			("s.json", "[1, 2, {]", "invalid JSON"),
		]
		for name, text, fragment in cases:
			with self.subTest(text=text):
				code, out, err = self.run_file(name, text)
				self.assertEqual(code, 3, (out, err))
				self.assertIn(fragment, err)
				self.assertNotIn("Traceback", err)


if __name__ == "__main__":
	unittest.main()
