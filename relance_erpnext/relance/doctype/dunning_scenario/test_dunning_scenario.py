# Copyright (c) 2026, relance_erpnext contributors
# For license information, please see license.txt

import frappe

from relance_erpnext.dunning import BUILTIN_SCENARIOS
from relance_erpnext.tests.compat import IntegrationTestCase


class TestDunningScenario(IntegrationTestCase):
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


class TestPreview(IntegrationTestCase):
	def test_scenario_preview_shows_its_own_invoices_and_changes_nothing(self):
		from relance_erpnext.relance.doctype.dunning_scenario.dunning_scenario import preview
		from relance_erpnext.tests.utils import AS_OF, COMPANY, make_company, make_customer, make_invoice

		make_company()
		standard = make_invoice(make_customer("_Relance Aperçu Standard", email="s@client.example"), 700, 7)
		doubtful = make_customer("_Relance Aperçu Douteux", email="d@client.example")
		frappe.db.set_value("Customer", doubtful, "relance_scenario", "clients_douteux")
		risky = make_invoice(doubtful, 900, 7)
		logs = frappe.db.count("Follow-up Log")

		shown = preview(COMPANY, str(AS_OF), "clients_douteux")
		invoices = {line["invoice"] for action in shown["plan"]["actions"] for line in action["invoices"]}
		skipped = {skip["invoice"] for skip in shown["plan"]["skipped"]}
		self.assertIn(risky.name, invoices)
		self.assertNotIn(standard.name, invoices | skipped)
		self.assertIn("_Relance Aperçu Douteux", shown["summary"])
		self.assertEqual(frappe.db.count("Follow-up Log"), logs)

	def test_run_form_preview_is_done_at_once(self):
		from relance_erpnext.relance.doctype.relance_run.relance_run import start
		from relance_erpnext.tests.utils import AS_OF, COMPANY, make_company

		make_company()
		run = frappe.get_doc("Relance Run", start(COMPANY, str(AS_OF), dry_run=1))
		self.assertEqual((run.status, run.dry_run), ("Done", 1))
		self.assertTrue(run.plan_json)
