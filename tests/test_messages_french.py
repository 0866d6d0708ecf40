"""Every message of the `relance` command in French or English by --lang.

Three nets: (1) every English message given to the translation layer (Text, gettext, the progress bar's
labels, the rules' scenario errors, the system's words) has a French msgstr in fr.po; (2) no plain
literal or f-string is handed to the user by the command's error and warning paths (raised as a
UsageError, a Dolibarr, mail, journal or statement error, appended to a source's warnings, printed on
standard error); (3) the error paths listed in PATHS, run end to end with --lang fr, say their French
text and nothing in English, and with --lang en their English text."""

from __future__ import annotations

import ast
import contextlib
import io
import re
from pathlib import Path

import pytest

from relance_erpnext import cli
from relance_erpnext.i18n import _OS_REASONS, _SQLITE_REASONS, catalogue

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "relance_erpnext"
SAMPLE = PACKAGE / "connectors" / "sample" / "registre_exemple.csv"
SAMPLE_CONFIG = PACKAGE / "connectors" / "sample" / "entreprise_exemple.toml"
BANK = Path(__file__).parent / "data" / "bank"
AS_OF = "2026-06-15"
# The register reader is being rewritten apart: its messages are Text already (their literal msgids
# are scanned in (1)), its column labels Text made from a variable
NOT_LINTED = {"connectors/register.py"}


def sources() -> list[Path]:
	return sorted(
		[
			*PACKAGE.joinpath("cli").glob("*.py"),
			*PACKAGE.joinpath("connectors").glob("*.py"),
			PACKAGE / "i18n" / "__init__.py",
		]
	)


def called(node: ast.Call) -> str | None:
	func = node.func
	if isinstance(func, ast.Name):
		return func.id
	if isinstance(func, ast.Attribute):
		return func.attr
	return None


# (1) The catalogue ----------------------------------------------------------------------------------

# Functions whose first argument is a msgid (`tr` and `report_line`: the local "say this template" of a few printers)
TRANSLATING = {"Text", "gettext", "Progress", "tr", "report_line"}
# Where a Text is made from a template held in a variable: the helpers that say a template given to
# them, rebuild a Text, or look a known text up
TEMPLATE_HELPERS = {
	*("tr", "report_line", "_cleaned", "scenario_message", "core_error", "reason", "_rebuild", "__new__")
}


def literals(node) -> list[str]:
	"""The msgids a template argument is: a str literal, or either branch of `a if … else b`."""
	if isinstance(node, ast.Constant) and isinstance(node.value, str):
		return [node.value]
	if isinstance(node, ast.IfExp):
		body, orelse = literals(node.body), literals(node.orelse)
		return body + orelse if body and orelse else []
	return []


def msgids() -> dict[str, str]:
	"""Every literal msgid of the command's sources: {msgid: where}."""
	found = {}
	for path in sources():
		tree = ast.parse(path.read_text(encoding="utf-8"))
		for node in ast.walk(tree):
			if isinstance(node, ast.Call) and called(node) in TRANSLATING and node.args:
				for msgid in literals(node.args[0]):
					found.setdefault(msgid, f"{path.relative_to(PACKAGE)}:{node.lineno}")
	return found


def scenario_templates() -> dict[str, str]:
	"""The rules' own words for a scenario at fault (dunning.ScenarioError's message templates)."""
	path = PACKAGE / "dunning" / "scenarios.py"
	found = {}
	for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
		if isinstance(node, ast.Call) and called(node) == "ScenarioError" and len(node.args) >= 4:
			message = node.args[3]
			assert isinstance(
				message, ast.Constant
			), f"scenarios.py:{node.lineno}: a template, not an f-string"
			found.setdefault(message.value, f"dunning/scenarios.py:{node.lineno}")
	return found


def rate_table_templates() -> dict[str, str]:
	"""The rules' own words for a rate table that cannot be used (dunning.RateTableError's templates)."""
	path = PACKAGE / "dunning" / "rates.py"
	found = {}
	for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
		if isinstance(node, ast.Call) and called(node) == "RateTableError":
			message = node.args[0]
			assert isinstance(message, ast.Constant), f"rates.py:{node.lineno}: a template, not an f-string"
			found.setdefault(message.value, f"dunning/rates.py:{node.lineno}")
	return found


def test_every_message_has_a_french_translation():
	wanted = {**msgids(), **scenario_templates(), **rate_table_templates()}
	wanted.update({text: "i18n: the system's words" for text in (*_OS_REASONS, *_SQLITE_REASONS)})
	assert len(wanted) > 500  # the scan found the messages (not an empty walk)
	french = catalogue()
	missing = {msgid: where for msgid, where in wanted.items() if not french.get(msgid, "").strip()}
	assert not missing, "\n".join(f"{where}: {msgid!r}" for msgid, where in missing.items())


def test_french_keeps_every_field_and_its_conversion():
	"""A msgstr has the same {fields} as its msgid, with the same !r and format spec (else say()
	falls back to English, or says a value differently)."""
	fields = re.compile(r"\{(\w+(?:![rsa])?(?::[^}]*)?)\}")
	for msgid, msgstr in catalogue().items():
		if "%(" in msgid or "%s" in msgid:  # argparse's own templates
			continue
		assert sorted(fields.findall(msgid)) == sorted(fields.findall(msgstr)), msgid


def test_french_typography():
	"""A French colon, semicolon, question or exclamation mark has its space before it."""
	for msgid, msgstr in catalogue().items():
		text = re.sub(r"\{[^}]*\}|https?://\S+|'[^']*'|\"[^\"]*\"|`[^`]*`|\[[^\]]*\]|%\([^)]*\)s", "", msgstr)
		assert not re.search(r"\w[:;?!](\s|$)", text), (msgid, msgstr)


def test_no_template_from_a_variable_outside_the_helpers():
	"""A Text made from a variable template escapes the scan above: only the helpers may."""
	for path in sources():
		if str(path.relative_to(PACKAGE)) in NOT_LINTED:
			continue
		tree = ast.parse(path.read_text(encoding="utf-8"))

		def visit(node, function: str, path=path) -> None:
			if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
				function = node.name
			if isinstance(node, ast.Call) and called(node) == "Text" and node.args:
				if not literals(node.args[0]):
					where = f"{path.relative_to(PACKAGE)}:{node.lineno}"
					assert function in TEMPLATE_HELPERS, f"{where}: Text({ast.unparse(node.args[0])})"
			for child in ast.iter_child_nodes(node):
				visit(child, function)

		visit(tree, "")


# (2) No plain text to the user -------------------------------------------------------------------------

# Exceptions whose message is shown to the user: the argument holding the message
USER_ERRORS = {
	"UsageError": 0,
	"JournalUnusable": 0,
	"JournalError": 0,
	"DolibarrError": 0,
	"RateSourceError": 1,
	"StatementError": 3,
	"ArgumentTypeError": 0,
}


def plain(node) -> bool:
	"""A str literal or an f-string: English that no catalogue sees."""
	return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


def plain_messages(path: Path, root: Path = PACKAGE) -> list[str]:
	found = []
	tree = ast.parse(path.read_text(encoding="utf-8"))
	for node in ast.walk(tree):
		if not isinstance(node, ast.Call):
			continue
		name = called(node)
		where = f"{path.relative_to(root)}:{node.lineno}"
		if name in USER_ERRORS and len(node.args) > USER_ERRORS[name] and plain(node.args[USER_ERRORS[name]]):
			found.append(f"{where}: {name}({ast.unparse(node.args[USER_ERRORS[name]])[:70]})")
		# A mail error says itself in French from its fr= (the sending errors) or from the catalogue
		if name == "MailError" and plain(node.args[0]) and not any(k.arg == "fr" for k in node.keywords):
			found.append(f"{where}: MailError without French")
		if name == "append" and isinstance(node.func, ast.Attribute):
			target = ast.unparse(node.func.value)
			if target.endswith("warnings") and node.args and plain(node.args[0]):
				found.append(f"{where}: {target}.append({ast.unparse(node.args[0])[:70]})")
		if name == "print" and any(
			k.arg == "file" and ast.unparse(k.value) == "sys.stderr" for k in node.keywords
		):
			if node.args and plain(node.args[0]):
				found.append(f"{where}: print({ast.unparse(node.args[0])[:70]}, file=sys.stderr)")
	return found


def test_no_plain_string_reaches_the_user():
	found = []
	for path in sources():
		if str(path.relative_to(PACKAGE)) not in NOT_LINTED:
			found.extend(plain_messages(path))
	assert not found, "\n".join(found)


def test_the_lint_sees_a_plain_message(tmp_path):
	"""The check above is not blind: it finds what it forbids."""
	sample = tmp_path / "sample.py"
	sample.write_text(
		'import sys\nraise UsageError(f"{x}: no such file")\nself.warnings.append("left out")\n'
		'print("warning: x", file=sys.stderr)\nraise MailError("smtp: bad")\n'
		'raise UsageError(Text("{x}: no such file", x=x))\nraise MailError("bad", fr="mauvais")\n',
		encoding="utf-8",
	)
	assert len(plain_messages(sample, tmp_path)) == 4


# (3) The error paths, end to end ----------------------------------------------------------------------

# English that must not show in a French message (the values put into it are kept apart by the test:
# paths, addresses, codes)
ENGLISH = re.compile(
	r"\b(the|is|not|no|cannot|could|must|should|error|warning|found|with|and|of|to|for|was|which|"
	r"only|needs?|invalid|unknown|missing|expected|such|refused|file|line|row|column|field)\b",
	re.IGNORECASE,
)


def run(*argv, env=None) -> tuple[int, str, str]:
	out, err = io.StringIO(), io.StringIO()
	with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
		try:
			code = cli.main([str(a) for a in argv])
		except SystemExit as exc:
			code = exc.code
	return code, out.getvalue(), err.getvalue()


def write(folder: Path, name: str, text: str) -> Path:
	path = folder / name
	path.write_text(text, encoding="utf-8")
	return path


def plan_with(config: Path, *more) -> tuple:
	return ("--config", config, "plan", "--register", SAMPLE, "--as-of", AS_OF, *more)


def run_with(folder: Path, config: Path, *more) -> tuple:
	return (
		*("--config", config, "run", "--register", SAMPLE, "--as-of", AS_OF),
		*("--journal", folder / "j.sqlite", "--out", folder / "out", *more),
	)


DOLIBARR = ("plan", "--source", "dolibarr", "--as-of", AS_OF, "--dolibarr-key-env", "RELANCE_TEST_KEY")

# name: (arguments given the test's folder, exit status, French said, English said)
PATHS = {
	"missing register": (
		lambda d: ("plan", "--register", d / "absent.csv", "--as-of", AS_OF),
		3,
		"absent.csv : fichier introuvable",
		"absent.csv: no such file",
	),
	"missing config": (
		lambda d: plan_with(d / "absent.toml"),
		3,
		"absent.toml : fichier ou dossier introuvable",
		"absent.toml: No such file or directory",
	),
	"config: bad TOML": (
		lambda d: plan_with(write(d, "c.toml", "[settings]\nmin_amount = abc\n")),
		3,
		"c.toml : TOML invalide (valeur invalide (un texte s'écrit entre guillemets) (ligne 2, colonne 14))",
		"c.toml: invalid TOML (Invalid value (at line 2, column 14))",
	),
	"config: bad JSON": (
		lambda d: plan_with(write(d, "c.json", "{'settings': 1}")),
		3,
		"c.json, ligne 1 : JSON invalide (nom de propriété entre guillemets doubles attendu)",
		"c.json, line 1: invalid JSON (Expecting property name enclosed in double quotes)",
	),
	"config: a table that is not one": (
		lambda d: plan_with(write(d, "c.toml", "company = 3\n")),
		3,
		"c.toml : [company] doit être une table",
		"c.toml: [company] must be a table",
	),
	"config: bad setting": (
		lambda d: plan_with(write(d, "c.toml", '[settings]\nmin_amount = "abc"\n')),
		3,
		"relance : settings : min_amount 'abc' n'est pas un montant",
		"relance: settings: min_amount 'abc' is not an amount",
	),
	"config: unknown default scenario": (
		lambda d: plan_with(write(d, "c.toml", '[settings]\ndefault_scenario = "lent"\n')),
		3,
		"settings : default_scenario 'lent' n'est pas un scénario connu",
		"settings: default_scenario 'lent' is not a known scenario",
	),
	"config: catch_up by due date (a warning)": (
		lambda d: plan_with(write(d, "c.toml", '[settings]\ncatch_up = "by_due_date"\n'), "--format", "json"),
		0,
		'avertissement : settings : catch_up = "by_due_date" : un client jamais relancé peut recevoir',
		'warning: settings: catch_up = "by_due_date": a customer never reminded may receive',
	),
	"config: a bad scenario": (
		lambda d: plan_with(
			write(
				d,
				"c.toml",
				'[scenarios.lent]\nname = "Lent"\n[[scenarios.lent.steps]]\nkey = "a"\nlabel = "A"\n'
				'offset = 3\nchannel = "pigeon"\ntone = "amical"\ntemplate = "courteous"\n',
			)
		),
		3,
		"relance : configuration : scénario 'lent', étape 'a', champ 'channel' : canal 'pigeon' inconnu",
		"relance: config: scenario 'lent', step 'a', field 'channel': unknown channel 'pigeon'",
	),
	"run: no [company] name": (
		lambda d: run_with(d, write(d, "c.toml", '[company]\ncity = "Lyon"\n')),
		3,
		"configuration : [company] doit donner au moins un nom pour les courriers",
		"config: [company] needs at least a name for the letters",
	),
	"run --send: no [smtp]": (
		lambda d: run_with(d, SAMPLE_CONFIG, "--send"),
		3,
		"run : --send demande une table [smtp] dans --config (le serveur de messagerie) ; voir le README",
		"run: --send needs an [smtp] table in --config (the mail server); see the README",
	),
	"run --send: a bad [smtp]": (
		lambda d: run_with(
			d,
			write(
				d, "c.toml", '[company]\nname = "X"\nemail = "a@b.fr"\n[smtp]\nhost = "h"\nsecurity = "tls"\n'
			),
			"--send",
		),
		3,
		"relance : configuration : smtp : security doit valoir starttls, ssl, none, pas 'tls'",
		"relance: config: smtp: security must be one of starttls, ssl, none, not 'tls'",
	),
	"bad journal": (
		lambda d: (
			"plan",
			*("--register", SAMPLE, "--as-of", AS_OF),
			*("--journal", write(d, "j.sqlite", "not a database, just text " * 100)),
		),
		3,
		"j.sqlite : journal inutilisable (ce n'est pas une base SQLite)",
		"j.sqlite: not a usable journal (file is not a database)",
	),
	"no journal yet (a warning)": (
		lambda d: (
			"plan",
			"--register",
			SAMPLE,
			"--as-of",
			AS_OF,
			"--journal",
			d / "new.sqlite",
			"--format",
			"json",
		),
		0,
		"avertissement : {d}/new.sqlite : pas encore de journal (rien d'enregistré jusqu'ici)",
		"warning: {d}/new.sqlite: no journal yet (nothing recorded so far)",
	),
	"run: no journal": (
		lambda d: ("run", "--register", SAMPLE, "--as-of", AS_OF, "--out", d / "out"),
		3,
		"run : --journal FICHIER est obligatoire (il garde la mémoire de ce qui a été fait)",
		"run: --journal FILE is required (it remembers what was done)",
	),
	"run: letters folder is a file": (
		lambda d: run_with(d, SAMPLE_CONFIG)[:-1] + (write(d, "out", "x"),),
		3,
		"impossible d'écrire les courriers (ce n'est pas un dossier)",
		"cannot write the letters (Not a directory)",
	),
	"unreachable Dolibarr": (
		lambda d: (*DOLIBARR, "--dolibarr-url", "http://127.0.0.1:9"),
		3,
		"relance : Dolibarr : Dolibarr à http://127.0.0.1:9 : GET /api/index.php/status : connexion refusée"
		" (Dolibarr tourne-t-il à cette adresse ?)",
		"relance: Dolibarr: Dolibarr at http://127.0.0.1:9: GET /api/index.php/status: connection refused"
		" (is Dolibarr running at this address?)",
	),
	"Dolibarr: not an http URL": (
		lambda d: (*DOLIBARR, "--dolibarr-url", "ftp://erp.example.org"),
		3,
		"relance : Dolibarr : 'ftp://erp.example.org' : l'adresse du Dolibarr doit commencer par http:// ou https://",
		"relance: Dolibarr: 'ftp://erp.example.org': the Dolibarr URL must start with http:// or https://",
	),
	"Dolibarr: no key": (
		lambda d: (
			"plan",
			"--source",
			"dolibarr",
			"--dolibarr-url",
			"http://127.0.0.1:9",
			"--dolibarr-key-env",
			"RELANCE_NO_KEY",
		),
		3,
		"--source dolibarr : la variable d'environnement RELANCE_NO_KEY (la clé d'API Dolibarr) n'est pas définie",
		"--source dolibarr: the environment variable RELANCE_NO_KEY (the Dolibarr API key) is not set",
	),
	"Dolibarr: no URL": (
		lambda d: ("plan", "--source", "dolibarr", "--as-of", AS_OF),
		3,
		"--source dolibarr demande --dolibarr-url URL (ou url dans la table [dolibarr])",
		"--source dolibarr needs --dolibarr-url URL (or url in the [dolibarr] table)",
	),
	"scenarios: a bad file": (
		lambda d: (
			"scenarios",
			"--scenarios",
			write(
				d,
				"s.json",
				'{"x": {"steps": [{"key": "a", "label": "A", "offset": "bientôt", "channel": "email",'
				' "tone": "amical", "template": "courteous"}]}}',
			),
		),
		3,
		"scénario 'x', étape 'a', champ 'offset' : nombre entier de jours attendu, reçu 'bientôt'",
		"scenario 'x', step 'a', field 'offset': expected a whole number of days, got 'bientôt'",
	),
	"match: bad bank CSV": (
		lambda d: (
			"match",
			"--statement",
			write(d, "releve.csv", "Date;Libellé;Montant\n08/06/2026;VIR;abc\n"),
			"--register",
			BANK / "registre.csv",
		),
		3,
		"erreur : {d}/releve.csv, ligne 2, colonne « Montant » : 'abc' n'est pas un montant",
		"error: {d}/releve.csv, row 2, column \"Montant\": 'abc' is not an amount",
	),
	"match: a CSV without its columns": (
		lambda d: (
			"match",
			"--statement",
			write(d, "releve.txt", "bonjour\n"),
			"--register",
			BANK / "registre.csv",
		),
		3,
		"releve.txt : pas de colonne de date (attendu : Date, Date opération, Booking date) ; pas de colonne de"
		" montant (attendu : Montant, Amount (ou Débit et Crédit))",
		"releve.txt: no date column (expected Date, Date opération, Booking date); no amount column (expected"
		" Montant, Amount (or Débit and Crédit))",
	),
	"match: not a statement": (
		lambda d: (
			"match",
			"--statement",
			write(d, "releve.bin", "PK\x00\x03"),
			"--register",
			BANK / "registre.csv",
		),
		3,
		"releve.bin : ce n'est pas un relevé bancaire CAMT.053, OFX ou CSV",
		"releve.bin: not a CAMT.053, OFX or CSV bank statement",
	),
	"match: bad CAMT amount": (
		lambda d: (
			"match",
			"--statement",
			write(
				d,
				"r.xml",
				(BANK / "releve_camt053_001_02.xml")
				.read_text(encoding="utf-8")
				.replace(">600.00<", ">6OO.00<", 1),
			),
			"--register",
			BANK / "registre.csv",
		),
		3,
		"écriture 2 (2026060900022), champ « Amt » : '6OO.00' n'est pas un montant",
		"entry 2 (2026060900022), field \"Amt\": '6OO.00' is not an amount",
	),
	"match --apply without a journal": (
		lambda d: (
			"match",
			"--statement",
			BANK / "releve_camt053_001_02.xml",
			"--register",
			BANK / "registre.csv",
			"--apply",
		),
		3,
		"match : --apply demande --journal FICHIER (où les paiements sont enregistrés)",
		"match: --apply needs --journal FILE (where the payments are recorded)",
	),
	"overview: --days 0": (
		lambda d: ("overview", "--register", SAMPLE, "--as-of", AS_OF, "--days", "0"),
		3,
		"overview : --days doit valoir 1 ou plus",
		"overview: --days must be 1 or more",
	),
	"overview: bad --buckets": (
		lambda d: ("overview", "--register", SAMPLE, "--buckets", "15,7"),
		2,
		"'15,7' : donnez des nombres de jours entiers croissants",
		"'15,7': give increasing whole days above 0",
	),
	"log: a promise without its date": (
		lambda d: ("log", "promise", "FA-2026-0021", "--register", SAMPLE, "--journal", d / "j.sqlite"),
		3,
		"log promise : une promesse demande sa date (--until AAAA-MM-JJ)",
		"log promise: a promise needs its date (--until YYYY-MM-DD)",
	),
	"rates set: not a rate": (
		lambda d: ("rates", "set", "fr_ecb_refi", "2026-07-01", "deux", "--source", "x", "--rates", d),
		2,
		"'deux' n'est pas un taux (pour cent par an, par ex. 2,15)",
		"'deux' is not a rate (percent a year, e.g. 2.15)",
	),
	"rates update: source unreachable": (
		lambda d: ("rates", "update", "--rates", d, "--ecb-url", "http://127.0.0.1:9/ecb.csv"),
		6,
		"relance : mise à jour impossible, rien n'a changé : http://127.0.0.1:9/ecb.csv : injoignable (connexion refusée)",
		"relance: update failed, nothing was changed: http://127.0.0.1:9/ecb.csv: unreachable (Connection refused)",
	),
	"demo: output folder is a file": (
		lambda d: ("demo", "--out", write(d, "demo", "x")),
		3,
		"demo : le fichier existe déjà",
		"demo: File exists",
	),
	"check: no --config": (
		lambda d: ("check",),
		2,
		"relance check : --config FICHIER est obligatoire (la configuration à vérifier)",
		"relance check: --config FILE is required (the configuration to check)",
	),
	"check: a rate folder without tables": (
		lambda d: ("check", "--config", SAMPLE_CONFIG, "--rates", d, "--as-of", AS_OF),
		3,
		"erreur : rates : {d} : aucune table de taux trouvée (attendu : fr_ecb_refi, fr_legal_rate,",
		"error: rates: {d}: no rate table found (expected fr_ecb_refi, fr_legal_rate,",
	),
}


@pytest.mark.parametrize("name", list(PATHS))
def test_error_path_in_french_and_in_english(name, tmp_path, monkeypatch):
	monkeypatch.setenv("RELANCE_TEST_KEY", "k")
	monkeypatch.delenv("RELANCE_NO_KEY", raising=False)
	argv, status, french, english = PATHS[name]
	said = {}
	for lang in ("fr", "en"):
		folder = tmp_path / lang
		folder.mkdir()
		code, out, err = run("--lang", lang, *argv(folder))
		assert code == status, (lang, out, err)
		# `check` prints its problems on standard output, the other commands on standard error
		said[lang] = (out + err if name.startswith("check") else err).replace(str(folder), "{d}")
	assert french in said["fr"], said["fr"]
	assert english in said["en"], said["en"]
	# Nothing English in French (the values kept apart: folders, addresses, codes, Dolibarr's and the
	# system's own words quoted as they are)
	for line in said["fr"].splitlines():
		words = re.sub(
			r"\S*[/\\]\S*|'[^']*'|\"[^\"]*\"|\S+\.(csv|toml|json|sqlite|xml|txt|bin)\b|--[\w-]+", "", line
		)
		assert not ENGLISH.search(words), line
