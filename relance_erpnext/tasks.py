"""Scheduler entry points."""

import frappe
from frappe.utils import today


def run_daily_follow_up():
	"""Queue one follow-up run per company; each company is a separate job on the long queue."""
	if not frappe.db.get_single_value("Relance Settings", "enabled"):
		return
	day = today()
	for company in frappe.get_all("Company", pluck="name"):
		frappe.enqueue(
			"relance_erpnext.services.runner.run_for_company",
			queue="long",
			job_id=f"relance::{company}::{day}",
			deduplicate=True,
			company=company,
			as_of=day,
			triggered_by="Scheduler",
		)


def update_reference_rates():
	"""Fill Relance Settings' rate table from the published rates while a half-year is missing, and
	warn when one still is (services/rates.py). A failure is logged, never raised: the follow-up
	runs all the same, its interest provisional."""
	try:
		from relance_erpnext.services.rates import update_reference_rates as update

		update()
	except Exception:
		frappe.log_error(title="Relance: reference rates update failed")
