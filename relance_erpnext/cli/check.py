"""`relance check`: the configuration file (--config) and the reference-rate tables checked, changing
nothing. The checks themselves are config.ConfigCheck's."""

from __future__ import annotations

import sys
from datetime import date

from relance_erpnext.cli.common import EXIT_INPUT, EXIT_OK, UsageError, _date
from relance_erpnext.cli.config import ERROR, WARNING, Problem, check_config, load_rates

EXIT_USAGE = 2


def add_check_parser(commands, common, today: date) -> None:
	"""The `check` command, added to the `relance` parser (cli.build_parser)."""
	sub = commands.add_parser(
		"check", parents=[common], help="check the configuration file (--config FILE), changing nothing"
	)
	sub.add_argument("--rates", help="folder of the reference-rate tables to check (default: as plan)")
	sub.add_argument("--as-of", type=_date, default=today, help="today's date (YYYY-MM-DD), default today")
	sub.set_defaults(handler=cmd_check)


def rate_problems(args) -> list[Problem]:
	"""A warning for each rate table the rules use that lacks the current half-year (its interest would
	be provisional); an error when a table cannot be read."""
	from relance_erpnext.cli.rates import half_name, rates_dir, table_file
	from relance_erpnext.dunning.rates import ECB_REFI, FR_LEGAL, missing_for

	fr = args.lang.startswith("fr")
	folder = rates_dir(args.rates)
	try:
		rates = load_rates(folder, explicit=bool(args.rates))
	except UsageError as exc:
		return [Problem(ERROR, "rates", str(exc))]
	return [
		Problem(
			WARNING,
			f"rates.{m.table}",
			f"{half_name(m.start, fr)} ({m.start.isoformat()}..{m.end.isoformat()}) manquant dans"
			f" {table_file(folder, m.table)} : intérêts provisoires à partir du {m.start.isoformat()} ;"
			" relance rates update, ou relance rates set"
			if fr
			else f"{half_name(m.start, fr)} ({m.start.isoformat()}..{m.end.isoformat()}) missing from"
			f" {table_file(folder, m.table)}: interest provisional from {m.start.isoformat()};"
			" relance rates update, or relance rates set",
		)
		for m in missing_for(rates, args.as_of, (ECB_REFI, FR_LEGAL))
	]


def cmd_check(args, config: dict) -> int:
	fr = args.lang.startswith("fr")
	if not args.config:
		print("relance check: --config FILE is required (the configuration to check)", file=sys.stderr)
		return EXIT_USAGE
	problems = check_config(config) + rate_problems(args)
	for problem in problems:
		print(problem)
	errors = sum(1 for p in problems if p.level == ERROR)
	warnings = len(problems) - errors
	if errors:
		print(
			f"{args.config} : {errors} erreur(s), {warnings} avertissement(s)"
			if fr
			else f"{args.config}: {errors} error(s), {warnings} warning(s)"
		)
		return EXIT_INPUT
	print(
		f"{args.config} : configuration valide ({warnings} avertissement(s))"
		if fr
		else f"{args.config}: the configuration is sound ({warnings} warning(s))"
	)
	return EXIT_OK
