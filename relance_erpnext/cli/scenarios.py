"""`relance scenarios`: list (and check) the scenarios."""

from __future__ import annotations

import argparse
import io
import json
import os
import sqlite3
import sys
from contextlib import contextmanager
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from relance_erpnext.cli.common import EXIT_OK
from relance_erpnext.cli.config import load_scenarios
from relance_erpnext.dunning import (
	BUILTIN_SCENARIOS,
	BY_DUE_DATE,
	CATCH_UP_MODES,
	FIRST_CONTACT,
	DunningError,
	PlanSettings,
	ScenarioError,
	describe,
	format_amount,
	load_reference_rates,
	plan,
	plan_to_dict,
	scenario_from_dict,
	task_text,
)
from relance_erpnext.dunning.rates import TABLE_NAMES
from relance_erpnext.i18n import LANGUAGES, Text, default_language, gettext, say


def cmd_scenarios(args, config) -> int:
	scenarios = load_scenarios(Path(args.scenarios) if args.scenarios else None, config)
	from relance_erpnext.dunning.scenarios import nominal_offsets

	for key, scenario in scenarios.items():
		print(f"{key}: {scenario.name}")
		for step, offset in zip(scenario.steps, nominal_offsets(scenario), strict=True):
			print(f"  J{offset:+d}  {step.key:<22} {step.channel:<18} {step.tone:<7} {step.label}")
	return EXIT_OK
