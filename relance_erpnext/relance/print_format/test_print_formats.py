"""The Relance print formats rendered by the site: content, amounts, languages, and the PDF page."""

import io
import re
from decimal import ROUND_HALF_UP, Decimal

import frappe
from frappe.utils import add_days, getdate

from relance_erpnext.relance.print_format import utils
from relance_erpnext.services.runner import run_for_company
from relance_erpnext.tests.compat import IntegrationTestCase
from relance_erpnext.tests.utils import (
	AS_OF,
	COMPANY,
	make_company,
	make_customer,
	make_invoice,
	make_outgoing_email_account,
	pay,
)

NBSP = "\u00a0"
NNBSP = "\u202f"
LETTER = "Lettre de relance"
STATEMENT = "Relevé des factures échues"
ARRANGEMENT = "Échéancier de paiement"
PENALTIES = "Réclamation des pénalités"
# ECB main refinancing rate in force on 1 January 2026 (2.15 %) + 10 points (bundled rate table)
FR_B2B_RATE_2026_H1 = Decimal("12.15")


def euros_fr(amount: str) -> str:
	"""1234.5 -> "1 234,50 €" as the French letters write it (narrow no-break space, no-break space)."""
	whole, cents = f"{Decimal(amount):,.2f}".split(".")
	return f"{whole.replace(',', NNBSP)},{cents}{NBSP}€"


def plain(html: str) -> str:
	"""The text of a print, tags removed and spaces collapsed (no-break spaces kept)."""
	text = re.sub(r"<style.*?</style>", " ", html, flags=re.S)
	text = re.sub(r"<[^>]+>", " ", text)
	text = text.replace("&#39;", "'").replace("&amp;", "&").replace("&quot;", '"')
	return re.sub(r"[ \t\r\n]+", " ", text)


def add_address(customer: str, line1: str, pincode: str, city: str) -> str:
	address = frappe.get_doc(
		{
			"doctype": "Address",
			"address_title": customer,
			"address_type": "Billing",
			"address_line1": line1,
			"pincode": pincode,
			"city": city,
			"country": "France",
			"links": [{"link_doctype": "Customer", "link_name": customer}],
		}
	).insert(ignore_permissions=True)
	frappe.db.set_value("Customer", customer, "customer_primary_address", address.name)
	return address.name


def log_of(invoice: str) -> str:
	return frappe.db.get_value(
		"Follow-up Log Invoice", {"sales_invoice": invoice, "parenttype": "Follow-up Log"}, "parent"
	)


class TestLetterOfAFollowUp(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_company()
		make_outgoing_email_account()
		# Each step at the delay its test gives, first contact or not: the calendar by due date
		frappe.db.set_single_value(
			"Relance Settings", {"review_before_sending": 1, "min_gap_days": 0, "catch_up": "by_due_date"}
		)

	def test_french_formal_reminder_with_its_amounts_and_window_address(self):
		customer = make_customer("_Relance Boulangerie Print", email="compta@boulangerie.example")
		add_address(customer, "14 rue des Lilas", "69003", "Lyon")
		invoice = make_invoice(customer, 1200, days_late=7)
		run_for_company(COMPANY, AS_OF)
		html = frappe.get_print("Follow-up Log", log_of(invoice.name), LETTER)
		text = plain(html)
		self.assertIn("relance-letter", html)
		self.assertIn(invoice.name, text)
		self.assertIn("15 juin 2026", text)
		self.assertIn("8 juin 2026", text)  # the due date, in French
		self.assertIn(euros_fr("1200"), text)
		# 1 200 € x 12,15 % x 7 / 365 = 2,80 € of penalties, and the 40 € indemnity
		self.assertIn(euros_fr("2.80"), text)
		self.assertIn(euros_fr("40"), text)
		self.assertIn(euros_fr("1242.80"), text)
		self.assertIn("L441-10", text)
		# The window shows the name once, then the address
		recipient = re.search(r'<div class="recipient">(.*?)</div>', html, re.S).group(1)
		self.assertEqual(recipient.count("_Relance Boulangerie Print"), 1)
		self.assertIn("14 rue des Lilas", recipient)
		self.assertIn("69003 Lyon", recipient)
		# Without a letter head the letter keeps its own sender block; the page geometry is the print
		# format's, not the email's
		self.assertNotIn("@page", html.split("relance-letter", 1)[1])
		self.assertIn("margin-left: 90mm", html)

	def test_english_customer_gets_the_english_letter(self):
		customer = make_customer("_Relance Northwind Print", email="ap@northwind.example", language="en")
		invoice = make_invoice(customer, 5040, days_late=10)
		run_for_company(COMPANY, AS_OF)
		text = plain(frappe.get_print("Follow-up Log", log_of(invoice.name), LETTER))
		self.assertIn("Dear Sir or Madam", text)
		self.assertIn("15 June 2026", text)
		self.assertIn("€5,040.00", text)
		# 5 040 € x 12.15 % x 10 / 365 = 16.78 €
		self.assertIn("€16.78", text)
		self.assertIn("€5,096.78", text)
		self.assertNotIn("Madame", text)

	def test_a_log_without_letter_says_so(self):
		customer = make_customer("_Relance Call Print", email="call@example.com")
		log = frappe.get_doc(
			{
				"doctype": "Follow-up Log",
				"customer": customer,
				"company": COMPANY,
				"channel": "phone",
				"status": "Done",
				"answer": "Rappeler vendredi",
			}
		).insert(ignore_permissions=True)
		self.assertIn("relance-notice", frappe.get_print("Follow-up Log", log.name, LETTER))

	def test_pdf_is_one_a4_page_with_the_address_in_the_window(self):
		from frappe.utils.pdf import get_pdf

		customer = make_customer("_Relance Fenetre Print", email="fenetre@example.com")
		add_address(customer, "2 avenue Jean Jaurès", "69007", "Lyon")
		invoice = make_invoice(customer, 850, days_late=1)
		run_for_company(COMPANY, AS_OF)
		html = frappe.get_print("Follow-up Log", log_of(invoice.name), LETTER)
		# The stylesheet links point at the site's URL, which a test process cannot reach
		pdf = get_pdf(re.sub(r"<link[^>]+>", "", html))
		self.assert_address_in_window(pdf, "_Relance Fenetre Print")

	def test_a_documents_letter_head_does_not_show_the_log_as_the_document(self):
		"""ERPNext 16 makes "Company Letterhead - Grey" the site's default letter head (chosen here by
		name, as in the print view): it prints the document's type and number, which on a letter would
		be "Follow-up Log RELANCE-…"."""
		# The first letter head of a site becomes its default, kept in the cached defaults, which a
		# rollback does not reach: the defaults are put back and the letter head deleted after the test
		for key in ("letter_head", "default_letter_head_content"):
			self.addCleanup(frappe.db.set_default, key, frappe.db.get_default(key))
		head = frappe.get_doc(
			{
				"doctype": "Letter Head",
				"letter_head_name": "_Relance Tete Document",
				"source": "HTML",
				"content": '<div class="lh">{{ doc.company }} | {{ doc.doctype }} | {{ doc.name }}</div>',
			}
		).insert(ignore_permissions=True)
		self.addCleanup(frappe.delete_doc, "Letter Head", head.name, force=True, ignore_permissions=True)
		customer = make_customer("_Relance Entete Print", email="entete@example.com")
		invoice = make_invoice(customer, 300, days_late=3)
		run_for_company(COMPANY, AS_OF)
		log = log_of(invoice.name)
		html = frappe.get_print("Follow-up Log", log, LETTER, letterhead=head.name)
		letter_head = re.search(r'<div class="lh">(.*?)</div>', html).group(1)
		self.assertEqual(letter_head.split(" | "), [COMPANY, "", ""])
		self.assertNotIn(log, plain(html))

	def assert_address_in_window(self, pdf: bytes, name: str) -> None:
		"""One A4 page, the customer's name 110 mm from the left edge, 45 to 60 mm from the top: inside a
		DL envelope's window."""
		from pypdf import PdfReader

		reader = PdfReader(io.BytesIO(pdf))
		self.assertEqual(len(reader.pages), 1)
		page = reader.pages[0]
		self.assertAlmostEqual(float(page.mediabox.width), 595, delta=1)  # A4 in points
		spots = {}

		def visitor(text, cm, tm, font, size):
			words = " ".join(text.split())  # wkhtmltopdf separates words with tabs
			if words and words not in spots:
				x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
				y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
				spots[words] = (x, y)

		page.extract_text(visitor_text=visitor)
		name = next(key for key in spots if key.startswith(name))
		x, y = spots[name]
		mm = 25.4 / 72
		self.assertAlmostEqual(x * mm, 110, delta=3)
		self.assertTrue(45 <= (float(page.mediabox.height) - y) * mm <= 60, (x * mm, y * mm))

	def letter_for_pdf(self, name: str) -> tuple[str, str]:
		customer = make_customer(name, email="pdf@example.com")
		add_address(customer, "5 quai Saint-Antoine", "69002", "Lyon")
		invoice = make_invoice(customer, 1200, days_late=7)
		run_for_company(COMPANY, AS_OF)
		return log_of(invoice.name), invoice.name

	def assert_letter_pdf(self, pdf: bytes, invoice: str) -> None:
		from pypdf import PdfReader

		self.assertTrue(pdf.startswith(b"%PDF"), pdf[:20])
		reader = PdfReader(io.BytesIO(pdf))
		text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
		self.assertEqual(len(reader.pages), 1)
		self.assertIn(invoice, text)
		self.assertIn("L441-10", text)
		self.assertIn("1 242,80", text.replace(NNBSP, " ").replace(NBSP, " "))

	def test_letter_as_an_email_attachment_is_the_jinja_letter(self):
		"""The path of the email queue's print attachments: on v16 `attach_print` sends any print format
		that is not a `custom_format` to its WeasyPrint layout builder, which cannot read a Jinja letter."""
		if not frappe.db.get_single_value("Print Settings", "send_print_as_pdf"):
			self.skipTest("the site sends prints as HTML")
		log, invoice = self.letter_for_pdf("_Relance Piece Jointe Print")
		attachment = frappe.attach_print("Follow-up Log", log, print_format=LETTER, file_name="relance")
		self.assertEqual(attachment["fname"], "relance.pdf")
		self.assert_letter_pdf(attachment["fcontent"], invoice)

	def test_letter_pdf_through_chromium_when_the_site_chooses_it(self):
		"""Frappe 16 can make PDFs with Chromium: `pdf_generator = chrome` on the print format and
		`chromium_path` in common_site_config.json (Debian's package: /usr/bin/chromium)."""
		import json
		import os
		import shutil

		if "frappe.utils.pdf.get_chrome_pdf" not in frappe.get_hooks("pdf_generator"):
			# v15 has the print format's field, for apps such as Print Designer, but no generator
			self.skipTest("this Frappe makes PDFs with wkhtmltopdf only (v15)")
		chromium = shutil.which("chromium") or shutil.which("chromium-browser")
		if not chromium:
			self.skipTest("no Chromium on this machine (Debian: apt install chromium)")
		log, invoice = self.letter_for_pdf("_Relance Chromium Print")
		config_path = os.path.join(frappe.local.sites_path, "common_site_config.json")
		with open(config_path) as f:
			original = f.read()
		config = json.loads(original)
		config["chromium_path"] = chromium
		with open(config_path, "w") as f:
			json.dump(config, f, indent=1)
		self.addCleanup(lambda: open(config_path, "w").write(original))
		frappe.db.set_value("Print Format", LETTER, "pdf_generator", "chrome")
		frappe.clear_document_cache("Print Format", LETTER)
		self.addCleanup(frappe.clear_document_cache, "Print Format", LETTER)
		self.addCleanup(frappe.db.set_value, "Print Format", LETTER, "pdf_generator", "wkhtmltopdf")
		from unittest.mock import patch

		# Frappe keeps the generator of its first print in form_dict (no request here to reset it)
		frappe.local.form_dict.pop("pdf_generator", None)
		# (a lambda: get_print replaces form_dict with a copy, this one must be popped then)
		self.addCleanup(lambda: frappe.local.form_dict.pop("pdf_generator", None))
		# wkhtmltopdf is Frappe's fallback when Chromium fails: closed here, so the PDF is Chromium's
		with patch("frappe.utils.pdf.get_pdf", side_effect=AssertionError("wkhtmltopdf was used")):
			pdf = frappe.get_print("Follow-up Log", log, LETTER, as_pdf=True, pdf_generator="chrome")
		self.assert_letter_pdf(pdf, invoice)
		self.assert_address_in_window(pdf, "_Relance Chromium Print")


class TestDocuments(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_company()

	def test_statement_lists_the_overdue_invoices_and_their_total(self):
		customer = make_customer("_Relance Releve Client", email="releve@example.com")
		first = make_invoice(customer, 1416, days_late=45)
		second = make_invoice(customer, 4500, days_late=30)
		not_due = make_invoice(customer, 999, days_late=-10)
		paid = make_invoice(customer, 777, days_late=20)
		pay(paid.name)
		text = plain(utils.relance_statement(frappe.get_doc("Customer", customer), as_of=AS_OF))
		self.assertIn("Relevé de compte", text)
		self.assertIn(first.name, text)
		self.assertIn(second.name, text)
		self.assertNotIn(not_due.name, text)
		self.assertNotIn(paid.name, text)
		self.assertIn("45 jours", text)
		self.assertIn(euros_fr("5916"), text)
		# Through the site's print view, on today's date (later than AS_OF: the total may differ)
		text = plain(frappe.get_print("Customer", customer, STATEMENT))
		self.assertIn(first.name, text)
		self.assertIn(euros_fr("1416"), text)
		self.assertIn(euros_fr("4500"), text)
		self.assertNotIn(paid.name, text)

	def test_statement_in_english(self):
		customer = make_customer("_Relance Statement Client", email="st@example.com", language="en")
		invoice = make_invoice(customer, 1234.5, days_late=12)
		text = plain(utils.relance_statement(frappe.get_doc("Customer", customer), as_of=AS_OF))
		self.assertIn("Statement of account", text)
		self.assertIn(invoice.name, text)
		self.assertIn("12 days", text)
		self.assertIn("€1,234.50", text)

	def test_statement_without_overdue_invoice(self):
		customer = make_customer("_Relance A Jour Client", email="ok@example.com")
		make_invoice(customer, 100, days_late=-5)
		html = str(utils.relance_statement(frappe.get_doc("Customer", customer), as_of=AS_OF))
		self.assertIn("relance-notice", html)
		self.assertNotIn("Relevé de compte", html)

	def test_arrangement_states_what_was_owed_when_agreed_and_the_schedule(self):
		customer = make_customer("_Relance Echeancier Client", email="ech@example.com")
		one = make_invoice(customer, 1760, days_late=20)
		two = make_invoice(customer, 1000, days_late=15)
		arrangement = frappe.get_doc(
			{
				"doctype": "Payment Arrangement",
				"customer": customer,
				"company": COMPANY,
				"agreed_on": AS_OF,
				"invoices": [{"sales_invoice": one.name}, {"sales_invoice": two.name}],
				"schedule": [
					{"due_date": add_days(AS_OF, 15), "amount": 920},
					{"due_date": add_days(AS_OF, 46), "amount": 920},
					{"due_date": add_days(AS_OF, 77), "amount": 920},
				],
			}
		).insert(ignore_permissions=True)
		# A first instalment paid later does not change the agreement as printed
		pay(one.name, amount=920, day=add_days(AS_OF, 15))
		text = plain(frappe.get_print("Payment Arrangement", arrangement.name, ARRANGEMENT))
		self.assertIn("Échéancier de paiement", text)
		self.assertIn(one.name, text)
		self.assertIn(two.name, text)
		self.assertIn(euros_fr("1760"), text)
		self.assertIn(euros_fr("2760"), text)
		self.assertIn(euros_fr("920"), text)
		self.assertIn("30 juin 2026", text)
		self.assertIn("31 août 2026", text)
		self.assertIn("Bon pour accord", text)
		self.assertIn(arrangement.name, text)

	def test_penalty_claim_after_a_late_payment(self):
		customer = make_customer("_Relance Penalites Client", email="pen@example.com")
		invoice = make_invoice(customer, 1080, days_late=51, as_of=getdate("2026-06-05"))
		pay(invoice.name, day=getdate("2026-06-05"))
		invoice.reload()
		html = frappe.get_print("Sales Invoice", invoice.name, PENALTIES)
		text = plain(html)
		# From the day after the due date (16 April) to the payment (5 June): 51 days at 12.15 %
		interest = (Decimal("1080") * FR_B2B_RATE_2026_H1 * 51 / 36500).quantize(
			Decimal("0.01"), ROUND_HALF_UP
		)
		self.assertEqual(interest, Decimal("18.33"))
		self.assertIn(euros_fr(interest), text)
		self.assertIn(euros_fr("40"), text)
		self.assertIn(euros_fr(interest + 40), text)
		self.assertIn("5 juin 2026", text)  # paid on
		self.assertIn("51 jours", text)
		self.assertIn("L441-10", text)

	def test_no_penalty_when_paid_on_time_or_for_a_consumer_without_formal_notice(self):
		customer = make_customer("_Relance A Temps Client", email="tmp@example.com")
		on_time = make_invoice(customer, 500, days_late=-3)
		pay(on_time.name, day=AS_OF)
		self.assertIn("relance-notice", frappe.get_print("Sales Invoice", on_time.name, PENALTIES))
		consumer = make_customer("_Relance Mme Penalites", customer_type="Individual", email="mme@example.fr")
		late = make_invoice(consumer, 300, days_late=30)
		pay(late.name, day=AS_OF)
		self.assertIn("relance-notice", frappe.get_print("Sales Invoice", late.name, PENALTIES))


class TestPreview(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_company()
		# Each step at the delay its test gives, first contact or not: the calendar by due date
		frappe.db.set_single_value("Relance Settings", {"min_gap_days": 0, "catch_up": "by_due_date"})

	def test_preview_shows_the_next_letter_and_changes_nothing(self):
		customer = make_customer("_Relance Apercu Client", email="apercu@example.com")
		invoice = make_invoice(customer, 600, days_late=1)
		logs = frappe.db.count("Follow-up Log")
		preview = utils.preview_letter("Sales Invoice", invoice.name, str(AS_OF))
		self.assertEqual(len(preview["letters"]), 1)
		letter = preview["letters"][0]
		self.assertEqual(letter["invoices"], [invoice.name])
		self.assertIn(euros_fr("600"), letter["html"])
		self.assertEqual(frappe.db.count("Follow-up Log"), logs)
		by_customer = utils.preview_letter("Customer", customer, str(AS_OF))
		self.assertEqual([item["invoices"] for item in by_customer["letters"]], [[invoice.name]])
