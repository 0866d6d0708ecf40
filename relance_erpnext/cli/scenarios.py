"""`relance scenarios`: list (and check) the scenarios."""

from __future__ import annotations

from pathlib import Path

from relance_erpnext.cli.common import EXIT_OK, channel_label, tone_label
from relance_erpnext.cli.config import load_scenarios
from relance_erpnext.i18n import Text, say


def cmd_scenarios(args, config) -> int:
	scenarios = load_scenarios(Path(args.scenarios) if args.scenarios else None, config)
	from relance_erpnext.dunning.scenarios import nominal_offsets

	lang = args.lang
	day = say(Text("D"), lang)  # the due date: J in French
	for key, scenario in scenarios.items():
		print(say(Text("{scenario}: {name}", scenario=key, name=scenario.name), lang))
		for step, offset in zip(scenario.steps, nominal_offsets(scenario), strict=True):
			channel, tone = channel_label(step.channel, lang), tone_label(step.tone, lang)
			when = f"{day}{offset:+d}"
			print(f"  {when:<5}  {step.key:<22} {channel:<18} {tone:<7} {step.label}")
	return EXIT_OK
