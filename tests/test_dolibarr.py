"""The Dolibarr source, against responses recorded from a real Dolibarr 20.0.2.

No network: a small HTTP server on 127.0.0.1 (http.server, in a thread) replays the recorded answers
of tests/data/dolibarr/ by method, path and query (routes.json says which answer belongs to which
request and server state), so the connector's real HTTP code (requests) is what runs. A request that
was never recorded gets a 599 answer, so a test cannot pass on something Dolibarr never said.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
import unittest
from dataclasses import replace
from datetime import date, datetime, timezone
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from relance_erpnext.connectors.dolibarr import (
	DolibarrError,
	DolibarrSource,
	date_from_timestamp,
	day_of_timestamp,
	language_of,
	normalize_base_url,
	parse_version,
)
from relance_erpnext.dunning import BUILTIN_SCENARIOS, PlanSettings, load_reference_rates, plan
from relance_erpnext.dunning.models import BUSINESS, CONSUMER, DONE, FAILED, PLANNED, SENT, UNKNOWN

DATA = Path(__file__).parent / "data" / "dolibarr"
ROUTES = json.loads((DATA / "routes.json").read_text(encoding="utf-8"))
KEY = ROUTES["api_key_placeholder"]
# The answers were recorded with the calendar counted from the due dates
BY_DUE = PlanSettings(catch_up="by_due_date")
AS_OF = date(2026, 6, 15)
RATES = load_reference_rates()

# Invoice ref -> Dolibarr id, as Dolibarr numbered them
IDS = {
	"FA2602-0001": 1,
	"FA2603-0002": 2,
	"FA2604-0003": 3,
	"FA2604-0004": 4,
	"FA2604-0005": 5,
	"FA2604-0006": 6,
	"FA2605-0007": 7,
	"FA2605-0008": 8,
	"FA2605-0009": 9,
	"FA2605-0010": 10,
	"FA2605-0011": 11,
	"FA2605-0012": 12,
	"FA2605-0013": 13,
	"FA2606-0015": 15,
}
# What the standard scenario does on 15 June 2026 with no history: (customer id, step, invoice)
EXPECTED_ACTIONS = {
	("1", "mise_en_demeure", "FA2604-0003"),
	("2", "relance_formelle", "FA2605-0008"),
	("3", "rappel_courtois", "FA2605-0010"),
	("4", "appel", "FA2603-0002"),
	("5", "appel", "FA2604-0005"),
	("6", "mise_en_demeure", "FA2602-0001"),
	("8", "rappel_courtois", "FA2605-0011"),
	("9", "relance_formelle", "FA2605-0007"),
	("10", "appel", "FA2604-0004"),
	("11", "rappel_courtois", "FA2605-0009"),
	("12", "relance_formelle", "FA2605-0013"),
}


def _raw(name: str):
	return json.loads((DATA / name).read_text(encoding="utf-8"))


def _free_port() -> int:
	with socket.socket() as sock:
		sock.bind(("127.0.0.1", 0))
		return sock.getsockname()[1]


class ReplayServer(ThreadingHTTPServer):
	"""Serves the recorded answers. `state` picks among the answers recorded in several states;
	`overrides` maps (method, path) to a callable(handler) for the few synthetic cases (a redirect,
	a slow answer, an edited version), each said to be synthetic where it is used."""

	daemon_threads = True

	def __init__(self):
		super().__init__(("127.0.0.1", 0), _Handler)
		self.state = "fresh"
		self.requests: list[dict] = []
		self.overrides: dict[tuple[str, str], object] = {}
		self.lock = threading.Lock()

	@property
	def url(self) -> str:
		return f"http://127.0.0.1:{self.server_address[1]}"

	def reset(self, state: str = "fresh") -> None:
		with self.lock:
			self.state = state
			self.requests = []
			self.overrides = {}

	def find(self, method: str, path: str, query: dict, body, key_ok: bool) -> dict | None:
		candidates = []
		for route in ROUTES["routes"]:
			if route["method"] != method or route["path"] != path:
				continue
			if ("key" in route) == key_ok:
				continue
			if key_ok and route["query"] != query:
				continue
			match = route.get("json_match")
			if match and not (isinstance(body, dict) and all(body.get(k) == v for k, v in match.items())):
				continue
			candidates.append(route)
		for route in candidates:  # an answer recorded for this state first
			if route["states"] and self.state in route["states"]:
				return route
		for route in candidates:
			if not route["states"]:
				return route
		return None


class _Handler(BaseHTTPRequestHandler):
	server: ReplayServer

	def log_message(self, *args):
		pass

	def _send(self, status: int, reason: str, ctype: str, body: bytes, headers: dict | None = None):
		self.send_response(status, reason)
		self.send_header("Content-Type", ctype)
		for name, value in (headers or {}).items():
			self.send_header(name, value)
		self.send_header("Content-Length", str(len(body)))
		self.end_headers()
		self.wfile.write(body)

	def send_file(self, route: dict):
		body = (DATA / route["body"]).read_bytes()
		self._send(route["status"], route["reason"], route["content_type"], body)

	def _handle(self):
		url = urlsplit(self.path)
		query = {
			k: v[0] if len(v) == 1 else v for k, v in parse_qs(url.query, keep_blank_values=True).items()
		}
		length = int(self.headers.get("Content-Length") or 0)
		raw = self.rfile.read(length) if length else b""
		body = json.loads(raw) if raw else None
		key = self.headers.get("DOLAPIKEY")
		with self.server.lock:
			self.server.requests.append(
				{"method": self.command, "path": url.path, "query": query, "json": body, "key": key}
			)
			override = self.server.overrides.get((self.command, url.path))
		if override is not None:
			try:
				return override(self)
			except (BrokenPipeError, ConnectionResetError):
				return None  # the client gave up (the timeout test)
		key_ok = key == KEY
		route = self.server.find(self.command, url.path, query, body, key_ok)
		if route is None and not key_ok:
			# Dolibarr checks the key before anything else: the 401 recorded on /status is its answer
			# to a wrong key on every endpoint
			route = next(r for r in ROUTES["routes"] if r.get("key") == "wrong")
		if route is None:
			return self._send(599, "Not recorded", "text/plain", f"not recorded: {self.path}".encode())
		self.send_file(route)

	do_GET = do_POST = do_PUT = do_DELETE = _handle


class DolibarrTestCase(unittest.TestCase):
	server: ReplayServer

	@classmethod
	def setUpClass(cls):
		cls.server = ReplayServer()
		cls.thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
		cls.thread.start()

	@classmethod
	def tearDownClass(cls):
		cls.server.shutdown()
		cls.server.server_close()

	def setUp(self):
		self.server.reset("fresh")

	def source(self, page_size: int = 5, key: str = KEY, url: str | None = None, **kw) -> DolibarrSource:
		return DolibarrSource(url or self.server.url, key, page_size=page_size, **kw)

	def requests_to(self, path: str, method: str = "GET") -> list[dict]:
		return [
			r for r in self.server.requests if r["path"] == "/api/index.php" + path and r["method"] == method
		]

	def assertError(self, call, *fragments: str, status: int | None = None, key: str = KEY) -> DolibarrError:
		with self.assertRaises(DolibarrError) as caught:
			call()
		exc = caught.exception
		text = str(exc)
		for fragment in fragments:
			self.assertIn(fragment, text)
		if status is not None:
			self.assertEqual(exc.status, status)
		# The key never appears: not in the message, its arguments, the path, or the repr
		for where in (text, repr(exc), repr(exc.args), exc.path):
			self.assertNotIn(key, where)
		return exc


class LoadBookTest(DolibarrTestCase):
	"""The mapping of Dolibarr's invoices, payments and third parties to core objects."""

	def setUp(self):
		super().setUp()
		self.src = self.source()
		self.customers, self.invoices, self.history = self.src.load_book(AS_OF)
		self.by_ref = {inv.id: inv for inv in self.invoices}

	def test_counts_and_warnings(self):
		self.assertEqual(len(self.customers), 12)
		self.assertEqual(sorted(self.by_ref), sorted(IDS))
		self.assertEqual(self.history, [])
		# The Ontario customer is left out, with a reason; its invoice stays in the book
		self.assertNotIn("13", self.customers)
		self.assertEqual(self.by_ref["FA2604-0006"].customer, "13")
		self.assertEqual(len(self.src.warnings), 1)
		self.assertIn("Maple Leaf Supplies Ltd (third party 13)", self.src.warnings[0])
		self.assertIn("(ON)", self.src.warnings[0])
		self.assertEqual(self.src.invoice_ids, IDS)

	def test_amounts_are_decimals_and_agree_with_dolibarr(self):
		raw = [row for page in range(3) for row in _raw(f"get_invoices_unpaid_p{page}_200.json")]
		self.assertEqual(len(raw), 14)
		for row in raw:
			invoice = self.by_ref[row["ref"]]
			self.assertIsInstance(invoice.total, Decimal)
			self.assertEqual(invoice.total, Decimal(row["total_ttc"]).quantize(Decimal("0.01")))
			self.assertEqual(invoice.total.as_tuple().exponent, -2)
			# Dolibarr's own remaining amount is what is owed, and its own sum of payments what was paid
			self.assertEqual(invoice.outstanding, Decimal(row["remaintopay"]))
			self.assertEqual(invoice.paid, Decimal(row["sumpayed"] or "0"))
			self.assertEqual(invoice.currency, "EUR")

	def test_partial_payments_with_their_dates(self):
		bernard = self.by_ref["FA2603-0002"]
		self.assertEqual(bernard.total, Decimal("2880.00"))
		self.assertEqual(
			[(p.day, p.amount) for p in bernard.payments],
			[(date(2026, 6, 1), Decimal("300.00")), (date(2026, 6, 12), Decimal("200.00"))],
		)
		self.assertEqual(bernard.outstanding, Decimal("2380.00"))
		dupont = self.by_ref["FA2605-0008"]
		self.assertEqual(
			[(p.day, p.amount) for p in dupont.payments], [(date(2026, 6, 10), Decimal("500.00"))]
		)
		self.assertEqual(dupont.outstanding, Decimal("100.00"))
		tremblay = self.by_ref["FA2604-0004"]
		self.assertEqual(
			[(p.day, p.amount) for p in tremblay.payments], [(date(2026, 5, 28), Decimal("600.00"))]
		)
		unpaid = self.by_ref["FA2604-0005"]
		self.assertEqual(unpaid.payments, ())
		self.assertEqual(unpaid.outstanding, Decimal("1009.20"))
		# Payments are only asked for the invoices Dolibarr says are partly paid
		asked = sorted(r["path"] for r in self.server.requests if r["path"].endswith("/payments"))
		self.assertEqual(asked, [f"/api/index.php/invoices/{i}/payments" for i in (2, 4, 8)])

	def test_due_dates_are_server_midnights(self):
		roux = _raw("get_invoices_unpaid_p0_200.json")[0]
		self.assertEqual(roux["ref"], "FA2602-0001")
		# 29 March 2026 00:00 in Paris is 28 March 23:00 UTC: read naively in UTC it is a day early
		self.assertEqual(roux["date_lim_reglement"], 1774738800)
		naive = datetime.fromtimestamp(roux["date_lim_reglement"], timezone.utc).date()
		self.assertEqual(naive, date(2026, 3, 28))
		self.assertEqual(self.by_ref["FA2602-0001"].due, date(2026, 3, 29))
		self.assertEqual(self.by_ref["FA2602-0001"].issued, date(2026, 2, 27))
		# Summer time: 30 May 00:00 CEST is 29 May 22:00 UTC
		self.assertEqual(self.by_ref["FA2603-0002"].due, date(2026, 5, 30))
		self.assertEqual(self.by_ref["FA2603-0002"].issued, date(2026, 3, 31))
		# "30 days end of month" as Dolibarr computed it
		self.assertEqual(self.by_ref["FA2604-0005"].due, date(2026, 5, 31))
		self.assertEqual(self.by_ref["FA2606-0015"].due, date(2026, 6, 19))

	def test_customers(self):
		c = self.customers
		self.assertEqual(
			(c["1"].name, c["1"].kind, c["1"].regime, c["1"].language, c["1"].email),
			("Boulangerie Martin SARL", BUSINESS, "FR", "fr-FR", "compta@boulangerie-martin.fr"),
		)
		self.assertEqual(c["1"].address, ("12 rue du Four", "69002 Lyon"))
		self.assertEqual(c["1"].phone, "0478000001")
		# typent "Particulier" is a consumer
		self.assertEqual((c["9"].name, c["9"].kind, c["9"].regime), ("Jean Lambert", CONSUMER, "FR"))
		# Canada + Québec, fr_CA
		self.assertEqual(
			(c["10"].name, c["10"].regime, c["10"].language, c["10"].kind),
			("Érablière Tremblay inc.", "QC", "fr-CA", BUSINESS),
		)
		# en_US
		self.assertEqual(
			(c["11"].name, c["11"].language, c["11"].regime), ("Northwind Trading Ltd", "en", "FR")
		)
		# The account the letters print: the customer code, not Dolibarr's row id
		for cid, customer in c.items():
			self.assertEqual(customer.reference, f"CU2611-{int(cid):05d}")
		# The language an invoice's PDF is built in: the third party's own
		self.assertEqual(
			(self.src.langcodes["1"], self.src.langcodes["10"], self.src.langcodes["11"]),
			("fr_FR", "fr_CA", "en_US"),
		)
		# The contact named on the invoice wins over the third party's own address
		self.assertEqual(c["3"].email, "comptabilite@transports-moreau.fr")
		# No e-mail on the third party: its contact's
		self.assertEqual(c["12"].email, "paul.dubois@dubois-conseil.fr")
		# None at all
		self.assertEqual(c["5"].email, "")
		self.assertEqual(c["5"].phone, "0320000045")
		# One bulk call for the contacts of the three customers that need them, one per province
		contacts = self.requests_to("/contacts")
		self.assertEqual([r["query"]["thirdparty_ids"] for r in contacts], ["3,5,12"])
		# The provinces of the Canadian third parties, and the name of their country, in one request
		# each (Dolibarr 20 sends a state_id, a country_code, and no country name)
		states = self.requests_to("/setup/dictionary/states")
		self.assertEqual([r["query"]["sqlfilters"] for r in states], ["(t.rowid:in:177,178)"])
		countries = self.requests_to("/setup/dictionary/countries")
		self.assertEqual(
			sorted((r["query"]["sqlfilters"], r["query"]["lang"]) for r in countries),
			[("(t.rowid:in:14)", "en_US"), ("(t.rowid:in:14)", "fr_CA")],
		)
		self.assertEqual(self.requests_to("/setup/dictionary/states/178"), [])
		# A Québec customer's letters: the province's code on the town's line, then the country
		self.assertEqual(c["10"].address[-2:], ("Saint-Lambert-de-Lauzon QC  G0S 2J0", "CANADA"))

	def test_pagination(self):
		pages = [r["query"] for r in self.requests_to("/invoices")]
		self.assertEqual([(q["limit"], q["page"]) for q in pages], [("5", "0"), ("5", "1"), ("5", "2")])
		self.assertTrue(all(q["status"] == "unpaid" and q["sortfield"] == "t.rowid" for q in pages))
		parties = [r["query"] for r in self.requests_to("/thirdparties")]
		self.assertEqual([q["page"] for q in parties], ["0", "1", "2"])
		self.assertEqual(parties[0]["sqlfilters"], "(t.rowid:in:1,2,3,4,5,6,7,8,9,10,11,12,13)")
		# Third parties are never read one by one when the filtered list has them all
		self.assertFalse(
			[r for r in self.server.requests if r["path"].startswith("/api/index.php/thirdparties/")]
		)
		# The key goes in the header, never in the URL
		self.assertTrue(all(r["key"] == KEY for r in self.server.requests))
		self.assertFalse([r for r in self.server.requests if KEY in json.dumps(r["query"])])

	def test_plan_from_dolibarr(self):
		result = plan(AS_OF, self.customers, self.invoices, self.history, BUILTIN_SCENARIOS, RATES, BY_DUE)
		self.assertEqual(result.errors, ())
		got = {(a.customer, a.step, a.invoices[0]) for a in result.actions}
		self.assertEqual(got, EXPECTED_ACTIONS)
		skipped = {s.invoice: s.reason for s in result.skipped}
		self.assertEqual(skipped["FA2605-0012"], "not_yet_due")
		self.assertEqual(skipped["FA2606-0015"], "not_yet_due")
		self.assertEqual(skipped["FA2604-0006"], "unknown_customer")
		martin = next(a for a in result.actions if a.customer == "1")
		self.assertEqual((martin.outstanding, martin.indemnity), (Decimal("1440.00"), Decimal("40.00")))
		self.assertTrue(martin.formal_notice)
		lambert = next(a for a in result.actions if a.customer == "9")
		self.assertEqual((lambert.interest, lambert.indemnity), (Decimal("0"), Decimal("0")))


class RecordTest(DolibarrTestCase):
	"""Each step written back as an agenda event, and idempotence from what is in Dolibarr."""

	def _plan(self, src):
		customers, invoices, history = src.load_book(AS_OF)
		return plan(AS_OF, customers, invoices, history, BUILTIN_SCENARIOS, RATES, BY_DUE), history

	def test_record_posts_one_event_per_invoice_line(self):
		src = self.source()
		result, _ = self._plan(src)
		self.assertEqual(len(result.actions), 11)
		self.server.requests = []
		recorded = src.record_actions(result.actions, AS_OF)
		self.assertEqual((recorded.recorded, recorded.already), (11, 0))
		posts = self.requests_to("/agendaevents", "POST")
		self.assertEqual(len(posts), 11)
		# Byte for byte what the connector sent to the real Dolibarr when the answers were recorded
		recorded_bodies = {
			r["json_match"]["fk_element"]: r["request_json"]
			for r in ROUTES["routes"]
			if r["method"] == "POST" and r["path"].endswith("/agendaevents")
		}
		postal = set()
		for post in posts:
			body = dict(post["json"])
			# Since then, a letter's event says that its copy is still to be added to the invoice
			if body["note_private"].endswith(" letter=pending"):
				postal.add(body["fk_element"])
				body["note_private"] = body["note_private"].removesuffix(" letter=pending")
			self.assertEqual(body, recorded_bodies[post["json"]["fk_element"]])
		letters = {
			IDS[line.invoice]
			for action in result.actions
			if action.channel in ("letter", "registered_letter")
			for line in action.lines
		}
		self.assertEqual(postal, letters)
		self.assertEqual(len(postal), 2)
		martin = next(p["json"] for p in posts if p["json"]["fk_element"] == IDS["FA2604-0003"])
		self.assertEqual(
			martin["label"], "relance:mise_en_demeure FA2604-0003 – Dernier avis – mise en demeure"
		)
		self.assertEqual(martin["code"], "RELANCE")
		self.assertEqual((martin["elementtype"], martin["socid"], martin["userownerid"]), ("invoice", 1, 1))
		self.assertEqual(martin["percentage"], 0)  # planned: "to do"
		self.assertIn("formal_notice=1", martin["note_private"])
		# The whole of 15 June in Paris
		paris = ZoneInfo("Europe/Paris")
		self.assertEqual(datetime.fromtimestamp(martin["datep"], paris), datetime(2026, 6, 15, tzinfo=paris))
		self.assertEqual(martin["fulldayevent"], 1)
		call = next(p["json"] for p in posts if p["json"]["fk_element"] == IDS["FA2604-0005"])
		self.assertEqual(call["type_code"], "AC_TEL")
		# Before writing, what Dolibarr already has for these invoices was read (nothing yet)
		self.assertTrue(self.requests_to("/agendaevents"))

	def test_recorded_events_make_the_planner_skip(self):
		self.server.reset("recorded")
		src = self.source()
		result, history = self._plan(src)
		self.assertEqual(len(history), 11)
		self.assertEqual({(h.customer, h.step, h.invoice) for h in history}, EXPECTED_ACTIONS)
		self.assertTrue(all(h.day == AS_OF and h.status == PLANNED for h in history))
		notices = {h.invoice for h in history if h.formal_notice}
		self.assertEqual(notices, {"FA2604-0003", "FA2602-0001"})
		self.assertEqual({h.channel for h in history if h.step == "appel"}, {"phone"})
		# The second plan of the day plans nothing
		self.assertEqual(result.actions, ())
		skipped = {s.invoice: s for s in result.skipped}
		self.assertEqual(skipped["FA2604-0003"].reason, "step_done_today")
		# The agenda events were read in pages too (11 events, 5 a page)
		pages = [r["query"]["page"] for r in self.requests_to("/agendaevents")]
		self.assertEqual(pages, ["0", "1", "2"])

	def test_recording_again_writes_nothing(self):
		self.server.reset("recorded")
		src = self.source()
		customers, invoices, _ = src.load_book(AS_OF)
		# A plan made without the history (as a stale copy would be) still cannot repeat a step
		stale = plan(AS_OF, customers, invoices, [], BUILTIN_SCENARIOS, RATES, BY_DUE)
		self.assertEqual(len(stale.actions), 11)
		result = src.record_actions(stale.actions, AS_OF)
		self.assertEqual((result.recorded, result.already), (0, 11))
		self.assertEqual(self.requests_to("/agendaevents", "POST"), [])

	def test_record_without_load_book_finds_the_invoice_by_ref(self):
		customers, invoices, _ = self.source().load_book(AS_OF)
		action = next(
			a
			for a in plan(AS_OF, customers, invoices, [], BUILTIN_SCENARIOS, RATES, BY_DUE).actions
			if a.invoices == ("FA2604-0003",)
		)
		# A source that has not loaded the book (e.g. recording a saved plan) looks the invoice up by
		# its ref, then finds the step already in Dolibarr
		self.server.reset("recorded")
		result = self.source().record_action(action, AS_OF)
		self.assertEqual((result.recorded, result.already), (0, 1))
		self.assertEqual(len(self.requests_to("/invoices/ref/FA2604-0003")), 1)
		history = self.requests_to("/agendaevents")
		self.assertEqual(len(history), 1)
		self.assertTrue(history[0]["query"]["sqlfilters"].endswith("(t.fk_element:in:3)"))
		self.assertEqual(self.requests_to("/agendaevents", "POST"), [])

	def test_status_must_be_recordable(self):
		self.assertError(
			lambda: self.source().record_actions([], AS_OF, status="bogus"), "cannot be recorded"
		)
		self.assertError(
			lambda: self.source().set_status("FA2605-0009", "rappel_courtois", "bogus"), "cannot be recorded"
		)

	def test_event_statuses_from_progress(self):
		src = self.source()
		events = _raw("get_agendaevents_history_b3821b_p0_200_cron_recorded.json")
		refs = {str(i): ref for ref, i in IDS.items()}
		percentages = {"0": PLANNED, "50": PLANNED, "-1": SENT, "100": DONE}
		for percent, status in percentages.items():
			entry = src._entry({**events[0], "percentage": percent}, refs)
			self.assertEqual(entry.status, status)
		# An event edited in Dolibarr (its type changed, so its code reset) is still recognised by its label
		entry = src._entry({**events[0], "code": "AC_RDV"}, refs)
		self.assertEqual(entry.step, events[0]["label"].split()[0].split(":")[1])

	def test_dolibarr_reminder_events_are_not_relance_history(self):
		src = self.source()
		event = _raw("get_agendaevents_reminders_200_cron.json")[0]
		self.assertTrue(event["label"].startswith("sendEmailsRemindersOnInvoiceDueDateOK"))
		self.assertIsNone(src._entry(event, {"8": "FA2605-0008"}))


class SendStatusTest(DolibarrTestCase):
	"""`relance run --send`: an email's event goes planned -> unknown -> sent (or failed), in Dolibarr.

	States "send", "sent", "send_down" and "retry" hold the agenda answers recorded while the command
	ran against the real Dolibarr (see routes.json)."""

	def _email_action(self, src, invoice: str):
		customers, invoices, history = src.load_book(AS_OF)
		result = plan(AS_OF, customers, invoices, history, BUILTIN_SCENARIOS, RATES, BY_DUE)
		return next(a for a in result.actions if a.invoices == (invoice,))

	def test_unknown_then_sent(self):
		self.server.reset("send")
		src = self.source()
		action = self._email_action(src, "FA2605-0009")
		self.assertEqual(action.channel, "email")
		self.assertEqual(src.record_actions([action], AS_OF).recorded, 1)
		[post] = self.requests_to("/agendaevents", "POST")
		event_id = json.loads((DATA / "post_agendaevents_fk9_200_send.json").read_text(encoding="utf-8"))
		src.set_status("FA2605-0009", "rappel_courtois", UNKNOWN, "being sent")
		detail = "sent to accounts@northwind.example, <1795.42@atelier-lumiere.example>"
		src.set_status("FA2605-0009", "rappel_courtois", SENT, detail)
		unknown, sent = (r["json"] for r in self.requests_to(f"/agendaevents/{event_id}", "PUT"))
		label = "relance:rappel_courtois FA2605-0009 – Rappel courtois"
		self.assertEqual(post["json"]["label"], label)
		# Unknown: still "to do" (a person must check), and the label says so in the agenda
		self.assertEqual(unknown["percentage"], 0)
		self.assertEqual(unknown["label"], label + " (envoi incertain : à vérifier)")
		self.assertIn("Envoi : being sent\nrelance-data:", unknown["note_private"])
		self.assertTrue(unknown["note_private"].endswith("invoice=FA2605-0009 status=unknown"))
		# Sent: "not applicable", the label back as written, the recipient and Message-ID in the note
		# (without angle brackets, which Dolibarr would take for HTML), the relance-data line last
		self.assertEqual((sent["percentage"], sent["label"], sent["userownerid"]), (-1, label, 1))
		note = sent["note_private"]
		self.assertEqual(note.count("Envoi :"), 1)
		self.assertIn(
			"\nEnvoi : sent to accounts@northwind.example, 1795.42@atelier-lumiere.example\nrelance-data:",
			note,
		)
		self.assertTrue(note.endswith("invoice=FA2605-0009 status=sent"))
		self.assertEqual(note.split("\nEnvoi")[0], post["json"]["note_private"].split("\nrelance-data")[0])

	def test_an_event_neither_read_nor_written_cannot_be_moved(self):
		self.assertError(
			lambda: self.source().set_status("FA2605-0009", "rappel_courtois", SENT), "no agenda event"
		)
		self.assertEqual(self.requests_to("/agendaevents/42", "PUT"), [])

	def test_statuses_read_back_from_dolibarr(self):
		emails = {"FA2605-0009", "FA2605-0013", "FA2605-0008", "FA2605-0010", "FA2605-0011", "FA2605-0007"}
		# After a run whose emails went out: sent (-1 and status=sent), the rest planned; nothing to do
		self.server.reset("sent")
		customers, invoices, history = self.source().load_book(AS_OF)
		self.assertEqual({h.invoice: h.status for h in history if h.status == SENT}.keys(), emails)
		self.assertEqual({h.status for h in history if h.invoice not in emails}, {PLANNED})
		self.assertEqual(
			plan(AS_OF, customers, invoices, history, BUILTIN_SCENARIOS, RATES, BY_DUE).actions, ()
		)
		# After a run with the mail server down: the emails' events say failed (-1, status=failed),
		# which does not count as done: the next plan has the same 6 emails again, and nothing else
		self.server.reset("retry")
		customers, invoices, history = self.source().load_book(AS_OF)
		self.assertEqual({h.invoice for h in history if h.status == FAILED}, emails)
		result = plan(AS_OF, customers, invoices, history, BUILTIN_SCENARIOS, RATES, BY_DUE)
		self.assertEqual({a.invoices[0] for a in result.actions}, emails)

	def test_status_from_the_note_and_done_from_a_person(self):
		src = self.source()
		event = _raw("put_agendaevents_42_unknown_200_send.json")
		refs = {"9": "FA2605-0009"}
		self.assertEqual(src._entry(event, refs).status, UNKNOWN)
		self.assertEqual(src._entry({**event, "percentage": "-1"}, refs).status, UNKNOWN)
		failed = _raw("put_agendaevents_42_failed_200_send_down.json")
		self.assertEqual(src._entry(failed, refs).status, FAILED)
		# Marked done by a person in Dolibarr (100 %): done, whatever relance wrote
		self.assertEqual(src._entry({**failed, "percentage": "100"}, refs).status, DONE)


def recorded_upload(ref: str, phase: str) -> dict:
	"""The body relance sent to POST /documents/upload for an invoice, as recorded in a capture phase."""
	return next(
		r["request_json"]
		for r in ROUTES["routes"]
		if r["path"].endswith("/documents/upload")
		and r["json_match"]["ref"] == ref
		and phase in r["recorded_in"]
	)


class AttachLetterTest(DolibarrTestCase):
	"""A letter added to an invoice's documents (POST /documents/upload), as the real Dolibarr took it.

	States "letters" (PDF), "letters_html" (no PDF renderer) and "letters_refused" (the documents API
	left out of API_ENDPOINT_RULES) were recorded while `relance run --source dolibarr` ran."""

	def test_upload_by_invoice_ref(self):
		self.server.reset("letters_html")
		sent = recorded_upload("FA2604-0003", "letters_html")
		content = base64.b64decode(sent["filecontent"])
		src = self.source()
		name = src.attach_to_invoice("FA2604-0003", "relance-2026-06-15-mise_en_demeure.html", content)
		self.assertEqual(name, "relance-2026-06-15-mise_en_demeure.html")
		[post] = self.requests_to("/documents/upload", "POST")
		# The parameters of Dolibarr 20's Documents::post(): the invoice by its ref, the content in base64,
		# and never over a file already there
		self.assertEqual(
			{k: v for k, v in post["json"].items() if k != "filecontent"},
			{
				"filename": "relance-2026-06-15-mise_en_demeure.html",
				"modulepart": "facture",
				"ref": "FA2604-0003",
				"fileencoding": "base64",
				"overwriteifexists": 0,
			},
		)
		self.assertEqual(base64.b64decode(post["json"]["filecontent"]), content)
		self.assertEqual(post["json"], sent)
		self.assertEqual(post["key"], KEY)

	def test_a_refused_upload_is_an_error_naming_the_call(self):
		self.server.reset("letters_refused")
		self.assertError(
			lambda: self.source().attach_to_invoice(
				"FA2604-0003", "relance-2026-06-15-mise_en_demeure.pdf", b"%PDF"
			),
			"POST /api/index.php/documents/upload",
			"HTTP 501",
			"forbidden by config API_ENDPOINT_RULES",
			status=501,
		)

	def test_only_the_events_written_by_this_source_are_new(self):
		src = self.source()
		customers, invoices, history = src.load_book(AS_OF)
		result = plan(AS_OF, customers, invoices, history, BUILTIN_SCENARIOS, RATES, BY_DUE)
		self.assertEqual(src.written, set())
		src.record_actions(result.actions, AS_OF)
		self.assertEqual(src.written, {(a.invoices[0], a.step) for a in result.actions})
		# Recorded by an earlier run: nothing written, nothing new (no letter to attach)
		self.server.reset("recorded")
		again = self.source()
		again.load_book(AS_OF)
		self.assertEqual(again.record_actions(result.actions, AS_OF).recorded, 0)
		self.assertEqual(again.written, set())

	def test_what_dolibarr_listed_after_the_uploads(self):
		# GET /documents on the real Dolibarr after the run: the letter is among the invoice's documents,
		# linked to it, of the size sent
		for ref, invoice_id in (("FA2604-0003", 3), ("FA2602-0001", 1)):
			[listed] = _raw(f"get_documents_{ref}_200_letters.json")
			sent = recorded_upload(ref, "letters")
			self.assertEqual(listed["name"], sent["filename"])
			self.assertEqual(listed["name"], "relance-2026-06-15-mise_en_demeure.pdf")
			self.assertEqual(listed["size"], len(base64.b64decode(sent["filecontent"])))
			self.assertEqual(
				(listed["src_object_type"], listed["src_object_id"]), ("facture", str(invoice_id))
			)
			self.assertEqual(listed["level1name"], ref)
		# An HTML page is kept by Dolibarr under another name (".noexe": its guard against pages served
		# from the documents folder), unlinked from the invoice's file index: the PDF is what to install
		[listed] = _raw("get_documents_FA2604-0003_200_letters_html.json")
		self.assertEqual(listed["name"], "relance-2026-06-15-mise_en_demeure.html.noexe")


class CheckTest(DolibarrTestCase):
	def test_check_fresh(self):
		result = self.source().check()
		self.assertEqual(result.version, "20.0.2")
		self.assertEqual(result.timezone, "Europe/Paris")
		self.assertEqual((result.user, result.admin), ("admin", True))
		self.assertIn("agenda", result.modules)
		self.assertEqual(result.warnings, ())

	def test_check_warns_about_dolibarrs_own_reminder_job(self):
		self.server.reset("cron")
		result = self.source().check()
		self.assertIn("cron", result.modules)
		self.assertEqual(len(result.warnings), 2)
		self.assertIn("SendEmailsRemindersOnInvoiceDueDate", result.warnings[0])
		self.assertIn("module Scheduled jobs (cron) is enabled", result.warnings[0])
		self.assertIn("has sent reminders (the last on 2026-11-23)", result.warnings[1])

	def test_check_refuses_a_dolibarr_without_agenda(self):
		self.server.reset("agenda_off")
		self.assertError(self.source().check, "/api/index.php/setup/modules", "Agenda (modAgenda)")

	def test_unsupported_version(self):
		# Synthetic: the recorded /status answer with only its version changed to 16.0.5
		status = _raw("get_status_200.json")
		status["success"]["dolibarr_version"] = "16.0.5"
		body = json.dumps(status).encode()
		self.server.overrides[("GET", "/api/index.php/status")] = lambda h: h._send(
			200, "OK", "application/json", body
		)
		self.assertError(self.source().check, "Dolibarr 16.0.5 is not supported", "17 or later")
		self.assertError(lambda: self.source().load_book(AS_OF), "/api/index.php/status", "16.0.5")


class ErrorTest(DolibarrTestCase):
	def test_wrong_key(self):
		wrong = "wrong-key-0123456789abcdef"
		exc = self.assertError(
			lambda: self.source(key=wrong).load_book(AS_OF),
			"/api/index.php/status",
			"refused (HTTP 401)",
			"Error user not valid",
			status=401,
			key=wrong,
		)
		self.assertNotIn(KEY, str(exc))
		self.assertEqual(self.server.requests[0]["key"], wrong)

	def test_connection_refused(self):
		url = f"http://127.0.0.1:{_free_port()}"
		self.assertError(
			lambda: DolibarrSource(url, KEY).load_book(AS_OF),
			url,
			"GET /api/index.php/status",
			"connection refused",
		)

	def test_bad_urls(self):
		for url in (
			"",
			"   ",
			"ftp://dolibarr.example",
			"javascript:alert(1)",
			"file:///etc/passwd",
			"dolibarr",
		):
			self.assertError(lambda url=url: DolibarrSource(url, KEY), "URL")
		exc = self.assertError(lambda: DolibarrSource("https://admin:s3cret@erp.example", KEY), "user name")
		self.assertNotIn("s3cret", str(exc))
		self.assertError(lambda: DolibarrSource("https://erp.example/?x=1", KEY), "query")
		self.assertError(lambda: DolibarrSource("http://erp.example:99999", KEY), "not a valid URL")

	def test_bad_keys(self):
		self.assertError(lambda: DolibarrSource(self.server.url, ""), "key is empty")
		self.assertError(lambda: DolibarrSource(self.server.url, "abc\r\nX-Evil: 1"), "control characters")

	def test_wrong_path_is_not_dolibarr(self):
		url = self.server.url + "/dolibarr"
		self.assertError(
			lambda: self.source(url=url).load_book(AS_OF),
			"GET /api/index.php/status",
			"not found (HTTP 404)",
			"the URL of Dolibarr",
			"The requested resource /dolibarr/api/index.php/status was not found",
			status=404,
		)

	def test_api_module_disabled(self):
		self.server.reset("api_off")
		self.assertError(
			self.source().check,
			"/api/index.php/status",
			"module API REST (modApi) is not enabled",
			"Le module Api doit être activé",
			status=200,
		)

	def test_agenda_module_disabled(self):
		# Dolibarr 20 still routes the API of a disabled module; its permissions are gone: 403
		self.server.reset("agenda_off")
		self.assertError(
			lambda: self.source().load_book(AS_OF),
			"GET /api/index.php/agendaevents",
			"forbidden (HTTP 403)",
			"Insufficient rights to read events",
			status=403,
		)

	def test_endpoint_refused_501(self):
		self.server.reset("endpoint_rules")
		self.assertError(
			lambda: self.source().load_book(AS_OF),
			"GET /api/index.php/agendaevents",
			"HTTP 501",
			"forbidden by config API_ENDPOINT_RULES",
			status=501,
		)

	def test_missing_api_501_and_missing_record_404(self):
		src = self.source()
		self.assertError(
			lambda: src.request("GET", "/nosuchapi"), "failed to include API file", "HTTP 501", status=501
		)
		self.assertError(
			lambda: src.request("GET", "/thirdparties/999"),
			"/api/index.php/thirdparties/999",
			"Thirdparty not found",
			status=404,
		)

	def test_database_down_is_said_so(self):
		# Recorded: Dolibarr with its MariaDB stopped answers its own error page (HTTP 202 from PHP's
		# built-in server); behind Apache or nginx the same page comes with a 500 (synthetic below)
		page = (DATA / "get_status_202_database_down.html").read_bytes()
		for status in (202, 500):
			with self.subTest(status=status):
				self.server.reset("database_down")
				if status == 500:
					self.server.overrides[("GET", "/api/index.php/status")] = lambda h: h._send(
						500, "Internal Server Error", "text/html; charset=UTF-8", page
					)
				exc = self.assertError(
					lambda: self.source().load_book(AS_OF),
					"/api/index.php/status",
					"cannot reach its database",
					"Failed to connect",
					status=status,
				)
				self.assertNotIn("is this the URL of Dolibarr", str(exc))

	def test_a_lost_connection_while_writing_cancels_the_communications_events(self):
		# Synthetic fault (the rest recorded): the second event of a two-invoice communication is never
		# answered; the first, written, is then cancelled, so that nothing of it stands
		src = self.source()
		customers, invoices, history = src.load_book(AS_OF)
		result = plan(AS_OF, customers, invoices, history, BUILTIN_SCENARIOS, RATES, BY_DUE)
		[action] = [a for a in result.actions if a.customer == "1"]
		second = action.lines[0]
		extra = replace(second, invoice="FA2605-0011", step="rappel_courtois")
		action = replace(action, lines=(second, extra))

		def lost(handler):
			body = handler.server.requests[-1]["json"]
			if body["fk_element"] == IDS["FA2605-0011"]:
				return None  # the connection closed without an answer
			return handler._send(200, "OK", "application/json", b"4242")

		self.server.overrides[("POST", "/api/index.php/agendaevents")] = lost
		# (no event yet for this pair of invoices: their history, asked for together, is empty)
		self.server.overrides[("GET", "/api/index.php/agendaevents")] = lambda h: h._send(
			200, "OK", "application/json", b"[]"
		)
		self.server.overrides[("PUT", "/api/index.php/agendaevents/4242")] = lambda h: h._send(
			200, "OK", "application/json", b'{"id": 4242}'
		)
		src.timeout = 1
		with self.assertRaises(DolibarrError) as caught:
			src.record_actions([action], AS_OF)
		message = str(caught.exception)
		self.assertIn("cannot connect", message)
		self.assertIn("FA2604-0003", message)
		self.assertIn("cancelled", message)
		[put] = [r for r in self.server.requests if r["method"] == "PUT"]
		self.assertEqual(put["json"]["percentage"], -1)
		self.assertIn("status=cancelled", put["json"]["note_private"])
		self.assertTrue(put["json"]["label"].endswith("(annulé)"))

	def test_malformed_json(self):
		# Synthetic: a recorded page cut in the middle, as a proxy or a PHP fatal error would leave it
		cut = (DATA / "get_invoices_unpaid_p0_200.json").read_bytes()[:5000]
		self.server.overrides[("GET", "/api/index.php/invoices")] = lambda h: h._send(
			200, "OK", "application/json", cut
		)
		self.assertError(
			lambda: self.source().load_book(AS_OF), "/api/index.php/invoices", "not JSON", status=200
		)

	def test_redirect_is_not_followed(self):
		# Synthetic: a redirection elsewhere; following it would send the key there
		self.server.overrides[("GET", "/api/index.php/status")] = lambda h: h._send(
			302, "Found", "text/html", b"", {"Location": "http://127.0.0.1:9/elsewhere"}
		)
		self.assertError(
			lambda: self.source().load_book(AS_OF), "redirected (HTTP 302)", "127.0.0.1:9/elsewhere"
		)
		self.assertEqual(len(self.server.requests), 1)

	def test_timeout(self):
		# Synthetic: an answer slower than the timeout
		def slow(handler):
			time.sleep(1.0)
			handler.send_file(next(r for r in ROUTES["routes"] if r["body"] == "get_status_200.json"))

		self.server.overrides[("GET", "/api/index.php/status")] = slow
		self.assertError(lambda: self.source(timeout=0.2).load_book(AS_OF), "no answer within 0.2 s")

	def test_filter_refused_falls_back_to_one_by_one(self):
		# Dolibarr's 400 for a filter it refuses (recorded for "(t.rowid:in:)"), served for the
		# connector's filter as a Dolibarr without the "in" operator would answer
		refused = next(r for r in ROUTES["routes"] if r["body"] == "get_thirdparties_bad_filter_p0_400.json")
		self.server.overrides[("GET", "/api/index.php/thirdparties")] = lambda h: h.send_file(refused)
		src = self.source()
		customers, _, _ = src.load_book(AS_OF)
		self.server.reset("fresh")
		expected, _, _ = self.source().load_book(AS_OF)
		self.assertEqual(customers, expected)
		self.assertEqual(len([w for w in src.warnings if "not supported" in w]), 1)

	def test_repr_and_warnings_never_hold_the_key(self):
		src = self.source()
		src.load_book(AS_OF)
		self.assertNotIn(KEY, repr(src))
		self.assertNotIn(KEY, " ".join(src.warnings))


class HelperTest(unittest.TestCase):
	def test_dates_whatever_the_server_zone(self):
		for zone in ("Europe/Paris", "America/Montreal", "UTC", "Pacific/Auckland", "Pacific/Honolulu"):
			midnight = datetime(2026, 5, 30, tzinfo=ZoneInfo(zone))
			self.assertEqual(date_from_timestamp(int(midnight.timestamp())), date(2026, 5, 30), zone)
			self.assertEqual(date_from_timestamp(str(int(midnight.timestamp()))), date(2026, 5, 30), zone)
		self.assertEqual(date_from_timestamp("2026-06-01 14:00:00"), date(2026, 6, 1))
		self.assertIsNone(date_from_timestamp(None))
		self.assertIsNone(date_from_timestamp(""))
		# An event at 00:30 on 16 June in Paris is on the 16th there, still the 15th in UTC
		early = int(datetime(2026, 6, 16, 0, 30, tzinfo=ZoneInfo("Europe/Paris")).timestamp())
		self.assertEqual(day_of_timestamp(early, ZoneInfo("Europe/Paris")), date(2026, 6, 16))
		self.assertEqual(day_of_timestamp(early, timezone.utc), date(2026, 6, 15))

	def test_languages(self):
		cases = {
			("fr_FR", "FR"): "fr-FR",
			("fr_CA", "QC"): "fr-CA",
			("fr_CA", "FR"): "fr-CA",
			("fr_BE", "FR"): "fr-FR",
			("en_US", "FR"): "en",
			("en_GB", "QC"): "en",
			("de_DE", "FR"): "en",
			("", "QC"): "fr-CA",
			(None, "FR"): "fr-FR",
		}
		for (lang, regime), expected in cases.items():
			self.assertEqual(language_of(lang, regime), expected, (lang, regime))

	def test_base_urls(self):
		self.assertEqual(normalize_base_url("http://127.0.0.1:8080/"), "http://127.0.0.1:8080")
		self.assertEqual(
			normalize_base_url("HTTPS://ERP.example/dolibarr/api/index.php/"), "https://erp.example/dolibarr"
		)
		self.assertEqual(normalize_base_url(" https://erp.example/htdocs "), "https://erp.example/htdocs")

	def test_versions(self):
		self.assertEqual(parse_version("20.0.2"), (20, 0))
		self.assertEqual(parse_version("17.0.0-beta"), (17, 0))
		with self.assertRaises(ValueError):
			parse_version("dev")


def recorded_answer(method: str, path: str, invoice: str, state: str = "invoice_pdf") -> dict:
	"""Dolibarr's recorded answer to a documents request for an invoice's PDF (download or builddoc)."""
	original = f"{invoice}/{invoice}.pdf"
	for route in ROUTES["routes"]:
		if route["method"] != method or route["path"] != f"/api/index.php/documents/{path}":
			continue
		asked = route["query"] if method == "GET" else route["json_match"]
		if asked.get("original_file") == original and state in route["recorded_in"]:
			return _raw(route["body"])
	raise KeyError((method, path, invoice, state))


class InvoicePdfTest(DolibarrTestCase):
	"""An invoice's PDF as the real Dolibarr gave it: read when it is there, built when it is not.

	State "invoice_pdf": FA2605-0008 had its PDF, FA2605-0009 had none (built, in en_US);
	"invoice_pdf_failed": the folder of FA2605-0009 blocked by a plain file, so building fails."""

	def test_a_pdf_dolibarr_has_is_read(self):
		self.server.reset("invoice_pdf")
		name, content, built = self.source().invoice_pdf("FA2605-0008", "fr_FR")
		self.assertEqual((name, built), ("FA2605-0008.pdf", False))
		self.assertTrue(content.startswith(b"%PDF-"))
		answer = recorded_answer("GET", "download", "FA2605-0008")
		self.assertEqual(content, base64.b64decode(answer["content"]))
		self.assertEqual(len(content), answer["filesize"])
		[get] = self.requests_to("/documents/download")
		# The parameters of Dolibarr 20's Documents::index(): the invoice's folder and file, named after its ref
		self.assertEqual(
			get["query"], {"modulepart": "facture", "original_file": "FA2605-0008/FA2605-0008.pdf"}
		)
		self.assertEqual(self.requests_to("/documents/builddoc", "PUT"), [])

	def test_a_missing_pdf_is_built_in_the_customers_language(self):
		self.server.reset("invoice_pdf")
		name, content, built = self.source().invoice_pdf("FA2605-0009", "en_US")
		self.assertEqual((name, built), ("FA2605-0009.pdf", True))
		self.assertTrue(content.startswith(b"%PDF-"))
		self.assertEqual(
			content, base64.b64decode(recorded_answer("PUT", "builddoc", "FA2605-0009")["content"])
		)
		self.assertEqual(len(self.requests_to("/documents/download")), 1)
		[put] = self.requests_to("/documents/builddoc", "PUT")
		# No template named: Dolibarr uses the invoice's own (its API never shows model_pdf), else its default
		self.assertEqual(
			put["json"],
			{
				"modulepart": "facture",
				"original_file": "FA2605-0009/FA2605-0009.pdf",
				"doctemplate": "",
				"langcode": "en_US",
			},
		)
		self.assertEqual(recorded_answer("PUT", "builddoc", "FA2605-0009")["langcode"], "en_US")

	def test_a_failed_build_is_an_error_in_dolibarrs_words_without_the_key(self):
		self.server.reset("invoice_pdf_failed")
		src = self.source()
		exc = self.assertError(
			lambda: src.invoice_pdf("FA2605-0009", "en_US"),
			"PUT /api/index.php/documents/builddoc",
			"Dolibarr could not build the PDF",
			"TCPDF ERROR",
			"Unable to create output file",
			status=200,
		)
		self.assertNotIn("is this the URL of Dolibarr", str(exc))

	def test_refused_downloads_are_not_built(self):
		# Synthetic: the documents API forbidden to this key (403): building would be refused too
		def forbidden(handler):
			handler._send(
				403, "Forbidden", "application/json", b'{"error": {"code": 403, "message": "Forbidden"}}'
			)

		self.server.overrides[("GET", "/api/index.php/documents/download")] = forbidden
		self.assertError(lambda: self.source().invoice_pdf("FA2605-0008"), "forbidden (HTTP 403)", status=403)
		self.assertEqual(self.requests_to("/documents/builddoc", "PUT"), [])

	def test_an_answer_that_is_not_a_pdf_is_refused(self):
		# Synthetic: a download answer whose content is not a PDF
		def not_pdf(handler):
			body = json.dumps(
				{"filename": "FA2605-0008.pdf", "content": base64.b64encode(b"<html>").decode()}
			)
			handler._send(200, "OK", "application/json", body.encode())

		self.server.overrides[("GET", "/api/index.php/documents/download")] = not_pdf
		self.assertError(lambda: self.source().invoice_pdf("FA2605-0008"), "is not a PDF")


if __name__ == "__main__":
	unittest.main()
