"""The SMTP mailer against a real SMTP server (aiosmtpd) on the loopback interface."""

from __future__ import annotations

import email
import email.policy
import socket
import unittest
from dataclasses import dataclass

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from relance_erpnext.connectors.mailer import (
	Attachment,
	Mailer,
	MailError,
	SmtpSettings,
	split_addresses,
)

PASSWORD = "S3cret-pa55word!"
PASSWORD_ENV = "RELANCE_TEST_SMTP_PASSWORD"


def free_port() -> int:
	with socket.socket() as sock:
		sock.bind(("127.0.0.1", 0))
		return sock.getsockname()[1]


class Inbox:
	"""aiosmtpd handler: keeps every accepted message; refuses the recipients listed in `refuse`."""

	def __init__(self, refuse=(), data_reply: str | None = None):
		self.refuse = {addr.lower() for addr in refuse}
		self.data_reply = data_reply
		self.messages: list[tuple[str, list[str], email.message.EmailMessage]] = []

	async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
		if address.lower() in self.refuse:
			return "550 5.1.1 No such user here"
		envelope.rcpt_tos.append(address)
		return "250 OK"

	async def handle_DATA(self, server, session, envelope):
		if self.data_reply:
			return self.data_reply
		message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
		self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
		return "250 Message accepted for delivery"


def _authenticator(server, session, envelope, mechanism, auth_data):
	ok = (
		isinstance(auth_data, LoginPassword)
		and auth_data.login == b"relance"
		and auth_data.password == PASSWORD.encode()
	)
	return AuthResult(success=ok, handled=False)


class SmtpServer:
	"""A real SMTP server on 127.0.0.1 and a free port, for one test (`with SmtpServer() as s:`)."""

	def __init__(self, handler: Inbox | None = None, auth: bool = False):
		self.handler = handler or Inbox()
		self.port = free_port()
		kwargs = {}
		if auth:
			kwargs = {"authenticator": _authenticator, "auth_require_tls": False}
		self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **kwargs)

	def __enter__(self):
		self.controller.start()
		return self

	def __exit__(self, *exc):
		self.controller.stop()

	@property
	def messages(self):
		return self.handler.messages


@dataclass(frozen=True)
class Letter:
	subject: str = "Relance : facture FA-2026-0007 — échéance dépassée"
	html: str = (
		"<!DOCTYPE html><html><body><p>Madame, Monsieur, la facture <b>FA-2026-0007</b>…</p></body></html>"
	)
	text: str = "Madame, Monsieur,\n\nla facture FA-2026-0007 de 1 152,00 € est échue.\n"


def settings(port: int, **extra) -> SmtpSettings:
	values = {
		"host": "127.0.0.1",
		"port": port,
		"security": "none",
		"from_address": "Atelier Lumière <comptabilite@atelier-lumiere.example>",
		"timeout": 5,
	}
	values.update(extra)
	return SmtpSettings(**values)


class MailerTest(unittest.TestCase):
	def test_a_letter_arrives_as_html_and_text_with_the_letter_attached(self):
		with SmtpServer() as server, Mailer(settings(server.port), pdf=None) as mailer:
			receipt = mailer.send(Letter(), "compta@boulangerie-martin.example", stem="001_martin")
			mailer.send(Letter(subject="Second"), ["b@example.org"])
		self.assertEqual(len(server.messages), 2)
		sender, rcpts, message = server.messages[0]
		self.assertEqual(sender, "comptabilite@atelier-lumiere.example")
		self.assertEqual(rcpts, ["compta@boulangerie-martin.example"])
		self.assertEqual(message["To"], "compta@boulangerie-martin.example")
		self.assertEqual(message["Subject"], Letter.subject)
		self.assertEqual(message["Message-ID"], receipt.message_id)
		self.assertEqual(receipt.accepted, ("compta@boulangerie-martin.example",))
		self.assertEqual(message.get_content_type(), "multipart/mixed")
		body = message.get_body(("plain",))
		self.assertIn("1 152,00 €", body.get_content())
		self.assertIn("<b>FA-2026-0007</b>", message.get_body(("html",)).get_content())
		alternative = next(message.iter_parts())
		self.assertEqual(alternative.get_content_type(), "multipart/alternative")
		attachments = list(message.iter_attachments())
		self.assertEqual([a.get_filename() for a in attachments], ["001_martin.html"])
		self.assertIn("FA-2026-0007", attachments[0].get_content())
		self.assertEqual(server.messages[1][2]["Subject"], "Second")

	def test_subjects_keep_their_spaces_and_accents(self):
		subjects = [
			"Facture n° FA-2026-0038 en attente de règlement – petit rappel",
			"Factures FA-2026-0012, FA-2026-0027 : mise en demeure de payer – dernier avis avant procédure"
			" judiciaire, un sujet très long – é è à ç « guillemets »",
		]
		with SmtpServer() as server, Mailer(settings(server.port), pdf=None) as mailer:
			for subject in subjects:
				mailer.send(Letter(subject=subject), "a@example.org")
		self.assertEqual([message["Subject"] for _, _, message in server.messages], subjects)

	def test_pdf_attachment_when_a_renderer_is_given(self):
		fake_pdf = b"%PDF-1.7 fake"
		with SmtpServer() as server, Mailer(settings(server.port), pdf=lambda html: fake_pdf) as mailer:
			self.assertEqual(mailer.attachment_kind, "PDF")
			extra = Attachment("conditions.txt", b"CGV", "text/plain")
			mailer.send(Letter(), "a@example.org", [extra], stem="lettre")
		attachments = list(server.messages[0][2].iter_attachments())
		self.assertEqual([a.get_filename() for a in attachments], ["lettre.pdf", "conditions.txt"])
		self.assertEqual(attachments[0].get_content_type(), "application/pdf")
		self.assertEqual(attachments[0].get_content(), fake_pdf)

	def test_several_addresses_in_one_field(self):
		self.assertEqual(
			split_addresses("a@x.example; Compta <b@y.example>, "), ["a@x.example", "b@y.example"]
		)
		with (
			SmtpServer(Inbox(refuse=["b@y.example"])) as server,
			Mailer(settings(server.port), pdf=None) as m,
		):
			receipt = m.send(Letter(), "a@x.example; b@y.example")
		self.assertEqual(receipt.accepted, ("a@x.example",))
		self.assertEqual(len(receipt.refused), 1)
		self.assertIn("550", receipt.describe())
		self.assertEqual(server.messages[0][1], ["a@x.example"])

	def test_refused_recipient(self):
		with SmtpServer(Inbox(refuse=["nobody@example.org"])) as server:
			with Mailer(settings(server.port), pdf=None) as mailer:
				called = []
				with self.assertRaises(MailError) as caught:
					mailer.send(Letter(), "nobody@example.org", before_data=lambda: called.append(1))
				# The connection is still usable for the next email
				mailer.send(Letter(), "ok@example.org")
		self.assertIn("refused the recipient", str(caught.exception))
		self.assertIn("nobody@example.org", str(caught.exception))
		self.assertIn("550", str(caught.exception))
		french = caught.exception.describe("fr")
		self.assertTrue(
			french.startswith("le serveur SMTP a refusé le destinataire : nobody@example.org (550"), french
		)
		self.assertFalse(caught.exception.maybe_sent)
		self.assertFalse(caught.exception.fatal)
		self.assertEqual(called, [], "before_data runs only when the message is about to go out")
		self.assertEqual([rcpts for _, rcpts, _ in server.messages], [["ok@example.org"]])

	def test_message_refused_at_data(self):
		with SmtpServer(Inbox(data_reply="554 5.7.1 Message rejected as spam")) as server:
			with Mailer(settings(server.port), pdf=None) as mailer:
				called = []
				with self.assertRaises(MailError) as caught:
					mailer.send(Letter(), "a@example.org", before_data=lambda: called.append(1))
		self.assertEqual(called, [1])
		self.assertIn("554", str(caught.exception))
		self.assertFalse(caught.exception.maybe_sent)

	def test_server_down(self):
		port = free_port()  # nothing listens there
		with Mailer(settings(port), pdf=None) as mailer:
			with self.assertRaises(MailError) as caught:
				mailer.send(Letter(), "a@example.org")
		self.assertIn(f"127.0.0.1:{port}", str(caught.exception))
		self.assertIn("refused the connection", str(caught.exception))
		# The same in French for the person running the command; str() and English stay English
		error = caught.exception
		self.assertEqual(error.describe("en"), str(error))
		self.assertEqual(
			error.describe("fr"), f"le serveur SMTP 127.0.0.1:{port} a refusé la connexion (est-il arrêté ?)"
		)
		self.assertEqual(error.describe("fr-CA"), error.describe("fr"))
		self.assertTrue(caught.exception.fatal)
		self.assertFalse(caught.exception.maybe_sent)

	def test_login(self):
		with SmtpServer(auth=True) as server:
			good = settings(server.port, user="relance", password=PASSWORD, password_env=PASSWORD_ENV)
			with Mailer(good, pdf=None) as mailer:
				mailer.send(Letter(), "a@example.org")
			self.assertEqual(len(server.messages), 1)
			bad = settings(
				server.port, user="relance", password="wrong-" + PASSWORD, password_env=PASSWORD_ENV
			)
			with Mailer(bad, pdf=None) as mailer:
				with self.assertRaises(MailError) as caught:
					mailer.send(Letter(), "a@example.org")
		error = caught.exception
		self.assertIn("refused the login of 'relance'", str(error))
		self.assertIn(PASSWORD_ENV, str(error))
		self.assertIn("a refusé l'identification de 'relance'", error.describe("fr"))
		self.assertIn(PASSWORD_ENV, error.describe("fr"))
		self.assertTrue(error.fatal)
		self.assertNotIn(PASSWORD, str(error))
		self.assertNotIn(PASSWORD, error.describe("fr"))
		self.assertNotIn(PASSWORD, repr(error.args))
		self.assertEqual(len(server.messages), 1)

	def test_starttls_required_but_not_offered(self):
		with SmtpServer() as server, Mailer(settings(server.port, security="starttls"), pdf=None) as mailer:
			with self.assertRaises(MailError) as caught:
				mailer.send(Letter(), "a@example.org")
		self.assertIn("STARTTLS", str(caught.exception))
		self.assertIn("ne propose pas STARTTLS", caught.exception.describe("fr"))
		self.assertEqual(server.messages, [])

	def test_a_configuration_error_is_said_from_the_catalogue(self):
		with self.assertRaises(MailError) as caught:
			settings(25, security="tls")
		self.assertEqual(
			str(caught.exception), "smtp: security must be one of starttls, ssl, none, not 'tls'"
		)
		self.assertEqual(caught.exception.describe("en"), str(caught.exception))
		self.assertEqual(
			caught.exception.describe("fr"), "smtp : security doit valoir starttls, ssl, none, pas 'tls'"
		)


class SettingsTest(unittest.TestCase):
	def test_password_comes_from_the_environment_and_is_never_shown(self):
		table = {
			"host": "smtp.example.org",
			"user": "relance",
			"password_env": PASSWORD_ENV,
			"from": "compta@example.org",
		}
		s = SmtpSettings.from_config(table, environ={PASSWORD_ENV: PASSWORD})
		self.assertEqual(s.password, PASSWORD)
		self.assertEqual(s.effective_port, 587)
		self.assertEqual(s.security, "starttls")
		for shown in (repr(s), str(s), repr(Mailer(s, pdf=None))):
			self.assertNotIn(PASSWORD, shown)
		self.assertIn("smtp.example.org", str(s))

	def test_bad_settings(self):
		base = {"host": "smtp.example.org", "from": "compta@example.org"}
		cases = (
			({**base, "password": PASSWORD}, "environment variable"),
			({**base, "user": "x", "password_env": "RELANCE_ABSENT_VARIABLE"}, "RELANCE_ABSENT_VARIABLE"),
			({**base, "user": "x"}, "password_env"),
			({**base, "security": "tls"}, "security"),
			({**base, "port": "abc"}, "port"),
			({"host": "smtp.example.org"}, "from"),
			({**base, "colour": "blue"}, "unknown"),
			({**base, "security": "none", "user": "x", "password_env": PASSWORD_ENV}, "unencrypted"),
		)
		for table, expected in cases:
			with self.subTest(table=table):
				with self.assertRaises(MailError) as caught:
					SmtpSettings.from_config(table, environ={PASSWORD_ENV: PASSWORD})
				self.assertIn(expected, str(caught.exception))
				self.assertNotIn(PASSWORD, str(caught.exception))
		# The company's address is the default sender
		s = SmtpSettings.from_config({"host": "localhost", "security": "none"}, default_from="c@example.org")
		self.assertEqual(s.from_address, "c@example.org")
		self.assertEqual(s.effective_port, 25)


if __name__ == "__main__":
	unittest.main()
