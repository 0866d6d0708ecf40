# Copyright (c) 2026, relance_erpnext contributors
# For license information, please see license.txt
"""How each customer pays, on known data, and the doubtful customers' rule moving a customer there
and back, each move in its follow-up."""

import frappe
from frappe.utils import add_days

from relance_erpnext.services.behaviour import apply_doubtful_rule, behaviours
from relance_erpnext.tests.compat import IntegrationTestCase
from relance_erpnext.tests.utils import AS_OF, COMPANY, make_company, make_customer, make_invoice, pay


class TestPaymentBehaviour(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_company()

	def late_payer(self, name: str) -> str:
		customer = make_customer(name, email="retard@client.example")
		for days in (100, 80, 60):  # due that many days before AS_OF, each paid 40 days late
			invoice = make_invoice(customer, 500, days_late=days)
			pay(invoice.name, day=add_days(invoice.due_date, 40))
		return customer

	def test_figures_on_known_data(self):
		customer = self.late_payer("_Relance Comportement Chiffres")
		on_time = make_invoice(customer, 200, days_late=30)
		pay(on_time.name, day=on_time.due_date)
		seen = behaviours([customer], AS_OF)[customer]
		self.assertEqual((seen.invoices, seen.paid_late), (4, 3))
		self.assertEqual(float(seen.average_days_late), 30.0)  # (40 + 40 + 40 + 0) / 4
		self.assertEqual(float(seen.share_late), 75.0)
		self.assertEqual(seen.broken_promises, 0)

	def test_the_rule_moves_a_late_payer_and_back_but_never_a_chosen_scenario(self):
		frappe.db.set_single_value(
			"Relance Settings", {"doubtful_rule_enabled": 1, "doubtful_scenario": "clients_douteux"}
		)
		late = self.late_payer("_Relance Comportement Regle")
		chosen = self.late_payer("_Relance Comportement Choisi")
		frappe.db.set_value("Customer", chosen, "relance_scenario", "preventif")
		moved = apply_doubtful_rule(COMPANY, AS_OF)
		self.assertIn(late, moved)
		self.assertNotIn(chosen, moved)
		self.assertEqual(
			frappe.db.get_value("Customer", late, ["relance_scenario", "relance_scenario_by_rule"]),
			("clients_douteux", 1),
		)
		self.assertEqual(frappe.db.get_value("Customer", chosen, "relance_scenario"), "preventif")
		note = frappe.db.get_value("Follow-up Log", {"customer": late, "channel": "note"}, "answer")
		self.assertIn("clients_douteux", note)
		self.assertTrue("40" in note, note)  # the average delay that decided
		# Again the same day: nothing moves twice
		self.assertNotIn(late, apply_doubtful_rule(COMPANY, AS_OF))
		# A year on, these late invoices are out of the window: back to the usual scenario
		self.assertIn(late, apply_doubtful_rule(COMPANY, add_days(AS_OF, 400)))
		self.assertEqual(
			frappe.db.get_value("Customer", late, ["relance_scenario", "relance_scenario_by_rule"]), (None, 0)
		)
		self.assertEqual(frappe.db.count("Follow-up Log", {"customer": late, "channel": "note"}), 2)
