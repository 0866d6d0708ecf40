"""The JSON plan format: a public interface (documented in the README). Keep it stable.

Amounts are strings with the currency's decimals ("1234.50"), dates ISO strings.
"""

from __future__ import annotations

from typing import Any

from .models import Action, ActionLine, Plan
from .money import round_money

FORMAT_VERSION = 1


def _money(amount, currency: str) -> str:
	return str(round_money(amount, currency))


def line_to_dict(line: ActionLine, currency: str) -> dict[str, Any]:
	return {
		"invoice": line.invoice,
		"step": line.step,
		"due": line.due.isoformat(),
		"days_late": line.days_late,
		"outstanding": _money(line.outstanding, currency),
		"interest": _money(line.interest, currency),
		"indemnity": _money(line.indemnity, currency),
		"interest_from": line.interest_from.isoformat() if line.interest_from else None,
		"rate_periods": [
			{
				"from": p.start.isoformat(),
				"to": p.end.isoformat(),
				"days": p.days,
				"rate": str(p.rate),
				"basis": p.basis,
			}
			for p in line.periods
		],
		"notes": list(line.notes),
	}


def action_to_dict(action: Action) -> dict[str, Any]:
	currency = action.currency
	return {
		"customer": action.customer,
		"customer_name": action.customer_name,
		"scenario": action.scenario,
		"step": action.step,
		"step_label": action.step_label,
		"channel": action.channel,
		"tone": action.tone,
		"template": action.template,
		"currency": currency,
		"language": action.language,
		"regime": action.regime,
		"customer_kind": action.customer_kind,
		"formal_notice": action.formal_notice,
		"invoices": [line_to_dict(line, currency) for line in action.lines],
		"outstanding": _money(action.outstanding, currency),
		"interest": _money(action.interest, currency),
		"indemnity": _money(action.indemnity, currency),
		"fee": _money(action.fee, currency),
		"total": _money(action.total, currency),
		"notify": list(action.notify),
		"notes": list(action.notes),
	}


def plan_to_dict(plan: Plan) -> dict[str, Any]:
	return {
		"format": FORMAT_VERSION,
		"as_of": plan.as_of.isoformat(),
		"actions": [action_to_dict(a) for a in plan.actions],
		"skipped": [
			{"invoice": s.invoice, "customer": s.customer, "reason": s.reason, "detail": s.detail}
			for s in plan.skipped
		],
		"errors": list(plan.errors),
	}
