# Copyright (c) 2026, relance_erpnext contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document

from relance_erpnext.dunning import ScenarioError, scenario_from_dict
from relance_erpnext.services.mapping import scenario_dict


class DunningScenario(Document):
	def validate(self):
		"""The core's validation, the one rule for every source of scenarios."""
		try:
			scenario_from_dict(scenario_dict(self.scenario_key, self.scenario_name, self.steps))
		except ScenarioError as exc:
			where = _("Step {0}").format(exc.step) if exc.step else _("Scenario")
			frappe.throw(
				_("{0}, field {1}: {2}").format(where, _(exc.field), _(exc.message)),
				title=_("Invalid scenario"),
			)

	def on_update(self):
		frappe.local.relance_step_labels = None  # services.desk.step_labels reads them again


@frappe.whitelist()
def preview(company: str, as_of: str | None = None, scenario: str | None = None) -> dict:
	"""What would go out on `as_of` for this company (only this scenario's invoices when given), and
	why the rest waits: a summary to show, and the plan itself (JSON plan format). Changes nothing."""
	import dataclasses

	from frappe.utils import getdate, today

	from relance_erpnext.dunning import plan_to_dict
	from relance_erpnext.services.runner import make_plan, summary_html

	frappe.has_permission("Follow-up Log", "read", throw=True)
	frappe.has_permission("Company", "read", company, throw=True)
	book, result = make_plan(company, getdate(as_of or today()))
	if scenario:
		ours = {inv.id for inv in book.invoices if book.scenario_of(inv) == scenario}
		result = dataclasses.replace(
			result,
			actions=tuple(a for a in result.actions if a.scenario == scenario),
			skipped=tuple(s for s in result.skipped if s.invoice in ours),
		)
	plan = plan_to_dict(result)
	return {"summary": summary_html(plan), "plan": plan}
