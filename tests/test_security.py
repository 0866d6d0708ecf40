"""Security: templates in a sandbox, secrets never shown, server addresses validated.

- A template written by a user (a scenario's custom text) renders in Jinja's sandbox: it cannot read
  a file, reach `os`, `subprocess`, `__globals__` or `__class__.__mro__`, nor call Python; every try
  is a jinja2 error (SecurityError, TemplateNotFound…) or a LetterError, never an escape.
- The SMTP password and the Dolibarr API key never appear in an exception's message or traceback,
  a log record (caplog, every logger, DEBUG) or the command's output, including when the server is
  down, refuses the login, or echoes the secret back.
- The Dolibarr URL must be http(s) with a host; the SMTP host a bare server name or address.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import tempfile
import threading
import traceback
from dataclasses import replace
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from unittest import mock
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from jinja2.exceptions import TemplateError

from relance_erpnext.connectors.dolibarr import DolibarrError, DolibarrSource, normalize_base_url
from relance_erpnext.connectors.mailer import Mailer, MailError, SmtpSettings
from relance_erpnext.dunning import BUILTIN_SCENARIOS, PlanSettings, scenario_from_dict
from relance_erpnext.dunning.letters import LetterError, build_context, render_action, render_string

from .helpers import customer, invoice, run
from .test_cli import AS_OF, SAMPLE, SAMPLE_CONFIG, run_cli
from .test_letters import AS_OF as LETTER_DAY
from .test_letters import SENDER, make_book, make_customer
from .test_mailer import Inbox, Letter, free_port

SMTP_PASSWORD = "Tr3s-S3cret!pw"  # ASCII: what smtplib can send
API_KEY = "k3yD0l1b4rr+/=S3cr3t"  # with "+", "/" and "=": URL-encoded, they read differently
SECRET_FILE_TEXT = "THE-SECRET-FILE-CONTENT"
# The fake servers' own loggers: what they log is the test server's business, not relance's
SERVER_LOGGERS = ("mail.log", "mail.debug", "asyncio")


def secret_forms(secret: str, user: str = "relance") -> set[str]:
	"""The secret as written, URL-encoded, and base64-encoded as SMTP AUTH sends it."""
	forms = {secret, quote(secret, safe=""), quote(secret)}
	for raw in (secret, f"\0{user}\0{secret}", f"{user}\0{secret}"):
		forms.add(base64.b64encode(raw.encode("utf-8")).decode("ascii"))
	return forms


def assert_hidden(secret: str, *texts: str) -> None:
	for text in texts:
		for form in secret_forms(secret):
			assert form not in text, f"{form!r} shown in {text!r}"


def exception_text(exc: BaseException) -> str:
	"""Everything a user or a log could see of an exception: message, repr, args, traceback."""
	return "\n".join(
		[
			str(exc),
			repr(exc),
			repr(exc.args),
			"".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
		]
	)


def log_text(caplog) -> str:
	lines = []
	for record in caplog.records:
		if record.name.startswith(SERVER_LOGGERS):
			continue
		lines.append(f"{record.name}: {record.getMessage()}")
		if record.exc_info:
			lines.append("".join(traceback.format_exception(*record.exc_info)))
	return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------
# Templates


def real_context():
	person = make_customer("fr_b2b", "fr-FR")
	result, invoices = make_book(person, "EUR")
	return build_context(result.actions[0], SENDER, person, LETTER_DAY, invoices)


ESCAPES = (
	# Python internals
	"{{ ''.__class__.__mro__[1].__subclasses__() }}",
	"{{ ''.__class__.__mro__ }}",
	"{{ [].__class__.__base__.__subclasses__() }}",
	"{{ ().__class__.__bases__[0].__subclasses__() }}",
	"{{ customer.__class__.__init__.__globals__ }}",
	"{{ customer.__dataclass_fields__ }}",
	"{{ customer.__slots__ }}",
	"{{ totals.total.__class__ }}",
	"{{ pay_by.__class__.__subclasses__() }}",
	"{{ lines.__getitem__(0) }}",
	"{{ customer['__class__'] }}",
	"{{ self.__init__.__globals__ }}",
	"{{ self._TemplateReference__context }}",
	"{{ self.__dict__ }}",
	# os and subprocess through the globals of Jinja's own helpers
	"{{ cycler.__init__.__globals__.os.popen('id').read() }}",
	"{{ joiner.__init__.__globals__.os.system('id') }}",
	"{{ namespace.__init__.__globals__['__builtins__']['__import__']('subprocess').check_output('id') }}",
	"{{ lipsum.__globals__['os'].popen('id').read() }}",
	"{{ lipsum.__globals__.__builtins__.open('/etc/passwd').read() }}",
	"{{ range.__globals__ }}",
	"{{ dict.__init__.__globals__ }}",
	# The same through filters and formatting
	"{{ customer|attr('__class__') }}",
	"{{ customer|attr('\\x5f\\x5fclass\\x5f\\x5f') }}",
	"{{ lines|sort(attribute='__class__.__mro__') }}",
	"{{ lines|groupby('__class__') }}",
	"{{ lines|selectattr('__class__')|list }}",
	"{{ '%s'|format(customer.__class__) }}",
	"{{ '{0.__class__.__mro__}'.format(customer) }}",
	"{{ '{a.__class__}'.format_map({'a': customer}) }}",
	# Through the letters' own shortcuts (record fields, template modules and namespaces read directly)
	"{% set ns = namespace(a=1) %}{{ ns.__init__.__globals__ }}",
	"{% set ns = namespace(a=customer) %}{{ ns.a.__class__.__mro__ }}",
	"{% set ns = namespace(f=''.format) %}{{ ns.f('{0.__class__.__mro__}', customer) }}",
	"{% set ns = namespace(f=customer.name.format) %}{{ ns.f('{0.__class__}', customer) }}",
	"{% set ns = namespace(rows=[]) %}{{ ns.rows.append(1) }}{{ ns.rows }}",
	"{% set ns = namespace() %}{{ ns._Namespace__attrs }}",
	"{% import 'fr-FR/_labels.j2' as L %}{{ L.__dict__ }}",
	"{% import 'fr-FR/_labels.j2' as L %}{{ L.days.__globals__ }}",
	"{% import 'fr-FR/_labels.j2' as L %}{{ L.days._func.__globals__ }}",
	"{% import 'fr-FR/_labels.j2' as L %}{{ L._body_stream }}",
	"{% import 'fr-FR/_labels.j2' as L %}{{ L.days(customer) }}{{ L.days(1, caller=customer.__class__) }}",
	"{{ lines[0]['__class__'] }}",
	"{{ lines[0].__dataclass_fields__ }}",
	"{{ totals.__reduce__() }}",
	"{{ action.lines[0].__class__.__init__.__globals__ }}",
	"{{ sender.__class__.__init__.__globals__ }}",
	# Changing the data given to the template
	"{{ lines.append(1) }}",
	"{{ lines.pop() }}",
	"{{ dict(a=1).update(b=2) }}",
	"{% set x = customer.__setattr__('name', 'x') %}",
)
FILE_READS = (
	"{% include '/etc/passwd' %}",
	"{% include '../../../../../../etc/passwd' %}",
	"{% include '../../dunning/letters.py' %}",
	"{% include 'fr-FR/../../../dunning/letters.py' %}",
	"{% extends '/etc/passwd' %}",
	"{% import 'os' as os %}{{ os.system('id') }}",
	"{% from '../../../../../../etc/passwd' import x %}",
)


@pytest.mark.parametrize("source", ESCAPES)
def test_a_template_cannot_reach_python(source):
	context = real_context()
	name = context["customer"].name
	try:
		out = render_string(source, context)
	except (TemplateError, LetterError) as exc:
		assert "uid=" not in str(exc)
	else:  # rendered: then nothing of Python's insides is in it
		for leak in ("<class", "<module", "<function", "<built-in", "uid=", "root:"):
			assert leak not in out, out
	assert context["customer"].name == name
	assert [line.invoice for line in context["lines"]] == [line.invoice for line in real_context()["lines"]]


def test_the_letters_sandbox_answers_as_jinjas_own():
	"""LetterSandbox reads the records' fields, template modules and namespaces without the generic
	checks: for every attribute it gives what ImmutableSandboxedEnvironment gives, and everything it
	refuses it still refuses."""
	from jinja2.sandbox import ImmutableSandboxedEnvironment
	from jinja2.utils import Namespace

	from relance_erpnext.dunning import letters

	ours = letters._ENV
	assert isinstance(ours, ImmutableSandboxedEnvironment)
	jinja = ImmutableSandboxedEnvironment(loader=ours.loader, undefined=ours.undefined)
	context = real_context()
	objects = [
		context["customer"],
		context["sender"],
		context["totals"],
		context["action"],
		*context["lines"],
		*context["action"].lines,
		*(row for line in context["lines"] for row in line.interest_rows),
		*letters.prose_blocks("## Titre\n\nUn **paragraphe**.\n\n- un\n- deux"),
		ours.labels_module("fr-FR"),
		Namespace(rows=[1], f="{}".format),
	]
	for obj in objects:
		for name in {*dir(obj), "rows", "f", "days", "colon", "no_such_name"}:
			mine, theirs = ours.getattr(obj, name), jinja.getattr(obj, name)
			if isinstance(theirs, letters.Undefined):
				assert isinstance(mine, letters.Undefined), (obj, name)
				assert type(mine._undefined_exception) is type(theirs._undefined_exception), (obj, name)
			elif callable(theirs) and getattr(theirs, "__name__", "") in ("format", "format_map"):
				assert callable(mine) and mine.__name__ == theirs.__name__, (obj, name)
			else:
				assert mine is theirs or mine == theirs, (obj, name)
			mine, theirs = ours.getitem(obj, name), jinja.getitem(obj, name)
			assert isinstance(mine, letters.Undefined) == isinstance(theirs, letters.Undefined), (obj, name)


@pytest.mark.parametrize("source", FILE_READS)
def test_a_template_cannot_read_files(source, tmp_path):
	(tmp_path / "secret.txt").write_text(SECRET_FILE_TEXT)
	for attempt in (source, source.replace("/etc/passwd", str(tmp_path / "secret.txt"))):
		with pytest.raises(TemplateError):
			render_string(attempt, real_context())


def test_every_other_failure_of_a_template_is_a_letter_error():
	# Fixed: these raised bare OverflowError, ZeroDivisionError, TypeError, IndexError
	for source in (
		"{{ range(10**9)|list|length }}",
		"{% for i in range(100001) %}{% endfor %}",
		"{{ 1 / 0 }}",
		"{{ 1 + 'a' }}",
		"{{ '{0}'.format_map({}) }}",
	):
		with pytest.raises(LetterError, match="the template cannot be rendered"):
			render_string(source, {})


def test_template_text_in_the_data_is_never_run():
	"""A customer named like a template is printed, not evaluated."""
	person = make_customer("fr_b2b", "fr-FR", name="{{ 7*7 }} {{ cycler.__init__.__globals__ }}")
	result, invoices = make_book(person, "EUR")
	letter = render_action(result.actions[0], SENDER, person, LETTER_DAY, invoices)
	assert "{{ 7*7 }}" in letter.text
	assert "49" not in letter.text.replace("2049", "")
	out = render_string("Bonjour {{ customer.name }}", {"customer": person})
	assert out == "Bonjour {{ 7*7 }} {{ cycler.__init__.__globals__ }}"


def test_a_scenario_cannot_name_a_file_as_its_template():
	steps = [
		{"key": "a", "offset": 1, "channel": "email", "tone": "amical", "template": "../../../../etc/passwd"}
	]
	scenario = scenario_from_dict({"key": "evil", "steps": steps})
	person = customer("C1", scenario="evil")
	result = run(
		date(2026, 3, 2),
		[person],
		[invoice("F1", "C1", due=date(2026, 3, 1))],
		scenarios={**BUILTIN_SCENARIOS, "evil": scenario},
		settings=PlanSettings(),
	)
	[action] = result.actions
	for template in ("../../../../etc/passwd", "/etc/passwd", "formal\n", "formal/../../x", "Formal"):
		with pytest.raises(LetterError, match="invalid letter template name"):
			render_action(replace(action, template=template), SENDER, person, date(2026, 3, 2))


# ---------------------------------------------------------------------------------------------------
# SMTP: the password


def _authenticator(echo: bool):
	def authenticate(server, session, envelope, mechanism, auth_data):
		ok = isinstance(auth_data, LoginPassword) and auth_data.password == SMTP_PASSWORD.encode()
		if ok:
			return AuthResult(success=True)
		message = None
		if echo and isinstance(auth_data, LoginPassword):
			# A careless server that repeats what it was sent, in clear and in base64
			sent = auth_data.password.decode("utf-8", "replace")
			blob = base64.b64encode(b"\0relance\0" + auth_data.password).decode()
			message = f"535 5.7.8 refused {sent} {blob}"
		return AuthResult(success=False, handled=False, message=message)

	return authenticate


class SmtpServer:
	def __init__(self, echo: bool = False):
		self.port = free_port()
		self.controller = Controller(
			Inbox(),
			hostname="127.0.0.1",
			port=self.port,
			authenticator=_authenticator(echo),
			auth_require_tls=False,
		)

	def __enter__(self):
		self.controller.start()
		return self

	def __exit__(self, *exc):
		self.controller.stop()


def smtp_settings(port: int, password: str, **extra) -> SmtpSettings:
	values = {
		"host": "127.0.0.1",
		"port": port,
		"security": "none",
		"user": "relance",
		"password": password,
		"password_env": "RELANCE_TEST_SMTP_PASSWORD",
		"from_address": "compta@atelier.example",
		"timeout": 5,
	}
	values.update(extra)
	return SmtpSettings(**values)


def send_and_fail(settings: SmtpSettings) -> MailError:
	with Mailer(settings, pdf=None) as mailer, pytest.raises(MailError) as caught:
		mailer.send(Letter(), "client@example.org")
	return caught.value


@pytest.mark.parametrize(
	"case",
	["server_down", "wrong_password", "server_echoes_the_password", "password_beyond_ascii"],
)
def test_the_smtp_password_is_never_shown(case, caplog):
	caplog.set_level(logging.DEBUG)
	if case == "server_down":
		password, error = SMTP_PASSWORD, send_and_fail(smtp_settings(free_port(), SMTP_PASSWORD))
		assert "refused the connection" in str(error)
	else:
		password = {
			"wrong_password": "wrong-" + SMTP_PASSWORD,
			"server_echoes_the_password": "wrong-" + SMTP_PASSWORD,
			# Fixed: smtplib raised UnicodeEncodeError, whose args hold the password
			"password_beyond_ascii": "pässwörd-€-" + SMTP_PASSWORD,
		}[case]
		with SmtpServer(echo=case == "server_echoes_the_password") as server:
			error = send_and_fail(smtp_settings(server.port, password))
		expected = "beyond ASCII" if case == "password_beyond_ascii" else "refused the login of 'relance'"
		assert expected in str(error)
	assert error.fatal
	assert error.describe("fr") != str(error)  # the French text exists, and is scrubbed as well
	assert_hidden(password, exception_text(error), error.describe("fr"), log_text(caplog))
	assert error.__cause__ is None and error.__suppress_context__  # no chained server reply in a traceback


def test_smtp_settings_never_show_the_password():
	settings = smtp_settings(587, SMTP_PASSWORD, host="smtp.example.org", security="starttls")
	assert_hidden(SMTP_PASSWORD, repr(settings), str(settings), repr(Mailer(settings, pdf=None)))
	for table in (
		{"host": "smtp.example.org", "password": SMTP_PASSWORD},
		{"host": "smtp.example.org", "user": "u", "password_env": "RELANCE_TEST_PW", "port": "x"},
		{"host": f"u:{SMTP_PASSWORD}@smtp.example.org", "user": "u", "password_env": "RELANCE_TEST_PW"},
	):
		with pytest.raises(MailError) as caught:
			SmtpSettings.from_config(table, "a@b.example", environ={"RELANCE_TEST_PW": SMTP_PASSWORD})
		assert_hidden(SMTP_PASSWORD, exception_text(caught.value))


# ---------------------------------------------------------------------------------------------------
# Dolibarr: the API key


class EchoHandler(BaseHTTPRequestHandler):
	"""A careless server: every answer repeats the key it was sent, in the body or a redirection."""

	mode = "401"

	def do_GET(self):
		key = self.headers.get("DOLAPIKEY", "")
		if self.mode == "302":
			self.send_response(302)
			self.send_header("Location", f"https://login.example/?key={quote(key, safe='')}&k2={key}")
			self.end_headers()
			return
		status = {"401": 401, "500": 500, "html": 200, "403": 403}[self.mode]
		if self.mode in ("401", "403"):
			body = json.dumps(
				{"error": {"code": status, "message": f"Bad key {key} ({quote(key)})"}}
			).encode()
			ctype = "application/json"
		else:
			body = f"<html><body><h1>Error</h1><p>key={key}</p><p>{quote(key, safe='')}</p></body></html>".encode()
			ctype = "text/html"
		self.send_response(status)
		self.send_header("Content-Type", ctype)
		self.send_header("Content-Length", str(len(body)))
		self.end_headers()
		self.wfile.write(body)

	def log_message(self, *args):  # keep the test output quiet
		pass


@pytest.fixture
def echo_server():
	servers = []

	def start(mode: str) -> str:
		handler = type("Handler", (EchoHandler,), {"mode": mode})
		server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
		threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
		servers.append(server)
		return f"http://127.0.0.1:{server.server_address[1]}"

	yield start
	for server in servers:
		server.shutdown()
		server.server_close()


@pytest.mark.parametrize("mode", ["closed_port", "401", "403", "302", "500", "html"])
def test_the_dolibarr_key_is_never_shown(mode, echo_server, caplog):
	caplog.set_level(logging.DEBUG)
	url = f"http://127.0.0.1:{free_port()}" if mode == "closed_port" else echo_server(mode)
	source = DolibarrSource(url, API_KEY, timeout=5)
	with pytest.raises(DolibarrError) as caught:
		source.load_book(date(2026, 6, 15))
	error = caught.value
	assert str(error).startswith(f"Dolibarr at {url}: GET /api/index.php/status: ")
	assert_hidden(API_KEY, exception_text(error), log_text(caplog), repr(source), str(source.warnings))


def test_a_key_beyond_ascii_is_refused_without_being_shown():
	# Fixed: requests raised UnicodeEncodeError, whose args hold the key
	for key in ("clé-" + API_KEY, "€" + API_KEY):
		with pytest.raises(DolibarrError, match="ASCII") as caught:
			DolibarrSource("http://127.0.0.1:9", key)
		assert_hidden(key, exception_text(caught.value))


@pytest.fixture
def workdir():
	path = Path(tempfile.mkdtemp(prefix="security-"))
	yield path
	shutil.rmtree(path, True)


@pytest.mark.parametrize("mode", ["closed_port", "401", "302", "html"])
def test_the_command_never_prints_the_dolibarr_key(mode, echo_server, caplog):
	caplog.set_level(logging.DEBUG)
	url = f"http://127.0.0.1:{free_port()}" if mode == "closed_port" else echo_server(mode)
	# In both languages: the French message is made from the same cleaned values
	for lang, where in (("en", f"Dolibarr at {url}: "), ("fr", f"Dolibarr à {url} : ")):
		with mock.patch.dict(os.environ, {"RELANCE_TEST_DOLIBARR_KEY": API_KEY}):
			code, out, err = run_cli(
				"--lang",
				lang,
				"plan",
				"--source",
				"dolibarr",
				"--dolibarr-url",
				url,
				"--dolibarr-key-env",
				"RELANCE_TEST_DOLIBARR_KEY",
				"--as-of",
				AS_OF,
			)
		assert code == 3, (out, err)
		assert where in err
		assert "Traceback" not in err
		assert_hidden(API_KEY, out, err, log_text(caplog))


def smtp_config(workdir: Path, port: int, **smtp) -> Path:
	company = SAMPLE_CONFIG.read_text(encoding="utf-8").split("[settings]")[0]
	table = {"host": "127.0.0.1", "port": port, "security": "none", "timeout": 5, **smtp}
	path = workdir / "entreprise.toml"
	path.write_text(company + "[smtp]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in table.items()))
	return path


@pytest.mark.parametrize("case", ["server_echoes_the_password", "password_beyond_ascii"])
def test_the_command_never_prints_the_smtp_password(case, workdir, caplog):
	caplog.set_level(logging.DEBUG)
	password = (
		"wrong-" + SMTP_PASSWORD if case == "server_echoes_the_password" else "pässwörd-" + SMTP_PASSWORD
	)
	with SmtpServer(echo=True) as server, mock.patch.dict(os.environ, {"RELANCE_TEST_SMTP_PW": password}):
		config = smtp_config(workdir, server.port, user="relance", password_env="RELANCE_TEST_SMTP_PW")
		journal, out_dir = workdir / "relance.sqlite", workdir / "lettres"
		code, out, err = run_cli(
			*("run", "--register", SAMPLE, "--as-of", AS_OF, "--journal", journal, "--out", out_dir),
			*("--config", config, "--send"),
		)
	assert code == 4, (out, err)
	assert "Traceback" not in err
	files = [p.read_text(encoding="utf-8", errors="replace") for p in out_dir.iterdir() if p.is_file()]
	assert_hidden(
		password, out, err, log_text(caplog), journal.read_bytes().decode("utf-8", "replace"), *files
	)


# ---------------------------------------------------------------------------------------------------
# Addresses


@pytest.mark.parametrize(
	"url, fragment",
	[
		("file:///etc/passwd", "must start with http:// or https://"),
		("javascript:alert(1)", "must start with http:// or https://"),
		("erp.example.org", "must start with http:// or https://"),
		("//erp.example.org", "must start with http:// or https://"),
		("ftp://erp.example.org", "must start with http:// or https://"),
		("gopher://127.0.0.1:6379/_INFO", "must start with http:// or https://"),
		("http://", "has no host name"),
		("https:erp.example.org", "has no host name"),
		("http:///api/index.php", "has no host name"),
		("", "is empty"),
		("   ", "is empty"),
		("https://exa mple.org", "must not contain spaces or control characters"),
		("https://erp.example.org\t.evil.example", "must not contain spaces or control characters"),
		("https://erp.example.org\n.evil.example/", "must not contain spaces or control characters"),
		("https://ex<ample>.org", "is not a host name or an IP address"),
		("https://host..example", "is not a host name or an IP address"),
		("https://erp.example.org:99999", "is not a valid URL"),
		("https://erp.example.org:0", "port 0 is not a port"),
		("https://[::1", "is not a valid URL"),
		("https://erp.example.org/?DOLAPIKEY=x", "must not have a query"),
		("https://erp.example.org/#x", "must not have a query"),
		("https://admin:hunter2@erp.example.org", "must not contain a user name or password"),
	],
)
def test_dolibarr_urls_are_validated(url, fragment):
	with pytest.raises(DolibarrError) as caught:
		DolibarrSource(url, API_KEY)
	assert fragment in str(caught.value)
	assert "hunter2" not in exception_text(caught.value)


def test_dolibarr_urls_accepted():
	for url, base in (
		("https://erp.example.org", "https://erp.example.org"),
		("http://127.0.0.1:8080/dolibarr/", "http://127.0.0.1:8080/dolibarr"),
		("https://ERP.example.org/htdocs/api/index.php", "https://erp.example.org/htdocs"),
		("http://[::1]:8080", "http://[::1]:8080"),
		("http://dolibarr_web", "http://dolibarr_web"),
		("https://société.example", "https://société.example"),
	):
		assert normalize_base_url(url) == base


def test_a_password_in_a_bad_url_is_not_repeated():
	# Fixed: 'https://admin:hunter2@host:99999' is not a valid URL (…) showed the password
	for url in ("https://admin:hunter2@erp.example.org:99999", "ftp://admin:hunter2@erp.example.org"):
		with pytest.raises(DolibarrError) as caught:
			normalize_base_url(url)
		assert "hunter2" not in exception_text(caught.value)
		assert "***@erp.example.org" in str(caught.value)


def test_the_command_refuses_a_bad_dolibarr_url():
	with mock.patch.dict(os.environ, {"RELANCE_TEST_DOLIBARR_KEY": API_KEY}):
		code, out, err = run_cli(
			*("--lang", "en", "plan", "--source", "dolibarr", "--dolibarr-url", "file:///etc/passwd"),
			*("--dolibarr-key-env", "RELANCE_TEST_DOLIBARR_KEY", "--as-of", AS_OF),
		)
	assert code == 3
	assert "the Dolibarr URL must start with http:// or https://" in err
	assert "Traceback" not in err


@pytest.mark.parametrize(
	"host",
	[
		"smtp://smtp.example.org",
		"smtp.example.org:587",
		"relance:pw@smtp.example.org",
		"smtp.example.org/",
		"smtp example.org",
		" smtp.example.org",
		"smtp.example.org\n",
		"smtp..example.org",
		"-smtp.example.org",
		"[::1",
	],
)
def test_smtp_hosts_are_validated(host):
	with pytest.raises(MailError, match="is not a server name or address") as caught:
		SmtpSettings(host=host, from_address="a@b.example")
	assert "pw@" not in str(caught.value)


def test_smtp_hosts_accepted():
	for host in (
		"smtp.example.org",
		"localhost",
		"127.0.0.1",
		"::1",
		"[::1]",
		"mail_relay",
		"smtp.société.example",
	):
		assert SmtpSettings(host=host, from_address="a@b.example").host == host


@pytest.mark.parametrize(
	"values, fragment",
	[
		({"port": 70000}, "is not a port number"),
		({"port": "25"}, "is not a port number"),
		({"timeout": float("nan")}, "timeout must be a number of seconds"),
		({"timeout": float("inf")}, "timeout must be a number of seconds"),
		({"timeout": 0}, "timeout must be a number of seconds"),
	],
)
def test_smtp_port_and_timeout(values, fragment):
	with pytest.raises(MailError, match=fragment):
		SmtpSettings(host="smtp.example.org", from_address="a@b.example", **values)
