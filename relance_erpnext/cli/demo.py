"""`relance demo`: one dunning day on the bundled sample register."""

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

from relance_erpnext.cli.common import SAMPLE_REGISTER, UsageError
from relance_erpnext.cli.workflow import run as cmd_run
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


def cmd_demo(args, config) -> int:
	out = Path(args.out)
	args.register = str(SAMPLE_REGISTER)
	args.journal = str(out / "journal.sqlite")
	args.scenarios = None
	args.rates = None
	args.skip_bad_rows = False
	args.send = False
	try:
		out.mkdir(parents=True, exist_ok=True)
	except OSError as exc:
		raise UsageError(f"{out}: {exc.strerror or exc}")
	print(
		f"Démo : registre {SAMPLE_REGISTER.name}, journée du {args.as_of.isoformat()}, sortie dans {out}/\n"
		if args.lang.startswith("fr")
		else f"Demo: register {SAMPLE_REGISTER.name}, day {args.as_of.isoformat()}, output in {out}/\n"
	)
	return cmd_run(args, config)
