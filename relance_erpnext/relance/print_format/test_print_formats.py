"""The Relance print formats rendered by the site: content, amounts, languages, and the PDF page."""

import io
import re
from decimal import ROUND_HALF_UP, Decimal

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate

from relance_erpnext.relance.print_format import utils
from relance_erpnext.services.runner import run_for_company
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


class TestLetterOfAFollowUp(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_company()
		make_outgoing_email_account()
		frappe.db.set_single_value("Relance Settings", {"review_before_sending": 1, "min_gap_days": 0})

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
		from pypdf import PdfReader

		customer = make_customer("_Relance Fenetre Print", email="fenetre@example.com")
		add_address(customer, "2 avenue Jean Jaurès", "69007", "Lyon")
		invoice = make_invoice(customer, 850, days_late=1)
		run_for_company(COMPANY, AS_OF)
		html = frappe.get_print("Follow-up Log", log_of(invoice.name), LETTER)
		# The stylesheet links point at the site's URL, which a test process cannot reach
		pdf = get_pdf(re.sub(r"<link[^>]+>", "", html))
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
		name = next(key for key in spots if key.startswith("_Relance Fenetre Print"))
		x, y = spots[name]
		mm = 25.4 / 72
		# 110 mm from the left edge, 45 to 60 mm from the top: inside a DL envelope's window
		self.assertAlmostEqual(x * mm, 110, delta=3)
		self.assertTrue(45 <= (float(page.mediabox.height) - y) * mm <= 60, (x * mm, y * mm))


class TestDocuments(FrappeTestCase):
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


class TestPreview(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_company()
		frappe.db.set_single_value("Relance Settings", {"min_gap_days": 0})

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
