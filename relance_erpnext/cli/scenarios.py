"""`relance scenarios`: list (and check) the scenarios."""

from __future__ import annotations

from pathlib import Path

from relance_erpnext.cli.common import EXIT_OK
from relance_erpnext.cli.config import load_scenarios


def cmd_scenarios(args, config) -> int:
	scenarios = load_scenarios(Path(args.scenarios) if args.scenarios else None, config)
	from relance_erpnext.dunning.scenarios import nominal_offsets

	for key, scenario in scenarios.items():
		print(f"{key}: {scenario.name}")
		for step, offset in zip(scenario.steps, nominal_offsets(scenario), strict=True):
			print(f"  J{offset:+d}  {step.key:<22} {step.channel:<18} {step.tone:<7} {step.label}")
	return EXIT_OK
