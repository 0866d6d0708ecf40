"""The Dolibarr fixes against a real, running Dolibarr 20 (never a fake of it).

Skipped unless these are set (`.ci/run` builds one with ../shared/dolibarr/build_test_dolibarr.sh):

	RELANCE_DOLIBARR_URL       http://127.0.0.1:8095
	RELANCE_DOLIBARR_KEY       its API key (build_test_dolibarr.sh writes it to TARGET/api_key.txt)
	RELANCE_DOLIBARR_SEED      optional: TARGET/seed.json (SEED=1), for the seeded Québec customer
	RELANCE_DOLIBARR_SERVICES  optional: TARGET/services.sh, to stop its database for one test (and
	                           start it again)

Each test creates, through Dolibarr's REST API, the third parties and invoices it needs (names carry a
random tag), so that the tests run on a fresh instance and again on the same one; they look only at
what they created. The runs of the `relance` command plan, record and send for the whole Dolibarr (its
seed too): emails go to a local SMTP server. Faults Dolibarr cannot be made to produce (a connection
lost at a given request) are injected on the client side, between relance and the real Dolibarr.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
import unittest
import uuid
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path
from unittest import mock
from zoneinfo import ZoneInfo

import requests

from relance_erpnext.connectors.dolibarr import DolibarrError, DolibarrSource, bank_token
from relance_erpnext.dunning import BUILTIN_SCENARIOS, PlanSettings, load_reference_rates, plan
from relance_erpnext.dunning.matching import BankLine, match_payments, open_invoices

from .test_cli import SAMPLE_CONFIG, run_cli
from .test_mailer import SmtpServer

URL = os.environ.get("RELANCE_DOLIBARR_URL", "")
KEY = os.environ.get("RELANCE_DOLIBARR_KEY", "")
SEED = os.environ.get("RELANCE_DOLIBARR_SEED", "")
SERVICES = os.environ.get("RELANCE_DOLIBARR_SERVICES", "")
AS_OF = date(2026, 6, 15)  # inside the bundled rate tables: no provisional interest
RATES = load_reference_rates()
SETTINGS = PlanSettings()
COMPANY = SAMPLE_CONFIG.read_text(encoding="utf-8").split("[settings]")[0]

pytestmark_reason = (
	"no live Dolibarr: set RELANCE_DOLIBARR_URL and RELANCE_DOLIBARR_KEY (e.g. a Dolibarr built by"
	" ../shared/dolibarr/build_test_dolibarr.sh, as .ci/run does) to run these tests"
)


class Api:
	"""Dolibarr's REST API, plainly, to create what a test needs and read back what relance did."""

	def __init__(self, url: str, key: str):
		self.base = url.rstrip("/") + "/api/index.php"
		self.session = requests.Session()
		self.session.headers.update({"DOLAPIKEY": key, "Accept": "application/json"})
		status = self.call("GET", "/status")["success"]
		self.zone = ZoneInfo(status.get("timestamp_php_tz") or "UTC")

	def call(self, method: str, path: str, body=None, **params):
		resp = self.session.request(method, self.base + path, json=body, params=params or None, timeout=120)
		if resp.status_code >= 400:
			raise AssertionError(f"{method} {path}: HTTP {resp.status_code} {resp.text[:300]}")
		return resp.json()

	def ts(self, day: date) -> int:
		return int(datetime.combine(day, dtime(0, 0), self.zone).timestamp())

	def first(self, path: str, sqlfilters: str, **params) -> dict:
		[row] = self.call("GET", path, sqlfilters=sqlfilters, **params)
		return row

	def customer(self, name: str, **fields) -> int:
		return int(
			self.call("POST", "/thirdparties", {"name": name, "client": 1, "code_client": "-1", **fields})
		)

	def invoice(self, socid: int, due: date, net: str, vat: str = "20", **fields) -> tuple[int, str]:
		body = {
			"socid": socid,
			"type": 0,
			"date": self.ts(due - timedelta(days=30)),
			"date_lim_reglement": self.ts(due),
			"cond_reglement_id": 2,
			"mode_reglement_id": 2,
			"lines": [{"desc": "Prestation", "subprice": net, "qty": 1, "tva_tx": vat, "product_type": 1}],
			**fields,
		}
		invoice_id = int(self.call("POST", "/invoices", body))
		self.call("POST", f"/invoices/{invoice_id}/validate", {"notrigger": 0})
		return invoice_id, self.call("GET", f"/invoices/{invoice_id}")["ref"]

	def pay(self, invoice_id: int, day: date, account: int, amount: str = "", in_currency: str = "") -> None:
		self.call(
			"POST",
			"/invoices/paymentsdistributed",
			{
				"arrayofamounts": {str(invoice_id): {"amount": amount, "multicurrency_amount": in_currency}},
				"datepaye": self.ts(day),
				"paymentid": 2,
				"closepaidinvoices": "yes",
				"accountid": account,
				"num_payment": "LIVE-TEST",
			},
		)

	def events(self, invoice_id: int) -> list[dict]:
		rows = self.session.get(
			self.base + "/agendaevents",
			params={
				"sqlfilters": f"(t.code:=:'RELANCE') and (t.elementtype:=:'invoice') and (t.fk_element:=:{invoice_id})"
			},
			timeout=60,
		)
		return rows.json() if rows.status_code == 200 else []

	def documents(self, ref: str) -> list[str]:
		resp = self.session.get(
			self.base + "/documents", params={"modulepart": "facture", "ref": ref}, timeout=60
		)
		return [row["name"] for row in resp.json()] if resp.status_code == 200 else []


class RecordingSession(requests.Session):
	"""A real HTTP session that notes every request relance makes, and can lose the connection on the
	ones `fail` picks (a fault a live server cannot be made to produce on purpose)."""

	def __init__(self, fail=None):
		super().__init__()
		self.seen: list[tuple[str, str]] = []
		self.fail = fail

	def request(self, method, url, *args, **kwargs):
		path = url.split("/api/index.php", 1)[1]
		self.seen.append((method, path))
		if self.fail is not None and self.fail(method, path, kwargs.get("json")):
			raise requests.ConnectionError("connection lost (injected by the test)")
		return super().request(method, url, *args, **kwargs)


@unittest.skipUnless(URL and KEY, pytestmark_reason)
class LiveDolibarrTest(unittest.TestCase):
	api: Api
	account: int

	@classmethod
	def setUpClass(cls):
		cls.api = Api(URL, KEY)
		cls.tag = uuid.uuid4().hex[:6]
		cls.canada = int(cls.api.first("/setup/dictionary/countries", "(t.code:=:'CA')")["id"])
		cls.quebec = int(
			cls.api.first("/setup/dictionary/states", "(t.code_departement:=:'QC')", country=cls.canada)["id"]
		)
		cls.account = int(
			cls.api.call(
				"POST",
				"/bankaccounts",
				{
					"ref": f"LT{cls.tag}",
					"label": f"Live test {cls.tag}",
					"type": 1,
					"currency_code": "EUR",
					"country_id": 1,
					"date_solde": cls.api.ts(AS_OF - timedelta(days=365)),
				},
			)
		)
		if not cls.api.call("GET", "/multicurrencies", sqlfilters="(t.code:=:'CAD')"):
			cls.api.call("POST", "/multicurrencies", {"code": "CAD", "name": "Dollar canadien", "rate": 1.62})
		cls.tmp = Path(tempfile.mkdtemp(prefix="relance-live-"))

	def source(self, session=None) -> DolibarrSource:
		return DolibarrSource(URL, KEY, session=session)

	def name(self, what: str) -> str:
		return f"{what} {self.tag}"

	def own(self, result, customer_id: int):
		actions = [a for a in result.actions if a.customer == str(customer_id)]
		skipped = [s for s in result.skipped if s.customer == str(customer_id)]
		return actions, skipped

	def cli(self, *argv, config: Path | None = None):
		day = () if argv[0] == "match" else ("--as-of", AS_OF.isoformat())
		with mock.patch.dict(os.environ, {"DOLIBARR_API_KEY": KEY}):
			return run_cli(
				*argv,
				"--config",
				config or SAMPLE_CONFIG,
				"--source",
				"dolibarr",
				"--dolibarr-url",
				URL,
				*day,
			)

	# -----------------------------------------------------------------------------------------------

	def test_quebec_customer_letter_has_province_and_country_read_in_bulk(self):
		socid = self.api.customer(
			self.name("Érablière Live inc."),
			address="1200 boulevard René-Lévesque",
			zip="G1R 4P5",
			town="Québec",
			country_id=self.canada,
			state_id=self.quebec,
			email="comptes@erabliere-live.example",
			default_lang="fr_CA",
		)
		raw = self.api.call("GET", f"/thirdparties/{socid}")
		# What Dolibarr 20 gives: a country code and a state id, no country name, no province code
		self.assertEqual((raw.get("country_code"), str(raw.get("state_id"))), ("CA", str(self.quebec)))
		self.assertFalse(raw.get("country"))
		_, ref = self.api.invoice(socid, AS_OF - timedelta(days=20), "500", vat="0")
		session = RecordingSession()
		customers, invoices, history = self.source(session).load_book(AS_OF)
		customer = customers[str(socid)]
		self.assertEqual(customer.regime, "QC")
		self.assertEqual(customer.address[-2:], ("Québec QC  G1R 4P5", "CANADA"))
		# The provinces and the countries in one request each, never one per customer
		paths = [path for _, path in session.seen]
		self.assertEqual(paths.count("/setup/dictionary/states"), 1)
		self.assertFalse([p for p in paths if p.startswith("/setup/dictionary/states/")])
		self.assertLessEqual(paths.count("/setup/dictionary/countries"), 3)  # one per letter language
		# And the letter says it
		result = plan(AS_OF, customers, invoices, history, BUILTIN_SCENARIOS, RATES, SETTINGS)
		[action], _ = self.own(result, socid)
		from relance_erpnext.dunning.letters import Sender, render_action

		letter = render_action(action, Sender(name="Atelier Lumière SARL"), customer, AS_OF)
		self.assertIn("Québec QC  G1R 4P5", letter.text)
		self.assertIn("CANADA", letter.text)
		self.assertIn(ref, letter.text)

	@unittest.skipUnless(SEED, "RELANCE_DOLIBARR_SEED (the seed.json of build_test_dolibarr.sh) is not set")
	def test_the_seeded_quebec_customer_and_cad_invoice(self):
		seed = json.loads(Path(SEED).read_text(encoding="utf-8"))
		customers, invoices, _ = self.source().load_book(AS_OF)
		quebec = customers[str(seed["customers"]["F"])]
		self.assertEqual(quebec.address[-1], "CANADA")
		self.assertTrue(quebec.address[-2].startswith("Québec QC"))
		[cad] = [row for row in seed["invoices"] if row["currency"] == "CAD"]
		by_ref = {inv.id: inv for inv in invoices}
		if cad["ref"] in by_ref:  # unless paid since
			self.assertEqual(by_ref[cad["ref"]].currency, "CAD")
			self.assertEqual(by_ref[cad["ref"]].total, Decimal(cad["mc_total"]).quantize(Decimal("0.01")))

	def test_cad_invoices_followed_up_in_cad_and_paid_in_cad(self):
		socid = self.api.customer(
			self.name("Import Export Live SAS"),
			zip="69002",
			town="Lyon",
			country_id=1,
			email="ap@live.example",
		)
		due = AS_OF - timedelta(days=20)
		cad = {"multicurrency_code": "CAD", "multicurrency_tx": "1.62"}
		unpaid_id, unpaid = self.api.invoice(socid, due, "1000", vat="0", **cad)
		euros_id, euros = self.api.invoice(socid, due, "1000", vat="0", **cad)
		dollars_id, dollars = self.api.invoice(socid, due, "1000", vat="0", **cad)
		self.api.pay(euros_id, AS_OF - timedelta(days=5), self.account, amount="100")
		self.api.pay(dollars_id, AS_OF - timedelta(days=4), self.account, in_currency="1000")
		raw = self.api.call("GET", f"/invoices/{dollars_id}")
		self.assertEqual((raw["multicurrency_code"], Decimal(raw["multicurrency_total_ttc"])), ("CAD", 1620))
		self.assertEqual(Decimal(raw["remaintopay"]), Decimal("382.72"))  # in EUR: 1000 CAD is 617.28 EUR

		src = self.source()
		customers, invoices, history = src.load_book(AS_OF)
		by_ref = {inv.id: inv for inv in invoices}
		self.assertEqual(
			[(by_ref[r].currency, by_ref[r].total, by_ref[r].outstanding) for r in (unpaid, euros, dollars)],
			[
				("CAD", Decimal("1620.00"), Decimal("1620.00")),
				# 100 EUR is exactly 162 CAD at the invoice's rate
				("CAD", Decimal("1620.00"), Decimal("1458.00")),
				# 1000 CAD was entered: Dolibarr keeps 617.28 EUR, which is 999.99 or 1000.00 CAD
				("CAD", Decimal("1620.00"), Decimal("620.01")),
			],
		)
		self.assertEqual(by_ref[euros].payments[0].day, AS_OF - timedelta(days=5))
		[warning] = [w for w in src.warnings if dollars in w]
		self.assertIn("999.99 / 1000.00 CAD", warning)
		self.assertFalse([w for w in src.warnings if unpaid in w or euros in w])

		result = plan(AS_OF, customers, invoices, history, BUILTIN_SCENARIOS, RATES, SETTINGS)
		[action], _ = self.own(result, socid)
		self.assertEqual(action.currency, "CAD")
		self.assertEqual(action.total, Decimal("3698.01"))
		self.assertEqual({line.invoice for line in action.lines}, {unpaid, euros, dollars})
		self.assertFalse([line for line in action.lines if line.indemnity])  # 40 € is in euros only

		# A bank line paying the unpaid one in full, in CAD: recorded in CAD, and Dolibarr closes it
		src.invoice_ids.setdefault(unpaid, unpaid_id)
		book = open_invoices(invoices, {str(socid): self.name("Import Export Live SAS")})
		line = BankLine(
			f"live:{self.tag}", AS_OF, Decimal("1620.00"), "CAD", f"VIR {unpaid}", "IMPORT EXPORT LIVE"
		)
		[match] = [m for m in match_payments([line], book).lines if m.allocations]
		self.assertEqual([(a.invoice, a.amount) for a in match.allocations], [(unpaid, Decimal("1620.00"))])
		self.assertEqual(src.record_bank_payments([match], self.account).recorded, 1)
		paid = self.api.call("GET", f"/invoices/{unpaid_id}")
		self.assertEqual((str(paid["paye"]), Decimal(paid["remaintopay"])), ("1", 0))

	def test_a_fault_while_writing_events_cancels_the_whole_communication(self):
		socid = self.api.customer(
			self.name("Fautes Live SARL"), zip="75011", town="Paris", email="f@live.example"
		)
		_, first = self.api.invoice(socid, AS_OF - timedelta(days=20), "300")
		second_id, second = self.api.invoice(socid, AS_OF - timedelta(days=18), "400")
		customers, invoices, history = self.source().load_book(AS_OF)
		result = plan(AS_OF, customers, invoices, history, BUILTIN_SCENARIOS, RATES, SETTINGS)
		[action], _ = self.own(result, socid)
		self.assertEqual({line.invoice for line in action.lines}, {first, second})

		# The connection is lost when the second invoice's event is written
		def lost(method, path, body):
			return method == "POST" and path == "/agendaevents" and body.get("fk_element") == second_id

		src = self.source(RecordingSession(lost))
		src.load_book(AS_OF)
		with self.assertRaises(DolibarrError) as caught:
			src.record_actions([action], AS_OF)
		self.assertIn(first, str(caught.exception))
		self.assertIn("cancelled", str(caught.exception))

		# The next run plans the whole communication again: nothing postponed by the minimum gap
		customers, invoices, history = self.source().load_book(AS_OF)
		self.assertEqual(
			[(h.invoice, h.status) for h in history if h.invoice in (first, second)], [(first, "cancelled")]
		)
		result = plan(
			AS_OF, customers, invoices, history, BUILTIN_SCENARIOS, RATES, PlanSettings(min_gap_days=7)
		)
		[again], skipped = self.own(result, socid)
		self.assertEqual({line.invoice for line in again.lines}, {first, second})
		self.assertEqual(skipped, [])

	def test_a_letter_recorded_without_its_copy_is_attached_by_the_next_run(self):
		# No e-mail: the reminder goes by letter
		socid = self.api.customer(
			self.name("Menuiserie Live SA"), address="22 rue de la Liberté", zip="21000", town="Dijon"
		)
		first_id, first = self.api.invoice(socid, AS_OF - timedelta(days=25), "600")
		second_id, second = self.api.invoice(socid, AS_OF - timedelta(days=22), "200")
		day = AS_OF - timedelta(days=2)
		customers, invoices, history = self.source().load_book(day)
		result = plan(day, customers, invoices, history, BUILTIN_SCENARIOS, RATES, SETTINGS)
		[action], _ = self.own(result, socid)
		self.assertEqual(action.channel, "letter")
		# A run two days ago wrote the events, then stopped before attaching the letter
		self.source().record_actions([action], day)
		for invoice_id in (first_id, second_id):
			[event] = self.api.events(invoice_id)
			self.assertIn("letter=pending", event["note_private"])
		self.assertEqual(self.api.documents(first), [])

		code, out, err = self.cli("run", "--out", self.tmp / "letters", "--lang", "en")
		self.assertEqual(code, 0, err)
		self.assertIn("letters of an earlier run with no copy known: 2 rebuilt and attached", out)
		stem = f"relance-{day.isoformat()}-{action.step}"
		for invoice_id, ref in ((first_id, first), (second_id, second)):
			[copy] = [name for name in self.api.documents(ref) if name.startswith(stem)]
			[event] = self.api.events(invoice_id)
			self.assertRegex(event["note_private"], rf"letter={copy}$")
		self.assertFalse([line for line in err.splitlines() if first in line or second in line])

		# Found and noted: the next run has nothing to look for
		code, out, err = self.cli("run", "--out", self.tmp / "letters-again", "--lang", "en")
		self.assertEqual(code, 0, err)
		self.assertNotIn("letters of an earlier run", out)

	def test_an_email_sent_whose_status_cannot_be_recorded_ends_in_status_4_then_uncertain(self):
		address = f"incertain-{self.tag}@live.example"
		socid = self.api.customer(
			self.name("Incertain Live SAS"), zip="38000", town="Grenoble", email=address
		)
		_, first = self.api.invoice(socid, AS_OF - timedelta(days=20), "300")
		_, second = self.api.invoice(socid, AS_OF - timedelta(days=19), "500")
		real = requests.Session.request

		def request(session, method, url, *args, **kwargs):
			body = kwargs.get("json") or {}
			# Marking this customer's email "sent" (progress -1 after it went out) loses the connection
			if (
				method == "PUT"
				and body.get("percentage") == -1
				and f"invoice={first}" in body.get("note_private", "")
			):
				raise requests.ConnectionError("connection lost (injected by the test)")
			return real(session, method, url, *args, **kwargs)

		with SmtpServer() as server:
			config = self.tmp / "send.toml"
			config.write_text(
				COMPANY
				+ f'[smtp]\nhost = "127.0.0.1"\nport = {server.port}\nsecurity = "none"\ntimeout = 5\n',
				encoding="utf-8",
			)
			with mock.patch.object(requests.Session, "request", request):
				code, out, err = self.cli(
					"run", "--out", self.tmp / "send", "--send", "--lang", "en", config=config
				)
			mine = [m for _, rcpts, m in server.messages if rcpts == [address]]
		self.assertEqual(len(mine), 1, "the email went out")
		self.assertEqual(code, 4, err)
		# The summary on standard output names both invoices left uncertain
		[said] = [
			line for line in out.splitlines() if self.name("Incertain Live SAS") in line and "sent (" in line
		]
		self.assertIn(first, said)
		self.assertIn(second, said)
		self.assertIn("Sending (", out)

		code, out, err = self.cli("plan", "--lang", "fr", "--format", "json")
		self.assertEqual(code, 0, err)
		skipped = {s["invoice"]: s for s in json.loads(out)["skipped"]}
		for ref in (first, second):
			self.assertEqual(skipped[ref]["reason"], "send_uncertain")
			self.assertEqual(skipped[ref]["customer_name"], self.name("Incertain Live SAS"))
			self.assertIn(f"facture {ref} : le courriel", err)
		code, out, _ = self.cli("plan", "--lang", "fr")
		self.assertIn("envoi incertain", next(line for line in out.splitlines() if first in line))
		self.assertNotIn(
			"déjà relancée", "\n".join(line for line in out.splitlines() if first in line or second in line)
		)

	def test_skipped_invoices_name_their_customer(self):
		socid = self.api.customer(
			self.name("Pas Encore Live SARL"), zip="44000", town="Nantes", email="p@live.example"
		)
		_, ref = self.api.invoice(socid, AS_OF + timedelta(days=10), "100")
		code, out, err = self.cli("plan", "--lang", "en", "--format", "json")
		self.assertEqual(code, 0, err)
		[skip] = [s for s in json.loads(out)["skipped"] if s["invoice"] == ref]
		self.assertEqual(
			(skip["customer"], skip["customer_name"]), (str(socid), self.name("Pas Encore Live SARL"))
		)
		code, out, err = self.cli("plan", "--lang", "en")
		[line] = [line for line in out.splitlines() if ref in line]
		self.assertIn(self.name("Pas Encore Live SARL")[:28], line)
		self.assertNotIn(f" {socid} ", line)

	def test_match_apply_twice_with_a_reference_column(self):
		socid = self.api.customer(
			self.name("Banque Live SAS"), zip="69002", town="Lyon", email="b@live.example"
		)
		invoice_id, ref = self.api.invoice(socid, AS_OF - timedelta(days=10), "250")  # 300.00 with VAT
		statement = self.tmp / f"releve-{self.tag}.csv"
		statement.write_text(
			f"Date;Libellé;Référence;Crédit\n{AS_OF:%d/%m/%Y};VIR BANQUE LIVE {ref};BQ-{self.tag};300,00\n",
			encoding="utf-8",
		)
		argv = (
			"match",
			"--statement",
			statement,
			"--lang",
			"fr",
			"--dolibarr-bank-account",
			self.account,
			"--apply",
		)
		code, out, err = self.cli(*argv)
		self.assertEqual(code, 0, err)
		self.assertIn("1 rapproché(s)", out)
		self.assertIn(": 1 ligne(s) payée(s), 0 déjà enregistrée(s)", out)
		lines = self.api.call("GET", f"/bankaccounts/{self.account}/lines")
		self.assertEqual(len([row for row in lines if row.get("num_chq") == bank_token(f"BQ-{self.tag}")]), 1)
		[payment] = self.api.call("GET", f"/invoices/{invoice_id}/payments")
		self.assertEqual(payment["ref_ext"], f"BQ-{self.tag}")  # the Référence column is the line id
		code, out, err = self.cli(*argv)
		self.assertEqual(code, 0, err)
		self.assertIn("1 déjà enregistré(s)", out)
		self.assertIn(": 0 ligne(s) payée(s), 1 déjà enregistrée(s)", out)

	@unittest.skipUnless(
		SERVICES, "RELANCE_DOLIBARR_SERVICES (the services.sh of build_test_dolibarr.sh) is not set"
	)
	def test_zz_a_dolibarr_whose_database_is_down_is_said_so(self):
		subprocess.run([SERVICES, "stop-db"], check=True, capture_output=True)
		try:
			with self.assertRaises(DolibarrError) as caught:
				self.source().load_book(AS_OF)
			message = str(caught.exception)
			self.assertIn("cannot reach its database", message)
			self.assertNotIn("is this the URL of Dolibarr", message)
			self.assertNotIn(KEY, message)
			code, out, err = self.cli("plan", "--lang", "en")
			self.assertEqual(code, 3)
			self.assertIn("cannot reach its database", err)
		finally:
			subprocess.run([SERVICES, "start-db"], check=True, capture_output=True)
			for _ in range(60):
				if requests.get(URL + "/api/index.php/status", headers={"DOLAPIKEY": KEY}, timeout=10).ok:
					break
				time.sleep(0.5)
