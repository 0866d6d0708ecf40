"""The configuration: the TOML/JSON file of --config ([company], [settings], [scenarios], [smtp],
[dolibarr]), scenarios and reference rates, loaded and checked before anything is read or written; and
its whole check for `relance check` (ConfigCheck: every problem, each named by its table.key)."""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import stat
import sys
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from relance_erpnext.cli.common import DOLIBARR_KEY_ENV, UsageError, core_error, scenario_message, warn
from relance_erpnext.dunning import (
	BUILTIN_SCENARIOS,
	BY_DUE_DATE,
	CATCH_UP_MODES,
	FIRST_CONTACT,
	DunningError,
	PlanSettings,
	ScenarioError,
	load_reference_rates,
	scenario_from_dict,
)
from relance_erpnext.dunning.dates import check_bucket_bounds
from relance_erpnext.dunning.rates import TABLE_NAMES
from relance_erpnext.i18n import Text, catalogue, error, reason, say, warning


def _load_structured(path: Path) -> dict | list:
	try:
		text = path.read_text(encoding="utf-8")
	except OSError as exc:
		raise UsageError(Text("{path}: {reason}", path=path, reason=reason(exc)))
	except UnicodeDecodeError:
		raise UsageError(Text("{path}: not UTF-8 text (save it as UTF-8)", path=path))
	if path.suffix.lower() == ".json":
		try:
			return json.loads(text)
		except json.JSONDecodeError as exc:
			known = {str(text): text for text in JSON_ERRORS}
			raise UsageError(
				Text(
					"{path}, line {line}: invalid JSON ({error})",
					path=path,
					line=exc.lineno,
					error=known.get(exc.msg, exc.msg),
				)
			)
	try:
		import tomllib
	except ModuleNotFoundError:  # Python 3.10
		raise UsageError(Text("{path}: TOML needs Python 3.11 or later; use JSON", path=path))
	try:
		return tomllib.loads(text)
	except tomllib.TOMLDecodeError as exc:
		raise UsageError(Text("{path}: invalid TOML ({error})", path=path, error=toml_error(exc)))


# The json module's own words for the usual mistakes (its other errors stay in English)
JSON_ERRORS = (
	Text("Expecting value"),
	Text("Expecting property name enclosed in double quotes"),
	Text("Expecting ',' delimiter"),
	Text("Expecting ':' delimiter"),
	Text("Extra data"),
	Text("Unterminated string starting at"),
	Text("Invalid control character at"),
)
# tomllib's own words for the usual mistakes (its other errors stay in English)
TOML_ERRORS = (
	Text("Cannot overwrite a value"),
	Text("Unterminated string"),
	Text("Unclosed inline table"),
	Text("Unclosed array"),
	Text("Invalid value"),
	Text("Invalid statement"),
	Text("Invalid initial character for a key part"),
	Text("Invalid date or datetime"),
	Text("Expected ']' at the end of a table declaration"),
	Text("Expected ']]' at the end of an array declaration"),
	Text("Expected '=' after a key in a key/value pair"),
)


def toml_error(exc) -> Text | str:
	"""tomllib's error ("Invalid value (at line 3, column 8)") in the catalogue's words: its place,
	and the error itself when it is one of the usual ones."""
	import re

	known = {str(text): text for text in TOML_ERRORS}
	found = re.fullmatch(r"(.*) \(at line (\d+), column (\d+)\)", str(exc), re.DOTALL)
	if found:
		return Text(
			"{error} (at line {line}, column {column})",
			error=known.get(found.group(1), found.group(1)),
			line=found.group(2),
			column=found.group(3),
		)
	found = re.fullmatch(r"(.*) \(at end of document\)", str(exc), re.DOTALL)
	if found:
		return Text("{error} (at end of document)", error=known.get(found.group(1), found.group(1)))
	return known.get(str(exc), str(exc))


def load_config(path: Path) -> dict:
	config = _load_structured(path)
	if not isinstance(config, dict):
		raise UsageError(
			Text("{path}: the configuration must be a table ([company], [settings], [scenarios])", path=path)
		)
	for section in ("company", "settings"):
		if not isinstance(config.get(section) or {}, dict):
			raise UsageError(Text("{path}: [{section}] must be a table", path=path, section=section))
	return config


def load_scenarios(path: Path | None, config: dict) -> dict:
	"""The built-in scenarios, plus (or replaced by) those of the config and of --scenarios FILE."""
	scenarios = dict(BUILTIN_SCENARIOS)
	sources = [(Text("config"), config.get("scenarios") or {})]
	if path is not None:
		data = _load_structured(path)
		if isinstance(data, dict):
			data = data.get("scenarios", data)
			if isinstance(data, dict) and "steps" in data and not isinstance(data["steps"], dict):
				# One scenario alone, not a table of scenarios
				data = [data]
		sources.append((str(path), data))
	for origin, table in sources:
		if isinstance(table, list):
			table = {str(item.get("key", "")): item for item in table if isinstance(item, dict)}
		if not isinstance(table, dict):
			raise UsageError(Text("{origin}: 'scenarios' must be a table of scenarios", origin=origin))
		for key, data in table.items():
			try:
				scenarios[key] = scenario_from_dict(data, key)
			except ScenarioError as exc:
				raise UsageError(Text("{origin}: {error}", origin=origin, error=core_error(exc)))
	return scenarios


def load_rates(directory: Path | None, explicit: bool = True):
	"""The reference rates: the bundled tables, each replaced by its copy in `directory` when there is
	one (cli_rates.rates_dir says which folder). An `explicit` folder (--rates) must hold a table."""
	overrides = {}
	if directory is not None:
		for name in TABLE_NAMES:
			candidate = directory / f"{name}.csv"
			if candidate.exists():
				try:
					overrides[name] = candidate.read_text(encoding="utf-8")
				except OSError as exc:
					raise UsageError(Text("{path}: {reason}", path=candidate, reason=reason(exc)))
				except UnicodeDecodeError:
					raise UsageError(Text("{path}: not UTF-8 text (save it as UTF-8)", path=candidate))
		if not overrides and explicit:
			raise UsageError(
				Text(
					"{path}: no rate table found (expected {names}.csv)",
					path=directory,
					names=", ".join(TABLE_NAMES),
				)
			)
	try:
		return load_reference_rates(overrides)
	except DunningError as exc:
		raise UsageError(core_error(exc))


def settings_from(config: dict, args) -> PlanSettings:
	table = config.get("settings") or {}

	def number(name: str, value, kind):
		try:
			return kind(str(value).strip()) if kind is Decimal else kind(value)
		except (InvalidOperation, ValueError, TypeError):
			what = Text("an amount") if kind is Decimal else Text("a whole number")
			raise UsageError(
				Text("settings: {name} {value!r} is not {what}", name=name, value=value, what=what)
			) from None

	min_amount = number(
		"min_amount",
		args.min_amount if args.min_amount is not None else table.get("min_amount", "0"),
		Decimal,
	)
	min_gap = number(
		"min_gap_days", args.min_gap if args.min_gap is not None else table.get("min_gap_days", 0), int
	)
	grace = number("promise_grace_days", table.get("promise_grace_days", 0), int)
	payment_days = number("payment_days", table.get("payment_days", 8), int)
	catch_up = str(table.get("catch_up", FIRST_CONTACT))
	if catch_up not in CATCH_UP_MODES:
		raise UsageError(
			Text(
				"settings: catch_up must be one of {modes}, not {value!r}",
				modes=", ".join(CATCH_UP_MODES),
				value=catch_up,
			)
		)
	if catch_up == BY_DUE_DATE:
		warn(
			Text(
				'settings: catch_up = "by_due_date": a customer never reminded may receive a late step'
				" (up to a formal notice) as its first contact"
			),
			getattr(args, "lang", None),
		)
	if not min_amount.is_finite():
		raise UsageError(Text("settings: the minimum amount {amount} is not an amount", amount=min_amount))
	if min_amount < 0 or min_gap < 0 or grace < 0 or not 0 < payment_days <= 3650:
		raise UsageError(
			Text(
				"settings: min_amount, min_gap_days and promise_grace_days must be 0 or more,"
				" payment_days 1 to 3650"
			)
		)
	return PlanSettings(
		default_scenario=str(table.get("default_scenario", "standard")),
		min_amount=min_amount,
		min_gap_days=min_gap,
		promise_grace_days=grace,
		catch_up=catch_up,
		payment_days=payment_days,
	)


def sender_from(config: dict):
	try:
		from relance_erpnext.dunning.letters import Sender
	except ImportError as exc:
		raise UsageError(Text("writing letters is not available in this installation ({error})", error=exc))

	company = dict(config.get("company") or {})
	if not company.get("name"):
		raise UsageError(Text("config: [company] needs at least a name for the letters"))
	for key in ("address", "payment_methods"):
		if key in company:
			value = company[key]
			if isinstance(value, str):
				# One line per item; a bare string must not become a tuple of characters
				value = [line.strip() for line in value.splitlines() if line.strip()]
			if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
				raise UsageError(Text("config: [company] {key} must be a list of lines of text", key=key))
			company[key] = tuple(value)
	known = set(Sender.__dataclass_fields__)
	unknown = set(company) - known
	if unknown:
		raise UsageError(
			Text("config: unknown field(s) in [company]: {fields}", fields=", ".join(sorted(unknown)))
		)
	return Sender(**company)


def smtp_from(config: dict, sender):
	"""The mail server of the [smtp] table (password from the environment), checked before anything."""
	from relance_erpnext.connectors.mailer import MailError, SmtpSettings

	table = config.get("smtp")
	if not table:
		raise UsageError(
			Text("run: --send needs an [smtp] table in --config (the mail server); see the README")
		)
	try:
		return SmtpSettings.from_config(table, default_from=sender.email)
	except MailError as exc:
		raise UsageError(Text("config: {error}", error=exc.message))


# The configuration check ---------------------------------------------------------------------

ERROR = "error"
WARNING = "warning"
TABLES = ("company", "settings", "scenarios", "smtp", "dolibarr")
SETTINGS_FIELDS = (
	"default_scenario",
	"min_amount",
	"min_gap_days",
	"promise_grace_days",
	"buckets",
	"catch_up",
	"payment_days",
)
DOLIBARR_FIELDS = ("url", "api_key_env")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
EMAIL_ADDRESS = re.compile(r"^[^@\s<>(),;:]+@[^@\s<>(),;:]+\.[^@\s<>(),;:.]+$")
BIC = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")
# Lengths of the IBANs a French or Québec company is likely to use (ISO 13616 registry)
IBAN_LENGTHS = {
	"FR": 27,
	"MC": 27,
	"BE": 16,
	"LU": 20,
	"CH": 21,
	"DE": 22,
	"ES": 24,
	"IT": 27,
	"NL": 18,
	"PT": 25,
	"GB": 22,
}


@dataclass(frozen=True, slots=True)
class Problem:
	level: str  # ERROR or WARNING
	path: str  # table.key, e.g. "smtp.port"
	message: str  # a Text: said in the language of --lang

	def __str__(self) -> str:
		return self.text("en")

	def text(self, lang: str = "en") -> str:
		"""'error: smtp.port: …', 'erreur : smtp.port : …' (a warning likewise)."""
		said = say(Text("{path}: {message}", path=self.path, message=self.message), lang)
		return error(said, lang) if self.level == ERROR else warning(said, lang)


def iban_problem(text: str) -> str | None:
	"""What is wrong with an IBAN (format, length for its country, ISO 7064 mod-97 check), or None."""
	compact = re.sub(r"\s+", "", text).upper()
	if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", compact):
		return Text("not an IBAN (two letters, two check digits, then the account number)")
	expected = IBAN_LENGTHS.get(compact[:2])
	if expected and len(compact) != expected:
		return Text(
			"a {country} IBAN has {expected} characters, this one has {n}",
			country=compact[:2],
			expected=expected,
			n=len(compact),
		)
	if int("".join(str(int(ch, 36)) for ch in compact[4:] + compact[:4])) % 97 != 1:
		return Text("the check digits do not match (a typing error?)")
	return None


# French names people naturally write for the fields (the configuration's keys are English)
FRENCH_KEYS = {
	"nom": "name",
	"raison_sociale": "name",
	"adresse": "address",
	"ville": "city",
	"courriel": "email",
	"telephone": "phone",
	"téléphone": "phone",
	"siret": "legal_id",
	"tva": "vat_id",
	"site": "website",
	"moyens_de_paiement": "payment_methods",
	"signataire": "signatory",
	"hote": "host",
	"hôte": "host",
	"utilisateur": "user",
	"expediteur": "from",
	"expéditeur": "from",
	"scenario_par_defaut": "default_scenario",
	"montant_minimum": "min_amount",
	"tranches": "buckets",
	"entreprise": "company",
	"societe": "company",
	"société": "company",
	"parametres": "settings",
	"paramètres": "settings",
	"scénarios": "scenarios",
}


def _did_you_mean(key: str, known) -> str:
	known = list(known)
	french = FRENCH_KEYS.get(key.lower())
	if french in known:
		return Text(" (did you mean {key!r}?)", key=french)
	close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
	return Text(" (did you mean {key!r}?)", key=close[0]) if close else ""


def bucket_problem(value) -> str | None:
	if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
		return Text("must be a list of whole days, e.g. [30, 60, 90]")
	try:
		check_bucket_bounds(tuple(value))
	except ValueError:
		return Text("must be increasing whole days above 0, e.g. [7, 15] or [30, 60, 90]")
	return None


def _email_problem(value) -> str | None:
	if not isinstance(value, str):
		return Text("must be text")
	from email.utils import parseaddr

	address = parseaddr(value)[1]
	if not address or not EMAIL_ADDRESS.match(address):
		return Text("{value!r} is not an email address", value=value)
	return None


class ConfigCheck:
	"""Every problem of a configuration, each named by its table.key path (never a secret's value)."""

	def __init__(self, config: dict, environ=None):
		self.config = config
		self.environ = os.environ if environ is None else environ
		self.problems: list[Problem] = []

	def error(self, path: str, message: str) -> None:
		self.problems.append(Problem(ERROR, path, message))

	def warn(self, path: str, message: str) -> None:
		self.problems.append(Problem(WARNING, path, message))

	def count(self, prefix: str, level: str | None = None) -> int:
		return sum(
			1
			for p in self.problems
			if (p.path == prefix or p.path.startswith(prefix + ".")) and (level is None or p.level == level)
		)

	def unknown(self, table: str, data: dict, known, level: str) -> None:
		for key in data:
			if key not in known:
				self.problems.append(
					Problem(
						level, f"{table}.{key}", Text("unknown field{hint}", hint=_did_you_mean(key, known))
					)
				)

	def run(self) -> list[Problem]:
		for key in self.config:
			if key not in TABLES:
				self.warn(key, Text("unknown table, ignored{hint}", hint=_did_you_mean(key, TABLES)))
		tables = {}
		for name in TABLES:
			value = self.config.get(name)
			if value is None:
				continue
			if name == "scenarios" and isinstance(value, list):
				tables[name] = value
			elif not isinstance(value, dict):
				self.error(name, Text("[{name}] must be a table", name=name))
			else:
				tables[name] = value
		company = tables.get("company")
		if company is None and "company" not in self.config:
			self.warn(
				"company",
				Text("no [company] table: `relance run` needs one (at least a name) for the letters"),
			)
		if company is not None:
			self.check_company(company)
		scenario_keys = self.check_scenarios(tables.get("scenarios", {}))
		self.check_settings(tables.get("settings", {}), scenario_keys)
		if "smtp" in tables:
			self.check_smtp(tables["smtp"], (company or {}).get("email", ""))
		if "dolibarr" in tables:
			self.check_dolibarr(tables["dolibarr"])
		self.cross_check(tables)
		return self.problems

	def check_company(self, table: dict) -> None:
		from relance_erpnext.dunning.letters import Sender

		# `relance run` refuses an unknown field in [company]: an error, not a warning
		self.unknown("company", table, Sender.__dataclass_fields__, ERROR)
		name = table.get("name")
		if not isinstance(name, str) or not name.strip():
			self.error("company.name", Text("required: the company's name, printed on every letter"))
		for key in ("address", "payment_methods"):
			value = table.get(key)
			if value is None:
				continue
			if isinstance(value, str):
				continue  # one item per line
			if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
				self.error(f"company.{key}", Text("must be a list of lines of text"))
		for key in Sender.__dataclass_fields__:
			if key not in ("address", "payment_methods") and key in table and not isinstance(table[key], str):
				self.error(f"company.{key}", Text("must be text"))
		if not table.get("address"):
			self.warn("company.address", Text("no address: the letters will have no sender address"))
		if isinstance(table.get("email"), str) and table["email"].strip():
			problem = _email_problem(table["email"])
			if problem:
				self.error("company.email", problem)
		if isinstance(table.get("iban"), str) and table["iban"].strip():
			problem = iban_problem(table["iban"])
			if problem:
				self.error("company.iban", problem)
		if isinstance(table.get("bic"), str) and table["bic"].strip():
			if not BIC.match(re.sub(r"\s+", "", table["bic"]).upper()):
				self.error(
					"company.bic",
					Text("{value!r} is not a BIC (8 or 11 letters and digits)", value=table["bic"]),
				)

	def check_scenarios(self, table) -> set[str]:
		"""The keys of the scenarios that can be used (built-in ones, and the configuration's sound ones)."""
		keys = set(BUILTIN_SCENARIOS)
		if isinstance(table, list):
			items = []
			for index, item in enumerate(table):
				if not isinstance(item, dict):
					self.error(f"scenarios[{index}]", Text("each scenario is a table with a 'steps' list"))
				else:
					items.append((str(item.get("key", "")) or f"[{index}]", item))
		else:
			items = list(table.items())
		for key, data in items:
			try:
				# The core's own rules, one place: scenario_from_dict validates
				scenario = scenario_from_dict(data, key)
			except ScenarioError as exc:
				path = f"scenarios.{exc.scenario if exc.scenario != '?' else key}"
				if exc.step is not None:
					path += f".steps.{exc.step}"
				self.error(f"{path}.{exc.field}", scenario_message(exc))
				keys.add(key)  # known, if broken: reported once, here, not again as a missing scenario
				continue
			keys.add(scenario.key)
		return keys

	def check_settings(self, table: dict, scenario_keys: set[str]) -> None:
		self.unknown("settings", table, SETTINGS_FIELDS, WARNING)
		scenario = table.get("default_scenario", "standard")
		if not isinstance(scenario, str) or not scenario.strip():
			self.error("settings.default_scenario", Text("must be the key of a scenario"))
		elif scenario not in scenario_keys:
			self.error(
				"settings.default_scenario",
				Text(
					"{scenario!r} is not a known scenario (known: {known}){hint}",
					scenario=scenario,
					known=", ".join(sorted(scenario_keys)),
					hint=_did_you_mean(scenario, scenario_keys),
				),
			)
		if "min_amount" in table:
			value = table["min_amount"]
			try:
				if isinstance(value, bool):
					raise InvalidOperation
				amount = Decimal(str(value).strip())
				if not amount.is_finite():
					raise InvalidOperation
			except InvalidOperation:
				self.error(
					"settings.min_amount",
					Text('{value!r} is not an amount (write it as "5" or "12.50")', value=value),
				)
			else:
				if amount < 0:
					self.error("settings.min_amount", Text("must be 0 or more"))
		if "catch_up" in table and table["catch_up"] not in CATCH_UP_MODES:
			self.error("settings.catch_up", Text("use one of {listed}", listed=", ".join(CATCH_UP_MODES)))
		elif table.get("catch_up") == BY_DUE_DATE:
			self.warn(
				"settings.catch_up",
				Text(
					"by_due_date: a customer never reminded may get a late step (up to a formal notice) first"
				),
			)
		for key in ("min_gap_days", "promise_grace_days", "payment_days"):
			if key in table:
				value = table[key]
				if isinstance(value, str) and value.strip().isdigit():
					continue
				if not isinstance(value, int) or isinstance(value, bool):
					self.error(
						f"settings.{key}", Text("{value!r} is not a whole number of days", value=value)
					)
				elif value < 0:
					self.error(f"settings.{key}", Text("must be 0 or more"))
		if "buckets" in table:
			problem = bucket_problem(table["buckets"])
			if problem:
				self.error("settings.buckets", problem)

	def check_smtp(self, table: dict, company_email) -> None:
		from relance_erpnext.connectors.hosts import valid_host
		from relance_erpnext.connectors.mailer import DEFAULT_PORTS, SECURITIES, SMTP_FIELDS, is_loopback

		if "password" in table:
			# Its value is never repeated, not even in part
			self.error(
				"smtp.password",
				Text(
					"no password in the configuration file: name an environment variable in password_env or a file in password_file"
				),
			)
		self.unknown("smtp", {k: v for k, v in table.items() if k != "password"}, SMTP_FIELDS, ERROR)
		for key in ("host", "security", "user", "password_env", "password_file", "from", "reply_to"):
			if key in table and not isinstance(table[key], str):
				self.error(f"smtp.{key}", Text("must be text"))
		host = table.get("host")
		if not isinstance(host, str) or not host.strip():
			self.error("smtp.host", Text("required: the mail server's name, e.g. smtp.example.org"))
			host = ""
		elif not valid_host(host):
			# "user:password@host" may hold a secret: not repeated
			self.error(
				"smtp.host",
				Text(
					"{host!r}: give the server's name alone, e.g. smtp.example.org (port = 587 apart)",
					host=host,
				)
				if "@" not in host
				else Text("give the server's name alone, e.g. smtp.example.org (port = 587 apart)"),
			)
		security = table.get("security", "starttls")
		if isinstance(security, str) and security not in SECURITIES:
			self.error(
				"smtp.security",
				Text(
					"{security!r} is not one of {listed}{hint}",
					security=security,
					listed=", ".join(SECURITIES),
					hint=_did_you_mean(security, SECURITIES),
				),
			)
		if "port" in table:
			port = table["port"]
			if not isinstance(port, int) or isinstance(port, bool):
				self.error(
					"smtp.port", Text("{port!r} is not a port number (a whole number, 1 to 65535)", port=port)
				)
			elif not 1 <= port <= 65535:
				self.error("smtp.port", Text("{port} is not a port number (1 to 65535)", port=port))
			elif (
				security in DEFAULT_PORTS
				and port in DEFAULT_PORTS.values()
				and port != DEFAULT_PORTS[security]
			):
				self.warn(
					"smtp.port",
					Text(
						"port {port} is not the usual one for {security} ({usual})",
						port=port,
						security=security,
						usual=DEFAULT_PORTS[security],
					),
				)
		if "timeout" in table:
			timeout = table["timeout"]
			if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
				self.error("smtp.timeout", Text("must be a number of seconds above 0"))
		user = table.get("user") or ""
		password_env = table.get("password_env") or ""
		password_file = table.get("password_file") or ""
		if password_env and password_file:
			self.error("smtp.password_file", Text("give password_env or password_file, not both"))
		if user and not password_env and not password_file:
			self.error(
				"smtp.user", Text("a user needs password_env or password_file (where the password is kept)")
			)
		if (password_env or password_file) and not user:
			self.error("smtp.user", Text("required with password_env or password_file: the login name"))
		if isinstance(password_env, str) and password_env:
			if not ENV_NAME.match(password_env):
				self.error(
					"smtp.password_env",
					Text("{password_env!r} is not an environment variable name", password_env=password_env),
				)
			elif password_env not in self.environ:
				self.warn(
					"smtp.password_env",
					Text(
						"the environment variable {password_env} is not set here: run --send will stop",
						password_env=password_env,
					),
				)
			elif not self.environ[password_env]:
				self.warn(
					"smtp.password_env",
					Text("the environment variable {password_env} is empty", password_env=password_env),
				)
		if isinstance(password_file, str) and password_file:
			self.check_password_file(password_file)
		if isinstance(user, str) and user and security == "none" and host and not is_loopback(host):
			self.error(
				"smtp.security",
				Text(
					'a login over an unencrypted connection is refused (security = "none"); use "starttls" or "ssl"'
				),
			)
		elif security == "none" and host and not is_loopback(host):
			self.warn("smtp.security", Text('mail to {host} goes unencrypted (security = "none")', host=host))
		sender = table.get("from") or company_email
		if not sender:
			self.error("smtp.from", Text("no sender address: set from, or email in [company]"))
		elif "from" in table:
			problem = _email_problem(table["from"])
			if problem:
				self.error("smtp.from", problem)
		if table.get("reply_to"):
			problem = _email_problem(table["reply_to"])
			if problem:
				self.error("smtp.reply_to", problem)

	def check_password_file(self, name: str) -> None:
		path = Path(name).expanduser()
		try:
			info = path.stat()
		except OSError as exc:
			self.warn(
				"smtp.password_file",
				Text("{name}: {reason}: run --send will stop", name=name, reason=reason(exc)),
			)
			return
		if not stat.S_ISREG(info.st_mode):
			self.error("smtp.password_file", Text("{name} is not a file", name=name))
			return
		if os.name == "posix" and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
			self.warn("smtp.password_file", Text("{name} can be read by others: chmod 600 {name}", name=name))
		try:
			with path.open(encoding="utf-8") as handle:
				first = handle.readline().rstrip("\r\n")  # read to check, never shown
		except (OSError, UnicodeDecodeError) as exc:
			self.error(
				"smtp.password_file",
				Text(
					"{name}: cannot be read ({reason})",
					name=name,
					reason=reason(exc) if isinstance(exc, OSError) else Text("not UTF-8"),
				),
			)
			return
		if not first:
			self.error(
				"smtp.password_file", Text("{name}: the first line (the password) is empty", name=name)
			)

	def check_dolibarr(self, table: dict) -> None:
		from urllib.parse import urlsplit

		from relance_erpnext.connectors.dolibarr import DolibarrError, normalize_base_url
		from relance_erpnext.connectors.mailer import is_loopback

		self.unknown("dolibarr", table, DOLIBARR_FIELDS, WARNING)
		url = table.get("url")
		if url is None:
			self.error("dolibarr.url", Text("required: the Dolibarr's address, e.g. https://erp.example.org"))
		elif not isinstance(url, str):
			self.error("dolibarr.url", Text("must be text"))
		else:
			try:
				normalized = normalize_base_url(url)
			except DolibarrError as exc:
				self.error("dolibarr.url", exc.args[0])
			else:
				parts = urlsplit(normalized)
				if parts.scheme == "http" and not is_loopback(parts.hostname or ""):
					self.warn(
						"dolibarr.url",
						Text(
							"plain http to {hostname}: the API key would cross the network unencrypted; use https",
							hostname=parts.hostname,
						),
					)
		name = table.get("api_key_env", DOLIBARR_KEY_ENV)
		if not isinstance(name, str) or not ENV_NAME.match(name):
			self.error(
				"dolibarr.api_key_env", Text("{name!r} is not an environment variable name", name=name)
			)
		elif not self.environ.get(name, "").strip():
			self.warn(
				"dolibarr.api_key_env",
				Text(
					"the environment variable {name} (the API key) is not set here: --source dolibarr will stop",
					name=name,
				),
			)

	def cross_check(self, tables: dict) -> None:
		"""What the commands themselves say of each table found sound above (the same helpers as run)."""
		args = argparse.Namespace(min_amount=None, min_gap=None)
		if "company" in tables and not self.count("company", ERROR):
			try:
				sender_from(self.config)
			except UsageError as exc:
				self.error("company", exc.args[0])
		if not self.count("settings") and not self.count("scenarios"):
			try:
				settings_from(self.config, args)
				load_scenarios(None, self.config)
			except UsageError as exc:
				self.error("settings", exc.args[0])
		if "smtp" in tables and not self.count("smtp") and not self.count("company", ERROR):
			# Only when nothing was found, warnings included: a password not set here is already said
			from relance_erpnext.connectors.mailer import MailError, SmtpSettings

			try:
				SmtpSettings.from_config(
					tables["smtp"],
					default_from=(tables.get("company") or {}).get("email", ""),
					environ=self.environ,
				)
			except MailError as exc:
				self.error("smtp", exc.message)


def check_config(config: dict, environ=None) -> list[Problem]:
	"""Every problem of the configuration (errors and warnings), in the order of its tables."""
	return ConfigCheck(config, environ).run()
