"""`relance demo`: one dunning day on the bundled sample register."""

from __future__ import annotations

from pathlib import Path

from relance_erpnext.cli.common import SAMPLE_REGISTER, UsageError
from relance_erpnext.cli.workflow import run as cmd_run


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
