"""Email over SMTP (stdlib only): a rendered letter as HTML + text, with the letter attached.

The password is read from an environment variable named in the configuration (never from the
file itself); it is hidden from repr/str of the settings and scrubbed from every error message.

`Mailer.send` speaks SMTP step by step so that the caller knows where a failure happened:

- before DATA (connection, login, sender or recipient refused): nothing went out, `MailError`
  with `maybe_sent=False`;
- the server answered DATA with an error: nothing went out either (`maybe_sent=False`);
- the connection broke while the message was being sent or before the server's answer: the
  message may have gone out, `maybe_sent=True`.

`before_data` (a callable) runs just before DATA: the command marks its journal entry "unknown"
there, so that a crash between DATA and recording "sent" never leads to a silent second sending.
"""

from __future__ import annotations

import base64
import contextlib
import io
import ipaddress
import math
import os
import smtplib
import ssl
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid, parseaddr

from relance_erpnext.connectors.hosts import valid_host
from relance_erpnext.i18n import Text, reason, say

SECURITIES = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
LOOPBACK_NAMES = ("localhost", "localhost.localdomain")
# The fields of the [smtp] table (`relance check` names the unknown ones)
SMTP_FIELDS = (
	"host",
	"port",
	"security",
	"user",
	"password_env",
	"password_file",
	"from",
	"timeout",
	"reply_to",
)


class MailError(Exception):
	"""An email could not be sent. `maybe_sent`: it may have gone out all the same (connection lost
	during DATA). `fatal`: the server cannot be used at all (down, login refused): later emails of
	the same run would fail the same way.

	The message is English (str(), the journal's detail); `fr` is the same in French, for the person
	running the command: `describe(language)` gives the one to print (the configuration's errors are a
	Text, said from the catalogue). Neither ever holds the password (Mailer scrubs both)."""

	def __init__(self, message: str, *, fr: str = "", maybe_sent: bool = False, fatal: bool = False):
		super().__init__(message)
		self.message = message
		self.fr = fr
		self.maybe_sent = maybe_sent
		self.fatal = fatal

	def __str__(self) -> str:
		return self.message

	def describe(self, language: str = "en") -> str:
		if self.fr and language.lower().startswith("fr"):
			return self.fr
		return say(self.message, language)


@dataclass(frozen=True)
class Attachment:
	filename: str
	content: bytes
	content_type: str = "application/octet-stream"


@dataclass(frozen=True)
class SendReceipt:
	"""The server accepted the message for these recipients."""

	message_id: str
	accepted: tuple[str, ...]
	refused: tuple[str, ...]
	reply: str

	def describe(self, language: str = "en") -> str:
		"""'sent to …, <Message-ID>' (the journal keeps it in English)."""
		values = dict(to=", ".join(self.accepted), message_id=self.message_id)
		if self.refused:
			text = Text(
				"sent to {to}, {message_id}; refused: {refused}", refused=", ".join(self.refused), **values
			)
		else:
			text = Text("sent to {to}, {message_id}", **values)
		return say(text, language)


@dataclass(frozen=True)
class SmtpSettings:
	host: str
	from_address: str
	port: int = 0  # 0: the usual port of the security mode
	security: str = "starttls"
	user: str = ""
	password: str = field(default="", repr=False)
	password_env: str = ""
	timeout: float = 30.0
	reply_to: str = ""

	def __post_init__(self):
		if self.security not in SECURITIES:
			raise MailError(
				Text(
					"smtp: security must be one of {listed}, not {security!r}",
					listed=", ".join(SECURITIES),
					security=self.security,
				)
			)
		if not self.host:
			raise MailError(Text("smtp: host is required"))
		if not valid_host(self.host):
			if "@" in self.host:  # "user:password@host": not shown
				raise MailError(
					Text(
						"smtp: host is not a server name or address: give the name alone (host ="
						' "smtp.example.org"), without "smtp://", user or port (port = 587)'
					)
				)
			raise MailError(
				Text(
					"smtp: host {host!r} is not a server name or address: give the name alone (host ="
					' "smtp.example.org"), without "smtp://", user or port (port = 587)',
					host=self.host,
				)
			)
		if not self.from_address or "@" not in parseaddr(self.from_address)[1]:
			raise MailError(
				Text(
					"smtp: from must be an email address, not {from_address!r}",
					from_address=self.from_address,
				)
			)
		if isinstance(self.port, bool) or not isinstance(self.port, int) or not 0 <= self.port < 65536:
			raise MailError(Text("smtp: port {port!r} is not a port number", port=self.port))
		if not isinstance(self.timeout, int | float) or not 0 < self.timeout < math.inf:
			raise MailError(Text("smtp: timeout must be a number of seconds, more than 0"))
		if self.password and not self.user:
			raise MailError(Text("smtp: a password needs a user"))
		if self.user and self.security == "none" and not is_loopback(self.host):
			raise MailError(
				Text(
					'smtp: a login over an unencrypted connection is refused (security = "none"); use "starttls" or "ssl", or a relay on this machine'
				)
			)

	@property
	def effective_port(self) -> int:
		return int(self.port) or DEFAULT_PORTS[self.security]

	def __str__(self) -> str:
		who = f", user {self.user}" if self.user else ""
		return f"{self.host}:{self.effective_port} ({self.security}{who})"

	@classmethod
	def from_config(
		cls, table: Mapping, default_from: str = "", environ: Mapping[str, str] | None = None
	) -> SmtpSettings:
		"""Settings from the [smtp] table of the configuration; the password comes from the
		environment variable named by `password_env`, or from the file named by `password_file`
		(its first line; a `password` in the configuration itself is refused)."""
		environ = os.environ if environ is None else environ
		if not isinstance(table, Mapping):
			raise MailError(Text("smtp: [smtp] must be a table"))
		known = set(SMTP_FIELDS)
		if "password" in table:
			raise MailError(
				Text(
					'smtp: no password in the configuration file; put it in an environment variable and name that variable in password_env (e.g. password_env = "RELANCE_SMTP_PASSWORD")'
				)
			)
		unknown = set(table) - known
		if unknown:
			raise MailError(Text("smtp: unknown field(s): {listed}", listed=", ".join(sorted(unknown))))
		for key in ("host", "security", "user", "password_env", "password_file", "from", "reply_to"):
			if key in table and not isinstance(table[key], str):
				raise MailError(Text("smtp: {key} must be text", key=key))
		try:
			port = int(table.get("port", 0))
			timeout = float(table.get("timeout", 30))
		except (TypeError, ValueError):
			raise MailError(Text("smtp: port and timeout must be numbers"))
		password_env = table.get("password_env", "")
		password_file = table.get("password_file", "")
		password = ""
		if password_env and password_file:
			raise MailError(Text("smtp: give password_env or password_file, not both"))
		if password_env:
			if password_env not in environ:
				raise MailError(
					Text(
						"smtp: the environment variable {password_env} (password_env) is not set",
						password_env=password_env,
					)
				)
			password = environ[password_env]
			if not table.get("user"):
				raise MailError(Text("smtp: password_env needs a user"))
		elif password_file:
			password = read_password_file(password_file)
			if not table.get("user"):
				raise MailError(Text("smtp: password_file needs a user"))
		elif table.get("user"):
			raise MailError(
				Text("smtp: a user needs password_env or password_file (where the password is kept)")
			)
		return cls(
			host=table.get("host", ""),
			port=port,
			security=table.get("security", "starttls"),
			user=table.get("user", ""),
			password=password,
			password_env=password_env,
			from_address=table.get("from") or default_from,
			timeout=timeout,
			reply_to=table.get("reply_to", ""),
		)


def read_password_file(path: str) -> str:
	"""The password kept in a file (its first line, without the line end); never in a message."""
	try:
		with open(os.path.expanduser(path), encoding="utf-8") as handle:
			password = handle.readline().rstrip("\r\n")
	except OSError as exc:
		raise MailError(Text("smtp: password_file {path}: {reason}", path=path, reason=reason(exc)))
	except UnicodeDecodeError:
		raise MailError(Text("smtp: password_file {path}: not UTF-8 text", path=path))
	if not password:
		raise MailError(Text("smtp: password_file {path}: the first line is empty", path=path))
	return password


def is_loopback(host: str) -> bool:
	if host.lower() in LOOPBACK_NAMES:
		return True
	try:
		return ipaddress.ip_address(host).is_loopback
	except ValueError:
		return False


def split_addresses(text: str) -> list[str]:
	"""The addresses of a field that may hold several, separated by commas or semicolons."""
	return [addr for _, addr in getaddresses([text.replace(";", ",")]) if addr and "@" in addr]


def pdf_renderer() -> Callable[[str], bytes] | None:
	"""HTML → PDF with WeasyPrint when it can render here (it is an optional dependency, the extra
	``pdf``), else None: not installed (ImportError) and its system libraries missing (OSError at
	import, e.g. no Pango) are the same to the caller, who says so in its own words."""
	try:
		# Without Pango, WeasyPrint prints its own notice on standard output, into the command's
		with contextlib.redirect_stdout(io.StringIO()):
			from weasyprint import HTML  # type: ignore[import-not-found]
	except Exception:  # ImportError, OSError (a library missing), or any other broken install
		return None
	return lambda html: HTML(string=html).write_pdf()


def letter_attachment(letter, stem: str, renderer: Callable[[str], bytes] | None) -> Attachment:
	"""The letter itself, attached: PDF when a renderer is available, else the HTML page."""
	if renderer is not None:
		try:
			return Attachment(f"{stem}.pdf", renderer(letter.html), "application/pdf")
		except Exception:  # a renderer that fails must not stop the email: the HTML page will do
			pass
	return Attachment(f"{stem}.html", letter.html.encode("utf-8"), "text/html")


def build_message(
	letter, to: Iterable[str], settings: SmtpSettings, attachments: Iterable[Attachment] = ()
) -> EmailMessage:
	"""The email: the letter's text and HTML as multipart/alternative, then the attachments."""
	message = EmailMessage()
	message["Subject"] = letter.subject
	message["From"] = settings.from_address
	message["To"] = ", ".join(to)
	if settings.reply_to:
		message["Reply-To"] = settings.reply_to
	message["Date"] = formatdate(localtime=True)
	domain = parseaddr(settings.from_address)[1].rpartition("@")[2] or None
	message["Message-ID"] = make_msgid(domain=domain)
	message.set_content(letter.text)
	message.add_alternative(letter.html, subtype="html")
	for attachment in attachments:
		maintype, _, subtype = attachment.content_type.partition("/")
		message.add_attachment(
			attachment.content,
			maintype=maintype,
			subtype=subtype or "octet-stream",
			filename=attachment.filename,
		)
	return message


class Mailer:
	"""One SMTP connection, opened on the first email and reused; `close()` (or `with`) ends it."""

	def __init__(self, settings: SmtpSettings, pdf: Callable[[str], bytes] | None | bool = True):
		self.settings = settings
		# pdf=True: WeasyPrint if installed; a callable: that renderer; None/False: HTML attachment
		self.pdf = pdf_renderer() if pdf is True else (pdf or None)
		self._smtp: smtplib.SMTP | None = None

	def __repr__(self) -> str:
		return f"Mailer({self.settings!r})"

	def __enter__(self):
		return self

	def __exit__(self, *exc):
		self.close()

	@property
	def attachment_kind(self) -> str:
		return "PDF" if self.pdf is not None else "HTML"

	def _scrub(self, text: str) -> str:
		"""The error text without the password (nor its base64 forms, as AUTH sends them)."""
		secret = self.settings.password
		if not secret:
			return text
		forms = {secret}
		user = self.settings.user
		for raw in (secret, f"\0{user}\0{secret}", f"{user}\0{secret}"):
			forms.add(base64.b64encode(raw.encode("utf-8")).decode("ascii"))
		for form in sorted(forms, key=len, reverse=True):
			text = text.replace(form, "***")
		return text

	def _error(self, text: str, fr: str = "", **flags) -> MailError:
		return MailError(self._scrub(text), fr=self._scrub(fr), **flags)

	def _where(self) -> str:
		return f"{self.settings.host}:{self.settings.effective_port}"

	def connect(self) -> smtplib.SMTP:
		if self._smtp is not None:
			return self._smtp
		s = self.settings
		try:
			if s.security == "ssl":
				smtp = smtplib.SMTP_SSL(
					s.host, s.effective_port, timeout=s.timeout, context=ssl.create_default_context()
				)
			else:
				smtp = smtplib.SMTP(s.host, s.effective_port, timeout=s.timeout)
		except TimeoutError:
			raise self._error(
				f"the SMTP server {self._where()} did not answer within {s.timeout:g} s",
				f"le serveur SMTP {self._where()} n'a pas répondu en {s.timeout:g} s",
				fatal=True,
			) from None
		except ConnectionRefusedError:
			raise self._error(
				f"the SMTP server {self._where()} refused the connection (is it down?)",
				f"le serveur SMTP {self._where()} a refusé la connexion (est-il arrêté ?)",
				fatal=True,
			) from None
		except (OSError, smtplib.SMTPException) as exc:
			raise self._error(
				f"cannot reach the SMTP server {self._where()}: {exc}",
				f"impossible de joindre le serveur SMTP {self._where()} : {exc}",
				fatal=True,
			) from None
		try:
			smtp.ehlo()
			if s.security == "starttls":
				if not smtp.has_extn("starttls"):
					raise self._error(
						f"the SMTP server {self._where()} does not offer STARTTLS"
						' (set security = "ssl", or "none" for a relay on this machine)',
						f"le serveur SMTP {self._where()} ne propose pas STARTTLS"
						' (mettez security = "ssl", ou "none" pour un relais sur cette machine)',
						fatal=True,
					) from None
				smtp.starttls(context=ssl.create_default_context())
				smtp.ehlo()
			if s.user:
				smtp.login(s.user, s.password)
		except MailError:
			_quit(smtp)
			raise
		except smtplib.SMTPAuthenticationError as exc:
			_quit(smtp)
			raise self._error(
				f"the SMTP server {self._where()} refused the login of {s.user!r}: {_reply(exc)}"
				f" (check the password in ${s.password_env or 'the password variable'})",
				f"le serveur SMTP {self._where()} a refusé l'identification de {s.user!r} : {_reply(exc)}"
				f" (vérifiez le mot de passe de ${s.password_env or 'la variable du mot de passe'})",
				fatal=True,
			) from None
		except smtplib.SMTPNotSupportedError:
			_quit(smtp)
			raise self._error(
				f"the SMTP server {self._where()} does not accept a login (AUTH)",
				f"le serveur SMTP {self._where()} n'accepte pas d'identification (AUTH)",
				fatal=True,
			) from None
		except UnicodeError:
			# smtplib sends the login as ASCII; its error would hold the password (exc.object)
			_quit(smtp)
			raise MailError(
				f"cannot log in to the SMTP server {self._where()}: the user name or the password has"
				" characters beyond ASCII (accents, €…), which the login cannot send",
				fr=f"identification impossible auprès du serveur SMTP {self._where()} : le nom d'utilisateur"
				" ou le mot de passe a des caractères hors ASCII (accents, €…), que l'identification ne"
				" peut pas transmettre",
				fatal=True,
			) from None
		except (OSError, smtplib.SMTPException) as exc:
			_quit(smtp)
			raise self._error(
				f"the SMTP server {self._where()} failed before sending: {exc}",
				f"le serveur SMTP {self._where()} a échoué avant l'envoi : {exc}",
				fatal=True,
			) from None
		self._smtp = smtp
		return smtp

	def close(self) -> None:
		if self._smtp is not None:
			_quit(self._smtp)
			self._smtp = None

	def send(
		self,
		letter,
		to: str | Iterable[str],
		attachments: Iterable[Attachment] = (),
		*,
		stem: str = "relance",
		attach_letter: bool = True,
		before_data: Callable[[], None] | None = None,
	) -> SendReceipt:
		"""Send a rendered letter (subject, html, text) to `to`; the letter is attached (PDF or HTML,
		see `attachment_kind`) unless attach_letter is False. Raises MailError."""
		recipients = split_addresses(to) if isinstance(to, str) else [a for a in to if a]
		if not recipients:
			raise MailError(f"no email address in {to!r}", fr=f"aucune adresse e-mail dans {to!r}")
		files = [letter_attachment(letter, stem, self.pdf)] if attach_letter else []
		files.extend(attachments)
		message = build_message(letter, recipients, self.settings, files)
		sender = parseaddr(self.settings.from_address)[1]
		everything = [sender, *recipients]
		smtputf8 = not all(addr.isascii() for addr in everything)
		smtp = self.connect()
		mail_options: list[str] = []
		if smtputf8:
			if not smtp.has_extn("smtputf8"):
				raise MailError(
					f"the SMTP server {self._where()} cannot take non-ASCII addresses ({to})",
					fr=f"le serveur SMTP {self._where()} n'accepte pas les adresses hors ASCII ({to})",
				)
			mail_options = ["SMTPUTF8", "BODY=8BITMIME"]
		# Headers are not folded at 78 columns: Python's folder drops the space between two encoded
		# words ("règlement – petit" would read "règlement– petit"); 998 is the hard limit of RFC 5322
		policy = message.policy.clone(linesep="\r\n", utf8=smtputf8, max_line_length=998)
		data = message.as_bytes(policy=policy)

		# Before DATA: nothing can have gone out
		try:
			code, reply = smtp.mail(sender, mail_options)
			if code != 250:
				self._reset()
				raise self._error(
					f"the SMTP server refused the sender {sender}: {code} {_text(reply)}",
					f"le serveur SMTP a refusé l'expéditeur {sender} : {code} {_text(reply)}",
				) from None
			accepted, refused = [], []
			for addr in recipients:
				code, reply = smtp.rcpt(addr)
				if code in (250, 251):
					accepted.append(addr)
				else:
					refused.append(f"{addr} ({code} {_text(reply)})")
			if not accepted:
				self._reset()
				raise self._error(
					f"the SMTP server refused the recipient: {'; '.join(refused)}",
					f"le serveur SMTP a refusé le destinataire : {' ; '.join(refused)}",
				) from None
		except MailError:
			raise
		except (OSError, smtplib.SMTPException) as exc:
			self._drop()
			raise self._error(
				f"the SMTP server {self._where()} failed before sending: {exc}",
				f"le serveur SMTP {self._where()} a échoué avant l'envoi : {exc}",
			) from None

		if before_data is not None:
			try:
				before_data()
			except BaseException:
				self._reset()
				raise

		# DATA: from here on, a broken connection may have delivered the message
		try:
			code, reply = smtp.data(data)
		except smtplib.SMTPDataError as exc:  # DATA itself refused: the message was not sent
			self._reset()
			raise self._error(
				f"the SMTP server refused the message: {exc.smtp_code} {_text(exc.smtp_error)}",
				f"le serveur SMTP a refusé le message : {exc.smtp_code} {_text(exc.smtp_error)}",
			) from None
		except (OSError, smtplib.SMTPException) as exc:
			self._drop()
			raise self._error(
				f"the connection to {self._where()} broke while sending ({exc or type(exc).__name__});"
				" the email may have gone out",
				f"la connexion à {self._where()} a été coupée pendant l'envoi ({exc or type(exc).__name__})"
				" ; le courriel est peut-être parti",
				maybe_sent=True,
			) from None
		if code != 250:
			self._reset()
			raise self._error(
				f"the SMTP server refused the message: {code} {_text(reply)}",
				f"le serveur SMTP a refusé le message : {code} {_text(reply)}",
			) from None
		return SendReceipt(
			message_id=str(message["Message-ID"]),
			accepted=tuple(accepted),
			refused=tuple(refused),
			reply=f"{code} {_text(reply)}",
		)

	def _reset(self) -> None:
		if self._smtp is None:
			return
		try:
			self._smtp.rset()
		except (OSError, smtplib.SMTPException):
			self._drop()

	def _drop(self) -> None:
		if self._smtp is not None:
			try:
				self._smtp.close()
			except OSError:
				pass
			self._smtp = None


def _quit(smtp: smtplib.SMTP) -> None:
	try:
		smtp.quit()
	except (OSError, smtplib.SMTPException):
		try:
			smtp.close()
		except OSError:
			pass


def _text(reply) -> str:
	if isinstance(reply, bytes):
		return reply.decode("utf-8", "replace")
	return str(reply)


def _reply(exc: smtplib.SMTPResponseException) -> str:
	return f"{exc.smtp_code} {_text(exc.smtp_error)}"
