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
