"""The JSON plan and overview formats: public interfaces (documented in the README). Keep them stable.

Amounts are strings with the currency's decimals ("1234.50"), dates ISO strings.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from decimal import ROUND_HALF_UP
from typing import Any

from .models import ZERO, Action, ActionLine, Credit, MissingRate, Plan
from .money import quantum, round_money
from .overview import Overview

FORMAT_VERSION = 1


def _money(amount, currency: str) -> str:
	return str(round_money(amount, currency))


def missing_to_dict(missing: MissingRate) -> dict[str, Any]:
	"""A half-year of a rate table not known yet: {"table", "from", "to"}."""
	return {"table": missing.table, "from": missing.start.isoformat(), "to": missing.end.isoformat()}


def line_to_dict(line: ActionLine, currency: str) -> dict[str, Any]:
	return _line_to_dict(line, quantum(currency))


def _line_to_dict(line: ActionLine, q) -> dict[str, Any]:
	# q: the currency's quantum, looked up once per action (a plan has as many lines as invoices acted on)
	interest_from, interest_until = line.interest_from, line.interest_until
	return {
		"invoice": line.invoice,
		"step": line.step,
		"due": line.due.isoformat(),
		"days_late": line.days_late,
		"outstanding": str(line.outstanding.quantize(q, ROUND_HALF_UP)),
		"interest": str(line.interest.quantize(q, ROUND_HALF_UP)),
		"indemnity": str(line.indemnity.quantize(q, ROUND_HALF_UP)),
		"interest_from": interest_from.isoformat() if interest_from else None,
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
		"interest_until": interest_until.isoformat() if interest_until else None,
		"rates_missing": [missing_to_dict(m) for m in line.missing_rates],
		# The interest by base and rate: base x rate x days / 36500 each (not rounded), then the sum
		# rounded once is "interest"
		"interest_segments": [
			{
				"from": seg.start.isoformat(),
				"to": seg.end.isoformat(),
				"days": seg.days,
				"base": str(seg.base.quantize(q, ROUND_HALF_UP)),
				"rate": str(seg.rate),
				"basis": seg.basis,
				"amount": str(seg.amount.quantize(q, ROUND_HALF_UP)),
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
	q = quantum(currency)
	lines = action.lines
	# The action's sums (its properties add the lines up at every reading), each added once, in the
	# same order as the properties
	outstanding = sum((line.outstanding for line in lines), ZERO)
	interest = sum((line.interest for line in lines), ZERO)
	indemnity = sum((line.indemnity for line in lines), ZERO)
	total = outstanding + interest + indemnity + action.fee
	credit_total = sum((credit.amount for credit in action.credits), ZERO)
	also_due_total = sum((line.outstanding for line in action.also_due), ZERO)

	def money(amount) -> str:
		return str(amount.quantize(q, ROUND_HALF_UP))

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
		"invoices": [_line_to_dict(line, q) for line in lines],
		"outstanding": money(outstanding),
		"interest": money(interest),
		"indemnity": money(indemnity),
		"fee": money(action.fee),
		"total": money(total),
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
		"also_due": [_line_to_dict(line, q) for line in action.also_due],
		"credits": [credit_to_dict(c, currency) for c in action.credits],
		"credit_total": money(credit_total),
		# What the letter asks: total + also_due - credits
		"net_total": money(total + also_due_total - credit_total),
	}


def plan_to_dict(plan: Plan) -> dict[str, Any]:
	return {
		"format": FORMAT_VERSION,
		"as_of": plan.as_of.isoformat(),
		"actions": [action_to_dict(a) for a in plan.actions],
		"skipped": [skipped_to_dict(s) for s in plan.skipped],
		"errors": list(plan.errors),
		"provisional": [missing_to_dict(m) for m in plan.provisional],
	}


def skipped_to_dict(skipped) -> dict[str, Any]:
	"""An invoice without action, as plan.json gives it."""
	return {
		"invoice": skipped.invoice,
		"customer": skipped.customer,
		"reason": skipped.reason,
		"detail": skipped.detail,
	}


def _same(value):
	return value


# Items encoded per write by plan_json_chunks (an item's encoding is fast, a write per item is not)
_CHUNK = 512


def plan_json_chunks(plan: Plan, names: Mapping[str, str] | None = None) -> Iterator[str]:
	"""The plan as JSON text, in pieces to write one after the other: the same value as plan_to_dict
	(the same keys in the same order), one action and one skipped invoice a line, each line compact.
	The whole text of a large plan is never held, nor the dict of its 200,000 skipped invoices.

	`names` (customer id -> name): each skipped invoice also gets "customer_name", its customer's name
	(the customer id when the name is unknown), as the command line's plan.json has it."""
	encode = json.JSONEncoder(ensure_ascii=False).encode  # without indent: the C encoder

	def items(values, convert) -> Iterator[str]:
		batch: list[str] = []
		for value in values:
			batch.append(encode(convert(value)))
			if len(batch) >= _CHUNK:
				yield ",\n".join(batch)
				batch = []
		if batch:
			yield ",\n".join(batch)

	def array(key: str, values, convert, last: bool = False) -> Iterator[str]:
		yield f'"{key}": [\n'
		first = True
		for chunk in items(values, convert):
			yield chunk if first else ",\n" + chunk
			first = False
		yield "\n]\n" if last else "\n],\n"

	if names is None:
		skipped = skipped_to_dict
	else:

		def skipped(s) -> dict[str, Any]:
			data = skipped_to_dict(s)
			data["customer_name"] = names.get(s.customer, s.customer)
			return data

	yield "{\n"
	yield f'"format": {encode(FORMAT_VERSION)},\n"as_of": {encode(plan.as_of.isoformat())},\n'
	yield from array("actions", plan.actions, action_to_dict)
	yield from array("skipped", plan.skipped, skipped)
	yield from array("errors", plan.errors, _same)
	yield from array("provisional", plan.provisional, missing_to_dict, last=True)
	yield "}\n"


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
