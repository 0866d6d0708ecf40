"""Typed errors carrying data. Adapters turn them into messages in the user's language."""

from __future__ import annotations

from datetime import date


class DunningError(Exception):
	"""Base of every error the rules raise."""


class ScenarioError(DunningError):
	"""A malformed scenario: names the scenario, the step (if any) and the field at fault."""

	def __init__(self, scenario: str, step: str | None, field: str, message: str):
		self.scenario = scenario
		self.step = step
		self.field = field
		self.message = message
		where = f"scenario {scenario!r}"
		if step is not None:
			where += f", step {step!r}"
		super().__init__(f"{where}, field {field!r}: {message}")


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
	"""A rate table file that cannot be used (gap, overlap, bad number)."""
