# Copyright (c) 2026, relance_erpnext contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document


class RelanceRun(Document):
	pass


@frappe.whitelist()
def start(company: str, as_of: str | None = None, dry_run: int = 1) -> str:
	"""Run (or preview) a day now for one company, in the background queue."""
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
