"""Typed errors carrying data. Adapters turn them into messages in the user's language."""

from __future__ import annotations

from datetime import date


class DunningError(Exception):
	"""Base of every error the rules raise."""


class ScenarioError(DunningError):
	"""A malformed scenario: names the scenario, the step (if any) and the field at fault.

	`message` is the English text; `template` and `values` the same as a str.format template and its
	values, for an adapter to say it in its user's language (`template` is `message` when it has no
	values)."""

	def __init__(self, scenario: str, step: str | None, field: str, message: str, **values):
		self.scenario = scenario
		self.step = step
		self.field = field
		self.template = message
		self.values = values
		self.message = message.format(**values) if values else message
		where = f"scenario {scenario!r}"
		if step is not None:
			where += f", step {step!r}"
		super().__init__(f"{where}, field {field!r}: {self.message}")


class RateMissing(DunningError):
	"""No reference rate is known for a date: the table must be updated, never guessed."""

	def __init__(self, table: str, day: date, covered: tuple[date, date | None] | None):
		self.table = table
		self.day = day
		self.covered = covered
		span = ""
		if covered:
			span = f" (the table covers {covered[0].isoformat()} to {covered[1].isoformat() if covered[1] else 'open end'})"
		super().__init__(
			f"no {table} rate for {day.isoformat()}{span}; add the official rate for that half-year to the table"
		)


class RateTableError(DunningError):
	"""A rate table file that cannot be used (gap, overlap, bad number). Its message is English;
	`template` and `values` the same for an adapter to say it in its user's language."""

	def __init__(self, message: str, **values):
		self.template = message
		self.values = values
		super().__init__(message.format(**values) if values else message)
