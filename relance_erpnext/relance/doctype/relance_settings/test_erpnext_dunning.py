# Copyright (c) 2026, relance_erpnext contributors
# For license information, please see license.txt
"""ERPNext's own Dunning leaves the Sales Invoice while Relance Settings says so (the default)."""

import frappe

from relance_erpnext.relance.workspace.dashboards import extend_bootinfo
from relance_erpnext.tests.compat import IntegrationTestCase


def connections() -> list[str]:
	data = frappe.get_meta("Sales Invoice").get_dashboard_data()
	return [item for group in data.transactions for item in group.get("items", [])]


class TestErpnextDunningHidden(IntegrationTestCase):
	def test_hidden_by_default_shown_when_asked(self):
		frappe.db.set_single_value("Relance Settings", "hide_erpnext_dunning", 1)
		items = connections()
		self.assertNotIn("Dunning", items)
		self.assertIn("Follow-up Log", items)  # the app's own group stays
		self.assertIn("Payment Entry", items)  # and ERPNext's others
		boot = frappe._dict()
		extend_bootinfo(boot)
		self.assertEqual(boot.relance, {"hide_erpnext_dunning": True})

		frappe.db.set_single_value("Relance Settings", "hide_erpnext_dunning", 0)
		self.assertIn("Dunning", connections())
		extend_bootinfo(boot)
		self.assertEqual(boot.relance, {"hide_erpnext_dunning": False})
