# Copyright (c) 2026, relance_erpnext contributors
# For license information, please see license.txt
"""Reference rates on an ERPNext site: a missing half-year never stops the daily run (its interest is
provisional, said on the logs, the run, Relance Settings and the workspace card), and the daily job
fills Relance Settings' table from the ECB Data Portal.

No test reaches the network: the ECB is a local HTTP server (http.server in a thread on 127.0.0.1)
answering in the ECB Data Portal's documented `format=csvdata` (one row per observation, the series'
dimensions then TIME_PERIOD and OBS_VALUE). The change dated 17 June 2026 at 9.99 is FICTITIOUS."""

import http.server
import threading

import frappe
from frappe.utils import getdate

from relance_erpnext.services import rates
from relance_erpnext.services.runner import run_for_company
from relance_erpnext.tests.compat import IntegrationTestCase
from relance_erpnext.tests.utils import COMPANY, make_address, make_company, make_customer, make_invoice

DAY = getdate("2026-12-05")  # the bundled tables end on 30 June 2026
HEADER = (
	"KEY,FREQ,REF_AREA,CURRENCY,PROVIDER_FM,INSTRUMENT_FM,PROVIDER_FM_ID,DATA_TYPE_FM,TIME_PERIOD,OBS_VALUE\n"
)
SERIES = "FM.B.U2.EUR.4F.KR.MRR_FR.LEV,B,U2,EUR,4F,KR,MRR_FR,LEV"
ECB_CSV = HEADER + f"{SERIES},2025-06-11,2.15\n{SERIES},2026-06-17,9.99\n"


class EcbServer:
	def __init__(self, body: str):
		class Handler(http.server.BaseHTTPRequestHandler):
			def do_GET(self):
				data = body.encode("utf-8")
				self.send_response(200)
				self.send_header("Content-Type", "text/csv")
				self.send_header("Content-Length", str(len(data)))
				self.end_headers()
				self.wfile.write(data)

			def log_message(self, *args):
				pass

		self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
		self.url = (
			f"http://127.0.0.1:{self.server.server_address[1]}/service/data/FM/B.U2.EUR.4F.KR.MRR_FR.LEV"
		)
		threading.Thread(target=self.server.serve_forever, daemon=True).start()

	def close(self):
		self.server.shutdown()
		self.server.server_close()


class TestReferenceRates(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		make_company()

	def setUp(self):
		self.settings = frappe.get_single("Relance Settings")
		self.saved = [row.as_dict(no_default_fields=True) for row in self.settings.reference_rates]
		# The bundled tables as they ship: nothing after 30 June 2026
		self.settings.set(
			"reference_rates", [row for row in self.saved if str(row["valid_from"]) < "2026-07-01"]
		)
		self.settings.rates_auto_update = 1
		self.settings.rates_legal_url = ""
		self.settings.save(ignore_permissions=True)
		# Each step at the delay its test gives, first contact or not: the calendar by due date
		frappe.db.set_single_value(
			"Relance Settings", {"review_before_sending": 1, "min_gap_days": 0, "catch_up": "by_due_date"}
		)

	def tearDown(self):
		settings = frappe.get_single("Relance Settings")
		settings.set("reference_rates", self.saved)
		settings.rates_ecb_url = ""
		settings.rates_missing = ""
		settings.save(ignore_permissions=True)

	def test_a_missing_half_year_still_makes_the_logs_with_provisional_interest(self):
		customer = make_customer("_Relance Taux Manquant", email="taux@client.example")
		make_address(customer)  # the catch-up step is the mise en demeure, a registered letter
		invoice = make_invoice(customer, 1000, days_late=200, as_of=DAY)  # due 19 May 2026
		run = frappe.get_doc("Relance Run", run_for_company(COMPANY, DAY))
		rows = frappe.get_all(
			"Follow-up Log Invoice",
			filters={"sales_invoice": invoice.name},
			fields=["interest", "interest_until", "interest_provisional", "notes", "parent"],
		)
		self.assertEqual(len(rows), 1, "the reminder was planned and logged")
		(row,) = rows
		self.assertEqual(row.interest_provisional, 1)
		self.assertEqual(getdate(row.interest_until), getdate("2026-06-30"))
		# 1000 x 12.15 % x 42 days (20 May - 30 June) / 365 = 13.98
		self.assertAlmostEqual(row.interest, 13.98, places=2)
		# the row's note, in the site's language: "… arrêtés au 30 juin 2026" / "… up to 30 June 2026"
		from relance_erpnext.dunning.letters import format_date
		from relance_erpnext.services.mapping import site_language

		self.assertIn(format_date(getdate("2026-06-30"), site_language()[:2]), row.notes)
		self.assertIn("fr_ecb_refi", run.provisional_rates)
		self.assertFalse(run.errors)
		message = frappe.db.get_value("Follow-up Log", row.parent, "message")
		self.assertIn("30 juin 2026", message)
		self.assertIn("provisoire", message)
		# The warning: on Relance Settings, the workspace card, and a notification
		frappe.db.set_single_value("Relance Settings", "rates_auto_update", 0)  # no fetching here
		result = rates.update_reference_rates(DAY)
		self.assertIn("fr_ecb_refi@2026-07-01", result["missing"])
		text = frappe.db.get_single_value("Relance Settings", "rates_missing")
		self.assertIn("2026", text)
		self.assertIn("fr_ecb_refi", text)
		self.assertGreaterEqual(rates.missing_rates_card()["value"], 1)
		self.assertTrue(
			frappe.db.exists(
				"Notification Log",
				{"document_type": "Relance Settings", "subject": ("like", "%fr_ecb_refi%")},
			)
		)

	def test_the_daily_job_fills_the_table_from_the_ecb(self):
		server = EcbServer(ECB_CSV)
		self.addCleanup(server.close)
		frappe.db.set_single_value("Relance Settings", "rates_ecb_url", server.url)
		rates.update_reference_rates(DAY)
		row = frappe.db.get_value(
			"Relance Reference Rate",
			{"parent": "Relance Settings", "series": "fr_ecb_refi", "valid_from": "2026-07-01"},
			["valid_until", "rate", "source", "read_on"],
			as_dict=True,
		)
		self.assertIsNotNone(row, "the second half of 2026 was added")
		self.assertEqual(str(row.valid_until), "2026-12-31")
		self.assertAlmostEqual(row.rate, 9.99, places=2)
		self.assertIn("ECB Data Portal", row.source)
		self.assertIn(server.url, row.source)
		self.assertEqual(getdate(row.read_on), DAY)
		# What was known stays, with its own source
		first = frappe.db.get_value(
			"Relance Reference Rate",
			{"parent": "Relance Settings", "series": "fr_ecb_refi", "valid_from": "2026-01-01"},
			"source",
		)
		self.assertIn("18/12/2025", first)
		# The legal rate of the half-year is typed by hand: still said missing until then
		self.assertIn("fr_legal_rate", frappe.db.get_single_value("Relance Settings", "rates_missing"))
		self.assertNotIn("fr_ecb_refi", frappe.db.get_single_value("Relance Settings", "rates_missing"))

	def test_a_row_typed_by_hand_is_checked(self):
		settings = frappe.get_single("Relance Settings")
		settings.append(
			"reference_rates",
			{
				"series": "fr_legal_rate",
				"valid_from": "2026-07-02",
				"valid_until": "2026-12-31",
				"rate": 2.5,
				"source": "x",
			},
		)
		with self.assertRaises(frappe.ValidationError):
			settings.save(ignore_permissions=True)
		settings.reload()
		settings.append(
			"reference_rates",
			{
				"series": "fr_legal_rate",
				"valid_from": "2026-07-01",
				"valid_until": "2026-12-31",
				"rate": 45,
				"source": "x",
			},
		)
		with self.assertRaises(frappe.ValidationError):
			settings.save(ignore_permissions=True)


class TestRateTableAsPeopleReadIt(IntegrationTestCase):
	def test_sorted_by_series_and_date_with_its_coverage(self):
		from relance_erpnext.services.rates import coverage

		settings = frappe.get_doc("Relance Settings")
		settings.reference_rates.reverse()  # as a person might have typed them
		settings.save(ignore_permissions=True)
		keys = [(row.series, str(row.valid_from)) for row in settings.reference_rates]
		self.assertEqual(keys, sorted(keys))
		self.assertEqual([row.idx for row in settings.reference_rates], list(range(1, len(keys) + 1)))
		tables = {t["series"]: t for t in coverage()}
		ecb = [row for row in settings.reference_rates if row.series == "fr_ecb_refi"]
		self.assertEqual(tables["fr_ecb_refi"]["until"], frappe.utils.getdate(ecb[-1].valid_until))
		self.assertIn("ECB", tables["fr_ecb_refi"]["label"])
