# Copyright (c) 2026, relance_erpnext contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import flt

LIVE_STATUSES = ("Planned", "Sent", "Done", "Unknown")


class FollowupLog(Document):
	def validate(self):
		self.set_totals()
		self.set_step_keys()

	def set_totals(self):
		self.total_outstanding = sum(flt(row.outstanding) for row in self.invoices)
		self.total_interest = sum(flt(row.interest) for row in self.invoices)
		self.total_indemnity = sum(flt(row.indemnity) for row in self.invoices)
		self.grand_total = self.total_outstanding + self.total_interest + self.total_indemnity + flt(self.fee)

	def set_step_keys(self):
		"""invoice:step is unique while the step is live: the database refuses a second live log."""
		for row in self.invoices:
			if row.step and self.status in LIVE_STATUSES:
				row.dedupe_key = f"{row.sales_invoice}:{row.step}"
			else:
				row.dedupe_key = None

	def on_update(self):
		self.update_invoices()

	def update_invoices(self):
		if not self.step or self.status not in LIVE_STATUSES:
			return
		for row in self.invoices:
			frappe.db.set_value(
				"Sales Invoice",
				row.sales_invoice,
				{"relance_level": self.step_label or self.step, "relance_last_action_date": self.log_date},
				update_modified=False,
			)


@frappe.whitelist()
def send_now(names: str | list) -> int:
	"""Approve and send Planned logs (review before sending)."""
	from relance_erpnext.services.runner import send_logs

	if isinstance(names, str):
		names = frappe.parse_json(names) if names.startswith("[") else [names]
	for name in names:
		frappe.get_doc("Follow-up Log", name).check_permission("write")
	return send_logs(list(names))
