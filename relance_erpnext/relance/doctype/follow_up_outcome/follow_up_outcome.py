# Copyright (c) 2026, relance_erpnext contributors
# For license information, please see license.txt

from frappe.model.document import Document


class FollowupOutcome(Document):
	pass
