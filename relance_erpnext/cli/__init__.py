"""The `relance` command: the same rules as the ERPNext app, over an invoice register (CSV/XLSX).

The package: main() and the argument parser; each command in its own module (plan, run, demo,
scenarios, match, overview, check, log, rates) over one run workflow (workflow.py), the configuration
loaded and checked in config.py, what they share in common.py."""

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

from relance_erpnext.cli.common import (  # re-exported: the command's public names
	_LANG,
	DEMO_AS_OF,
	DOLIBARR_KEY_ENV,
	DOLIBARR_PAGE_SIZE,
	EXIT_INPUT,
	EXIT_NOT_SENT,
	EXIT_OK,
	PRINT_FILE,
	PRINT_PDF,
	SAMPLE_CONFIG,
	SAMPLE_DIR,
	SAMPLE_REGISTER,
	Progress,
	UsageError,
	_date,
	argparse_in,
	complain,
	core_error,
	language,
	language_of,
	source_options,
	translate_parser,
	warn,
)
from relance_erpnext.cli.config import (
	_load_structured,
	load_config,
	load_rates,
	load_scenarios,
	sender_from,
	settings_from,
	smtp_from,
)
from relance_erpnext.cli.demo import cmd_demo
from relance_erpnext.cli.plan import cmd_plan
from relance_erpnext.cli.run import cmd_run
from relance_erpnext.cli.scenarios import cmd_scenarios
from relance_erpnext.cli.workflow import (
	Book,
	DayFolder,
	customer_names,
	make_plan,
	merge_letters,
	plan_dict,
	postal_letters,
	print_table,
	read_book,
	read_dolibarr,
	render_letters,
	send_emails,
	warn_provisional,
	write_letters,
)
from relance_erpnext.connectors.dolibarr_journal import DolibarrJournal, JournalUnusable
from relance_erpnext.connectors.pdf import PdfRenderer
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


def build_parser() -> argparse.ArgumentParser:
	parser = argparse.ArgumentParser(
		prog="relance",
		description="Payment follow-up (relance) over an invoice register, with French and Québec law.",
	)
	parser.add_argument(
		"--config", help="TOML file: [company] for the letters, [settings], [scenarios], [smtp]"
	)
	parser.add_argument(
		"--lang", type=language, default=_LANG[0], help="language of the messages: fr (default) or en"
	)
	# The same two options are also accepted after the command (`relance run ... --config FILE`, as the
	# README shows); SUPPRESS keeps the value given before the command when they are not repeated
	common = argparse.ArgumentParser(add_help=False)
	common.add_argument(
		"--config", default=argparse.SUPPRESS, help="TOML file: [company], [settings], [scenarios], [smtp]"
	)
	common.add_argument(
		"--lang", type=language, default=argparse.SUPPRESS, help="language of the messages: fr or en"
	)
	commands = parser.add_subparsers(dest="command", required=True)

	def book_options(sub, as_of_default):
		source_options(sub)
		sub.add_argument(
			"--as-of", type=_date, default=as_of_default, help="the day to plan (YYYY-MM-DD), default today"
		)
		sub.add_argument("--journal", help="SQLite journal of what was already done")
		sub.add_argument("--scenarios", help="JSON or TOML file of scenarios (added to the built-in ones)")
		sub.add_argument("--rates", help="folder with updated reference-rate tables (CSV)")
		sub.add_argument("--min-gap", type=int, help="minimum days between two reminders to one customer")
		sub.add_argument("--min-amount", help="do not remind below this outstanding amount")
		sub.add_argument(
			"--skip-bad-rows", action="store_true", help="plan the good rows when some rows are bad"
		)
		sub.add_argument(
			"--quiet",
			action="store_true",
			help="print nothing on standard error but warnings and errors (no progress bar)",
		)

	today = date.today()
	sub = commands.add_parser("plan", parents=[common], help="print what would be done, change nothing")
	book_options(sub, today)
	sub.add_argument("--format", choices=("table", "json"), default="table")
	sub.set_defaults(handler=cmd_plan)

	sub = commands.add_parser(
		"run", parents=[common], help="plan, write the letters and record the steps in the journal"
	)
	book_options(sub, today)
	sub.add_argument("--out", default="relance-out", help="folder for the letters and plan.json")
	sub.add_argument(
		"--send", action="store_true", help="send the emails through the [smtp] server of --config"
	)
	sub.set_defaults(handler=cmd_run)

	sub = commands.add_parser("demo", parents=[common], help="one dunning day on the bundled sample register")
	sub.add_argument("--as-of", type=_date, default=DEMO_AS_OF, help=f"default {DEMO_AS_OF.isoformat()}")
	sub.add_argument("--out", default="relance-demo", help="output folder (default relance-demo)")
	sub.add_argument(
		"--quiet",
		action="store_true",
		help="print nothing on standard error but warnings and errors (no progress bar)",
	)
	sub.add_argument("--min-gap", type=int)
	sub.add_argument("--min-amount")
	sub.set_defaults(handler=cmd_demo)

	sub = commands.add_parser("scenarios", parents=[common], help="list (and check) the scenarios")
	sub.add_argument("--scenarios", help="JSON or TOML file of scenarios to check")
	sub.set_defaults(handler=cmd_scenarios)

	from relance_erpnext.cli.match import add_match_parser

	add_match_parser(commands, common)  # `relance match`: the bank statement check

	from relance_erpnext.cli.overview import add_overview_parser

	add_overview_parser(commands, common, book_options, today)  # `relance overview`

	from relance_erpnext.cli.check import add_check_parser

	add_check_parser(commands, common, today)  # `relance check`: the configuration file

	from relance_erpnext.cli.log import add_log_parser

	add_log_parser(commands, common)  # `relance log`: what was done or learnt by hand

	from relance_erpnext.cli.rates import add_rates_parser

	add_rates_parser(commands, common, today)  # `relance rates update | show | set`
	return parser


def main(argv: list[str] | None = None) -> int:
	argv = sys.argv[1:] if argv is None else [str(arg) for arg in argv]
	lang = language_of(argv)
	_LANG[0] = lang
	with argparse_in(lang):
		return _main(argv, lang)


def _main(argv: list[str], lang: str) -> int:
	parser = build_parser()
	translate_parser(parser, lang)
	args = parser.parse_args(argv)
	if (
		args.command in ("plan", "run", "match", "overview")
		and args.source == "register"
		and not args.register
	):
		parser.error(
			say(
				Text("{command}: the following arguments are required: --register", command=args.command),
				lang,
			)
		)
	try:
		if args.config:
			config = load_config(Path(args.config))
		elif args.command == "demo":
			config = _load_structured(SAMPLE_CONFIG)
		else:
			config = {}
		return args.handler(args, config)
	except (UsageError, JournalUnusable) as exc:
		message = say(exc.args[0] if exc.args else exc, args.lang)
		print(say(Text("relance: {message}", message=message), args.lang), file=sys.stderr)
		return EXIT_INPUT
	except DunningError as exc:
		message = say(core_error(exc), args.lang)
		print(say(Text("relance: {message}", message=message), args.lang), file=sys.stderr)
		return EXIT_INPUT
	except BrokenPipeError:
		# Output piped into a command that stopped reading (`relance plan ... | head`): not an error
		# of ours; stdout is pointed at devnull so that Python's final flush does not fail again
		try:
			devnull = os.open(os.devnull, os.O_WRONLY)
			os.dup2(devnull, sys.stdout.fileno())
		except (OSError, ValueError, AttributeError):
			pass
		return 1
