# Copyright (c) 2026, relance_erpnext contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document


class RelanceSettings(Document):
	def validate(self):
		self.validate_penalty_item()

	def validate_penalty_item(self):
		if not self.bill_penalties:
			return
		if not self.penalty_item:
			frappe.throw(_("Set the Penalty Item to bill late-payment penalties."), title=_("Penalties"))
		if frappe.db.get_value("Item", self.penalty_item, "is_stock_item"):
			frappe.throw(
				_("Penalty Item {0} must not be a stock item.").format(self.penalty_item),
				title=_("Penalties"),
			)
