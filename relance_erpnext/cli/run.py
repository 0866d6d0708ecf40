"""`relance run`: the day's letters written, the steps recorded, the emails sent (--send)."""

from __future__ import annotations

from relance_erpnext.cli import workflow


def cmd_run(args, config) -> int:
	return workflow.run(args, config)
