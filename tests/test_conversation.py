"""The customer's conversation: one letter a day that says only what the history shows."""

from __future__ import annotations

import unittest
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relance_erpnext.dunning import HistoryEntry, PlanSettings
from relance_erpnext.dunning.letters import Sender, contact_phrase, render_action, salutation
from relance_erpnext.dunning.models import (
	BUSINESS,
	CONSUMER,
	ESCALATION,
	PLANNED,
	REGIME_FR,
	REGIME_QC,
	SENT,
	Contact,
)

from .helpers import customer, invoice, run
from .test_properties import books

DUE = date(2026, 3, 1)
SENDER = Sender(
	name="Atelier Lumière SAS", city="Lyon", signatory="Sophie Garnier", signatory_title="Gérante"
)
# What a letter may say only when an earlier reminder was sent
EARLIER = (
	"Malgré",
	"précédent",
	"premier rappel",
	"nos relances",
	"nos rappels",
	"déjà écrit",
	"déjà envoyées",
	"Despite",
	"earlier reminder",
	"already written",
	"notre courriel du",
	"notre lettre",
	"our email of",
)


def day(n: int) -> date:
	return DUE + timedelta(days=n)


def letter_of(action, customers, invoices, as_of):
	return render_action(action, SENDER, customers[action.customer], as_of, {i.id: i for i in invoices})


class TestLettersTellTheHistory(unittest.TestCase):
	def test_a_first_contact_mentions_no_earlier_reminder_and_a_later_letter_cites_them(self):
		c = customer(name="Mme Claire Lefèvre")
		inv = [invoice(due=day(0))]
		first = run(day(60), [c], inv)
		[action] = first.actions
		text = letter_of(action, {c.id: c}, inv, day(60)).text
		for phrase in EARLIER:
			self.assertNotIn(phrase, text)
		# The formal reminder cites the courteous email by its date, and gives a deadline
		history = [HistoryEntry("F1", action.step, day(60), SENT, action.channel, customer=c.id)]
		[formal] = run(day(66), [c], inv, history).actions
		self.assertEqual(formal.step, "relance_formelle")
		text = " ".join(letter_of(formal, {c.id: c}, inv, day(66)).text.split())
		self.assertIn("Malgré notre courriel du 30 avril 2026", text)
		self.assertIn("Madame, Malgré notre courriel", text)
		self.assertNotIn("Madame, Monsieur", text)
		self.assertIn("au plus tard le 14 mai 2026", text)

	def test_a_registered_letter_is_cited_with_its_number(self):
		contact = Contact(date(2026, 6, 10), "registered_letter", "mise_en_demeure", "1A 234 567 8901 2")
		self.assertEqual(
			contact_phrase(contact, "fr-FR"),
			"notre lettre recommandée du 10 juin 2026 (n° 1A 234 567 8901 2)",
		)
		self.assertEqual(
			contact_phrase(Contact(date(2026, 6, 3), "email", "x"), "en"), "our email of 3 June 2026"
		)

	def test_salutation_from_the_name(self):
		self.assertEqual(salutation(customer(name="Mme Claire Lefèvre"), "fr-FR"), ("Madame,", "Madame"))
		self.assertEqual(salutation(customer(name="M. Julien Moreau"), "fr-CA"), ("Monsieur,", "Monsieur"))
		self.assertEqual(
			salutation(customer(name="SARL Martin"), "fr-FR"), ("Madame, Monsieur,", "Madame, Monsieur")
		)
		self.assertEqual(salutation(customer(name="Mr John Smith"), "en")[0], "Dear Sir,")

	def test_formal_notice_sections_signatory_and_competent_court(self):
		c = customer()
		history = [
			HistoryEntry("F1", s, day(n), SENT, ch, customer="C1")
			for s, n, ch in (
				("rappel_courtois", 1, "email"),
				("relance_formelle", 7, "email"),
				("appel", 15, "phone"),
			)
		]
		invoices = [invoice(), invoice("F2", due=day(29), amount="200")]
		[action] = run(day(30), [c], invoices, history).actions
		text = " ".join(letter_of(action, {c.id: c}, invoices, day(30)).text.split())
		self.assertIn(
			"Malgré notre courriel du 2 mars 2026, notre courriel du 8 mars 2026 et notre appel téléphonique du 16 mars 2026",
			text,
		)
		self.assertIn("La facture F1 fait l'objet de la présente mise en demeure", text)
		self.assertIn("La facture F2, également échue, reste due", text)
		self.assertIn("tribunal compétent", text)
		self.assertIn("Sophie Garnier", text)

	def test_quebec_letters_state_the_legal_rate_when_none_was_agreed(self):
		c = customer(regime=REGIME_QC, language="fr-CA")
		history = [HistoryEntry("F1", "appel", day(15), SENT, "phone", customer="C1")]
		inv = [invoice(currency="CAD")]
		[action] = run(day(30), [c], inv, history).actions
		text = " ".join(letter_of(action, {c.id: c}, inv, day(30)).text.split())
		self.assertIn("au taux légal de 5", text)
		self.assertIn("Loi sur l'intérêt, art. 3", text)

	def test_a_consumer_call_script_speaks_to_a_consumer(self):
		c = customer(kind=CONSUMER, name="M. Julien Moreau")
		history = [HistoryEntry("F1", "relance_formelle", day(7), SENT, "email", customer="C1")]
		inv = [invoice()]
		[action] = run(day(15), [c], inv, history).actions
		self.assertEqual(action.channel, "phone")
		text = letter_of(action, {c.id: c}, inv, day(15)).text
		for word in ("fournisseurs", "LCR", "45 jours fin de mois", "indemnité"):
			self.assertNotIn(word, text)
		b2b = customer()
		[action] = run(day(15), [b2b], inv, history).actions
		text = " ".join(letter_of(action, {b2b.id: b2b}, inv, day(15)).text.split())
		# Penalties and the 40 € indemnity said apart, never added up as one "indemnité"
		self.assertIn("indemnité forfaitaire de recouvrement de 40 € par facture est due (40,00", text)

	def test_a_letter_without_address_has_a_block_to_complete(self):
		c = customer(address=(), email="")
		inv = [invoice()]
		[action] = run(day(5), [c], inv).actions
		self.assertEqual(action.tasks, ("complete_address",))
		letter = letter_of(action, {c.id: c}, inv, day(5))
		self.assertIn("ADRESSE À COMPLÉTER", letter.text.upper())
		self.assertIn("adresse à compléter", letter.html.lower())


class TestLettersShowTheirFigures(unittest.TestCase):
	"""Each invoice's interest by base and rate, the other amounts past due and the credits."""

	def letter(self, language, credits=()):
		c = customer(name="SAS Transports Rhône-Alpes", language=language)
		invoices = [
			invoice(
				"FA-2026-0012", due=date(2026, 3, 16), amount="3600", payments=[(date(2026, 4, 10), "1200")]
			),
			invoice("FA-2026-0027", due=date(2026, 5, 16), amount="2280"),
		]
		history = [
			HistoryEntry("FA-2026-0012", "rappel_courtois", date(2026, 5, 1), SENT, "email", customer="C1"),
			HistoryEntry("FA-2026-0012", "relance_formelle", date(2026, 5, 7), SENT, "email", customer="C1"),
			HistoryEntry("FA-2026-0027", "rappel_courtois", date(2026, 6, 10), SENT, "email", customer="C1"),
		]
		[action] = run(date(2026, 6, 15), [c], invoices, history, credits=credits).actions
		return action, " ".join(letter_of(action, {c.id: c}, invoices, date(2026, 6, 15)).text.split())

	def test_the_interest_of_fa_2026_0012_can_be_recomputed(self):
		expected = {
			"fr-FR": (
				"du 17 mars 2026 au 10 avril 2026 : 3 600,00 € × 12,15 % × 25 j / 365 = 29,96 €",
				"règlement de 1 200,00 € reçu le 10 avril 2026",
				"du 11 avril 2026 au 15 juin 2026 : 2 400,00 € × 12,15 % × 66 j / 365 = 52,73 €",
				"Total facture FA-2026-0012 : 82,69 €",
			),
			"en": (
				"17 March 2026 to 10 April 2026: €3,600.00 × 12.15% × 25 days / 365 = €29.96",
				"payment of €1,200.00 received on 10 April 2026",
				"11 April 2026 to 15 June 2026: €2,400.00 × 12.15% × 66 days / 365 = €52.73",
				"Invoice FA-2026-0012 total: €82.69",
			),
		}
		for language, phrases in expected.items():
			action, text = self.letter(language)
			text = text.replace("\u00a0", " ").replace("\u202f", " ")
			for phrase in phrases:
				self.assertIn(phrase, text, language)
		self.assertEqual(action.lines[0].interest, Decimal("82.69"))

	def test_other_amounts_past_due_and_credits_have_their_sections(self):
		from relance_erpnext.dunning.models import Credit

		credit = Credit("C1", "EUR", Decimal("500"), "AV-2026-0002", date(2026, 6, 1))
		action, text = self.letter("fr-FR", credits=[credit])
		self.assertEqual([line.invoice for line in action.also_due], ["FA-2026-0027"])
		text = text.replace("\u00a0", " ").replace("\u202f", " ")
		self.assertIn("AUTRES MONTANTS ÉCHUS", text)
		self.assertIn("AVOIRS À DÉDUIRE", text)
		self.assertIn("AV-2026-0002 – avoir", text)
		self.assertEqual(action.net_total, action.total + Decimal("2280") - Decimal("500"))
		self.assertIn("TOTAL À RÉGLER 4 302,69 €", text)
		self.assertIn("déduction faite des avoirs : -500,00 €", text)
		action, text = self.letter("en", credits=[credit])
		self.assertIn("OTHER AMOUNTS PAST DUE", text)
		self.assertIn("CREDITS DEDUCTED", text)


class TestDoubtfulCustomers(unittest.TestCase):
	def test_their_steps_have_their_own_firmer_wording_and_labels_agree_with_letters(self):
		c = customer(scenario="clients_douteux")
		inv = [invoice()]
		history = [
			HistoryEntry("F1", "premier_rappel", day(7), SENT, "email", customer="C1"),
			HistoryEntry("F1", "relance_insistante", day(14), SENT, "email", customer="C1"),
		]
		[urgent] = run(day(14), [c], inv, history[:1]).actions
		self.assertEqual((urgent.step_label, urgent.template), ("Relance insistante", "doubtful_urgent"))
		text = " ".join(letter_of(urgent, {c.id: c}, inv, day(14)).text.split())
		self.assertIn("Relance urgente", text)
		self.assertIn("suspendre nos livraisons", text)
		self.assertIn("Malgré notre courriel du 8 mars 2026", text)
		[final] = run(day(21), [c], inv, history).actions
		self.assertIn("mise en demeure", final.step_label)
		self.assertTrue(final.formal_notice)
		text = " ".join(letter_of(final, {c.id: c}, inv, day(21)).text.split())
		self.assertIn("DERNIÈRE RELANCE AVANT ACTION LÉGALE – MISE EN DEMEURE", text)
		self.assertIn("notre dernière relance amiable", text)
		self.assertIn("vaut mise en demeure", text)
		# Not the standard scenario's words
		[standard] = run(
			day(14), [customer()], inv, [HistoryEntry("F1", "rappel_courtois", day(1), SENT, "email")]
		).actions
		self.assertNotEqual(standard.template, urgent.template)


@st.composite
def conversation_books(draw):
	"""The planner's random books, with credits and what was done elsewhere (manual entries)."""
	from relance_erpnext.dunning.models import Credit
	from relance_erpnext.dunning.outcomes import ManualEntry

	customers, invoices, history, promises, as_of, plan_settings = draw(books())
	credits = []
	for c in customers:
		if draw(st.booleans()):
			target = draw(st.sampled_from([None, *invoices])) if invoices else None
			credits.append(
				Credit(
					c.id,
					draw(st.sampled_from(["EUR", "CAD"])),
					draw(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2)),
					f"AV-{c.id}",
					as_of - timedelta(days=draw(st.integers(-5, 60))),
					against_invoice=target.id if target is not None and target.customer == c.id else "",
				)
			)
	outcomes = []
	for inv in invoices:
		if draw(st.integers(0, 3)) == 0:
			outcomes.append(
				ManualEntry(
					(inv.id,),
					inv.due + timedelta(days=draw(st.integers(1, 60))),
					outcome=draw(
						st.sampled_from(["sent", "no_answer", "promise", "dispute", "delivered", "resume"])
					),
					channel=draw(st.sampled_from(["", "email", "letter", "registered_letter", "phone"])),
					level=draw(st.integers(0, 3)),
					until=draw(st.sampled_from([None, inv.due + timedelta(days=70)])),
				)
			)
	return customers, invoices, history, promises, as_of, plan_settings, credits, outcomes


PROPERTY_SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class TestConversationProperties(unittest.TestCase):
	@PROPERTY_SETTINGS
	@given(conversation_books(), st.integers(1, 25))
	def test_never_two_communications_a_day_to_one_customer_in_one_currency(self, book, days):
		"""Over a sequence of days, each day's plan replayed as sent (and the same day planned twice)."""
		customers, invoices, history, promises, as_of, plan_settings, credits, outcomes = book
		history = list(history)
		sent: dict[tuple[str, str, date], int] = {}
		for offset in range(0, days, 3):
			today = as_of + timedelta(days=offset)
			for _ in range(2):  # a second run the same day adds nothing for a customer already written to
				result = run(
					today,
					customers,
					invoices,
					history,
					plan_settings,
					promises=promises,
					credits=credits,
					outcomes=outcomes,
				)
				for action in result.actions:
					# What the letter asks is never negative: a customer whose credits cover it is not reminded
					self.assertGreater(action.outstanding + action.also_due_total - action.credit_total, 0)
					# Every line's invoice is written to once, in its own section
					listed = [line.invoice for line in (*action.lines, *action.also_due)]
					self.assertEqual(len(listed), len(set(listed)))
					if action.channel == ESCALATION:
						continue
					key = (action.customer, action.currency, today)
					sent[key] = sent.get(key, 0) + 1
					self.assertEqual(sent[key], 1, key)
				history.extend(
					HistoryEntry(
						line.invoice,
						line.step,
						today,
						PLANNED,
						action.channel,
						line.formal_notice,
						action.customer,
					)
					for action in result.actions
					for line in action.lines
				)

	@PROPERTY_SETTINGS
	@given(conversation_books())
	def test_replaying_a_plan_with_credits_and_outside_history_plans_nothing_new(self, book):
		customers, invoices, history, promises, as_of, plan_settings, credits, outcomes = book
		extra = {"promises": promises, "credits": credits, "outcomes": outcomes}
		first = run(as_of, customers, invoices, history, plan_settings, **extra)
		replay = [
			HistoryEntry(
				line.invoice, line.step, as_of, PLANNED, action.channel, line.formal_notice, action.customer
			)
			for action in first.actions
			for line in action.lines
		]
		self.assertEqual(
			run(as_of, customers, invoices, [*history, *replay], plan_settings, **extra).actions, ()
		)
		# Every invoice accounted for once: a line of an action or a skip (also_due lines are skips too)
		seen = [line.invoice for a in first.actions for line in a.lines] + [s.invoice for s in first.skipped]
		self.assertEqual(sorted(seen), sorted(inv.id for inv in invoices))

	@PROPERTY_SETTINGS
	@given(conversation_books())
	def test_no_letter_of_a_customer_without_history_mentions_an_earlier_reminder(self, book):
		customers, invoices, history, promises, as_of, plan_settings, credits, outcomes = book
		by_id = {c.id: c for c in customers}
		of_invoice = {inv.id: inv.customer for inv in invoices}
		# A follow-up entry, a promise, or anything done elsewhere: the customer was spoken to before
		with_history = {h.customer or of_invoice.get(h.invoice) for h in history}
		with_history |= {of_invoice.get(i) for p in promises for i in p.invoices}
		with_history |= {of_invoice.get(i) for o in outcomes if o.day <= as_of for i in o.invoices}
		result = run(
			as_of,
			customers,
			invoices,
			history,
			plan_settings,
			promises=promises,
			credits=credits,
			outcomes=outcomes,
		)
		for action in result.actions:
			if action.customer in with_history or action.channel == ESCALATION:
				continue
			self.assertEqual(action.previous, ())
			self.assertFalse(action.formal_notice)
			text = " ".join(letter_of(action, by_id, invoices, as_of).text.split())
			for phrase in EARLIER:
				self.assertNotIn(phrase, text, (action.customer, action.template))


if __name__ == "__main__":
	unittest.main()
