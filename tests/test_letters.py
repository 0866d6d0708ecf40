"""The letters: every template in every language, rendered from real planner output, and the sandbox."""

from __future__ import annotations

import unittest
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2.exceptions import SecurityError, TemplateNotFound, UndefinedError

from relance_erpnext.dunning import (
	BUILTIN_SCENARIOS,
	ContractRate,
	Customer,
	HistoryEntry,
	Instalment,
	Invoice,
	Payment,
	PlanSettings,
	load_reference_rates,
	plan,
)
from relance_erpnext.dunning.letters import (
	ACTION_TEMPLATES,
	DOCUMENT_TEMPLATES,
	LETTER_LANGUAGES,
	SUBJECT_FROM_BODY,
	TEMPLATES,
	LetterError,
	RenderedLetter,
	Sender,
	build_context,
	format_date,
	french_typography,
	normalize_language,
	render_action,
	render_document,
	render_string,
	template_source,
)

RATES = load_reference_rates()
AS_OF = date(2026, 5, 15)
NNBSP = "\u202f"
NBSP = "\u00a0"

SENDER = Sender(
	name="Atelier Lumière SAS",
	address=("12 rue des Tanneurs", "69002 Lyon", "France"),
	city="Lyon",
	email="comptabilite@atelier-lumiere.example",
	phone="04 72 00 00 00",
	legal_id="SIRET 812 345 678 00021",
	vat_id="FR 40 812345678",
	iban="FR76 3000 4000 0500 0012 3456 789",
	bic="BNPAFRPPXXX",
	payment_methods=("virement bancaire", "chèque à l'ordre d'Atelier Lumière SAS"),
	signatory="Claire Dupont",
	signatory_title="Responsable comptable",
	website="atelier-lumiere.example",
)

# (regime, kind, currency, contract rate) of each customer profile
PROFILES = {
	"fr_b2b": ("FR", "business", "EUR", None),
	"fr_consumer": ("FR", "consumer", "EUR", None),
	"qc": ("QC", "business", "CAD", ContractRate(Decimal("1.5"), "month")),
}

# Days after the due date that reach each step of the built-in scenarios on AS_OF
STEP_OFFSETS = {
	"pre_due": (-5, "preventif"),
	"courteous": (1, None),
	"formal": (7, None),
	"call": (15, None),
	"formal_notice": (30, None),
	"escalation": (45, None),
	# The clients_douteux scenario's own wording
	"doubtful_reminder": (7, "clients_douteux"),
	"doubtful_urgent": (14, "clients_douteux"),
	"doubtful_final": (21, "clients_douteux"),
}


def make_customer(profile: str, language: str, name: str | None = None) -> Customer:
	regime, kind, _, contract = PROFILES[profile]
	return Customer(
		id=f"{profile}-{language}",
		name=name
		or {"fr_b2b": "SARL Martin & fils", "fr_consumer": "M. Jean Dupuis"}.get(
			profile, "Ébénisterie Tremblay inc."
		),
		kind=kind,
		regime=regime,
		language=language,
		email="compta@client.example",
		phone="04 78 42 17 90",
		address=("14 rue Mercière", "69002 Lyon"),
		contract_rate=contract,
	)


def make_book(customer: Customer, currency: str, amount: str = "1234.56"):
	"""One invoice per step, each due so that the step falls on AS_OF; the escalation follows a notice."""
	invoices = []
	for template, (offset, scenario) in STEP_OFFSETS.items():
		due = AS_OF - timedelta(days=offset)
		invoices.append(
			Invoice(
				id=f"FA-{template}",
				customer=customer.id,
				currency=currency,
				issued=due - timedelta(days=30),
				instalments=(Instalment(due, Decimal(amount)),),
				scenario=scenario,
			)
		)
	history = [
		HistoryEntry(
			invoice="FA-escalation",
			step="mise_en_demeure",
			day=AS_OF - timedelta(days=10),
			status="sent",
			formal_notice=True,
			customer=customer.id,
		)
	]
	# One plan per invoice, by due date: one letter per step (on one day the customer would get a
	# single letter, at the most advanced step)
	actions = []
	for inv in invoices:
		result = plan(
			AS_OF,
			{customer.id: customer},
			[inv],
			history,
			BUILTIN_SCENARIOS,
			RATES,
			PlanSettings(catch_up="by_due_date"),
		)
		assert not result.errors, result.errors
		actions.extend(result.actions)
	return replace(result, actions=tuple(actions)), {inv.id: inv for inv in invoices}


def letters_for(profile: str, language: str, name: str | None = None) -> dict[str, RenderedLetter]:
	"""Every template for one customer: the planned actions, then the other documents."""
	customer = make_customer(profile, language, name)
	result, invoices = make_book(customer, PROFILES[profile][2])
	by_template = {action.template: action for action in result.actions}
	assert set(by_template) == set(ACTION_TEMPLATES), sorted(by_template)
	letters = {
		template: render_action(action, SENDER, customer, AS_OF, invoices, reference="REL-2026-0042")
		for template, action in by_template.items()
	}
	notice = by_template["formal_notice"]
	for template in DOCUMENT_TEMPLATES:
		schedule = ()
		if template == "arrangement":
			schedule = (
				Payment(date(2026, 6, 1), Decimal("600.00")),
				Payment(date(2026, 7, 1), Decimal("634.56")),
			)
		context = build_context(notice, SENDER, customer, AS_OF, invoices, schedule=schedule)
		letters[template] = render_document(template, language, context)
	return letters


class _Balance(HTMLParser):
	"""Checks that every opened element is closed, in order (void elements aside)."""

	VOID = frozenset(("br", "meta", "hr", "img", "link", "input"))

	def __init__(self):
		super().__init__()
		self.stack: list[str] = []
		self.errors: list[str] = []

	def handle_starttag(self, tag, attrs):
		if tag not in self.VOID:
			self.stack.append(tag)

	def handle_endtag(self, tag):
		if not self.stack or self.stack[-1] != tag:
			self.errors.append(f"unexpected </{tag}> (open: {self.stack[-3:]})")
		else:
			self.stack.pop()


ALL: dict[tuple[str, str], dict[str, RenderedLetter]] = {}


def setUpModule():
	for profile in PROFILES:
		for language in LETTER_LANGUAGES:
			ALL[profile, language] = letters_for(profile, language)


def amount(text: str) -> str:
	return text.replace(" ", NNBSP)


class TestEveryTemplate(unittest.TestCase):
	def test_every_template_in_every_language_renders(self):
		self.assertEqual(len(ALL), len(PROFILES) * len(LETTER_LANGUAGES))
		for (profile, language), letters in ALL.items():
			self.assertEqual(set(letters), set(TEMPLATES))
			for template, letter in letters.items():
				with self.subTest(profile=profile, language=language, template=template):
					self.assertEqual(letter.language, language)
					self.assertEqual(letter.template, template)
					self.assertTrue(letter.subject.strip())
					self.assertNotIn("\n", letter.subject)
					self.assertTrue(letter.html.startswith("<!DOCTYPE html>"))
					self.assertIn(
						f"FA-{'formal_notice' if template in DOCUMENT_TEMPLATES else template}", letter.text
					)
					self.assertIn("Atelier Lumière SAS", letter.text)
					self.assertIn("Atelier Lumière SAS", letter.html)
					for part in (letter.html, letter.text, letter.subject):
						self.assertNotIn("Undefined", part)
						self.assertNotIn("{{", part)
						self.assertNotIn("**", part)
					checker = _Balance()
					checker.feed(letter.html)
					self.assertEqual(checker.errors, [])
					self.assertEqual(checker.stack, [])

	def test_html_is_a_printable_a4_page_with_a_window_envelope_address(self):
		html = ALL["fr_b2b", "fr-FR"]["formal"].html
		self.assertIn("size: A4", html)
		self.assertIn(".recipient { margin-left: 90mm", html)  # 20 mm padding + 90 mm = 110 mm
		self.assertIn("padding: 15mm 20mm", html)
		self.assertIn(".head { height: 30mm", html)  # 15 mm + 30 mm = 45 mm from the top
		self.assertIn('<html lang="fr">', html)
		self.assertNotIn("<link", html)  # self-contained: inline CSS, nothing fetched
		self.assertNotIn("<script", html)
		self.assertIn('<html lang="fr-CA">', ALL["qc", "fr-CA"]["formal"].html)
		self.assertIn('<html lang="en">', ALL["qc", "en"]["formal"].html)

	def test_every_letter_has_its_parts(self):
		for language in LETTER_LANGUAGES:
			letter = ALL["fr_b2b", language]["formal"]
			with self.subTest(language=language):
				for part in (letter.text, letter.html):
					self.assertIn("12 rue des Tanneurs", part)  # letterhead
					self.assertIn("14 rue Mercière", part)  # recipient
					self.assertIn("Lyon, ", part)  # place and date
					self.assertIn("REL-2026-0042", part)  # reference
					self.assertIn("FR76 3000 4000 0500 0012 3456 789", part)  # how to pay
					self.assertIn("BNPAFRPPXXX", part)
					self.assertIn("comptabilite@atelier-lumiere.example", part)  # contact
					self.assertIn("04 72 00 00 00", part)
					self.assertIn("Claire Dupont", part)  # signature
					self.assertIn("Responsable comptable", part)
					self.assertIn("SIRET 812 345 678 00021", part)
				self.assertIn(letter.subject, letter.text)

	def test_internal_documents_have_no_payment_block(self):
		for language in LETTER_LANGUAGES:
			for template in ("call", "escalation"):
				letter = ALL["fr_b2b", language][template]
				with self.subTest(language=language, template=template):
					self.assertNotIn("FR76 3000", letter.text)
					self.assertIn("04 78 42 17 90", letter.text)  # the customer's phone


class TestAmountsAndDates(unittest.TestCase):
	def test_french_amounts_use_narrow_and_plain_no_break_spaces(self):
		text = ALL["fr_b2b", "fr-FR"]["courteous"].text
		self.assertIn(f"1{NNBSP}234,56{NBSP}€", text)
		self.assertNotIn("1 234,56 €", text)
		self.assertNotIn("1234.56", text)
		html = ALL["fr_b2b", "fr-FR"]["courteous"].html
		self.assertIn(f"1{NNBSP}234,56{NBSP}€", html)

	def test_quebec_amounts_in_dollars(self):
		text = ALL["qc", "fr-CA"]["formal"].text
		self.assertIn(f"1{NNBSP}234,56{NBSP}$", text)

	def test_english_amounts(self):
		self.assertIn("€1,234.56", ALL["fr_b2b", "en"]["formal"].text)
		self.assertIn("$1,234.56", ALL["qc", "en"]["formal"].text)

	def test_totals_add_interest_and_indemnity(self):
		letter = ALL["fr_b2b", "fr-FR"]["formal_notice"]
		customer = make_customer("fr_b2b", "fr-FR")
		result, _ = make_book(customer, "EUR")
		action = next(a for a in result.actions if a.template == "formal_notice")
		self.assertEqual(action.indemnity, Decimal("40.00"))
		self.assertGreater(action.interest, 0)
		from relance_erpnext.dunning.money import format_amount

		self.assertIn(format_amount(action.total, "EUR", "fr-FR"), letter.text)
		self.assertIn(format_amount(action.interest, "EUR", "fr-FR"), letter.text)
		self.assertIn(f"40,00{NBSP}€", letter.text)

	def test_dates(self):
		self.assertEqual(format_date(date(2026, 6, 15), "fr-FR"), "15 juin 2026")
		self.assertEqual(format_date(date(2026, 6, 15), "fr-CA"), "15 juin 2026")
		self.assertEqual(format_date(date(2026, 6, 15), "en"), "15 June 2026")
		self.assertEqual(format_date(date(2026, 8, 1), "fr-FR"), "1er août 2026")
		self.assertEqual(format_date(date(2026, 2, 1), "en"), "1 February 2026")
		self.assertEqual(format_date(date(2026, 12, 31), "xx"), "31 décembre 2026")
		self.assertEqual(format_date(None, "fr-FR"), "")
		self.assertIn("Lyon, le 15 mai 2026", ALL["fr_b2b", "fr-FR"]["courteous"].text)
		self.assertIn("Lyon, 15 May 2026", ALL["fr_b2b", "en"]["courteous"].text)

	def test_rate_and_its_periods(self):
		text = " ".join(ALL["fr_b2b", "fr-FR"]["formal_notice"].text.split(" "))
		text = text.replace("\n    ", " ").replace("\n", " ")
		self.assertIn(f"12,15{NBSP}%", text)  # ECB 2.15 + 10 points, first half of 2026
		self.assertIn("du 16 avril 2026 au 15 mai 2026", text)
		self.assertIn("BCE majoré de 10 points", text)
		self.assertIn("12.15%", ALL["fr_b2b", "en"]["formal_notice"].text)

	def test_interest_split_on_1_july(self):
		customer = make_customer("fr_b2b", "fr-FR")
		invoice = Invoice(
			id="FA-OLD",
			customer=customer.id,
			currency="EUR",
			issued=date(2025, 5, 2),
			instalments=(Instalment(date(2025, 6, 1), Decimal("1000")),),
		)
		history = [HistoryEntry("FA-OLD", "appel", date(2025, 6, 16), customer=customer.id)]
		result = plan(
			date(2026, 1, 20), {customer.id: customer}, [invoice], history, BUILTIN_SCENARIOS, RATES
		)
		action = result.actions[0]
		self.assertEqual(action.template, "formal_notice")
		text = render_action(action, SENDER, customer, result.as_of).text
		self.assertIn("du 2 juin 2025 au 30 juin 2025", text)
		self.assertIn(f"13,15{NBSP}%", text)
		self.assertIn("du 1er juillet 2025 au 20 janvier 2026", text)
		self.assertIn(f"12,15{NBSP}%", text)

	def test_pay_by_date_on_formal_notices_only(self):
		customer = make_customer("fr_b2b", "fr-FR")
		result, invoices = make_book(customer, "EUR")
		by_template = {a.template: a for a in result.actions}
		notice = build_context(by_template["formal_notice"], SENDER, customer, AS_OF, invoices)
		self.assertEqual(notice["pay_by"], date(2026, 5, 23))
		self.assertTrue(notice["fr_b2b"])
		self.assertFalse(notice["fr_consumer"] or notice["qc"])
		self.assertIsNone(build_context(by_template["courteous"], SENDER, customer, AS_OF)["pay_by"])
		for language, words in (("fr-FR", "23 mai 2026"), ("fr-CA", "23 mai 2026"), ("en", "23 May 2026")):
			self.assertIn(words, ALL["fr_b2b", language]["formal_notice"].text.replace("\n", " "))

	def test_several_invoices_in_one_letter(self):
		customer = make_customer("fr_b2b", "fr-FR")
		invoices = [
			Invoice(
				id=f"FA-{n}",
				customer=customer.id,
				currency="EUR",
				issued=date(2026, 3, 1),
				instalments=(Instalment(date(2026, 4, 1), Decimal(value)),),
			)
			for n, value in ((1, "1000"), (2, "234.56"))
		]
		result = plan(date(2026, 4, 2), {customer.id: customer}, invoices, [], BUILTIN_SCENARIOS, RATES)
		letter = render_action(result.actions[0], SENDER, customer, result.as_of)
		self.assertIn("FA-1, FA-2", letter.subject)
		self.assertIn("les factures détaillées ci-dessous", letter.text)
		self.assertIn(f"1{NNBSP}234,56{NBSP}€", letter.text)  # the total
		self.assertIn(f"1{NNBSP}000,00{NBSP}€", letter.text)


class TestLegalMentions(unittest.TestCase):
	def test_fr_business_formal_notice(self):
		for language in LETTER_LANGUAGES:
			letter = ALL["fr_b2b", language]["formal_notice"]
			text = letter.text.replace("\n", " ")
			with self.subTest(language=language):
				self.assertIn("L441-10", text)
				self.assertIn("D441-5", text)
				self.assertIn("TVA" if language != "en" else "VAT", text)
				self.assertIn("injonction de payer", text)
				# The competent court: the tribunaux des activités économiques replaced some commercial courts
				self.assertIn("tribunal compétent" if language != "en" else "competent court", text)
				self.assertNotIn("tribunal de commerce", text)
				self.assertIn("8 jours" if language != "en" else "8 days", text)
				self.assertIn("40 euros" if language != "en" else "€40", text)
				self.assertIn("L441-10", letter.html)
		fr = ALL["fr_b2b", "fr-FR"]["formal_notice"].text.replace("\n", " ")
		self.assertIn("vaut mise en demeure", fr)
		self.assertIn("ne sont pas soumises à la TVA", fr)
		self.assertIn("LETTRE RECOMMANDÉE AVEC ACCUSÉ DE RÉCEPTION", fr)
		self.assertIn("MISE EN DEMEURE", fr)
		self.assertIn(
			"constitutes formal notice", ALL["fr_b2b", "en"]["formal_notice"].text.replace("\n", " ")
		)

	def test_fr_consumer_formal_notice(self):
		for language in LETTER_LANGUAGES:
			text = ALL["fr_consumer", language]["formal_notice"].text.replace("\n", " ")
			with self.subTest(language=language):
				self.assertIn("1344", text)
				self.assertIn("1231-6", text)
				self.assertIn("taux légal" if language != "en" else "statutory rate", text)
				self.assertNotIn("L441", text)
				self.assertNotIn("D441", text)
				self.assertNotIn("tribunal de commerce", text)
		self.assertIn(
			"vaut mise en demeure au sens de l'article 1344 du Code civil",
			ALL["fr_consumer", "fr-FR"]["formal_notice"].text.replace("\n", " "),
		)

	def test_no_40_euros_and_no_commercial_code_outside_fr_business(self):
		for profile in ("fr_consumer", "qc"):
			for language in LETTER_LANGUAGES:
				for template, letter in ALL[profile, language].items():
					with self.subTest(profile=profile, language=language, template=template):
						for part in (letter.text.replace("\n", " "), letter.html, letter.subject):
							self.assertNotIn("L441", part)
							self.assertNotIn("D441", part)
							self.assertNotIn("40 euros", part)
							self.assertNotIn("€40", part)
							self.assertNotIn(f"40,00{NBSP}€", part)
							self.assertNotIn("€40.00", part)
		for template, letter in ALL["fr_consumer", "fr-FR"].items():
			with self.subTest(template=template):
				self.assertNotIn("indemnité forfaitaire", letter.text.replace("\n", " ").lower())
				self.assertNotIn("frais de relance", letter.text.lower())

	def test_40_euros_on_fr_business_letters_that_claim_it(self):
		for template in ("formal", "formal_notice", "escalation", "penalty_claim"):
			with self.subTest(template=template):
				self.assertIn(f"40,00{NBSP}€", ALL["fr_b2b", "fr-FR"][template].text)
		self.assertNotIn(f"40,00{NBSP}€", ALL["fr_b2b", "fr-FR"]["courteous"].text)
		self.assertNotIn(f"40,00{NBSP}€", ALL["fr_b2b", "fr-FR"]["pre_due"].text)

	def test_quebec_formal_notice(self):
		for language in ("fr-CA", "fr-FR"):
			text = ALL["qc", language]["formal_notice"].text.replace("\n", " ")
			with self.subTest(language=language):
				self.assertIn("articles 1594 et 1595 du Code civil du Québec", text)
				self.assertIn("l'article 1617 du Code civil du Québec", text)
				self.assertIn("mettons en demeure", text)
				self.assertIn("dans un délai de 8 jours", text)
				self.assertIn("Loi sur l'intérêt, art. 4", text)
		text = ALL["qc", "fr-CA"]["formal_notice"].text.replace("\n", " ")
		self.assertIn("PAR COURRIER RECOMMANDÉ", text)
		self.assertIn("Sous toutes réserves", text)
		self.assertIn("Courriel", text)
		english = ALL["qc", "en"]["formal_notice"].text.replace("\n", " ")
		self.assertIn("Articles 1594 and 1595 of the Civil Code of Québec", english)
		self.assertIn("Article 1617 of the Civil Code of Québec", english)
		self.assertIn("C.c.Q.", ALL["qc", "fr-CA"]["escalation"].text)

	def test_annual_equivalent_of_a_monthly_contract_rate(self):
		fr = ALL["qc", "fr-CA"]["formal_notice"].text.replace("\n", " ")
		self.assertIn(f"au taux convenu de 1,50{NBSP}% par mois, soit un taux annuel de 18,00{NBSP}%", fr)
		en = ALL["qc", "en"]["formal_notice"].text.replace("\n", " ")
		self.assertIn("1.50% per month, equivalent to an annual rate of 18.00%", en)
		# Once interest runs (after the demeure), the detail states both
		escalation = ALL["qc", "fr-CA"]["escalation"].text.replace("\n", " ")
		self.assertIn(f"1,50{NBSP}% par mois, soit 18,00{NBSP}% par année", escalation)

	def test_daily_contract_rate(self):
		customer = replace(make_customer("qc", "en"), contract_rate=ContractRate(Decimal("0.05"), "day"))
		result, invoices = make_book(customer, "CAD")
		action = next(a for a in result.actions if a.template == "formal_notice")
		self.assertEqual(action.contract_rate.annual, Decimal("18.25"))
		text = render_action(action, SENDER, customer, AS_OF, invoices).text.replace("\n", " ")
		self.assertIn("0.05% per day, equivalent to an annual rate of 18.25%", text)

	def test_fr_business_in_another_currency_claims_no_indemnity(self):
		customer = make_customer("fr_b2b", "fr-FR")
		result, invoices = make_book(customer, "USD")
		action = next(a for a in result.actions if a.template == "formal_notice")
		self.assertEqual(action.indemnity, 0)
		text = render_action(action, SENDER, customer, AS_OF, invoices).text.replace("\n", " ")
		self.assertIn("L441-10", text)
		self.assertNotIn("D441-5", text)

	def test_consumer_and_quebec_letters_claim_no_interest_before_the_demeure(self):
		for profile in ("fr_consumer", "qc"):
			text = ALL[profile, "fr-FR"]["formal_notice"].text
			with self.subTest(profile=profile):
				self.assertNotIn("CALCUL DES", text)
				self.assertNotIn("Pénalités", text)

	def test_call_script_objections(self):
		expected = {
			"fr-FR": (
				"pas reçu la facture",
				"chèque",
				"Notre client ne nous a pas payés",
				"signe les paiements est absente",
				"45 jours fin de mois",
				"erreur",
				"bon de livraison",
				"jeudi",
				"trésorerie",
			),
			"fr-CA": (
				"pas reçu la facture",
				"chèque",
				"Notre client ne nous a pas payés",
				"signe les paiements est absente",
				"45 jours fin de mois",
				"erreur",
				"bon de livraison",
				"jeudi",
				"liquidités",
			),
			"en": (
				"never received the invoice",
				"cheque",
				"Our own customer hasn't paid us",
				"signs payments is away",
				"45 days end of month",
				"The invoice is wrong",
				"delivery note",
				"Thursdays",
				"cash-flow problems",
			),
		}
		for language, phrases in expected.items():
			text = ALL["fr_b2b", language]["call"].text.replace("\n", " ")
			text = " ".join(text.split())
			for phrase in phrases:
				with self.subTest(language=language, phrase=phrase):
					self.assertIn(phrase, text)


class TestDocuments(unittest.TestCase):
	def test_arrangement_schedule(self):
		letter = ALL["fr_b2b", "fr-FR"]["arrangement"]
		self.assertIn("1er juin 2026", letter.text)
		self.assertIn(f"634,56{NBSP}€", letter.text)
		self.assertIn(f"1{NNBSP}234,56{NBSP}€", letter.text)
		self.assertIn("Bon pour accord", letter.text)
		customer = make_customer("fr_b2b", "en")
		result, invoices = make_book(customer, "EUR")
		notice = next(a for a in result.actions if a.template == "formal_notice")
		blank = render_document("arrangement", "en", build_context(notice, SENDER, customer, AS_OF, invoices))
		self.assertIn("to be completed", blank.text)

	def test_penalty_claim_after_a_late_payment(self):
		customer = make_customer("fr_b2b", "fr-FR")
		invoice = Invoice(
			id="FA-LATE",
			customer=customer.id,
			currency="EUR",
			issued=date(2026, 2, 1),
			instalments=(Instalment(date(2026, 3, 3), Decimal("2000")),),
			payments=(Payment(date(2026, 4, 10), Decimal("1500")),),
		)
		result = plan(AS_OF, {customer.id: customer}, [invoice], [], BUILTIN_SCENARIOS, RATES)
		action = result.actions[0]
		context = build_context(action, SENDER, customer, AS_OF, {invoice.id: invoice})
		letter = render_document("penalty_claim", "fr-FR", context)
		self.assertIn("Réglée le", letter.text)
		self.assertIn("10 avril 2026", letter.text)
		self.assertIn("L441-10", letter.text)
		self.assertIn(f"500,00{NBSP}€", letter.text)  # the principal still due
		from relance_erpnext.dunning.money import format_amount

		self.assertIn(format_amount(action.interest + action.indemnity, "EUR", "fr-FR"), letter.text)

	def test_statement_lists_the_invoices(self):
		for language in LETTER_LANGUAGES:
			with self.subTest(language=language):
				letter = ALL["fr_b2b", language]["statement"]
				self.assertIn("FA-formal_notice", letter.text)
				self.assertIn("FA-formal_notice", letter.html)

	def test_unknown_template(self):
		context = {"language": "fr-FR"}
		with self.assertRaises(LetterError):
			render_document("nope", "fr-FR", context)
		with self.assertRaises(LetterError):
			render_document("../_base", "fr-FR", context)
		customer = make_customer("fr_b2b", "fr-FR")
		result, _ = make_book(customer, "EUR")
		with self.assertRaises(LetterError):
			render_action(replace(result.actions[0], template="custom_missing"), SENDER, customer, AS_OF)


class TestLanguages(unittest.TestCase):
	def test_normalize(self):
		self.assertEqual(normalize_language("fr"), "fr-FR")
		self.assertEqual(normalize_language("fr_CA"), "fr-CA")
		self.assertEqual(normalize_language("fr-qc"), "fr-CA")
		self.assertEqual(normalize_language("en-US"), "en")
		self.assertEqual(normalize_language("de"), "fr-FR")
		self.assertEqual(normalize_language(""), "fr-FR")
		self.assertEqual(normalize_language(None), "fr-FR")

	def test_unknown_language_falls_back_to_french(self):
		customer = make_customer("fr_b2b", "de")
		result, invoices = make_book(customer, "EUR")
		action = next(a for a in result.actions if a.template == "courteous")
		self.assertEqual(action.language, "de")
		letter = render_action(action, SENDER, customer, AS_OF, invoices)
		self.assertEqual(letter.language, "fr-FR")
		self.assertIn("Bonjour", letter.text)

	def test_quebec_conventions(self):
		text = ALL["qc", "fr-CA"]["courteous"].text
		self.assertIn("courriel", text)
		self.assertNotIn("e-mail", text.lower())
		self.assertIn("Salutations cordiales", text)

	def test_english_is_english(self):
		text = ALL["fr_b2b", "en"]["formal"].text
		self.assertIn("Dear Sir or Madam", text)
		self.assertIn("Yours faithfully", text)
		self.assertNotIn("Madame", text)

	def test_french_typography(self):
		self.assertEqual(
			french_typography("Objet : test ; oui ?", "fr-FR"), f"Objet{NBSP}: test{NBSP}; oui{NBSP}?"
		)
		self.assertEqual(french_typography("Objet : oui ?", "fr-CA"), f"Objet{NBSP}: oui ?")
		self.assertEqual(french_typography("« oui »", "fr-FR"), f"«{NBSP}oui{NBSP}»")
		self.assertEqual(french_typography("Note : yes", "en"), "Note : yes")


class TestCustomerAccount(unittest.TestCase):
	"""The account printed is the one the customer knows (Customer.reference), else the customer's id."""

	def render(self, language: str, **customer) -> dict[str, RenderedLetter]:
		base = make_customer("fr_b2b", language)
		person = replace(base, **customer)
		result, invoices = make_book(person, "EUR")
		return {
			action.template: render_action(action, SENDER, person, AS_OF, invoices)
			for action in result.actions
		}

	def test_the_reference_replaces_the_internal_id(self):
		labels = {
			"fr-FR": "Votre compte client",
			"fr-CA": "Votre numéro de client",
			"en": "Your customer account",
		}
		for language, label in labels.items():
			letters = self.render(language, id="12", reference="CU2611-00012")
			for template, letter in letters.items():
				with self.subTest(language=language, template=template):
					if template in ("call", "escalation"):  # internal: the customer named with its account
						self.assertIn("(CU2611-00012)", letter.text)
						self.assertIn("(CU2611-00012)", letter.html)
					else:
						# The colon as each language writes it (a no-break space before it in French)
						self.assertRegex(letter.text, rf"{label}\s?: CU2611-00012")
						self.assertRegex(letter.html, rf"{label}\s?: CU2611-00012")
					self.assertNotIn("(12)", letter.text)
					self.assertNotRegex(letter.text, r"(?m):\s12$")

	def test_without_a_reference_the_id_is_the_account(self):
		letter = self.render("fr-FR", id="C-0042")["formal"]
		self.assertIn(f"Votre compte client{NBSP}: C-0042", letter.text)
		# An id that is the customer's name (a register's customer column) is not repeated as an account
		letter = self.render("fr-FR", id="SARL Martin & fils")["formal"]
		self.assertNotIn("Votre compte client", letter.text)
		letter = self.render("fr-FR", id="SARL Martin & fils", reference="CU-7")["formal"]
		self.assertIn(f"Votre compte client{NBSP}: CU-7", letter.text)


class TestEscaping(unittest.TestCase):
	def test_customer_name_is_escaped_in_html(self):
		name = "<script>alert('x')</script> & Cie"
		letters = letters_for("fr_b2b", "fr-FR", name=name)
		for template, letter in letters.items():
			with self.subTest(template=template):
				self.assertNotIn("<script>", letter.html)
				self.assertNotIn("<script>", letter.html.lower().replace("&lt;script&gt;", ""))
		self.assertIn(
			"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Cie", letters["formal_notice"].html
		)
		self.assertIn(name, letters["formal_notice"].text)  # plain text is not HTML
		self.assertIn("&lt;script&gt;", letters["call"].html)  # the subject of the call script names it too
		self.assertIn(name, letters["call"].subject)

	def test_sender_fields_are_escaped(self):
		sender = replace(SENDER, name='Bad "Co" <b>', payment_methods=("<img src=x onerror=alert(1)>",))
		customer = make_customer("fr_b2b", "en")
		result, invoices = make_book(customer, "EUR")
		letter = render_action(result.actions[0], sender, customer, AS_OF, invoices)
		self.assertNotIn("<b>", letter.html)
		self.assertNotIn("<img", letter.html)
		self.assertIn("&lt;img src=x onerror=alert(1)&gt;", letter.html)


class TestSandbox(unittest.TestCase):
	def test_render_string(self):
		self.assertEqual(render_string("Bonjour {{ name }}", {"name": "<b>"}), "Bonjour &lt;b&gt;")
		self.assertEqual(
			render_string("Bonjour {{ name }}", {"name": "<b>"}, autoescape=False), "Bonjour <b>"
		)
		self.assertEqual(
			render_string("{{ x|money }} {{ d|date }}", {"x": Decimal("1234.5"), "d": date(2026, 6, 15)}),
			f"1{NNBSP}234,50{NBSP}€ 15 juin 2026",
		)
		self.assertEqual(
			render_string(
				"{{ x|money }} {{ d|date }} {{ r|rate }}",
				{"x": Decimal("1234.5"), "d": date(2026, 6, 15), "r": Decimal("12.15"), "language": "en"},
			),
			"€1,234.50 15 June 2026 12.15%",
		)

	def test_custom_template_with_a_real_context(self):
		customer = make_customer("qc", "fr-CA")
		result, invoices = make_book(customer, "CAD")
		action = next(a for a in result.actions if a.template == "formal_notice")
		context = build_context(action, SENDER, customer, AS_OF, invoices)
		out = render_string(
			"{{ customer.name }} doit {{ totals.total|money }} avant le {{ pay_by|date }}"
			"{% for line in lines %} [{{ line.invoice }}]{% endfor %}",
			context,
		)
		self.assertEqual(
			out,
			f"Ébénisterie Tremblay inc. doit 1{NNBSP}234,56{NBSP}$ avant le 23 mai 2026 [FA-formal_notice]",
		)

	def test_python_internals_are_refused(self):
		unsafe = (
			"{{ ''.__class__.__mro__ }}",
			"{{ ''.__class__.__mro__[1].__subclasses__() }}",
			"{{ cycler.__init__.__globals__ }}",
			"{{ cycler.__init__.__globals__.os.popen('id').read() }}",
			"{{ joiner.__init__.__globals__ }}",
			"{{ namespace.__init__.__globals__ }}",
			"{{ lipsum.__globals__ }}",
			"{{ customer.__class__.__init__.__globals__ }}",
			"{{ '{0.__class__}'.format(customer) }}",
			"{{ action.lines.__class__ }}",
		)
		context = build_context(*self._action_context())
		for source in unsafe:
			with self.subTest(source=source), self.assertRaises(SecurityError):
				render_string(source, context)

	def test_context_cannot_be_modified(self):
		with self.assertRaises(SecurityError):
			render_string("{{ items.append(1) }}", {"items": [1, 2]})
		with self.assertRaises(SecurityError):
			render_string("{{ data.update({'a': 1}) }}", {"data": {}})

	def test_files_cannot_be_read(self):
		for source in (
			"{% include '../../dunning/letters.py' %}",
			"{% include '/etc/passwd' %}",
			"{% include '../../../../../../etc/passwd' %}",
		):
			with self.subTest(source=source), self.assertRaises(TemplateNotFound):
				render_string(source, {})

	def test_strict_undefined(self):
		with self.assertRaises(UndefinedError):
			render_string("{{ missing }}", {})
		with self.assertRaises(UndefinedError):
			render_string("{% if missing %}x{% endif %}", {})
		context = build_context(*self._action_context())
		with self.assertRaises(UndefinedError):
			render_string("{{ customer.nmae }}", context)
		with self.assertRaises(UndefinedError):
			render_string("{{ totals.grand_total|money }}", context)

	def _action_context(self):
		customer = make_customer("fr_b2b", "fr-FR")
		result, invoices = make_book(customer, "EUR")
		return result.actions[0], SENDER, customer, AS_OF, invoices


class TestMinimalSender(unittest.TestCase):
	def test_only_a_name(self):
		sender = Sender(name="Solo")
		customer = Customer(id="X", name="Client sans adresse", email="x@example.fr", phone="01")
		result, invoices = make_book(customer, "EUR")
		for action in result.actions:
			if action.template == "formal_notice":
				continue  # no postal address: the planner does not plan a registered letter
			with self.subTest(template=action.template):
				letter = render_action(action, sender, customer, AS_OF, invoices)
				self.assertIn("Solo", letter.text)
				self.assertIn("Le 15 mai 2026", letter.text)
				self.assertNotIn("IBAN", letter.text)


if __name__ == "__main__":
	unittest.main()


class TestEditedTemplates(unittest.TestCase):
	"""An accountant's edited copy of a template (an ERPNext Email Template) replaces the wording."""

	def setUp(self):
		self.customer = make_customer("fr_b2b", "fr-FR")
		result, self.invoices = make_book(self.customer, "EUR")
		self.action = next(a for a in result.actions if a.template == "courteous")

	def render(self, subject, source, language="fr-FR"):
		return render_action(
			self.action,
			SENDER,
			self.customer,
			AS_OF,
			self.invoices,
			edited={("courteous", language): (subject, source)},
		)

	def test_the_built_in_source_renders_the_built_in_letter(self):
		builtin = render_action(self.action, SENDER, self.customer, AS_OF, self.invoices)
		same = self.render(SUBJECT_FROM_BODY, template_source("courteous", "fr-FR"))
		self.assertEqual((same.subject, same.html, same.text), (builtin.subject, builtin.html, builtin.text))

	def test_edited_wording_and_subject(self):
		source = template_source("courteous", "fr-FR").replace(
			"Il s'agit très probablement d'un simple oubli", "Nous savons que les fins de mois sont chargées"
		)
		letter = self.render("[Atelier] {{ subject }} – {{ totals.total|money }}", source)
		self.assertIn("Nous savons que les fins de mois sont chargées", letter.html)
		self.assertNotIn("simple oubli", letter.text)
		self.assertTrue(letter.subject.startswith("[Atelier] Facture n°"), letter.subject)
		self.assertIn("1\u202f234,56", letter.subject)  # amounts keep their no-break spaces
		# The layout, amounts and legal parts still come from the application
		self.assertIn("1\u202f234,56\u00a0€", letter.html)

	def test_another_language_is_untouched(self):
		letter = self.render("Changed", "{% set subject %}x{% endset %}", language="en")
		self.assertIn("en attente de règlement", letter.subject)

	def test_mistakes_in_an_edited_copy_are_named(self):
		cases = {
			"{% set subject %}x{% endset %}{% if %}": "line 1",
			"{% set subject %}{{ 1/0 }}{% endset %}": "ZeroDivisionError",
			"{% set subject %}{{ nothing_here }}{% endset %}": "nothing_here",
			"{% set subject %}{{ ''.__class__.__mro__ }}{% endset %}": "edited template",
		}
		for source, expected in cases.items():
			with self.subTest(source=source), self.assertRaises(LetterError) as caught:
				self.render(SUBJECT_FROM_BODY, source)
			self.assertIn("'courteous' (fr-FR)", str(caught.exception))
			self.assertIn(expected, str(caught.exception))
		with self.assertRaises(LetterError):
			self.render("{{ subject", template_source("courteous", "fr-FR"))


def test_the_parts_kept_once_never_mix_senders_languages_or_texts():
	"""The labels and the layouts' parts (letterhead, payment, contact, signature, prose) are laid out
	once per distinct arguments: two senders, three languages, letters rendered in turn, each with
	its own words; and the same letter again is byte for byte the same."""
	from dataclasses import replace

	other = replace(
		SENDER,
		name="Boulangerie Rivière",
		iban="FR76 3000 6000 0112 3456 7890 189",
		phone="",
		email="b@r.example",
	)
	seen = {}
	for _ in range(2):
		for language in ("fr-FR", "fr-CA", "en"):
			person = make_customer("fr_b2b" if language != "fr-CA" else "qc", language)
			result, invoices = make_book(person, "EUR" if language != "fr-CA" else "CAD")
			action = result.actions[0]
			for sender in (SENDER, other):
				letter = render_action(action, sender, person, AS_OF, invoices)
				key = (language, sender.name)
				assert seen.setdefault(key, (letter.html, letter.text)) == (letter.html, letter.text)
				assert sender.name in letter.text and sender.iban in letter.html
				stranger = other if sender is SENDER else SENDER
				assert stranger.iban not in letter.html and stranger.iban not in letter.text
	# Each language its own words
	assert seen[("en", SENDER.name)][1] != seen[("fr-FR", SENDER.name)][1]


def test_amounts_and_dates_kept_as_text_follow_their_currency_and_language():
	"""The filters keep the text of an amount or a date once made: never another currency's, nor
	another language's, and an amount reads the same whatever its decimals."""
	from relance_erpnext.dunning.letters import render_string

	source = "{{ a|money }} {{ b|money }} {{ a|money('CAD') }} {{ day|date }}"
	values = {"a": Decimal("1234.5"), "b": Decimal("1234.50"), "day": date(2026, 6, 1), "currency": "EUR"}
	for _ in range(2):
		assert render_string(source, {**values, "language": "fr-FR"}) == (
			f"1{NNBSP}234,50{NBSP}€ 1{NNBSP}234,50{NBSP}€ 1{NNBSP}234,50{NBSP}$ 1er juin 2026"
		)
		assert (
			render_string(source, {**values, "language": "en"}) == "€1,234.50 €1,234.50 $1,234.50 1 June 2026"
		)
		assert render_string(source, {**values, "currency": "JPY", "language": "en"}).startswith("1,235 JPY")


@settings(max_examples=400, deadline=None)
@given(
	text=st.lists(
		st.sampled_from(
			["a", "bb", "ccc", " ", "  ", "\t", "\n", "\r", "\x0b", "\u00a0", "€", "-", "x" * 30]
		),
		max_size=40,
	).map("".join),
	width=st.sampled_from([8, 20, 78]),
	indent=st.sampled_from(["", "  - ", "      · "]),
	subsequent=st.sampled_from([None, "    ", "        "]),
)
def test_wrapping_is_textwraps(text, width, indent, subsequent):
	"""The letters' wrap (one wrapper per shape, the text not scanned for tabs and line breaks when it
	has none) gives what textwrap gives."""
	import textwrap

	from relance_erpnext.dunning.letters import _wrap_filter

	wrapper = textwrap.TextWrapper(
		width=width,
		initial_indent=indent,
		subsequent_indent=indent if subsequent is None else subsequent,
		break_long_words=False,
		break_on_hyphens=False,
	)
	assert _wrap_filter(text, width, indent, subsequent) == ("\n".join(wrapper.wrap(text)) or indent.rstrip())
