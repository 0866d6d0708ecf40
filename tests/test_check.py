"""`relance check --config FILE`: every problem named by its table.key path, secrets never shown."""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pytest

from relance_erpnext import cli
from relance_erpnext.cli.config import ERROR, WARNING, check_config, iban_problem
from relance_erpnext.connectors.mailer import MailError, SmtpSettings

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CONFIG = ROOT / "relance_erpnext" / "connectors" / "sample" / "entreprise_exemple.toml"
SECRET = "s3cr3t-Tr0ub4dor-never-shown"
PASSWORD_ENV = "RELANCE_TEST_CHECK_PASSWORD"

GOOD = """
[company]
name = "Atelier Lumière SAS"
address = ["12 rue des Tanneurs", "69002 Lyon"]
email = "compta@atelier.example"
iban = "FR08 3000 4000 0500 0012 3456 789"
bic = "BNPAFRPPXXX"

[settings]
default_scenario = "rapide"
min_amount = "5.50"
min_gap_days = 3
buckets = [30, 60, 90]

[scenarios.rapide]
name = "Rapide"
steps = [
  { key = "rappel", label = "Rappel", offset = 1, channel = "email", tone = "amical", template = "courteous" },
  { key = "appel", label = "Appel", offset = 5, channel = "phone", tone = "formel", template = "call" },
]

[smtp]
host = "smtp.example.org"
port = 587
security = "starttls"
user = "compta@atelier.example"
password_env = "RELANCE_TEST_CHECK_PASSWORD"

[dolibarr]
url = "https://erp.example.org"
api_key_env = "RELANCE_TEST_DOLIBARR_KEY"
"""

BROKEN = """
[company]
nom = "Atelier"
email = "compta-at-atelier"
iban = "FR76 3000 4000 0500 0012 3456 789"
bic = "BNP"

[settings]
default_scenario = "standart"
min_amount = "-1"
min_gap_days = "trois"
promise_grace_days = -2
buckets = [15, 7]
min_gap = 3

[scenarios.lent]
steps = [{ key = "rappel", label = "Rappel", offset = 1, channel = "pigeon", tone = "amical", template = "x" }]

[smtp]
host = "smtp://smtp.example.org"
port = 70000
security = "tls"
user = "compta"
password = "s3cr3t-Tr0ub4dor-never-shown"
pasword_env = "X"
timeout = 0
reply_to = "personne"

[dolibarr]
url = "ftp://erp.example.org"
api_key_env = "1-BAD"

[smpt]
host = "x"
"""


def run_cli(*argv) -> tuple[int, str, str]:
	out, err = io.StringIO(), io.StringIO()
	with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
		try:
			code = cli.main([str(a) for a in argv])
		except SystemExit as exc:
			code = exc.code
	return code, out.getvalue(), err.getvalue()


@pytest.fixture
def secret_env(monkeypatch):
	monkeypatch.setenv(PASSWORD_ENV, SECRET)
	monkeypatch.setenv("RELANCE_TEST_DOLIBARR_KEY", "dolibarr-key-" + SECRET)


def write(tmp_path, text: str, name="config.toml") -> Path:
	path = tmp_path / name
	path.write_text(text, encoding="utf-8")
	return path


def paths(problems, level=None) -> set[str]:
	return {p.path for p in problems if level is None or p.level == level}


def load(text: str) -> dict:
	import tomllib

	return tomllib.loads(text)


def test_the_sample_config_passes():
	code, out, err = run_cli("check", "--config", SAMPLE_CONFIG)
	assert code == 0, out + err
	assert "configuration valide" in out
	assert "error" not in out


def test_a_good_config_passes(tmp_path, secret_env):
	# On a day the bundled rate tables cover (a missing half-year is a warning: test below)
	code, out, err = run_cli(
		"--lang", "en", "check", "--config", write(tmp_path, GOOD), "--as-of", "2026-06-15"
	)
	assert code == 0, out + err
	assert "the configuration is sound (0 warning(s))" in out
	assert SECRET not in out + err


def test_check_warns_when_the_current_half_year_rate_is_missing(tmp_path, secret_env):
	# 5 December 2026: the bundled tables end on 30 June 2026
	code, out, err = run_cli(
		"--lang", "en", "check", "--config", write(tmp_path, GOOD), "--as-of", "2026-12-05"
	)
	assert code == 0, out + err  # a warning: the reminders still go out, their interest provisional
	assert "warning: rates.fr_ecb_refi: second half of 2026 (2026-07-01..2026-12-31) missing from" in out
	assert "warning: rates.fr_legal_rate: second half of 2026" in out
	assert "fr_ecb_refi.csv" in out and "relance rates update" in out
	assert "(2 warning(s))" in out
	# Once the half-year is typed in (--rates DIR), no warning
	folder = tmp_path / "taux"
	for table, rate in (("fr_ecb_refi", "2.15"), ("fr_legal_rate", "2.62")):
		code, out, err = run_cli(
			"--lang",
			"en",
			"rates",
			"set",
			table,
			"2026-07-01",
			rate,
			"--source",
			"test row",
			"--rates",
			folder,
		)
		assert code == 0, out + err
	code, out, err = run_cli(
		"--lang", "en", "check", "--config", write(tmp_path, GOOD), "--as-of", "2026-12-05", "--rates", folder
	)
	assert "(0 warning(s))" in out, out + err


def test_every_problem_is_named(tmp_path, secret_env):
	code, out, err = run_cli("--lang", "en", "check", "--config", write(tmp_path, BROKEN))
	assert code == 3
	output = out + err
	for path in (
		"company.nom",
		"company.name",
		"company.email",
		"company.iban",
		"company.bic",
		"settings.default_scenario",
		"settings.min_amount",
		"settings.min_gap_days",
		"settings.promise_grace_days",
		"settings.buckets",
		"scenarios.lent.steps.rappel.channel",
		"smtp.host",
		"smtp.port",
		"smtp.security",
		"smtp.password",
		"smtp.pasword_env",
		"smtp.user",
		"smtp.timeout",
		"smtp.reply_to",
		"dolibarr.url",
		"dolibarr.api_key_env",
	):
		assert f"error: {path}: " in output, path
	assert "warning: settings.min_gap: unknown field (did you mean 'min_gap_days'?)" in output
	assert "warning: smpt: unknown table, ignored (did you mean 'smtp'?)" in output
	assert "error: company.nom: unknown field (did you mean 'name'?)" in output
	assert "error: smtp.pasword_env: unknown field (did you mean 'password_env'?)" in output
	assert "did you mean 'standard'?" in output
	# The password, even written in the file, is never repeated
	assert SECRET not in output
	assert "s3cr3t" not in output


def test_every_problem_is_named_in_french(tmp_path, secret_env):
	"""The same check in French: the same problems, each in French ("erreur : company.nom : …")."""
	code, out, err = run_cli("--lang", "fr", "check", "--config", write(tmp_path, BROKEN))
	assert code == 3
	lines = out.splitlines()
	problems = [line for line in lines if line.startswith(("erreur : ", "avertissement : "))]
	assert len(problems) == len(lines) - 1  # every line but the count
	assert "avertissement : settings.min_gap : champ inconnu (vouliez-vous dire 'min_gap_days' ?)" in out
	assert "avertissement : smpt : table inconnue, ignorée (vouliez-vous dire 'smtp' ?)" in out
	assert "erreur : company.nom : champ inconnu (vouliez-vous dire 'name' ?)" in out
	assert (
		"erreur : company.iban : les chiffres de contrôle ne correspondent pas (une faute de frappe ?)" in out
	)
	assert (
		"erreur : scenarios.lent.steps.rappel.channel : canal 'pigeon' inconnu (valeurs possibles : email,"
		in out
	)
	assert "pas de mot de passe dans le fichier de configuration" in out
	assert re.search(r"config\.toml : 21 erreur\(s\), \d+ avertissement\(s\)$", lines[-1]), lines[-1]
	for english in ("error:", "warning:", "unknown field", "did you mean", "must be", "is not a"):
		assert english not in out, english
	assert SECRET not in out + err


def test_password_never_printed(tmp_path, monkeypatch):
	monkeypatch.setenv(PASSWORD_ENV, SECRET)
	secret_file = tmp_path / "smtp.secret"
	secret_file.write_text(SECRET + "\n", encoding="utf-8")
	secret_file.chmod(0o644)  # readable by others: a warning, naming the file, not its content
	configs = [
		GOOD.replace("port = 587", 'port = "x"'),
		GOOD.replace('host = "smtp.example.org"', f'host = "compta:{SECRET}@smtp.example.org"'),
		GOOD.replace('security = "starttls"', 'security = "none"'),
		GOOD.replace(f'password_env = "{PASSWORD_ENV}"', f'password_file = "{secret_file}"'),
		GOOD.replace(
			f'password_env = "{PASSWORD_ENV}"',
			f'password_env = "{PASSWORD_ENV}"\npassword_file = "{secret_file}"',
		),
		GOOD.replace('user = "compta@atelier.example"', f'user = "compta"\npassword = "{SECRET}"'),
	]
	for text in configs:
		code, out, err = run_cli("check", "--config", write(tmp_path, text))
		assert SECRET not in out + err
		assert code in (0, 3)


def test_smtp_password_file(tmp_path):
	secret_file = tmp_path / "smtp.secret"
	secret_file.write_text(SECRET + "\n", encoding="utf-8")
	secret_file.chmod(0o600)
	config = load(GOOD.replace(f'password_env = "{PASSWORD_ENV}"', f'password_file = "{secret_file}"'))
	problems = check_config(config, environ={"RELANCE_TEST_DOLIBARR_KEY": "k"})
	assert problems == []
	# The same file is what `run --send` uses
	settings = SmtpSettings.from_config(config["smtp"], default_from="a@b.example", environ={})
	assert settings.password == SECRET
	assert SECRET not in repr(settings) and SECRET not in str(settings)

	if os.name == "posix":
		secret_file.chmod(0o640)
		problems = check_config(config, environ={"RELANCE_TEST_DOLIBARR_KEY": "k"})
		assert [(p.level, p.path) for p in problems] == [(WARNING, "smtp.password_file")]
		assert "chmod 600" in problems[0].message

	secret_file.write_text("\nsecond line\n", encoding="utf-8")
	problems = check_config(config, environ={"RELANCE_TEST_DOLIBARR_KEY": "k"})
	assert (ERROR, "smtp.password_file") in {(p.level, p.path) for p in problems}
	with pytest.raises(MailError, match="empty"):
		SmtpSettings.from_config(config["smtp"], default_from="a@b.example", environ={})

	with pytest.raises(MailError, match="not both"):
		SmtpSettings.from_config(
			{**config["smtp"], "password_env": PASSWORD_ENV},
			default_from="a@b.example",
			environ={PASSWORD_ENV: "x"},
		)

	config["smtp"]["password_file"] = str(tmp_path / "absent")
	problems = check_config(config, environ={"RELANCE_TEST_DOLIBARR_KEY": "k"})
	assert [(p.level, p.path) for p in problems] == [(WARNING, "smtp.password_file")]
	with pytest.raises(MailError, match="password_file"):
		SmtpSettings.from_config(config["smtp"], default_from="a@b.example", environ={})


def test_smtp_rules():
	base = load(GOOD)
	env = {PASSWORD_ENV: SECRET, "RELANCE_TEST_DOLIBARR_KEY": "k"}

	def problems_with(**smtp):
		config = load(GOOD)
		config["smtp"].update(smtp)
		for key, value in smtp.items():
			if value is None:
				del config["smtp"][key]
		return {(p.level, p.path) for p in check_config(config, environ=env)}

	assert check_config(base, environ=env) == []
	assert (ERROR, "smtp.port") in problems_with(port=0)
	assert (ERROR, "smtp.port") in problems_with(port=True)
	assert (WARNING, "smtp.port") in problems_with(port=465)  # the ssl port with starttls
	assert (ERROR, "smtp.host") in problems_with(host=None)
	assert (ERROR, "smtp.user") in problems_with(user=None)  # a password source without a login
	assert (ERROR, "smtp.user") in problems_with(password_env=None)  # a login without a password
	assert (ERROR, "smtp.password_env") in problems_with(password_env="NOT A NAME")
	assert problems_with(password_env="RELANCE_UNSET_FOR_TEST") == {(WARNING, "smtp.password_env")}
	# A login in clear over the network is refused; a relay on this machine is fine
	assert (ERROR, "smtp.security") in problems_with(security="none")
	assert problems_with(security="none", host="localhost", port=25) == set()
	assert problems_with(security="none", user=None, password_env=None, port=25) == {
		(WARNING, "smtp.security")
	}
	# No sender: neither from nor [company] email
	config = load(GOOD)
	del config["company"]["email"]
	assert (ERROR, "smtp.from") in {(p.level, p.path) for p in check_config(config, environ=env)}


def test_dolibarr_rules():
	env = {PASSWORD_ENV: SECRET, "RELANCE_TEST_DOLIBARR_KEY": "k"}

	def problems_with(**table):
		config = load(GOOD)
		config["dolibarr"] = table
		return {(p.level, p.path) for p in check_config(config, environ=env)}

	assert (
		problems_with(url="https://erp.example.org/dolibarr", api_key_env="RELANCE_TEST_DOLIBARR_KEY")
		== set()
	)
	assert problems_with(url="http://erp.example.org", api_key_env="RELANCE_TEST_DOLIBARR_KEY") == {
		(WARNING, "dolibarr.url")
	}
	assert problems_with(url="http://127.0.0.1:8080", api_key_env="RELANCE_TEST_DOLIBARR_KEY") == set()
	assert problems_with(url="https://", api_key_env="RELANCE_TEST_DOLIBARR_KEY") == {(ERROR, "dolibarr.url")}
	assert problems_with(api_key_env="RELANCE_TEST_DOLIBARR_KEY") == {(ERROR, "dolibarr.url")}
	# The default variable, unset here: a warning (needed only with --source dolibarr)
	assert problems_with(url="https://erp.example.org") == {(WARNING, "dolibarr.api_key_env")}
	assert problems_with(url="https://erp.example.org", kee="x", api_key_env="RELANCE_TEST_DOLIBARR_KEY") == {
		(WARNING, "dolibarr.kee")
	}


def test_dolibarr_table_is_used_by_the_commands(tmp_path, monkeypatch):
	monkeypatch.delenv("RELANCE_TEST_UNSET_KEY", raising=False)
	config = write(
		tmp_path, '[dolibarr]\nurl = "https://erp.example.org"\napi_key_env = "RELANCE_TEST_UNSET_KEY"\n'
	)
	code, _, err = run_cli("--config", config, "plan", "--source", "dolibarr", "--as-of", "2026-06-15")
	# The URL came from the table (no --dolibarr-url), and the key is looked for where the table says
	assert code == 3
	assert "RELANCE_TEST_UNSET_KEY" in err
	code, _, err = run_cli("plan", "--source", "dolibarr", "--as-of", "2026-06-15")
	assert code == 3 and "--dolibarr-url" in err


def test_scenarios_checked_by_the_core():
	config = load(GOOD)
	config["scenarios"]["lent"] = {
		"steps": [
			{"key": "a", "offset": 5, "channel": "email", "tone": "amical", "template": "t"},
			{"key": "b", "offset": 2, "channel": "email", "tone": "amical", "template": "t"},
		]
	}
	config["scenarios"]["vide"] = {"steps": []}
	problems = check_config(config, environ={PASSWORD_ENV: "x", "RELANCE_TEST_DOLIBARR_KEY": "k"})
	assert paths(problems, ERROR) == {"scenarios.lent.steps.b.offset", "scenarios.vide.steps"}


def test_settings_default_scenario_may_be_a_config_scenario():
	config = load(GOOD)
	del config["scenarios"]
	problems = check_config(config, environ={PASSWORD_ENV: "x", "RELANCE_TEST_DOLIBARR_KEY": "k"})
	assert paths(problems, ERROR) == {"settings.default_scenario"}


def test_iban():
	assert iban_problem("FR08 3000 4000 0500 0012 3456 789") is None
	assert iban_problem("fr0830004000050000123456789") is None
	assert iban_problem("DE89 3704 0044 0532 0130 00") is None
	assert "check digits" in iban_problem("FR76 3000 4000 0500 0012 3456 789")
	assert "27 characters" in iban_problem("FR08 3000 4000 0500 0012 3456 78")
	assert "not an IBAN" in iban_problem("12345")


def test_command_line_and_file_errors(tmp_path):
	code, _, err = run_cli("check")
	assert code == 2 and "--config" in err
	code, _, err = run_cli("--lang", "en", "check", "--config", write(tmp_path, "[company\nname = 'x'\n"))
	assert code == 3 and "invalid TOML" in err
	assert "Expected ']' at the end of a table declaration (at line 1, column 9)" in err
	code, _, err = run_cli("--lang", "fr", "check", "--config", write(tmp_path, "[company\nname = 'x'\n"))
	assert code == 3
	assert (
		"config.toml : TOML invalide (']' attendu à la fin de la déclaration de table (ligne 1, colonne 9))"
		in err
	)
	code, _, err = run_cli("check", "--config", tmp_path / "absent.toml")
	assert code == 3
