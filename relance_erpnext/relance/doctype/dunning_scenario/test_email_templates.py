# Copyright (c) 2026, relance_erpnext contributors
# For license information, please see license.txt
"""Each step's letter is an ERPNext Email Template per language, and an edited one is used."""

import frappe

from relance_erpnext.dunning.letters import ACTION_TEMPLATES, LETTER_LANGUAGES
from relance_erpnext.services.email_templates import create_email_templates, initial_source, template_name
from relance_erpnext.services.runner import run_for_company
from relance_erpnext.tests.compat import IntegrationTestCase
from relance_erpnext.tests.utils import AS_OF, COMPANY, make_company, make_customer, make_invoice

COURTEOUS_FR = template_name("courteous", "fr-FR")
BUILTIN_SENTENCE = "Il s'agit très probablement d'un simple oubli"


def log_of(invoice: str):
	name = frappe.db.get_value(
		"Follow-up Log Invoice", {"sales_invoice": invoice, "parenttype": "Follow-up Log"}, "parent"
	)
	return frappe.get_doc("Follow-up Log", name) if name else None


class TestEmailTemplates(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_company()

	def setUp(self):
		create_email_templates()
		frappe.db.delete("Follow-up Log")
		frappe.db.delete("Follow-up Log Invoice")
		# Each step at the delay its test gives, first contact or not: the calendar by due date
		frappe.db.set_single_value(
			"Relance Settings", {"review_before_sending": 1, "min_gap_days": 0, "catch_up": "by_due_date"}
		)

	def tearDown(self):
		doc = frappe.get_doc("Email Template", COURTEOUS_FR)
		doc.update({"subject": "{{ subject }}", "response_html": initial_source("courteous", "fr-FR")})
		doc.save(ignore_permissions=True)

	def test_one_template_per_step_and_language(self):
		for template in ACTION_TEMPLATES:
			for language in LETTER_LANGUAGES:
				doc = frappe.get_doc("Email Template", template_name(template, language))
				self.assertEqual(doc.subject, "{{ subject }}")
				self.assertEqual(doc.response_html, initial_source(template, language))
		self.assertEqual(create_email_templates(), 0)  # idempotent: edited copies are kept

	def test_the_edited_wording_is_used_for_that_language_only(self):
		doc = frappe.get_doc("Email Template", COURTEOUS_FR)
		doc.response_html = doc.response_html.replace(
			BUILTIN_SENTENCE, "Les fins de mois sont chargées, nous le savons bien"
		)
		doc.subject = "Atelier – {{ subject }}"
		doc.save(ignore_permissions=True)
		french = make_invoice(
			make_customer("_Relance Modèle FR", email="fr@client.example"), 320, days_late=1
		)
		english = make_invoice(
			make_customer("_Relance Template EN", email="en@client.example", language="en"), 320, days_late=1
		)
		run_for_company(COMPANY, AS_OF)
		fr_log, en_log = log_of(french.name), log_of(english.name)
		self.assertIn("Les fins de mois sont chargées", fr_log.message)
		self.assertNotIn(BUILTIN_SENTENCE, fr_log.message)
		self.assertTrue(fr_log.subject.startswith("Atelier – Facture n°"), fr_log.subject)
		self.assertIn("320,00", fr_log.message)  # amounts and layout still the application's
		self.assertTrue(en_log.subject.startswith("Friendly reminder"), en_log.subject)

	def test_a_mistake_in_an_edited_template_is_reported_on_the_run(self):
		doc = frappe.get_doc("Email Template", COURTEOUS_FR)
		doc.response_html = doc.response_html.replace("{% set subject %}", "{% set subject %}{{ 1 / 0 }}", 1)
		doc.save(ignore_permissions=True)  # it compiles; it fails when rendered
		invoice = make_invoice(
			make_customer("_Relance Modèle cassé", email="x@client.example"), 50, days_late=1
		)
		run = frappe.get_doc("Relance Run", run_for_company(COMPANY, AS_OF))
		self.assertIsNone(log_of(invoice.name))
		self.assertGreaterEqual(run.error_count, 1)
		self.assertIn("'courteous' (fr-FR)", run.errors)
		self.assertIn("ZeroDivisionError", run.errors)

	def test_frappe_refuses_a_template_that_does_not_compile(self):
		doc = frappe.get_doc("Email Template", COURTEOUS_FR)
		doc.response_html += "{% if %}"
		with self.assertRaises(frappe.ValidationError):
			doc.save(ignore_permissions=True)
