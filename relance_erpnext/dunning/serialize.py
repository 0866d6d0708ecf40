"""The JSON plan and overview formats: public interfaces (documented in the README). Keep them stable.

Amounts are strings with the currency's decimals ("1234.50"), dates ISO strings.
"""

from __future__ import annotations

from typing import Any

from .models import Action, ActionLine, Credit, MissingRate, Plan
from .money import round_money
from .overview import Overview

FORMAT_VERSION = 1


def _money(amount, currency: str) -> str:
	return str(round_money(amount, currency))


def missing_to_dict(missing: MissingRate) -> dict[str, Any]:
	"""A half-year of a rate table not known yet: {"table", "from", "to"}."""
	return {"table": missing.table, "from": missing.start.isoformat(), "to": missing.end.isoformat()}


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
		"formal_notice": line.formal_notice,
		"section": line.section,
		# Provisional interest: counted up to this day only (null when final), waiting for these rates
		"interest_until": line.interest_until.isoformat() if line.interest_until else None,
		"rates_missing": [missing_to_dict(m) for m in line.missing_rates],
		# The interest by base and rate: base x rate x days / 36500 each (not rounded), then the sum
		# rounded once is "interest"
		"interest_segments": [
			{
				"from": seg.start.isoformat(),
				"to": seg.end.isoformat(),
				"days": seg.days,
				"base": _money(seg.base, currency),
				"rate": str(seg.rate),
				"basis": seg.basis,
				"amount": _money(seg.amount, currency),
			}
			for seg in line.segments
		],
	}


def credit_to_dict(credit: Credit, currency: str) -> dict[str, Any]:
	return {
		"kind": credit.kind,
		"reference": credit.reference,
		"date": credit.day.isoformat() if credit.day else None,
		"amount": _money(credit.amount, currency),
		"against_invoice": credit.against_invoice or None,
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
		"pay_by": action.pay_by.isoformat() if action.pay_by else None,
		"previous": [
			{
				"date": c.day.isoformat(),
				"channel": c.channel,
				"step": c.step,
				"reference": c.reference,
				"formal_notice": c.formal_notice,
			}
			for c in action.previous
		],
		"tasks": list(action.tasks),
		"provisional": action.provisional,
		# The customer's other overdue invoices listed in the letter (no step of their own today)
		"also_due": [line_to_dict(line, currency) for line in action.also_due],
		"credits": [credit_to_dict(c, currency) for c in action.credits],
		"credit_total": _money(action.credit_total, currency),
		# What the letter asks: total + also_due - credits
		"net_total": _money(action.net_total, currency),
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
		"provisional": [missing_to_dict(m) for m in plan.provisional],
	}


def _day(day) -> str | None:
	return day.isoformat() if day is not None else None


def overview_to_dict(overview: Overview) -> dict[str, Any]:
	"""The weekly overview as JSON (documented in the README): amounts per currency, never mixed."""
	return {
		"format": FORMAT_VERSION,
		"as_of": overview.as_of.isoformat(),
		"until": overview.until.isoformat(),
		"buckets": list(overview.buckets),
		"totals": {
			"by_bucket": [
				{
					"currency": t.currency,
					"bucket": t.bucket,
					"invoices": t.invoices,
					"amount": _money(t.amount, t.currency),
				}
				for t in overview.bucket_totals
			],
			"by_currency": [
				{"currency": t.currency, "invoices": t.invoices, "amount": _money(t.amount, t.currency)}
				for t in overview.currency_totals
			],
			"by_customer": [
				{
					"customer": t.customer,
					"customer_name": t.customer_name,
					"currency": t.currency,
					"invoices": t.invoices,
					"buckets": {
						label: _money(amount, t.currency)
						for label, amount in zip(overview.buckets, t.by_bucket, strict=True)
					},
					"total": _money(t.total, t.currency),
					"oldest_days_late": t.oldest_days_late,
				}
				for t in overview.customer_totals
			],
		},
		"late": [
			{
				"invoice": row.invoice,
				"customer": row.customer,
				"customer_name": row.customer_name,
				"currency": row.currency,
				"due": row.due.isoformat(),
				"days_late": row.days_late,
				"bucket": row.bucket,
				"late_amount": _money(row.late_amount, row.currency),
				"outstanding": _money(row.outstanding, row.currency),
				"hold": row.hold,
				"next_step": row.next_step,
				"next_date": _day(row.next_day),
			}
			for row in overview.late
		],
		"actions": [
			{
				"date": row.day.isoformat(),
				"customer": row.customer,
				"customer_name": row.customer_name,
				"scenario": row.scenario,
				"step": row.step,
				"step_label": row.step_label,
				"channel": row.channel,
				"currency": row.currency,
				"invoices": list(row.invoices),
				"outstanding": _money(row.outstanding, row.currency),
				"total": _money(row.total, row.currency),
			}
			for row in overview.actions
		],
		"promises": [
			{
				"due": row.due.isoformat(),
				"customer": row.customer,
				"customer_name": row.customer_name,
				"currency": row.currency,
				"invoices": list(row.invoices),
				"promised": _money(row.promised, row.currency) if row.promised is not None else None,
				"outstanding": _money(row.outstanding, row.currency),
				"made_on": _day(row.made_on),
			}
			for row in overview.promises
		],
		"holds": [
			{
				"invoice": row.invoice,
				"customer": row.customer,
				"customer_name": row.customer_name,
				"currency": row.currency,
				"kind": row.kind,
				"on_customer": row.on_customer,
				"reason": row.reason,
				"until": _day(row.until),
				"due": row.due.isoformat(),
				"days_late": row.days_late,
				"outstanding": _money(row.outstanding, row.currency),
			}
			for row in overview.holds
		],
		"errors": list(overview.errors),
	}
