"""`relance check`: the configuration file (--config) and the reference-rate tables checked, changing
nothing. The checks themselves are config.ConfigCheck's."""

from __future__ import annotations

import sys
from datetime import date

from relance_erpnext.cli.common import EXIT_INPUT, EXIT_OK, UsageError, _date
from relance_erpnext.cli.config import ERROR, WARNING, Problem, check_config, load_rates
from relance_erpnext.i18n import Text, say

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
	from relance_erpnext.cli.rates import half_text, rates_dir, table_file
	from relance_erpnext.dunning.rates import ECB_REFI, FR_LEGAL, missing_for

	folder = rates_dir(args.rates)
	try:
		rates = load_rates(folder, explicit=bool(args.rates))
	except UsageError as exc:
		return [Problem(ERROR, "rates", exc.args[0])]
	return [
		Problem(
			WARNING,
			f"rates.{m.table}",
			Text(
				"{half} ({start}..{end}) missing from {file}: interest provisional from {start};"
				" relance rates update, or relance rates set",
				half=half_text(m.start),
				start=m.start.isoformat(),
				end=m.end.isoformat(),
				file=table_file(folder, m.table),
			),
		)
		for m in missing_for(rates, args.as_of, (ECB_REFI, FR_LEGAL))
	]


def cmd_check(args, config: dict) -> int:
	lang = args.lang
	if not args.config:
		print(
			say(Text("relance check: --config FILE is required (the configuration to check)"), lang),
			file=sys.stderr,
		)
		return EXIT_USAGE
	problems = check_config(config) + rate_problems(args)
	for problem in problems:
		print(problem.text(lang))
	errors = sum(1 for p in problems if p.level == ERROR)
	warnings = len(problems) - errors
	if errors:
		print(
			say(
				Text(
					"{path}: {errors} error(s), {warnings} warning(s)",
					path=args.config,
					errors=errors,
					warnings=warnings,
				),
				lang,
			)
		)
		return EXIT_INPUT
	print(
		say(
			Text(
				"{path}: the configuration is sound ({warnings} warning(s))",
				path=args.config,
				warnings=warnings,
			),
			lang,
		)
	)
	return EXIT_OK
