# Copyright (c) 2026, relance_erpnext contributors
# For license information, please see license.txt

import frappe
from frappe.tests.utils import FrappeTestCase

from relance_erpnext.dunning import BUILTIN_SCENARIOS


class TestDunningScenario(FrappeTestCase):
	def test_builtin_scenarios_are_installed_in_french(self):
		for key, scenario in BUILTIN_SCENARIOS.items():
			doc = frappe.get_doc("Dunning Scenario", key)
			self.assertEqual([row.step_key for row in doc.steps], [step.key for step in scenario.steps])
		self.assertEqual(frappe.get_doc("Dunning Scenario", "standard").steps[0].label, "Rappel courtois")

	def test_the_core_validation_names_the_step_and_field(self):
		doc = frappe.copy_doc(frappe.get_doc("Dunning Scenario", "standard"))
		doc.scenario_key = "copie_invalide"
		doc.steps[1].step_key = doc.steps[0].step_key
		with self.assertRaises(frappe.ValidationError) as caught:
			doc.insert()
		self.assertIn("rappel_courtois", str(caught.exception))
		self.assertIn("key", str(caught.exception))
		doc.steps[1].step_key = "relance_formelle"
		doc.steps[2].offset_days = 3  # before the formal reminder's day 7
		with self.assertRaises(frappe.ValidationError) as caught:
			doc.insert()
		self.assertIn("appel", str(caught.exception))

	def test_a_valid_custom_scenario(self):
		doc = frappe.get_doc(
			{
				"doctype": "Dunning Scenario",
				"scenario_key": "test-court",
				"scenario_name": "Court",
				"steps": [
					{
						"step_key": "s1",
						"label": "Rappel",
						"offset_days": 3,
						"channel": "email",
						"tone": "amical",
						"template": "courteous",
					},
					{
						"step_key": "s2",
						"label": "Mise en demeure",
						"offset_days": 10,
						"relative_to": "previous",
						"channel": "registered_letter",
						"tone": "ferme",
						"template": "formal_notice",
						"formal_notice": 1,
						"notice_days": 8,
					},
				],
			}
		).insert()
		self.assertEqual(doc.name, "test-court")
