"""`relance plan`: print what would be done, change nothing."""

from __future__ import annotations

import json
import sys

from relance_erpnext.cli.common import complain
from relance_erpnext.cli.workflow import customer_names, make_plan, plan_dict, print_table, warn_provisional


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
		complain(error, args.lang)
	return warn_provisional(result, args)
