"""The configuration: the TOML/JSON file of --config ([company], [settings], [scenarios], [smtp]),
scenarios and reference rates, loaded and checked before anything is read or written."""

from __future__ import annotations

import json
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

from relance_erpnext.cli.common import UsageError
from relance_erpnext.dunning import (
	BUILTIN_SCENARIOS,
	BY_DUE_DATE,
	CATCH_UP_MODES,
	FIRST_CONTACT,
	DunningError,
	PlanSettings,
	ScenarioError,
	load_reference_rates,
	scenario_from_dict,
)
from relance_erpnext.dunning.rates import TABLE_NAMES


def _load_structured(path: Path) -> dict | list:
	try:
		text = path.read_text(encoding="utf-8")
	except OSError as exc:
		raise UsageError(f"{path}: {exc.strerror or exc}")
	except UnicodeDecodeError:
		raise UsageError(f"{path}: not UTF-8 text (save it as UTF-8)")
	if path.suffix.lower() == ".json":
		try:
			return json.loads(text)
		except json.JSONDecodeError as exc:
			raise UsageError(f"{path}, line {exc.lineno}: invalid JSON ({exc.msg})")
	try:
		import tomllib
	except ModuleNotFoundError:  # Python 3.10
		raise UsageError(f"{path}: TOML needs Python 3.11 or later; use JSON")
	try:
		return tomllib.loads(text)
	except tomllib.TOMLDecodeError as exc:
		raise UsageError(f"{path}: invalid TOML ({exc})")


def load_config(path: Path) -> dict:
	config = _load_structured(path)
	if not isinstance(config, dict):
		raise UsageError(f"{path}: the configuration must be a table ([company], [settings], [scenarios])")
	for section in ("company", "settings"):
		if not isinstance(config.get(section) or {}, dict):
			raise UsageError(f"{path}: [{section}] must be a table")
	return config


def load_scenarios(path: Path | None, config: dict) -> dict:
	"""The built-in scenarios, plus (or replaced by) those of the config and of --scenarios FILE."""
	scenarios = dict(BUILTIN_SCENARIOS)
	sources = [("config", config.get("scenarios") or {})]
	if path is not None:
		data = _load_structured(path)
		if isinstance(data, dict):
			data = data.get("scenarios", data)
			if isinstance(data, dict) and "steps" in data and not isinstance(data["steps"], dict):
				# One scenario alone, not a table of scenarios
				data = [data]
		sources.append((str(path), data))
	for origin, table in sources:
		if isinstance(table, list):
			table = {str(item.get("key", "")): item for item in table if isinstance(item, dict)}
		if not isinstance(table, dict):
			raise UsageError(f"{origin}: 'scenarios' must be a table of scenarios")
		for key, data in table.items():
			try:
				scenarios[key] = scenario_from_dict(data, key)
			except ScenarioError as exc:
				raise UsageError(f"{origin}: {exc}")
	return scenarios


def load_rates(directory: Path | None, explicit: bool = True):
	"""The reference rates: the bundled tables, each replaced by its copy in `directory` when there is
	one (cli_rates.rates_dir says which folder). An `explicit` folder (--rates) must hold a table."""
	overrides = {}
	if directory is not None:
		for name in TABLE_NAMES:
			candidate = directory / f"{name}.csv"
			if candidate.exists():
				try:
					overrides[name] = candidate.read_text(encoding="utf-8")
				except OSError as exc:
					raise UsageError(f"{candidate}: {exc.strerror or exc}")
				except UnicodeDecodeError:
					raise UsageError(f"{candidate}: not UTF-8 text (save it as UTF-8)")
		if not overrides and explicit:
			raise UsageError(f"{directory}: no rate table found (expected {', '.join(TABLE_NAMES)}.csv)")
	try:
		return load_reference_rates(overrides)
	except DunningError as exc:
		raise UsageError(str(exc))


def settings_from(config: dict, args) -> PlanSettings:
	table = config.get("settings") or {}
	try:
		min_amount = Decimal(
			str(args.min_amount if args.min_amount is not None else table.get("min_amount", "0"))
		)
		min_gap = int(args.min_gap if args.min_gap is not None else table.get("min_gap_days", 0))
		grace = int(table.get("promise_grace_days", 0))
		payment_days = int(table.get("payment_days", 8))
	except (InvalidOperation, ValueError, TypeError) as exc:
		raise UsageError(f"settings: {exc}")
	catch_up = str(table.get("catch_up", FIRST_CONTACT))
	if catch_up not in CATCH_UP_MODES:
		raise UsageError(f"settings: catch_up must be one of {', '.join(CATCH_UP_MODES)}, not {catch_up!r}")
	if catch_up == BY_DUE_DATE:
		print(
			'warning: settings: catch_up = "by_due_date": a customer never reminded may receive a late step'
			" (up to a formal notice) as its first contact",
			file=sys.stderr,
		)
	if not min_amount.is_finite():
		raise UsageError(f"settings: the minimum amount {min_amount} is not an amount")
	if min_amount < 0 or min_gap < 0 or grace < 0 or not 0 < payment_days <= 3650:
		raise UsageError(
			"settings: min_amount, min_gap_days and promise_grace_days must be 0 or more,"
			" payment_days 1 to 3650"
		)
	return PlanSettings(
		default_scenario=str(table.get("default_scenario", "standard")),
		min_amount=min_amount,
		min_gap_days=min_gap,
		promise_grace_days=grace,
		catch_up=catch_up,
		payment_days=payment_days,
	)


def sender_from(config: dict):
	try:
		from relance_erpnext.dunning.letters import Sender
	except ImportError as exc:
		raise UsageError(f"writing letters is not available in this installation ({exc})")

	company = dict(config.get("company") or {})
	if not company.get("name"):
		raise UsageError("config: [company] needs at least a name for the letters")
	for key in ("address", "payment_methods"):
		if key in company:
			value = company[key]
			if isinstance(value, str):
				# One line per item; a bare string must not become a tuple of characters
				value = [line.strip() for line in value.splitlines() if line.strip()]
			if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
				raise UsageError(f"config: [company] {key} must be a list of lines of text")
			company[key] = tuple(value)
	known = set(Sender.__dataclass_fields__)
	unknown = set(company) - known
	if unknown:
		raise UsageError(f"config: unknown field(s) in [company]: {', '.join(sorted(unknown))}")
	return Sender(**company)


def smtp_from(config: dict, sender):
	"""The mail server of the [smtp] table (password from the environment), checked before anything."""
	from relance_erpnext.connectors.mailer import MailError, SmtpSettings

	table = config.get("smtp")
	if not table:
		raise UsageError("run: --send needs an [smtp] table in --config (the mail server); see the README")
	try:
		return SmtpSettings.from_config(table, default_from=sender.email)
	except MailError as exc:
		raise UsageError(f"config: {exc}")
