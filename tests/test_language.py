"""The command's language: every message of a register in French or English by --lang, the default from
the environment's locale (French otherwise), other languages refused, --help in French."""

import contextlib
import io
import subprocess
import sys

import pytest

from relance_erpnext import cli
from relance_erpnext.i18n import Text, catalogue, default_language, parse_po, say

SEED_000 = "Numéro de facture;Client;Montant;Date d'émission;Échéance;Statut du paiement;Commercial\n"


def run(*argv):
	out, err = io.StringIO(), io.StringIO()
	with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
		try:
			code = cli.main([str(a) for a in argv])
		except SystemExit as exc:
			code = exc.code
	return code, out.getvalue(), err.getvalue()


@pytest.fixture
def register(tmp_path):
	path = tmp_path / "registre.csv"
	path.write_text(
		SEED_000
		+ "FA-1;Garage Dubois;1,440;01/04/2026;01/05/2026;impayée;Paul\n"
		+ "FA-2;Garage Dubois;300,00;01/04/2026;31/02/2026;;Paul\n",
		encoding="utf-8",
	)
	return path


def test_register_messages_in_french(register):
	code, out, err = run("--lang", "fr", "plan", "--register", register, "--as-of", "2026-06-15")
	assert code == 3 and out == ""
	assert "registre.csv : colonne(s) non utilisée(s) : 'Commercial'" in err
	assert 'registre.csv, ligne 2, colonne « Montant » : "1,440" est ambigu : 1440 ou 1.44 ?' in err
	assert 'registre.csv, ligne 3, colonne « Échéance » : "31/02/2026" n\'est pas une date' in err
	assert "2 erreur(s) ; rien n'est planifié (corrigez-les, ou utilisez --skip-bad-rows)" in err
	for english in ("row 2", "column ", "not used", "is not a date", "nothing planned", "ambiguous"):
		assert english not in err, english


def test_the_same_in_english(register):
	code, out, err = run("plan", "--register", register, "--as-of", "2026-06-15", "--lang", "en")
	assert code == 3
	assert "registre.csv: column(s) not used: 'Commercial'" in err
	assert 'registre.csv, row 2, column "Montant": "1,440" is ambiguous: 1440 or 1.44?' in err
	assert "2 error(s); nothing planned" in err
	assert "ligne" not in err and "colonne" not in err


def test_unknown_language_refused():
	for lang in ("de", "es", "xx"):
		code, out, err = run("--lang", lang, "scenarios")
		assert code == 2, lang
		assert f"'{lang}' n'est pas une langue de relance : fr ou en" in err
	code, out, err = run("--lang", "en", "scenarios", "--lang", "de")
	assert code == 2 and "'de' is not a language of relance: fr or en" in err
	# Regional forms are the language
	assert cli.language("fr-CA") == "fr" and cli.language("en_GB.UTF-8") == "en"


def test_default_from_the_locale():
	assert default_language({"LANG": "en_US.UTF-8"}) == "en"
	assert default_language({"LC_ALL": "fr_CA.UTF-8", "LANG": "en_US.UTF-8"}) == "fr"
	assert default_language({"LANG": "de_DE.UTF-8"}) == "fr"
	assert default_language({"LANG": "C.UTF-8"}) == "fr"
	assert default_language({}) == "fr"


@pytest.mark.parametrize(
	("lang", "expected"), [("en_US.UTF-8", "usage: relance"), ("fr_FR.UTF-8", "utilisation : relance")]
)
def test_help_follows_the_locale_as_a_real_process(lang, expected):
	env = {"LANG": lang, "PATH": "/usr/bin:/bin"}
	done = subprocess.run(
		[sys.executable, "-m", "relance_erpnext.cli", "plan", "--help"],
		capture_output=True,
		text=True,
		env=env,
		timeout=60,
	)
	assert done.returncode == 0
	assert done.stdout.startswith(expected)


def test_help_in_french():
	code, out, _ = run("--lang", "fr", "run", "--help")
	assert code == 0
	assert out.startswith("utilisation : relance run")
	assert "afficher cette aide et quitter" in out
	assert "le jour à planifier (AAAA-MM-JJ), par défaut aujourd'hui" in " ".join(out.split())
	assert "show this help" not in out and "the day to plan" not in out
	code, out, _ = run("--lang", "en", "run", "--help")
	assert "show this help message and exit" in out and "the day to plan" in out


def test_argparse_errors_in_french():
	code, _, err = run("--lang", "fr", "plan", "--as-of", "2026-13-01", "--register", "x.csv")
	assert code == 2
	assert "relance plan : erreur : argument --as-of : '2026-13-01' n'est pas une date (AAAA-MM-JJ)" in err
	code, _, err = run("--lang", "fr", "plan", "--format", "xml", "--register", "x.csv")
	assert "choix invalide : 'xml'" in err
	code, _, err = run("--lang", "fr", "plan")
	assert "plan : argument obligatoire manquant : --register" in err


def test_every_help_text_has_a_french_entry():
	"""Each command's help (not argparse's defaults with a value in them) is in the catalogue."""
	missing = []
	parser = cli.build_parser()

	def walk(parser):
		for action in parser._actions:
			dynamic = "$" in (action.help or "") or "DOLIBARR_API_KEY" in (action.help or "")
			if (
				action.help
				and action.help != "==SUPPRESS=="
				and not dynamic
				and "default 20" not in action.help
			):
				if action.help not in catalogue():
					missing.append(action.help)
			for sub in getattr(action, "choices", None) or {}:
				if isinstance(action.choices, dict):
					walk(action.choices[sub])

	walk(parser)
	assert not missing, missing


def test_catalogue_entries_keep_their_fields():
	"""A translation keeps every {field} of its msgid (else say() falls back to English)."""
	import re

	for msgid, msgstr in catalogue().items():
		assert set(re.findall(r"\{(\w+)", msgid)) == set(re.findall(r"\{(\w+)", msgstr)), msgid


def test_say_and_po():
	assert say(Text("{what} is empty", what=Text("the due date")), "fr") == "l'échéance : cellule vide"
	assert say(Text("{what} is empty", what=Text("the due date")), "en") == "the due date is empty"
	assert parse_po('msgid "a"\nmsgstr "b"\n\n#, fuzzy\nmsgid "c"\nmsgstr "d"\n') == {"a": "b"}
