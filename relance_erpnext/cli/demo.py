"""`relance demo`: one dunning day on the bundled sample register."""

from __future__ import annotations

from pathlib import Path

from relance_erpnext.cli.common import SAMPLE_REGISTER, UsageError
from relance_erpnext.cli.workflow import run as cmd_run
from relance_erpnext.i18n import Text, reason, say


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
		raise UsageError(Text("{path}: {reason}", path=out, reason=reason(exc)))
	message = Text(
		"Demo: register {register}, day {day}, output in {out}/",
		register=SAMPLE_REGISTER.name,
		day=args.as_of.isoformat(),
		out=out,
	)
	print(say(message, args.lang) + "\n")
	return cmd_run(args, config)
