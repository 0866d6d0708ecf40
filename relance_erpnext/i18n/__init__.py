"""The `relance` command's messages in French or English: a gettext-style catalogue (fr.po beside this
file, msgid = the English text) read on first use, and `Text`, an English message that remembers its
template and arguments so that it can be said in French later (the register reader builds its errors
before anyone knows the reader's language; `say(message, "fr")` gives them in French).

Nothing here imports Frappe; the Frappe app's own translations stay in relance_erpnext/locale.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

LANGUAGES = ("fr", "en")
_CATALOGUE = Path(__file__).with_name("fr.po")
_FR: dict[str, str] | None = None


class Text(str):
	"""An English message (it is that str) that can also be said in another language: `template` is
	its msgid in the catalogue, `args` the values put into it (themselves Text or not)."""

	template: str
	args: dict

	def __new__(cls, template: str, **args):
		self = super().__new__(cls, template.format(**args) if args else template)
		self.template = template
		self.args = args
		return self

	def __reduce__(self):
		return (_rebuild, (self.template, self.args))


def _rebuild(template: str, args: dict) -> Text:
	return Text(template, **args)


def _unquote(text: str) -> str:
	return ast.literal_eval(text.strip()) if text.strip() else ""


def parse_po(text: str) -> dict[str, str]:
	"""{msgid: msgstr} of a .po file (msgctxt and plurals are not used here; fuzzy entries are left
	out, as gettext does)."""
	entries: dict[str, str] = {}
	msgid = msgstr = current = None
	fuzzy = next_fuzzy = False

	def flush():
		if msgid and msgstr and not fuzzy:
			entries[msgid] = msgstr

	for line in text.splitlines():
		line = line.strip()
		if line.startswith("#,") and "fuzzy" in line:
			next_fuzzy = True
		elif line.startswith("msgid "):
			flush()
			msgid, msgstr, current = _unquote(line[6:]), None, "id"
			fuzzy, next_fuzzy = next_fuzzy, False
		elif line.startswith("msgstr "):
			msgstr, current = _unquote(line[7:]), "str"
		elif line.startswith('"'):
			if current == "id":
				msgid += _unquote(line)
			elif current == "str":
				msgstr += _unquote(line)
	flush()
	return entries


def catalogue() -> dict[str, str]:
	global _FR
	if _FR is None:
		_FR = parse_po(_CATALOGUE.read_text(encoding="utf-8"))
	return _FR


def gettext(message: str, lang: str = "en") -> str:
	"""The message in `lang` ("fr…" or "en"); the English text when the catalogue has no entry."""
	if not lang.startswith("fr"):
		return message
	return catalogue().get(message, message)


def say(message, lang: str = "en") -> str:
	"""A message (Text, str or anything printable) in `lang`."""
	if isinstance(message, Text):
		if not lang.startswith("fr"):
			return str(message)
		template = catalogue().get(message.template, message.template)
		args = {
			key: say(value, lang) if isinstance(value, Text) else value for key, value in message.args.items()
		}
		try:
			return template.format(**args)
		except (KeyError, IndexError, ValueError):  # a translation that lost a field: English, not a crash
			return str(message)
	if isinstance(message, str):
		return gettext(message, lang)
	return str(message)


def warning(message, lang: str = "en") -> str:
	"""A warning as printed on standard error: "warning: …", "avertissement : …"."""
	return say(Text("warning: {message}", message=say(message, lang)), lang)


def error(message, lang: str = "en") -> str:
	"""An error as printed on standard error: "error: …", "erreur : …"."""
	return say(Text("error: {message}", message=say(message, lang)), lang)


# The system's own words for the usual file and network errors (Python gives the C library's, in
# English): the English is the system's text itself, so that nothing changes in English
_OS_REASONS = (
	"No such file or directory",
	"Permission denied",
	"Operation not permitted",
	"Is a directory",
	"Not a directory",
	"No space left on device",
	"File exists",
	"Read-only file system",
	"File name too long",
	"Connection refused",
	"Connection timed out",
	"Connection reset by peer",
	"Network is unreachable",
	"No route to host",
	"Name or service not known",
	"Temporary failure in name resolution",
	"timed out",
)
# SQLite's own words for what makes a journal unusable
_SQLITE_REASONS = (
	"file is not a database",
	"database is locked",
	"unable to open database file",
	"attempt to write a readonly database",
	"database disk image is malformed",
	"disk I/O error",
)


def reason(exc: BaseException):
	"""What went wrong, as a value to put into a message: a Text when the system's or SQLite's words
	are known to the catalogue ("No such file or directory", "file is not a database"…), else their
	own text (an OSError's strerror)."""
	text = (exc.strerror if isinstance(exc, OSError) else None) or str(exc)
	if text in _OS_REASONS or text in _SQLITE_REASONS:
		return Text(text)
	return text


def default_language(environ=None) -> str:
	"""The language of the environment's locale (LC_ALL, LC_MESSAGES, LANG, LANGUAGE): "en" for an
	English locale, "fr" otherwise (French locales, C, POSIX, anything else)."""
	environ = os.environ if environ is None else environ
	for name in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
		value = (environ.get(name) or "").strip()
		if not value:
			continue
		first = value.split(":")[0].lower()
		if first.startswith("en"):
			return "en"
		return "fr"
	return "fr"
