"""Dolibarr as a source, over its REST API (Dolibarr 17 or later, module "API REST" enabled).

``DolibarrSource.load_book(as_of)`` reads the open customer invoices, their payments, the third
parties and their contacts, and the follow-up history, into core objects; ``record_action`` writes
each step done back into Dolibarr as an agenda event, ``attach_to_invoice`` adds a letter to an
invoice's documents (``POST /documents/upload``), and ``invoice_pdf`` reads an invoice's PDF to attach
it to a reminder email (``GET /documents/download``), having Dolibarr build it first when it has none
(``PUT /documents/builddoc``, as its own "Generate" button does). Nothing else in Dolibarr is ever
changed.

What is read, and how (every list is paginated; nothing is read one row at a time except the
payments of partly paid invoices, which Dolibarr only lists per invoice):

- ``GET /invoices?status=unpaid`` -- validated, unpaid invoices (Dolibarr status 1); credit notes are
  left out. The invoice ``ref`` is the invoice id, ``socid`` the customer id, ``date_lim_reglement``
  the due date. Dolibarr's own ``remaintopay`` is authoritative for what is still owed: the dated
  payments come from ``GET /invoices/{id}/payments``, and whatever else Dolibarr took off (credit
  notes, deposits used) is counted as paid on the invoice date.
- ``GET /thirdparties?sqlfilters=(t.rowid:in:...)`` (``GET /thirdparties/{id}`` for any left out),
  ``GET /setup/dictionary/states`` and ``/countries`` filtered on the ids the third parties name (the
  Canadian provinces; the countries' names in the letters' languages: Dolibarr 20 sends neither),
  ``GET /contacts?thirdparty_ids=...`` for an e-mail address when the invoice names a contact or the
  third party has none.
- An invoice in another currency (module Multicurrency) is followed up in that currency: its total is
  ``multicurrency_total_ttc``, and the amounts taken off (which the API gives in the main currency
  only) are converted at the invoice's ``multicurrency_tx``.
- ``GET /agendaevents`` filtered on the events relance wrote: the follow-up history, so that what is
  in Dolibarr decides what was already done (an event for an invoice and a step is never repeated).

An event written by relance is linked to the invoice (``elementtype`` invoice, ``fk_element``) and
to the third party; its ``code`` is ``RELANCE`` and its label starts with ``relance:<step>``, then the
invoice ref and the step's name. Its progress says its status: 0 % (to do) is ``planned``, "not
applicable" (-1) is ``sent``, 100 % is ``done``; all three count as done for the planner. An email
being sent (``relance run --send``) is ``unknown`` until the mail server accepts it (0 %, label
ending "envoi incertain"), then ``sent``, or ``failed`` (-1, label ending "échec de l'envoi": the
event stays as the trace of the attempt, and the next run writes a new one and tries again); these
three are told apart by ``status=`` in the event's note (``relance-data:`` line), 100 % always
meaning ``done``. To let a step be planned again, delete its event in Dolibarr.

Dates: Dolibarr sends dates as Unix timestamps of midnight in the server's time zone (a due date of
30 May in Paris is 29 May 22:00 UTC). A date-only field is read as the calendar day whose midnight
is nearest to the timestamp, which is right for any server time zone from UTC-12 to UTC+12; event
times are read in the server's time zone (``/status`` gives it), else in UTC.

Errors are ``DolibarrError``: the message names the Dolibarr URL and the API path, never the key.
"""

from __future__ import annotations

import base64
import html
import json as _json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import requests

from relance_erpnext.connectors.hosts import valid_host
from relance_erpnext.connectors.journal import RecordResult
from relance_erpnext.dunning.models import (
	BUSINESS,
	CANCELLED,
	CONSUMER,
	DONE,
	DONE_STATUSES,
	FAILED,
	PLANNED,
	POSTAL_CHANNELS,
	REGIME_FR,
	REGIME_QC,
	SENT,
	UNKNOWN,
	ZERO,
	Action,
	Credit,
	Customer,
	HistoryEntry,
	Instalment,
	Invoice,
	Payment,
)
from relance_erpnext.dunning.money import round_money
from relance_erpnext.dunning.outcomes import OUTCOMES, ManualEntry
from relance_erpnext.i18n import Text

API_PATH = "/api/index.php"
MIN_VERSION = (17, 0)
DEFAULT_TIMEOUT = 30.0
DEFAULT_PAGE_SIZE = 100
# Ids per filtered request (they go into the query string)
ID_CHUNK = 100
MAX_PAGES = 100_000

EVENT_CODE = "RELANCE"
LABEL_PREFIX = "relance:"
# Agenda event types: a call to make shows as a phone call, everything else as "other"
EVENT_TYPE = "AC_OTH"
EVENT_TYPE_PHONE = "AC_TEL"
# Event progress (Dolibarr's "percentage") for each status relance writes: 0 "to do", -1 "not
# applicable", 100 "done". An email that may have gone out (unknown) is a thing to check: "to do"
STATUS_PERCENT = {PLANNED: 0, SENT: -1, DONE: 100, UNKNOWN: 0, FAILED: -1, CANCELLED: -1}
# Statuses the progress alone cannot tell: read from the event's note ("relance-data: ... status=")
NOTE_STATUSES = (UNKNOWN, FAILED, CANCELLED)
# What the event's label says after its name, for a status a person must see in the agenda
STATUS_SUFFIX = {
	UNKNOWN: " (envoi incertain : à vérifier)",
	FAILED: " (échec de l'envoi)",
	CANCELLED: " (annulé)",
}
LABEL_MAX = 128  # Dolibarr's llx_actioncomm.label
# The event of a letter says whether its copy is among the invoice's documents: letter=pending until
# it is, then letter=<file name>
LETTER_KEY = "letter"
LETTER_PENDING = "pending"
_LETTER_RE = re.compile(rf"(relance-data:[^<\r\n]*\b{LETTER_KEY}=)\S*")

# Dolibarr invoice types: 0 standard, 1 replacement, 2 credit note, 3 deposit, 5 situation
CREDIT_NOTE = 2
CONSUMER_TYPENT = "TE_PRIVATE"

# Dolibarr's own invoice reminder (module Scheduled jobs, job SendEmailsRemindersOnInvoiceDueDate)
# writes an agenda event labelled like this for every reminder it sends
DOLIBARR_REMINDER_LABEL = "sendEmailsRemindersOnInvoiceDueDateOK"
DOLIBARR_REMINDER_JOB = "SendEmailsRemindersOnInvoiceDueDate"
# Dolibarr module names (as /setup/modules lists them) relance needs, with their names in the UI
REQUIRED_MODULES = {"facture": "Invoices (modFacture)", "societe": "Third parties (modSociete)"}
HISTORY_MODULE = ("agenda", "Agenda (modAgenda)")

_STEP_RE = re.compile(r"^\s*relance:([a-z0-9][a-z0-9_-]{0,62})(?:\s+(\S+))?", re.IGNORECASE)
_DATA_RE = re.compile(r"relance-data:([^<\r\n]*)")
_NOTE_STATUS_RE = re.compile(r"(relance-data:[^<\r\n]*\bstatus=)[a-z]*")
_SEND_LINE_RE = re.compile(r"^Envoi : .*(?:\r?\n|<br\s*/?>)?", re.MULTILINE)
_VERSION_RE = re.compile(r"^\s*(\d+)\.(\d+)")
_TAG_RE = re.compile(r"<[^>]+>")
_HIDDEN_RE = re.compile(r"<(style|script|head)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_API_OFF_RE = re.compile(r"\bmodule\s+api\b", re.IGNORECASE)
_USERINFO_RE = re.compile(r"//[^/?#]*@")
# Dolibarr's own error page (dol_print_error), which it prints whatever the HTTP status
_DOLIBARR_ERROR_RE = re.compile(r"DolibarrHasDetectedError|InformationToHelpDiagnose")
# What it says when it cannot connect to its database (conf.php's host, port, user, database name)
_DATABASE_DOWN_RE = re.compile(
	r"failed to connect|databasename=|can't connect|cannot connect|connection refused|no such file or"
	r" directory|server has gone away|too many connections|access denied for user",
	re.IGNORECASE,
)
# The characters Dolibarr's dol_sanitizeFileName replaces in an invoice's ref to name its folder and PDF
_FILE_UNSAFE_RE = re.compile(r"[<>/\\?*|\":°$;`]")
# Dolibarr's language codes for the letter languages, when the third party has none of its own
LANGCODES = {"fr-FR": "fr_FR", "fr-CA": "fr_CA", "en": "en_US"}


class DolibarrError(Exception):
	"""Dolibarr cannot be used as asked. The message names the URL and path, never the API key."""

	def __init__(self, message: str, path: str = "", status: int | None = None, detail: str = ""):
		super().__init__(message)
		self.path = path
		self.status = status
		self.detail = detail  # what Dolibarr said, when its answer was not the JSON expected


@dataclass(frozen=True, slots=True)
class DolibarrCheck:
	"""What ``check()`` found: the version, the API user, the enabled modules, and any warnings."""

	version: str
	timezone: str
	user: str
	admin: bool
	modules: tuple[str, ...]
	warnings: tuple[str, ...]


def normalize_base_url(base_url: str) -> str:
	"""The Dolibarr root URL (``https://host/dolibarr``), from that or from its ``.../api/index.php``.

	Only http and https; no user name or password in the URL (the API key goes in a header), no query.
	"""
	if not isinstance(base_url, str) or not base_url.strip():
		raise DolibarrError(Text("the Dolibarr URL is empty"))
	text = base_url.strip()
	shown = repr(_USERINFO_RE.sub("//***@", text))  # never a password written into the URL
	if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
		# urlsplit would silently drop a tab or a line break inside the host name
		raise DolibarrError(
			Text("{shown}: the Dolibarr URL must not contain spaces or control characters", shown=shown)
		)
	try:
		parts = urlsplit(text)
		port = parts.port
	except ValueError as exc:
		raise DolibarrError(
			Text(
				"{shown} is not a valid URL ({error})",
				shown=shown,
				error=_USERINFO_RE.sub("//***@", str(exc)),
			)
		)
	if parts.scheme.lower() not in ("http", "https"):
		raise DolibarrError(
			Text("{shown}: the Dolibarr URL must start with http:// or https://", shown=shown)
		)
	if not parts.hostname:
		raise DolibarrError(Text("{shown}: the Dolibarr URL has no host name", shown=shown))
	if not valid_host(parts.hostname):
		raise DolibarrError(
			Text(
				"{shown}: {hostname!r} is not a host name or an IP address",
				shown=shown,
				hostname=parts.hostname,
			)
		)
	if port == 0:
		raise DolibarrError(Text("{shown}: port 0 is not a port", shown=shown))
	if parts.username is not None or parts.password is not None:
		raise DolibarrError(
			Text("the Dolibarr URL must not contain a user name or password; give the API key apart")
		)
	if parts.query or parts.fragment:
		raise DolibarrError(
			Text(
				"{scheme}://{netloc}{path}: the Dolibarr URL must not have a query",
				scheme=parts.scheme,
				netloc=parts.netloc,
				path=parts.path,
			)
		)
	path = parts.path.rstrip("/")
	marker = path.lower().find(API_PATH)
	if marker >= 0:
		path = path[:marker]
	netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
	if port is not None:
		netloc = f"{netloc}:{port}"
	return urlunsplit((parts.scheme.lower(), netloc.lower(), path, "", ""))


def _said(exc: Exception):
	"""An error as a value of a message: its Text when it carries one, else its own text."""
	message = exc.args[0] if exc.args else ""
	return message if isinstance(message, Text) else str(exc)


def parse_version(text: str) -> tuple[int, int]:
	match = _VERSION_RE.match(str(text or ""))
	if not match:
		raise ValueError(Text("not a version: {text!r}", text=text))
	return int(match.group(1)), int(match.group(2))


def date_from_timestamp(value: Any) -> date | None:
	"""A Dolibarr date-only field (a timestamp of midnight in the server's zone) as a date.

	The day whose midnight UTC is nearest: right for any server zone from UTC-12 to UTC+12."""
	if value is None or value == "":
		return None
	if isinstance(value, str) and not re.fullmatch(r"\s*-?\d+\s*", value):
		# Some versions send "YYYY-MM-DD" or "YYYY-MM-DD HH:MM:SS"
		return date.fromisoformat(value.strip()[:10])
	stamp = int(value)
	return date(1970, 1, 1) + timedelta(days=(stamp + 43200) // 86400)


def day_of_timestamp(value: Any, zone: tzinfo) -> date | None:
	"""A Dolibarr date and time (a Unix timestamp) as the calendar day in the server's zone."""
	if value is None or value == "":
		return None
	if isinstance(value, str) and not re.fullmatch(r"\s*-?\d+\s*", value):
		return date.fromisoformat(value.strip()[:10])
	return datetime.fromtimestamp(int(value), zone).date()


def language_of(default_lang: str | None, regime: str) -> str:
	"""Dolibarr's ``default_lang`` (fr_FR, fr_CA, en_US...) as a letter language."""
	code = (default_lang or "").strip().replace("-", "_").lower()
	if not code:
		return "fr-CA" if regime == REGIME_QC else "fr-FR"
	if code == "fr_ca":
		return "fr-CA"
	if code.startswith("fr"):
		return "fr-FR"
	return "en"


def _decimal(value: Any, what: str) -> Decimal:
	if value is None or value == "":
		return ZERO
	try:
		amount = Decimal(str(value).strip())
	except InvalidOperation:
		raise ValueError(Text("{what} is not an amount: {value!r}", what=what, value=value))
	if not amount.is_finite():
		raise ValueError(Text("{what} is not an amount: {value!r}", what=what, value=value))
	return amount


def _event_data(event: dict) -> dict[str, str]:
	"""The ``relance-data:`` line of an event's note, as key=value pairs."""
	return dict(
		item.split("=", 1)
		for item in " ".join(_DATA_RE.findall(str(event.get("note_private") or ""))).split()
		if "=" in item
	)


@dataclass(frozen=True, slots=True)
class PendingLetter:
	"""A letter whose event relance wrote, and whose copy was not yet seen among the invoice's
	documents (the run that wrote it stopped before attaching it, or could not)."""

	invoice: str
	step: str
	day: date
	customer: str
	channel: str


def _wants_state(raw: dict) -> bool:
	"""A Canadian third party whose province Dolibarr names by its id only."""
	return str(raw.get("country_code") or "").upper() == "CA" and not raw.get("state_code")


def _chunks(items: list, size: int) -> Iterator[list]:
	for start in range(0, len(items), size):
		yield items[start : start + size]


class DolibarrSource:
	"""Open invoices, customers and follow-up history of one Dolibarr, over its REST API."""

	def __init__(
		self,
		base_url: str,
		api_key: str,
		session: requests.Session | None = None,
		timeout: float = DEFAULT_TIMEOUT,
		page_size: int = DEFAULT_PAGE_SIZE,
	):
		self.base_url = normalize_base_url(base_url)
		self.api_root = self.base_url + API_PATH
		if not isinstance(api_key, str) or not api_key.strip():
			raise DolibarrError(Text("the Dolibarr API key is empty"))
		if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in api_key.strip()):
			raise DolibarrError(Text("the Dolibarr API key must not contain spaces or control characters"))
		if not api_key.strip().isascii():
			# An HTTP header cannot carry it (and the failure would hold the key)
			raise DolibarrError(
				Text("the Dolibarr API key must be ASCII letters, digits and signs (no accents)")
			)
		self._key = api_key.strip()
		# Each character as itself or percent-encoded ("+" also as %2B or %2b)
		self._key_re = re.compile(
			"".join(
				f"(?:{re.escape(ch)}|{''.join(f'%{byte:02x}' for byte in ch.encode())})" for ch in self._key
			),
			re.IGNORECASE,
		)
		self.session = session or requests.Session()
		self.timeout = timeout
		if page_size < 1:
			raise DolibarrError(Text("page_size must be at least 1"))
		self.page_size = page_size
		self.version: str | None = None
		self.zone: tzinfo = timezone.utc
		self.zone_name = ""
		self.warnings: list[str] = []  # each a Text: said in the language of the person running relance
		# Invoice ref -> Dolibarr id (rowid), filled by load_book, used by record_action
		self.invoice_ids: dict[str, int] = {}
		# (invoice ref, step) -> the live event relance wrote (id, label, note, owner), for set_status
		self._live_events: dict[tuple[str, str], tuple[int, str, str, int]] = {}
		# (invoice ref, step) of every event this source wrote: only their letters are attached (a step
		# recorded by an earlier run had its letter attached then)
		self.written: set[tuple[str, str]] = set()
		# Third party id -> its language as Dolibarr names it (default_lang: fr_FR, en_US...), filled by
		# load_book: the language an invoice's PDF is built in
		self.langcodes: dict[str, str] = {}
		self._user: dict | None = None
		# Read by load_book: the letters whose copy is not known to be among their invoice's documents,
		# and the emails whose sending is uncertain (events "envoi incertain")
		self.letters_pending: list[PendingLetter] = []
		self.uncertain: list[HistoryEntry] = []
		# Third party id -> its name, for every third party read (those left out too): what a person
		# reads in place of Dolibarr's row id
		self.customer_names: dict[str, str] = {}
		# Invoice ref -> its currency, when it is not Dolibarr's main one (module Multicurrency): a
		# payment recorded from a bank statement is then given in that currency
		self.foreign_currency: dict[str, str] = {}
		# Filled by load_book: the credit notes not used yet, and the manual entries (`relance log`)
		self.credits: list[Credit] = []
		self.outcomes: list[ManualEntry] = []

	def __repr__(self) -> str:  # never the key
		return f"DolibarrSource({self.base_url!r})"

	# -----------------------------------------------------------------------------------------------
	# HTTP

	def _clean(self, text: str) -> str:
		"""The text without the key, as written or URL-encoded in any way (a server, or the address
		of a redirection, may echo it)."""
		return self._key_re.sub("***", str(text))

	def _cleaned(self, value):
		"""A message's value without the key: a Text's values cleaned one by one, anything else as
		its cleaned text (numbers and dates as they are)."""
		if isinstance(value, Text):
			return Text(value.template, **{name: self._cleaned(v) for name, v in value.args.items()})
		if isinstance(value, bool | int | float | Decimal | date):
			return value
		return self._clean(str(value))

	def _fail(
		self, method: str, path: str, reason, status: int | None = None, detail: str = ""
	) -> DolibarrError:
		message = Text(
			"Dolibarr at {url}: {method} {path}: {reason}",
			url=self.base_url,
			method=method,
			path=API_PATH + path,
			reason=reason,
		)
		return DolibarrError(self._cleaned(message), API_PATH + path, status, self._clean(detail))

	def request(
		self,
		method: str,
		path: str,
		params: dict | None = None,
		json: Any = None,
		empty_on_404: bool = False,
	) -> Any:
		"""One call to the API: the decoded JSON, or DolibarrError."""
		url = self.api_root + path
		headers = {"DOLAPIKEY": self._key, "Accept": "application/json"}
		try:
			resp = self.session.request(
				method,
				url,
				params=params,
				json=json,
				headers=headers,
				timeout=self.timeout,
				# A redirection is not followed: the key would go wherever it points
				allow_redirects=False,
			)
		except requests.Timeout:
			raise self._fail(method, path, Text("no answer within {timeout:g} s", timeout=self.timeout))
		except requests.exceptions.SSLError:
			raise self._fail(
				method, path, Text("TLS/SSL error (certificate not trusted, or not an https server)")
			)
		except requests.ConnectionError as exc:
			detail = str(exc).lower()
			if "refused" in detail:
				reason = Text("connection refused (is Dolibarr running at this address?)")
			elif "name or service not known" in detail or "nodename" in detail or "getaddrinfo" in detail:
				reason = Text("host name not found")
			else:
				reason = Text("cannot connect")
			raise self._fail(method, path, reason)
		except requests.RequestException as exc:
			raise self._fail(method, path, Text("request failed ({error})", error=type(exc).__name__))
		return self._decode(method, path, resp, empty_on_404)

	def _decode(self, method: str, path: str, resp: requests.Response, empty_on_404: bool) -> Any:
		status = resp.status_code
		body = resp.content or b""
		data: Any = None
		parsed = False
		try:
			data = _json.loads(body.decode("utf-8")) if body.strip() else None
			parsed = bool(body.strip())
		except ValueError:
			pass
		message = self._message(data, body)
		if not parsed and _DOLIBARR_ERROR_RE.search(body.decode("utf-8", "replace")):
			# Dolibarr's own error page (conf.lib: dol_print_error), whatever the HTTP status PHP gave it
			# (202 with PHP's built-in server, 500 behind Apache or nginx)
			said = self._dolibarr_error(body)
			if _DATABASE_DOWN_RE.search(said):
				reason = Text(
					"Dolibarr answers, but cannot reach its database (HTTP {status}: {said}); is the database"
					" server (MariaDB, MySQL or PostgreSQL) of Dolibarr running?",
					status=status,
					said=said,
				)
			else:
				reason = Text("Dolibarr reported an error (HTTP {status}): {said}", status=status, said=said)
			raise self._fail(method, path, reason, status, detail=said)
		if 200 <= status < 300:
			if not parsed:
				if _API_OFF_RE.search(message):
					reason = Text(
						"the module API REST (modApi) is not enabled in Dolibarr ({message})", message=message
					)
				else:
					ctype = resp.headers.get("Content-Type", "?")
					reason = Text(
						"the answer is not JSON (HTTP {status}, {ctype}: {message!r}); is this the URL of Dolibarr?",
						status=status,
						ctype=ctype,
						message=message,
					)
				raise self._fail(method, path, reason, status, detail=message)
			return data
		if 300 <= status < 400:
			where = resp.headers.get("Location", "?")
			raise self._fail(
				method,
				path,
				Text(
					"redirected (HTTP {status}) to {where}: give that address as the Dolibarr URL",
					status=status,
					where=where,
				),
				status,
			)
		if status == 401:
			raise self._fail(
				method,
				path,
				Text(
					"the API key was refused (HTTP 401): check the key and that its user is active ({message})",
					message=message,
				),
				status,
			)
		if status == 403:
			raise self._fail(
				method,
				path,
				Text(
					"forbidden (HTTP 403): the key's user lacks the permission, or the module is disabled ({message})",
					message=message,
				),
				status,
			)
		if status == 404:
			if empty_on_404 and isinstance(data, dict) and "not found" in message.lower():
				return []  # some Dolibarr lists answer 404 when nothing matches
			if not parsed:
				reason = Text(
					"not found (HTTP 404): is {url} the URL of Dolibarr? ({message})",
					url=self.base_url,
					message=message,
				)
			else:
				reason = Text("not found (HTTP 404): {message}", message=message)
			raise self._fail(method, path, reason, status)
		if status == 501:
			raise self._fail(
				method,
				path,
				Text(
					"this Dolibarr does not offer this API (HTTP 501: {message}); is the module enabled, and Dolibarr {minimum} or later?",
					message=message,
					minimum=MIN_VERSION[0],
				),
				status,
			)
		raise self._fail(
			method, path, Text("HTTP {status}: {message}", status=status, message=message), status
		)

	@staticmethod
	def _dolibarr_error(body: bytes) -> str:
		"""What Dolibarr's error page says: its "Message:" line (and the database's own error), else
		the page as text."""
		text = body.decode("utf-8", "replace")
		said = []
		for label in ("Message", "ReturnCodeLastAccessInError"):
			found = re.search(rf"<b>{label}:</b>(.*?)<br", text, re.IGNORECASE | re.DOTALL)
			if not found:
				continue
			value = " ".join(html.unescape(_TAG_RE.sub(" ", found.group(1))).split())
			if label == "Message" and value:
				said.append(value)
			elif label == "ReturnCodeLastAccessInError" and value and not value.startswith("ErrorNo"):
				said.append(f"database error {value}")
		if not said:
			said.append(" ".join(html.unescape(_TAG_RE.sub(" ", text)).split()))
		return "; ".join(said)[:300]

	@staticmethod
	def _message(data: Any, body: bytes) -> str:
		if isinstance(data, dict):
			error = data.get("error")
			if isinstance(error, dict) and error.get("message"):
				return str(error["message"])[:300]
		text = body.decode("utf-8", "replace")
		text = html.unescape(_TAG_RE.sub(" ", _HIDDEN_RE.sub(" ", text)))
		return " ".join(text.split())[:200]

	def get_all(self, path: str, params: dict | None = None, empty_on_404: bool = True) -> list[dict]:
		"""Every row of a paginated list (``limit``/``page``), in Dolibarr's order."""
		rows: list[dict] = []
		seen_first: set = set()
		for page in range(MAX_PAGES):
			query = {**(params or {}), "limit": self.page_size, "page": page}
			batch = self.request("GET", path, params=query, empty_on_404=empty_on_404)
			if not isinstance(batch, list):
				raise self._fail("GET", path, Text("expected a list, got {kind}", kind=type(batch).__name__))
			if batch:
				# A server that ignores `page` would send the first page forever
				first = str(batch[0].get("id", "")) if isinstance(batch[0], dict) else ""
				if first and first in seen_first:
					raise self._fail(
						"GET",
						path,
						Text("page {page} repeats an earlier page (pagination ignored?)", page=page),
					)
				seen_first.add(first)
			rows.extend(row for row in batch if isinstance(row, dict))
			if len(batch) < self.page_size:
				return rows
		raise self._fail("GET", path, Text("more than {n} pages", n=MAX_PAGES))

	# -----------------------------------------------------------------------------------------------
	# Version, user, health

	def status(self) -> dict:
		"""``GET /status``: the version (refused below 17) and the server's time zone."""
		data = self.request("GET", "/status")
		success = data.get("success") if isinstance(data, dict) else None
		if not isinstance(success, dict) or not success.get("dolibarr_version"):
			raise self._fail(
				"GET", "/status", Text("the answer has no Dolibarr version; is this Dolibarr's API?")
			)
		version = str(success["dolibarr_version"])
		try:
			parsed = parse_version(version)
		except ValueError:
			raise self._fail(
				"GET", "/status", Text("unreadable Dolibarr version {version!r}", version=version)
			)
		if parsed < MIN_VERSION:
			raise self._fail(
				"GET",
				"/status",
				Text(
					"Dolibarr {version} is not supported: relance needs Dolibarr {minimum} or later",
					version=version,
					minimum=MIN_VERSION[0],
				),
			)
		self.version = version
		zone_name = str(success.get("timestamp_php_tz") or "")
		self.zone, self.zone_name = timezone.utc, ""
		if zone_name:
			try:
				from zoneinfo import ZoneInfo

				self.zone, self.zone_name = ZoneInfo(zone_name), zone_name
			except Exception:
				self.warnings.append(
					Text("unknown server time zone {zone!r}: event dates read in UTC", zone=zone_name)
				)
		return success

	def user(self) -> dict:
		"""``GET /users/info``: the user the key belongs to (owner of the events written)."""
		if self._user is None:
			data = self.request("GET", "/users/info")
			if not isinstance(data, dict) or not data.get("id"):
				raise self._fail("GET", "/users/info", Text("the answer names no user"))
			self._user = data
		return self._user

	def check(self) -> DolibarrCheck:
		"""The version, the API user, the modules; warnings for what could make reminders go wrong.

		Raises DolibarrError when Dolibarr cannot be used (unreachable, key refused, version below 17,
		a required module disabled)."""
		self.warnings = []
		self.status()
		user = self.user()
		admin = str(user.get("admin", "0")) == "1"
		warnings: list[str] = []
		modules: tuple[str, ...] = ()
		try:
			listed = self.request("GET", "/setup/modules")
			modules = tuple(sorted(str(m) for m in listed)) if isinstance(listed, list) else ()
		except DolibarrError as exc:
			if exc.status != 403:
				raise
			warnings.append(
				Text(
					"the enabled modules cannot be listed (only an admin user, or the login in"
					" API_LOGINS_ALLOWED_FOR_GET_MODULES, may): Dolibarr's own reminder job was not checked"
				)
			)
		if modules:
			missing = [label for name, label in REQUIRED_MODULES.items() if name not in modules]
			if HISTORY_MODULE[0] not in modules:
				missing.append(HISTORY_MODULE[1])
			if missing:
				raise self._fail(
					"GET",
					"/setup/modules",
					Text("module(s) not enabled in Dolibarr: {listed}", listed=", ".join(missing)),
				)
			if "cron" in modules:
				warnings.append(
					Text(
						"the module Scheduled jobs (cron) is enabled: make sure its job {job} (Dolibarr's own"
						" reminders on invoice due dates) is disabled, or customers get two reminders (the API"
						" cannot show the job's status)",
						job=DOLIBARR_REMINDER_JOB,
					)
				)
		if not modules or HISTORY_MODULE[0] in modules:
			sent = self.request(
				"GET",
				"/agendaevents",
				params={
					"sortfield": "t.id",
					"sortorder": "DESC",
					"limit": 1,
					"sqlfilters": f"(t.label:like:'{DOLIBARR_REMINDER_LABEL}%')",
				},
				empty_on_404=True,
			)
			if isinstance(sent, list) and sent:
				last = day_of_timestamp(sent[0].get("datep"), self.zone)
				warnings.append(
					Text(
						"Dolibarr's own invoice reminder job ({job}) has sent reminders (the last on {last}):"
						" disable it in Setup > Scheduled jobs, or customers get two reminders",
						job=DOLIBARR_REMINDER_JOB,
						last=last,
					)
				)
		self.warnings.extend(warnings)
		return DolibarrCheck(
			version=self.version or "",
			timezone=self.zone_name,
			user=str(user.get("login", "")),
			admin=admin,
			modules=modules,
			warnings=tuple(self.warnings),
		)

	# -----------------------------------------------------------------------------------------------
	# Reading

	def _unpaid_invoices(self) -> list[dict]:
		"""Dolibarr's unpaid customer invoices, oldest first (after checking the API answers)."""
		self.warnings = []
		self.status()
		self.invoice_ids = {}
		self.foreign_currency = {}
		return self.get_all(
			"/invoices", {"sortfield": "t.rowid", "sortorder": "ASC", "status": "unpaid"}, empty_on_404=True
		)

	def load_book(self, as_of: date) -> tuple[dict[str, Customer], list[Invoice], list[HistoryEntry]]:
		"""Customers, open invoices and follow-up history, as the core wants them.

		``as_of`` is the planning day; every event relance wrote counts, whatever its date (one dated
		later is in flight). Warnings (invoices or customers left out, and why) are in ``self.warnings``."""
		raw_invoices = self._unpaid_invoices()
		invoices: list[Invoice] = []
		refs_by_id: dict[str, str] = {}
		contact_ids: dict[str, list[str]] = {}
		self.credits = []
		self.outcomes = []
		credit_notes = [raw for raw in raw_invoices if str(raw.get("type", "0")) == str(CREDIT_NOTE)]
		for raw in raw_invoices:
			invoice = self._invoice(raw)
			if invoice is None:
				continue
			invoices.append(invoice)
			self.invoice_ids[invoice.id] = int(raw["id"])
			refs_by_id[str(raw["id"])] = invoice.id
			for contact in raw.get("contacts_ids") or ():
				contact_ids.setdefault(invoice.customer, []).append(str(contact))
		customers = self._customers(sorted({inv.customer for inv in invoices}, key=int), contact_ids)
		self.letters_pending, self.uncertain = [], []
		refs_of = {str(raw.get("id")): str(raw.get("ref") or "") for raw in raw_invoices}
		for raw in credit_notes:
			credit = self._credit(raw, refs_of)
			if credit is not None and credit.customer in customers:
				self.credits.append(credit)
		history = self._history(refs_by_id, collect=True, outcomes=self.outcomes)
		return customers, invoices, history

	def _credit(self, raw: dict, refs_of: dict[str, str]) -> Credit | None:
		"""A credit note not used yet (neither turned into a discount used nor refunded): what is left
		of it is the customer's to deduct; `fk_facture_source` names the invoice it corrects."""
		ref = str(raw.get("ref") or "").strip()
		try:
			currency = str(raw.get("multicurrency_code") or "EUR").upper()
			if raw.get("remaintopay") not in (None, ""):
				left = abs(_decimal(raw.get("remaintopay"), "remaintopay"))
			else:
				left = abs(_decimal(raw.get("total_ttc"), "total_ttc"))
			left = round_money(left, currency)
		except (ValueError, TypeError, ArithmeticError) as exc:
			self.warnings.append(
				Text(
					"credit note {ref}: unreadable ({error}); left out",
					ref=ref or raw.get("id"),
					error=_said(exc),
				)
			)
			return None
		if left <= 0 or not raw.get("socid"):
			return None
		source = str(raw.get("fk_facture_source") or "")
		return Credit(
			customer=str(raw["socid"]),
			currency=currency,
			amount=left,
			reference=ref,
			day=date_from_timestamp(raw.get("date")),
			against_invoice=refs_of.get(source, "") if source not in ("", "0") else "",
		)

	def _invoice(self, raw: dict) -> Invoice | None:
		ref = str(raw.get("ref") or "").strip()
		where = Text("invoice {ref}", ref=ref or raw.get("id"))
		try:
			if str(raw.get("type", "0")) == str(CREDIT_NOTE):
				return None  # a credit note is owed to the customer, not by them
			if not ref or not raw.get("id") or not raw.get("socid"):
				self.warnings.append(Text("{where}: no ref, id or customer; left out", where=where))
				return None
			currency = str(raw.get("multicurrency_code") or "EUR").upper()
			rate = _decimal(raw.get("multicurrency_tx") or "1", "multicurrency_tx")
			foreign = raw.get("fk_multicurrency") not in (None, "", "0", 0) and rate != 1
			if foreign and rate <= 0:
				raise ValueError(Text("multicurrency_tx {rate} is not an exchange rate", rate=rate))
			# Dolibarr's own amounts are in its main currency: an invoice in another currency (module
			# Multicurrency) is followed up in that currency, its total being Dolibarr's
			# multicurrency_total_ttc and every amount taken off converted at the invoice's rate
			main = "EUR"
			total = round_money(_decimal(raw.get("total_ttc"), "total_ttc"), main)
			if foreign:
				if raw.get("multicurrency_total_ttc") in (None, ""):
					raise ValueError(
						Text("in {currency} but without multicurrency_total_ttc", currency=currency)
					)
				total_foreign = round_money(
					_decimal(raw.get("multicurrency_total_ttc"), "multicurrency_total_ttc"), currency
				)
			issued = date_from_timestamp(raw.get("date"))
			due = date_from_timestamp(raw.get("date_lim_reglement"))
			if issued is None:
				self.warnings.append(Text("{where}: no invoice date; left out", where=where))
				return None
			if due is None:
				self.warnings.append(Text("{where}: no due date; the invoice date is used", where=where))
				due = issued
			if raw.get("remaintopay") not in (None, ""):
				remaining = round_money(_decimal(raw.get("remaintopay"), "remaintopay"), main)
			else:
				taken = sum(
					(_decimal(raw.get(k), k) for k in ("sumpayed", "sumcreditnote", "sumdeposit")),
					ZERO,
				)
				remaining = round_money(total - taken, main)
			payments: list[Payment] = []
			if remaining != total:
				payments = self._payments(int(raw["id"]), main)
			others = total - sum((p.amount for p in payments), ZERO) - remaining
			if others > 0:
				# Credit notes and deposits used: taken off the invoice, on no known date
				payments.append(Payment(issued, others))
			elif others < 0:
				self.warnings.append(
					Text(
						"{where}: its payments add up to more than Dolibarr took off (by {excess}); Dolibarr's"
						" remaining amount {remaining} is used",
						where=where,
						excess=-others,
						remaining=remaining,
					)
				)
				payments.append(Payment(issued, others))
			if foreign:
				total, payments = total_foreign, self._in_currency(ref, payments, rate, currency)
				self.foreign_currency[ref] = currency
		except (ValueError, TypeError, ArithmeticError) as exc:
			self.warnings.append(
				Text("{where}: unreadable ({error}); left out", where=where, error=_said(exc))
			)
			return None
		return Invoice(
			id=ref,
			customer=str(raw["socid"]),
			currency=currency,
			issued=issued,
			instalments=(Instalment(due, total),),
			payments=tuple(payments),
		)

	def _in_currency(self, ref: str, payments: list[Payment], rate: Decimal, currency: str) -> list[Payment]:
		"""Amounts taken off an invoice in another currency, from Dolibarr's main currency into the
		invoice's, at the invoice's rate: Dolibarr 20's API gives a payment's amount in the main currency
		only. A payment entered in the invoice's currency was divided by that rate and rounded to the
		cent; when more than one amount gives that cent, the one the rate gives is kept and a warning
		says so (the letter may be a cent off)."""
		converted = []
		cent = Decimal("0.01")
		for payment in payments:
			amount = round_money(payment.amount * rate, currency)
			step = Decimal(1).scaleb(amount.as_tuple().exponent)
			candidates = [
				amount + step * k
				for k in range(-3, 4)
				if round_money((amount + step * k) / rate, "EUR").quantize(cent) == payment.amount
			]
			if len(candidates) > 1:
				shown = " / ".join(str(c) for c in candidates)
				self.warnings.append(
					Text(
						"invoice {ref}: a payment of {paid} EUR on {day} is {shown} {currency} at the invoice's"
						" rate {rate} (Dolibarr's API gives payments in EUR only): {amount} {currency} is used;"
						" check the amount still owed in Dolibarr",
						ref=ref,
						paid=payment.amount,
						day=payment.day,
						shown=shown,
						currency=currency,
						rate=rate,
						amount=amount,
					)
				)
			converted.append(Payment(payment.day, amount))
		return converted

	def _payments(self, invoice_id: int, currency: str) -> list[Payment]:
		rows = self.request("GET", f"/invoices/{invoice_id}/payments", empty_on_404=True)
		if not isinstance(rows, list):
			raise ValueError(Text("its payments are not a list"))
		payments = []
		for row in rows:
			day = date_from_timestamp(row.get("date"))
			if day is None:
				raise ValueError(Text("payment {ref} has no date", ref=row.get("ref")))
			payments.append(
				Payment(day, round_money(_decimal(row.get("amount"), "payment amount"), currency))
			)
		return payments

	def _customers(self, ids: list[str], contact_ids: dict[str, list[str]]) -> dict[str, Customer]:
		raw_by_id: dict[str, dict] = {}
		for chunk in _chunks(ids, ID_CHUNK):
			try:
				rows = self.get_all(
					"/thirdparties",
					{
						"sortfield": "t.rowid",
						"sortorder": "ASC",
						"sqlfilters": f"(t.rowid:in:{','.join(chunk)})",
					},
				)
			except DolibarrError as exc:
				if exc.status != 400:  # a Dolibarr that refuses the filter: one by one below
					raise
				rows = []
			for row in rows:
				raw_by_id[str(row.get("id"))] = row
		for missing in [i for i in ids if i not in raw_by_id]:
			try:
				raw_by_id[missing] = self.request("GET", f"/thirdparties/{missing}")
			except DolibarrError as exc:
				if exc.status != 404:
					raise
				self.warnings.append(
					Text("third party {id}: not found; its invoices are left unplanned", id=missing)
				)

		# E-mail: a contact named on one of the customer's invoices, else the third party's, else any
		# active contact's
		need_contacts = [
			i
			for i in ids
			if i in raw_by_id and (contact_ids.get(i) or not (raw_by_id[i].get("email") or "").strip())
		]
		contacts: dict[str, list[dict]] = {}
		for chunk in _chunks(need_contacts, ID_CHUNK):
			rows = self.get_all(
				"/contacts", {"sortfield": "t.rowid", "sortorder": "ASC", "thirdparty_ids": ",".join(chunk)}
			)
			for row in rows:
				contacts.setdefault(str(row.get("socid") or row.get("fk_soc")), []).append(row)

		# Provinces and countries: Dolibarr 20 sends a third party's state_id and country_id, with neither
		# the province's code nor the country's name (``country`` is null): read once for all
		states = self._dictionary(
			"states", {str(r.get("state_id")) for r in raw_by_id.values() if _wants_state(r)}
		)
		foreign = [r for r in raw_by_id.values() if str(r.get("country_code") or "FR").upper() != "FR"]
		countries: dict[tuple[str, str], dict] = {}
		for langcode in sorted({self._langcode(r) for r in foreign}):
			wanted = {str(r.get("country_id")) for r in foreign if self._langcode(r) == langcode}
			for key, row in self._dictionary("countries", wanted, langcode).items():
				countries[(key, langcode)] = row
		customers: dict[str, Customer] = {}
		for cid in ids:
			raw = raw_by_id.get(cid)
			if raw is None:
				continue
			self.customer_names[cid] = str(raw.get("name") or raw.get("nom") or "").strip() or f"#{cid}"
			country = countries.get((str(raw.get("country_id")), self._langcode(raw)))
			customer = self._customer(
				cid, raw, contacts.get(cid, []), contact_ids.get(cid, []), states, country
			)
			if customer is not None:
				customers[cid] = customer
		return customers

	def _dictionary(self, name: str, ids: set[str], langcode: str = "") -> dict[str, dict]:
		"""Rows of one of Dolibarr's dictionaries (states, countries) by id, read in one request per
		ID_CHUNK ids (one by one only from a Dolibarr that refuses the filter)."""
		wanted = sorted((i for i in ids if i.isdigit() and i != "0"), key=int)
		found: dict[str, dict] = {}
		path = f"/setup/dictionary/{name}"
		extra = {"lang": langcode} if langcode else {}
		for chunk in _chunks(wanted, ID_CHUNK):
			try:
				rows = self.get_all(
					path,
					{
						"sortfield": "t.rowid",
						"sortorder": "ASC",
						"sqlfilters": f"(t.rowid:in:{','.join(chunk)})",
					}
					| extra,
				)
			except DolibarrError as exc:
				if exc.status not in (400, 503):
					raise
				rows = []
			for row in rows:
				found[str(row.get("id") or row.get("rowid"))] = row
		for missing in [i for i in wanted if i not in found]:
			try:
				row = self.request("GET", f"{path}/{missing}", params=extra or None)
			except DolibarrError as exc:
				if exc.status != 404:
					raise
				continue
			if isinstance(row, dict):
				found[missing] = row
		return found

	def _langcode(self, raw: dict) -> str:
		"""The Dolibarr language a third party's letters are written in (fr_FR, fr_CA, en_US)."""
		country = str(raw.get("country_code") or "").upper()
		language = language_of(raw.get("default_lang"), REGIME_QC if country == "CA" else REGIME_FR)
		return LANGCODES.get(language, "en_US")

	def _customer(
		self,
		cid: str,
		raw: dict,
		contacts: list[dict],
		named: list[str],
		states: dict[str, dict],
		country_row: dict | None = None,
	) -> Customer | None:
		name = str(raw.get("name") or raw.get("nom") or "").strip() or f"#{cid}"
		country = str(raw.get("country_code") or "").upper()
		province = ""
		if country in ("", "FR"):
			regime = REGIME_FR
		elif country == "CA":
			state = str(raw.get("state_code") or "").upper()
			if not state:
				row = states.get(str(raw.get("state_id") or "")) or {}
				state = str(row.get("code_departement") or row.get("code") or "").upper()
			if state != "QC":
				self.warnings.append(
					Text(
						"{name} (third party {id}): Canada outside Québec ({province}) is not supported; its"
						" invoices are left unplanned",
						name=name,
						id=cid,
						province=state or Text("no province"),
					)
				)
				return None
			regime = REGIME_QC
			province = state
		else:
			self.warnings.append(
				Text(
					"{name} (third party {id}): country {country} is not supported (France, Québec); its"
					" invoices are left unplanned",
					name=name,
					id=cid,
					country=country,
				)
			)
			return None
		kind = CONSUMER if str(raw.get("typent_code") or "").upper() == CONSUMER_TYPENT else BUSINESS
		active = [c for c in contacts if str(c.get("statut", c.get("status", "1"))) != "0"]
		by_id = {str(c.get("id")): c for c in active}
		email = ""
		for contact_id in named:
			email = str((by_id.get(contact_id) or {}).get("email") or "").strip()
			if email:
				break
		email = email or str(raw.get("email") or "").strip()
		if not email:
			email = next(
				(str(c.get("email")).strip() for c in active if str(c.get("email") or "").strip()), ""
			)
		address = [line.strip() for line in str(raw.get("address") or "").splitlines() if line.strip()]
		zip_code, town = (str(raw.get(k) or "").strip() for k in ("zip", "town"))
		if province:
			# Canada Post: the town, the province's code, two spaces, the postal code
			line = " ".join(x for x in (town, province) if x)
			address.append(f"{line}  {zip_code}".strip() if zip_code else line)
		elif zip_code or town:
			address.append(" ".join(x for x in (zip_code, town) if x))
		if country and country != "FR":
			# Dolibarr 20 sends no country name (``country`` null): the dictionary's, in the letter's
			# language, else the code; in capitals, as international mail wants it
			label = str(raw.get("country") or (country_row or {}).get("label") or country).strip()
			address.append(label.upper())
		language = language_of(raw.get("default_lang"), regime)
		self.langcodes[cid] = str(raw.get("default_lang") or "").strip() or LANGCODES.get(language, "")
		return Customer(
			id=cid,
			name=name,
			kind=kind,
			regime=regime,
			language=language,
			email=email,
			phone=str(raw.get("phone") or raw.get("phone_mobile") or "").strip(),
			address=tuple(address),
			# The customer code the customer knows (CU2611-00001), not the row id (12)
			reference=str(raw.get("code_client") or "").strip() or cid,
		)

	def _event_filter(self, invoice_ids: list[str]) -> str:
		return (
			f"((t.code:=:'{EVENT_CODE}') or (t.label:like:'{LABEL_PREFIX}%'))"
			f" and (t.elementtype:=:'invoice') and (t.fk_element:in:{','.join(invoice_ids)})"
		)

	def _events(self, invoice_ids: list[str]) -> list[dict]:
		events: list[dict] = []
		for chunk in _chunks(invoice_ids, ID_CHUNK):
			events.extend(
				self.get_all(
					"/agendaevents",
					{"sortfield": "t.id", "sortorder": "ASC", "sqlfilters": self._event_filter(chunk)},
				)
			)
		return events

	def _history(
		self, refs_by_id: dict[str, str], collect: bool = False, outcomes: list | None = None
	) -> list[HistoryEntry]:
		"""The follow-up history of these invoices. `collect`: also list the letters whose copy is not
		yet among their invoice's documents, and warn about every email whose sending is uncertain.
		`outcomes`: where the manual entries (`relance log`) read are added."""
		history = []
		manual = outcomes if outcomes is not None else []
		for event in self._events(sorted(refs_by_id, key=int)):
			entry = self._entry(event, refs_by_id, manual)
			if entry is not None:
				history.append(entry)
				if collect:
					self._collect(entry, event)
				if entry.status in DONE_STATUSES and str(event.get("id") or "").isdigit():
					self._live_events[(entry.invoice, entry.step)] = (
						int(event["id"]),
						str(event.get("label") or ""),
						str(event.get("note_private") or event.get("note") or ""),
						int(event.get("userownerid") or 0),
					)
		return history

	def _collect(self, entry: HistoryEntry, event: dict) -> None:
		data = _event_data(event)
		if entry.status in DONE_STATUSES and data.get(LETTER_KEY) == LETTER_PENDING:
			self.letters_pending.append(
				PendingLetter(entry.invoice, entry.step, entry.day, entry.customer, entry.channel)
			)
		if entry.status == UNKNOWN:
			self.uncertain.append(entry)
			self.warnings.append(
				Text(
					"invoice {invoice}: the email of step {step} ({day}) may or may not have gone out (agenda"
					' event {event}, "envoi incertain"): it is never sent again by itself; check the sent'
					" mail, then mark the event done, or delete it to send again",
					invoice=entry.invoice,
					step=entry.step,
					day=entry.day,
					event=event.get("id"),
				)
			)

	def documents(self, invoice: str) -> list[str]:
		"""The names of the files among an invoice's documents (``GET /documents``; Dolibarr lists them
		per invoice only, and answers 404 when there is none)."""
		try:
			rows = self.request("GET", "/documents", params={"modulepart": "facture", "ref": invoice})
		except DolibarrError as exc:
			if exc.status != 404:
				raise
			rows = []  # "Search for modulepart facture ... does not return any document."
		if not isinstance(rows, list):
			raise self._fail(
				"GET", "/documents", Text("expected a list of files, got {value!r}", value=str(rows)[:80])
			)
		return [str(r.get("name") or r.get("filename") or "") for r in rows if isinstance(r, dict)]

	def letter_attached(self, invoice: str, step: str, filename: str) -> None:
		"""Say in the event of a letter that its copy is among the invoice's documents
		(``letter=<file name>`` in its note), so that no later run looks for it again."""
		known = self._live_events.get((invoice, step))
		if known is None:
			raise DolibarrError(
				Text(
					"no agenda event of relance for invoice {invoice}, step {step}, among those read or written by this run",
					invoice=invoice,
					step=step,
				)
			)
		event_id, label, note, owner = known
		name = "".join(filename.split()) or "?"
		if _LETTER_RE.search(note):
			note = _LETTER_RE.sub(lambda m: m.group(1) + name, note)
		else:
			note = f"{note} {LETTER_KEY}={name}"
		body = {"note_private": note, "userownerid": owner or int(self.user()["id"])}
		updated = self.request("PUT", f"/agendaevents/{event_id}", json=body)
		if not isinstance(updated, dict):
			raise self._fail(
				"PUT",
				f"/agendaevents/{event_id}",
				Text("unexpected answer {value!r}", value=str(updated)[:80]),
			)
		self._live_events[(invoice, step)] = (event_id, label, note, owner)

	def _entry(
		self, event: dict, refs_by_id: dict[str, str], manual: list | None = None
	) -> HistoryEntry | None:
		match = _STEP_RE.match(str(event.get("label") or ""))
		if not match:
			self.warnings.append(
				Text(
					"agenda event {event}: code {code} but no 'relance:<step>' label",
					event=event.get("id"),
					code=EVENT_CODE,
				)
			)
			return None
		element = str(event.get("elementid") or event.get("fk_element") or "")
		invoice = refs_by_id.get(element) or match.group(2) or ""
		if not invoice:
			return None
		day = day_of_timestamp(event.get("datep"), self.zone)
		if day is None:
			self.warnings.append(Text("agenda event {event}: no date; ignored", event=event.get("id")))
			return None
		percent = str(event.get("percentage", event.get("percent", "0")) or "0").strip()
		data = _event_data(event)
		if data.get("manual") == "1" and data.get("outcome") in OUTCOMES:
			# A manual entry (`relance log --source dolibarr`): read back as the core's model; the
			# planner makes the history entry of a communication from it
			entry = _manual_entry(data, invoice, day, str(event.get("socid") or ""))
			if manual is not None and entry not in manual:  # one event per invoice of an entry: read once
				manual.append(entry)
			return None
		if percent == "100":
			status = DONE  # a person marked it done: whatever relance wrote
		elif data.get("status") in NOTE_STATUSES:
			status = data["status"]
		else:
			status = SENT if percent == "-1" else PLANNED
		return HistoryEntry(
			invoice=invoice,
			step=match.group(1).lower(),
			day=day,
			status=status,
			channel=data.get("channel", ""),
			formal_notice=data.get("formal_notice") == "1",
			customer=str(event.get("socid") or ""),
		)

	# -----------------------------------------------------------------------------------------------
	# Writing

	def record_action(self, action: Action, as_of: date, status: str = PLANNED) -> RecordResult:
		"""One agenda event per invoice of the action, linked to the invoice and the third party.

		A step already recorded in Dolibarr for an invoice (an event relance wrote, whatever its
		progress) is not written again. Events are written one by one: if one fails, those before it
		stay in Dolibarr and the next run sees them. Dolibarr has no unique key to stop two runs writing
		at the same moment: run one relance at a time against one Dolibarr."""
		return self.record_actions((action,), as_of, status)

	def record_actions(self, actions: Iterable[Action], as_of: date, status: str = PLANNED) -> RecordResult:
		if status not in STATUS_PERCENT:
			raise DolibarrError(
				Text(
					"status {status!r} cannot be recorded in Dolibarr (only {listed})",
					status=status,
					listed=", ".join(STATUS_PERCENT),
				)
			)
		actions = list(actions)
		if not actions:
			return RecordResult(0, 0)
		if self.version is None:
			self.status()
		owner = int(self.user()["id"])
		refs = sorted({line.invoice for action in actions for line in action.lines})
		ids = {ref: self._invoice_id(ref) for ref in refs}
		refs_by_id = {str(i): ref for ref, i in ids.items()}
		# Every event that counts as done (planned, sent, done, unknown): a failed or cancelled one does
		# not, and the step is written again (the failed event stays as the trace of the attempt)
		live = {
			(entry.invoice, entry.step)
			for entry in self._history(refs_by_id)
			if entry.status in DONE_STATUSES
		}
		start = datetime.combine(as_of, time(0, 0), self.zone)
		end = datetime.combine(as_of, time(23, 59, 59), self.zone)
		recorded = already = 0
		for action in actions:
			# One action is one communication: its events are all written, or none stays live (a run
			# stopped half-way through a customer's lines would leave the others postponed by the
			# minimum gap, and the communication never made)
			mine: list[tuple[str, str]] = []
			try:
				for line in action.lines:
					if (line.invoice, line.step) in live:
						already += 1
						continue
					self._write_event(action, line, status, ids[line.invoice], owner, start, end)
					live.add((line.invoice, line.step))
					mine.append((line.invoice, line.step))
					recorded += 1
			except BaseException as exc:
				undone, kept = self._undo(mine)
				if isinstance(exc, DolibarrError):
					raise self._partial(exc, action, undone, kept) from None
				raise
		return RecordResult(recorded, already)

	def _undo(self, written: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
		"""The events just written for a communication that could not be written whole, cancelled
		(they stay as the trace, and count for nothing): (invoices cancelled, invoices left live)."""
		undone, kept = [], []
		for invoice, step in written:
			try:
				self.set_status(invoice, step, CANCELLED, "not made: its other events could not be written")
			except DolibarrError:
				kept.append(invoice)
			else:
				undone.append(invoice)
				self.written.discard((invoice, step))
		return undone, kept

	def _partial(
		self, exc: DolibarrError, action: Action, undone: list[str], kept: list[str]
	) -> DolibarrError:
		message = exc.args[0]
		if undone:
			message = Text(
				"{error}; the events already written for {invoices} ({customer}) were cancelled: the next"
				" run plans this communication again",
				error=message,
				invoices=", ".join(undone),
				customer=action.customer_name,
			)
		if kept:
			message = Text(
				"{error}; the events of {invoices} ({customer}) are written but could not be cancelled:"
				" delete them in Dolibarr's agenda, or the rest of this communication waits",
				error=message,
				invoices=", ".join(kept),
				customer=action.customer_name,
			)
		return DolibarrError(message, exc.path, exc.status, exc.detail)

	def _write_event(self, action: Action, line, status: str, element: int, owner: int, start, end) -> None:
		label = f"{LABEL_PREFIX}{line.step} {line.invoice} – {action.step_label}"[:LABEL_MAX]
		note = self._note(action, line, status)
		body = {
			"type_code": EVENT_TYPE_PHONE if action.channel == "phone" else EVENT_TYPE,
			"code": EVENT_CODE,
			"label": self._label(label, status),
			"note_private": note,
			"datep": int(start.timestamp()),
			"datef": int(end.timestamp()),
			"fulldayevent": 1,
			"percentage": STATUS_PERCENT[status],
			"userownerid": owner,
			"socid": int(action.customer),
			"elementtype": "invoice",
			"fk_element": element,
		}
		created = self.request("POST", "/agendaevents", json=body)
		if not isinstance(created, int) and not str(created).isdigit():
			raise self._fail(
				"POST",
				"/agendaevents",
				Text("expected the new event's id, got {value!r}", value=str(created)[:80]),
			)
		self.written.add((line.invoice, line.step))
		# Kept whatever the status: set_status may have to cancel it
		self._live_events[(line.invoice, line.step)] = (int(created), label, note, owner)

	def set_status(self, invoice: str, step: str, status: str, detail: str = "") -> None:
		"""Move the live event of an invoice and step to a new status (sent, failed, unknown...), as
		the local journal does: its progress, its label and the note's ``status=`` and ``Envoi :`` line
		(the detail: recipient and Message-ID, or the error). The event is one this source wrote or
		read (``record_actions``, ``load_book``); another one is an error, never a silent no-op."""
		if status not in STATUS_PERCENT:
			raise DolibarrError(
				Text(
					"status {status!r} cannot be recorded in Dolibarr (only {listed})",
					status=status,
					listed=", ".join(STATUS_PERCENT),
				)
			)
		known = self._live_events.get((invoice, step))
		if known is None:
			raise DolibarrError(
				Text(
					"no agenda event of relance for invoice {invoice}, step {step}, among those read or written by this run",
					invoice=invoice,
					step=step,
				)
			)
		event_id, label, note, owner = known
		for suffix in STATUS_SUFFIX.values():
			label = label.removesuffix(suffix)
		note = _SEND_LINE_RE.sub("", note)
		note = _NOTE_STATUS_RE.sub(lambda m: m.group(1) + status, note)
		detail = " ".join(str(detail).replace("<", "").replace(">", "").split())
		if detail:
			# Before the relance-data line, which stays last; angle brackets would be taken for HTML
			head, sep, tail = note.rpartition("relance-data:")
			note = f"{head}Envoi : {detail[:500]}\n{sep}{tail}" if sep else f"{note}\nEnvoi : {detail[:500]}"
		body = {
			"percentage": STATUS_PERCENT[status],
			"label": self._label(label, status),
			"note_private": note,
			"userownerid": owner or int(self.user()["id"]),
		}
		updated = self.request("PUT", f"/agendaevents/{event_id}", json=body)
		if not isinstance(updated, dict):
			raise self._fail(
				"PUT",
				f"/agendaevents/{event_id}",
				Text("unexpected answer {value!r}", value=str(updated)[:80]),
			)
		if status in DONE_STATUSES:
			self._live_events[(invoice, step)] = (event_id, label, note, owner)
		else:
			self._live_events.pop((invoice, step), None)

	def attach_to_invoice(self, invoice: str, filename: str, content: bytes) -> str:
		"""Add a file (the letter of a step) to the documents of an invoice, found by its ref.

		``POST /documents/upload`` (Dolibarr 20: htdocs/api/class/api_documents.class.php), modulepart
		``facture``. A file of that name already there is kept (``overwriteifexists`` 0, Dolibarr then
		answers 400): a letter attached may be the proof of what was sent. Returns the name Dolibarr
		gave the file; DolibarrError when it refused."""
		body = {
			"filename": filename,
			"modulepart": "facture",
			"ref": invoice,
			"filecontent": base64.b64encode(content).decode("ascii"),
			"fileencoding": "base64",
			"overwriteifexists": 0,
		}
		name = self.request("POST", "/documents/upload", json=body)
		if not isinstance(name, str) or not name.strip():
			raise self._fail(
				"POST",
				"/documents/upload",
				Text("expected the file's name, got {value!r}", value=str(name)[:80]),
			)
		return name

	def invoice_pdf(self, invoice: str, langcode: str = "") -> tuple[str, bytes, bool]:
		"""The PDF of an invoice, found by its ref, as Dolibarr keeps it: (file name, content, built).

		``GET /documents/download`` (Dolibarr 20: htdocs/api/class/api_documents.class.php), modulepart
		``facture``, ``original_file`` ``<ref>/<ref>.pdf`` (the folder and file Dolibarr names after the
		ref). When Dolibarr has none (404), it is asked to build it (``PUT /documents/builddoc``), whose
		answer carries the file: in `langcode` (the customer's language, fr_FR...), with no template named,
		so that Dolibarr uses the invoice's own (model_pdf, which its API never shows) or else its default
		for invoices (FACTURE_ADDON_PDF, "sponge" on a fresh install). `built` says the PDF was built.
		DolibarrError when neither gives a PDF."""
		name = _FILE_UNSAFE_RE.sub("_", invoice)
		name = re.sub(r"--+", "_", name).replace("..", "")
		query = {"modulepart": "facture", "original_file": f"{name}/{name}.pdf"}
		try:
			data = self.request("GET", "/documents/download", params=query)
			method, path, built = "GET", "/documents/download", False
		except DolibarrError as exc:
			if exc.status != 404:  # refused, or no answer: building would not do better
				raise
			body = {**query, "doctemplate": "", "langcode": langcode}
			try:
				data = self.request("PUT", "/documents/builddoc", json=body)
			except DolibarrError as exc:
				if exc.status == 200 and exc.detail:
					# A PDF engine that fails (TCPDF cannot write the file...) prints its error instead of
					# the JSON: Dolibarr's own words say more than "not JSON"
					raise self._fail(
						"PUT",
						"/documents/builddoc",
						Text("Dolibarr could not build the PDF: {detail}", detail=exc.detail),
						200,
					)
				raise
			method, path, built = "PUT", "/documents/builddoc", True
		if not isinstance(data, dict) or not isinstance(data.get("content"), str):
			raise self._fail(
				method,
				path,
				Text("expected the file (content in base64), got {value!r}", value=str(data)[:80]),
			)
		try:
			content = base64.b64decode(data["content"], validate=True)
		except ValueError:
			raise self._fail(method, path, Text("the file's content is not base64"))
		if not content.startswith(b"%PDF-"):
			raise self._fail(
				method, path, Text("the file of invoice {invoice} is not a PDF", invoice=invoice)
			)
		# Its name as Dolibarr gives it, without any folder (it names the attachment)
		filename = str(data.get("filename") or "").replace("\\", "/").rpartition("/")[2].strip()
		return filename or f"{name}.pdf", content, built

	def record_outcome(self, entry: ManualEntry, steps: dict[str, str]) -> int:
		"""A manual entry as agenda events, one per invoice, shaped like those `run` writes (code
		RELANCE, label "relance:<step> <invoice> – …", linked to the invoice and the third party), its
		data on the note's relance-data line (manual=1 and the entry's fields). `steps`: the scenario step
		each invoice's communication stands for. Returns the number of events written."""
		if self.version is None:
			self.status()
		owner = int(self.user()["id"])
		outcome = OUTCOMES[entry.outcome]
		start = datetime.combine(entry.day, time(0, 0), self.zone)
		end = datetime.combine(entry.day, time(23, 59, 59), self.zone)
		written = 0
		for invoice in entry.invoices:
			step = steps.get(invoice, "")
			key = step or entry.outcome.replace("_", "-")
			label = f"{LABEL_PREFIX}{key} {invoice} – {outcome.fr} (saisie manuelle)"[:LABEL_MAX]
			fields = {
				"step": step,
				"channel": entry.channel,
				"invoice": invoice,
				"invoices": ",".join(entry.invoices),
				"status": SENT,
				"manual": "1",
				"outcome": entry.outcome,
				"level": str(entry.level or ""),
				"reference": entry.reference,
				"amount": str(entry.amount) if entry.amount is not None else "",
				"until": entry.until.isoformat() if entry.until else "",
				"reason": entry.reason,
			}
			data = " ".join(f"{k}={quote(v, safe='')}" for k, v in fields.items() if v)
			lines = [f"Saisie manuelle : {outcome.fr}, facture {invoice}"]
			if entry.reference:
				lines.append(f"N° de recommandé : {entry.reference}")
			if entry.reason:
				lines.append(f"Motif : {entry.reason}")
			body = {
				"type_code": EVENT_TYPE_PHONE if entry.channel == "phone" else EVENT_TYPE,
				"code": EVENT_CODE,
				"label": label,
				"note_private": "\n".join((*lines, f"relance-data: {data}")),
				"datep": int(start.timestamp()),
				"datef": int(end.timestamp()),
				"fulldayevent": 1,
				"percentage": STATUS_PERCENT[DONE],
				"userownerid": owner,
				"socid": int(entry.customer),
				"elementtype": "invoice",
				"fk_element": self._invoice_id(invoice),
			}
			created = self.request("POST", "/agendaevents", json=body)
			if not isinstance(created, int) and not str(created).isdigit():
				raise self._fail(
					"POST",
					"/agendaevents",
					Text("expected the new event's id, got {value!r}", value=str(created)[:80]),
				)
			written += 1
		return written

	@staticmethod
	def _label(label: str, status: str) -> str:
		suffix = STATUS_SUFFIX.get(status, "")
		return label[: LABEL_MAX - len(suffix)] + suffix if suffix else label[:LABEL_MAX]

	def _invoice_id(self, ref: str) -> int:
		if ref not in self.invoice_ids:
			data = self.request("GET", f"/invoices/ref/{quote(ref, safe='')}", params={"contact_list": 0})
			if not isinstance(data, dict) or not data.get("id"):
				raise self._fail("GET", f"/invoices/ref/{ref}", Text("the answer names no invoice"))
			self.invoice_ids[ref] = int(data["id"])
		return self.invoice_ids[ref]

	@staticmethod
	def _note(action: Action, line, status: str) -> str:
		return "\n".join(
			(
				f"Relance : {action.step_label} ({action.scenario}), facture {line.invoice}",
				f"Canal : {action.channel} ; ton : {action.tone} ; {line.days_late} jour(s) de retard",
				f"Reste dû : {line.outstanding} {action.currency} ; intérêts : {line.interest} ;"
				f" indemnité : {line.indemnity}",
				f"relance-data: step={line.step} scenario={action.scenario} channel={action.channel}"
				f" formal_notice={int(line.formal_notice)} invoice={line.invoice} status={status}"
				# A letter to post: its copy is added to the invoice's documents, then this says its name
				+ (f" {LETTER_KEY}={LETTER_PENDING}" if action.channel in POSTAL_CHANNELS else ""),
			)
		)

	# -----------------------------------------------------------------------------------------------
	# Payments found on a bank statement (`relance match --source dolibarr`)

	def load_open_invoices(self) -> tuple[list[Invoice], dict[str, str]]:
		"""The open invoices (as ``load_book`` reads them) and their customers' names, nothing else."""
		raw_invoices = self._unpaid_invoices()
		invoices: list[Invoice] = []
		for raw in raw_invoices:
			invoice = self._invoice(raw)
			if invoice is not None:
				invoices.append(invoice)
				self.invoice_ids[invoice.id] = int(raw["id"])
		names: dict[str, str] = {}
		ids = sorted({inv.customer for inv in invoices}, key=int)
		for chunk in _chunks(ids, ID_CHUNK):
			rows = self.get_all(
				"/thirdparties",
				{"sortfield": "t.rowid", "sortorder": "ASC", "sqlfilters": f"(t.rowid:in:{','.join(chunk)})"},
			)
			for row in rows:
				names[str(row.get("id"))] = str(row.get("name") or row.get("nom") or "").strip()
		return invoices, names

	def bank_account(self, wanted: int | None = None) -> int:
		"""The bank account the payments go to: `wanted`, else the only open one.

		The module Banks is required: its lines are where a payment recorded from a statement line is
		found again (its number is the line's token), so that a line is never paid twice."""
		try:
			accounts = self.request(
				"GET", "/bankaccounts", params={"sortfield": "t.rowid", "sortorder": "ASC", "limit": 500}
			)
		except DolibarrError as exc:
			if exc.status in (403, 404, 501):
				raise DolibarrError(
					Text(
						"{error}; recording payments needs the module Banks (modBanque) enabled and readable by the API user",
						error=exc.args[0],
					),
					exc.path,
					exc.status,
				)
			raise
		if not isinstance(accounts, list):
			raise self._fail("GET", "/bankaccounts", Text("expected a list of bank accounts"))
		usable = {int(a["id"]): a for a in accounts if isinstance(a, dict) and str(a.get("clos", "0")) == "0"}
		if wanted is not None:
			if wanted not in usable:
				raise self._fail(
					"GET", "/bankaccounts", Text("no open bank account with id {wanted}", wanted=wanted)
				)
			return wanted
		if len(usable) == 1:
			return next(iter(usable))
		listed = ", ".join(f"{i} ({a.get('ref') or a.get('label')})" for i, a in sorted(usable.items()))
		raise self._fail(
			"GET",
			"/bankaccounts",
			Text(
				"{n} open bank accounts ({listed}): say which with --dolibarr-bank-account ID",
				n=len(usable),
				listed=listed or Text("none"),
			),
		)

	def applied_bank_lines(self, line_ids: Iterable[str], account: int | None) -> set[str]:
		"""The statement lines already recorded as payments (found by their token in the bank lines)."""
		if account is None:
			return set()
		path = f"/bankaccounts/{account}/lines"
		try:
			rows = self.request("GET", path, params={"sqlfilters": f"(num_chq:like:'{BANK_TOKEN_PREFIX}%')"})
		except DolibarrError as exc:
			if exc.status not in (400, 503):
				raise
			# A Dolibarr whose query names the table "t"
			rows = self.request(
				"GET", path, params={"sqlfilters": f"(t.num_chq:like:'{BANK_TOKEN_PREFIX}%')"}
			)
		if not isinstance(rows, list):
			raise self._fail("GET", path, Text("expected a list of bank lines"))
		tokens = {str(row.get("num_chq") or "") for row in rows if isinstance(row, dict)}
		return {line_id for line_id in line_ids if bank_token(line_id) in tokens}

	def payment_mode(self, code: str = "VIR") -> int:
		"""The id of a payment mode (VIR: credit transfer) in Dolibarr's dictionary."""
		rows = self.request(
			"GET", "/setup/dictionary/payment_types", params={"sqlfilters": f"(t.code:=:'{code}')"}
		)
		for row in rows if isinstance(rows, list) else ():
			if str(row.get("code")) == code and str(row.get("id", "")).isdigit():
				return int(row["id"])
		raise self._fail(
			"GET", "/setup/dictionary/payment_types", Text("no payment mode {code} in Dolibarr", code=code)
		)

	def record_bank_payments(self, matches: Iterable, account: int) -> RecordResult:
		"""One Dolibarr payment per matched statement line (per customer, when a line pays several).

		The payment's number is the line's token (``RLB-`` and a digest of the line id; Dolibarr copies
		it to the bank line), its external reference the line id and its note the remittance text. A
		line whose token is already among the account's bank lines is not paid again. `recorded` and
		`already` count lines. Payments are written one by one: run one relance at a time."""
		matches = [match for match in matches if match.allocations]
		if not matches:
			return RecordResult(0, 0)
		if self.version is None:
			self.status()
		done = self.applied_bank_lines([match.line.id for match in matches], account)
		mode = self.payment_mode("VIR")
		recorded = already = 0
		for match in matches:
			line = match.line
			if line.id in done:
				already += 1
				continue
			by_customer: dict[str, dict[str, dict]] = {}
			for allocation in match.allocations:
				invoice_id = str(self._invoice_id(allocation.invoice))
				# An invoice in another currency is paid in that currency (Dolibarr converts it)
				in_currency = allocation.invoice in self.foreign_currency
				by_customer.setdefault(allocation.customer, {})[invoice_id] = {
					"amount": "" if in_currency else str(allocation.amount),
					"multicurrency_amount": str(allocation.amount) if in_currency else "",
				}
			paid_on = datetime.combine(line.booked, time(0, 0), self.zone)
			note = f"relance match: bank line {line.id}; {line.counterparty}; {line.remittance}"
			for customer in sorted(by_customer):  # Dolibarr wants one customer per payment
				body = {
					"arrayofamounts": by_customer[customer],
					"datepaye": int(paid_on.timestamp()),
					"paymentid": mode,
					"closepaidinvoices": "yes",
					"accountid": account,
					"num_payment": bank_token(line.id),
					"comment": note[:1000],
					"ref_ext": line.id[:255],
				}
				created = self.request("POST", "/invoices/paymentsdistributed", json=body)
				if not isinstance(created, int) and not str(created).isdigit():
					raise self._fail(
						"POST",
						"/invoices/paymentsdistributed",
						Text("expected the new payment's id, got {value!r}", value=str(created)[:80]),
					)
			done.add(line.id)
			recorded += 1
		return RecordResult(recorded, already)


BANK_TOKEN_PREFIX = "RLB-"


def _manual_entry(data: dict[str, str], invoice: str, day: date, customer: str) -> ManualEntry:
	"""A manual entry read back from an agenda event's relance-data line."""
	value = {k: unquote(v) for k, v in data.items()}
	invoices = tuple(i for i in value.get("invoices", "").split(",") if i) or (invoice,)
	amount = None
	if value.get("amount"):
		try:
			amount = Decimal(value["amount"])
		except InvalidOperation:
			amount = None
	until = None
	if value.get("until"):
		try:
			until = date.fromisoformat(value["until"])
		except ValueError:
			until = None
	level = value.get("level", "")
	return ManualEntry(
		invoices=invoices,
		day=day,
		outcome=value["outcome"],
		channel=value.get("channel", ""),
		step=value.get("step", ""),
		level=int(level) if level.isdigit() else 0,
		reference=value.get("reference", ""),
		amount=amount,
		until=until,
		reason=value.get("reason", ""),
		customer=customer,
	)


def bank_token(line_id: str) -> str:
	"""The short number a payment recorded from a statement line carries (Dolibarr's is 50 characters)."""
	import hashlib

	return BANK_TOKEN_PREFIX + hashlib.sha1(line_id.encode("utf-8")).hexdigest()[:16]
