"""`relance plan`: print what would be done, change nothing."""

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

from relance_erpnext.cli.workflow import customer_names, make_plan, plan_dict, print_table, warn_provisional
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


def cmd_plan(args, config) -> int:
	book, result, journal = make_plan(args, config)
	if journal:
		journal.close()
	if args.format == "json":
		json.dump(plan_dict(result, book), sys.stdout, ensure_ascii=False, indent=2)
		sys.stdout.write("\n")
	else:
		print_table(result, args.lang, names=customer_names(book))
	for error in result.errors:
		print(f"error: {error}", file=sys.stderr)
	return warn_provisional(result, args)
