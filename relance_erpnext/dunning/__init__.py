"""The rules of relance: pure Python (stdlib + Jinja2), no Frappe, no I/O beyond its own package data."""

from .charges import annual_rate, late_interest, overdue_outstanding, penalty_claim, recovery_indemnity
from .dates import (
	AGEING_BUCKETS,
	DEFAULT_BUCKETS,
	bucket,
	bucket_labels,
	check_payment_term,
	days_late,
	due_45_days_end_of_month,
	due_days_end_of_month,
	due_end_of_month_plus,
	due_net,
)
from .errors import DunningError, RateMissing, RateTableError, ScenarioError
from .models import *
from .money import format_amount, parse_amount, round_money
from .overview import Overview, build_overview
from .planner import plan, plan_ahead
from .rates import ReferenceRates, load_reference_rates
from .reasons import describe, task_text
from .scenarios import BUILTIN_SCENARIOS, scenario_from_dict, scenario_to_dict, validate_scenario
from .serialize import overview_to_dict, plan_to_dict
