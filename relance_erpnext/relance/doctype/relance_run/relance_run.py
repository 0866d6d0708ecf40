# Copyright (c) 2026, relance_erpnext contributors
# For license information, please see license.txt

import json

import frappe
from frappe import _
from frappe.model.document import Document


class RelanceRun(Document):
	def onload(self):
		"""The summary, made now from the stored plan in the reader's language (runs made before the
		plan was the only record keep their stored summary)."""
		if self.plan_json:
			from relance_erpnext.services.runner import summary_html

			self.set_onload("summary_html", summary_html(json.loads(self.plan_json), self.name))
		elif self.summary:
			self.set_onload("summary_html", self.summary)


@frappe.whitelist()
def start(company: str, as_of: str | None = None, dry_run: int = 1) -> str:
	"""Preview a day for one company now, or queue the real run in the background."""
	frappe.has_permission("Follow-up Log", "create", throw=True)
	as_of = as_of or frappe.utils.today()
	if int(dry_run):
		# One preview per company and day, made again each time: previews never pile up
		previous = frappe.db.get_value(
			"Relance Run", {"company": company, "run_date": as_of, "dry_run": 1, "triggered_by": "User"}
		)
		if previous:
			from relance_erpnext.services.runner import run_for_company

			return run_for_company(company, as_of, dry_run=True, triggered_by="User", run_name=previous)
	run = frappe.new_doc("Relance Run")
	run.update(
		{
			"company": company,
			"run_date": as_of,
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
