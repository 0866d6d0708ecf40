"""Every reason the planner can give has its words, in English and French."""

import unittest

from relance_erpnext.dunning import models, planner
from relance_erpnext.dunning.reasons import REASON_TITLES, REASONS, describe, reason_title


class TestReasons(unittest.TestCase):
	def test_every_reason_code_of_the_planner_has_a_text_and_a_title(self):
		codes = {
			value
			for name, value in vars(planner).items()
			if name.isupper()
			and isinstance(value, str)
			and not name.startswith("NOTE_")
			and name not in vars(models)  # channels and statuses the planner imports
		}
		self.assertTrue({"paid", "disputed", "waiting_next_step", "rate_missing"} <= codes)
		self.assertEqual(codes - set(REASONS), set())
		self.assertEqual(set(REASONS), set(REASON_TITLES))

	def test_titles_and_texts(self):
		self.assertEqual(reason_title("disputed", "fr"), "en litige")
		self.assertEqual(reason_title("disputed", "en"), "disputed")
		self.assertEqual(describe("disputed", "livraison contestée", "fr"), "en litige : livraison contestée")
		self.assertEqual(reason_title("something_new", "fr"), "something_new")


class TestReadableDetail(unittest.TestCase):
	"""A step and a day in a reason's detail read as words where labels are known (ERPNext's desk)."""

	def test_step_and_day_in_words(self):
		from relance_erpnext.dunning.reasons import describe

		labels = {"relance_formelle": "Relance formelle"}
		self.assertEqual(
			describe("waiting_next_step", "relance_formelle@2026-06-01", "fr", labels),
			"en attente de l'étape suivante (Relance formelle le 1er juin 2026)",
		)
		self.assertEqual(
			describe("waiting_next_step", "relance_formelle@2026-06-21", "en", labels),
			"waiting for the next step (Relance formelle on 21 June 2026)",
		)
		self.assertEqual(
			describe("promise_pending", "2026-06-18", "fr", {}), "paiement promis pour le 18 juin 2026"
		)
		# Without labels, the detail stays as the plan has it (the CLI's and JSON's codes)
		self.assertEqual(
			describe("waiting_next_step", "relance_formelle@2026-06-21", "en"),
			"waiting for the next step (relance_formelle@2026-06-21)",
		)
		self.assertEqual(describe("disputed", "prix contesté", "fr", labels), "en litige : prix contesté")
