# Copyright (c) 2026, relance_erpnext contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document


class RelanceRun(Document):
	pass


@frappe.whitelist()
def start(company: str, as_of: str | None = None, dry_run: int = 1) -> str:
	"""Preview a day for one company now, or queue the real run in the background."""
	frappe.has_permission("Follow-up Log", "create", throw=True)
	run = frappe.new_doc("Relance Run")
	run.update(
		{
			"company": company,
			"run_date": as_of or frappe.utils.today(),
			"dry_run": int(dry_run),
			"triggered_by": "User",
		}
	)
	run.insert()
	if int(dry_run):
		# A preview reads and plans only (a fraction of a second even on thousands of invoices):
		# done now, so the person sees it at once, with or without a background worker
		from relance_erpnext.services.runner import run_for_company

		return run_for_company(company, run.run_date, dry_run=True, triggered_by="User", run_name=run.name)
	frappe.enqueue(
		"relance_erpnext.services.runner.run_for_company",
		queue="long",
		company=company,
		as_of=run.run_date,
		dry_run=bool(int(dry_run)),
		run_name=run.name,
		enqueue_after_commit=True,
	)
	return run.name
