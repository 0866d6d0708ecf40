"""The `relance` command, in-process (`cli.main`) and as a real process: plan, errors, scenarios, journal."""

import contextlib
import csv
import importlib.util
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl

from relance_erpnext import cli
from relance_erpnext.cli.workflow import email_texts
from relance_erpnext.connectors.journal import Journal
from tests.helpers import day_folder

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "relance_erpnext" / "connectors" / "sample" / "registre_exemple.csv"
SAMPLE_CONFIG = ROOT / "relance_erpnext" / "connectors" / "sample" / "entreprise_exemple.toml"
AS_OF = "2026-06-15"
MONEY = re.compile(r"^\d+\.\d{2}$")
HAS_LETTERS = importlib.util.find_spec("relance_erpnext.dunning.letters") is not None
NEEDS_LETTERS = "relance_erpnext.dunning.letters is not there yet"

TOP_KEYS = {"format", "as_of", "actions", "skipped", "errors"}
ACTION_KEYS = {"customer", "step", "channel", "currency", "invoices", "fee", "total"}
LINE_KEYS = {"invoice", "due", "days_late", "outstanding", "interest", "indemnity"}
SKIP_KEYS = {"invoice", "reason"}


def run_cli(*argv) -> tuple[int, str, str]:
	"""`relance ARGV` in this process: (exit status, stdout, stderr)."""
	out, err = io.StringIO(), io.StringIO()
	with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
		try:
			code = cli.main([str(a) for a in argv])
		except SystemExit as exc:  # argparse: a wrong command line
			code = exc.code
	return code, out.getvalue(), err.getvalue()


def run_process(*argv, cwd=None) -> subprocess.CompletedProcess:
	"""`python -m relance_erpnext.cli ARGV` as a real process."""
	env = dict(os.environ)
	env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
	env["PYTHONIOENCODING"] = "utf-8"
	return subprocess.run(
		[sys.executable, "-m", "relance_erpnext.cli", *(str(a) for a in argv)],
		capture_output=True,
		text=True,
		encoding="utf-8",
		cwd=cwd,
		env=env,
		timeout=120,
	)


def sample_rows() -> list[list[str]]:
	with SAMPLE.open(encoding="utf-8", newline="") as handle:
		return [row for row in csv.reader(handle, delimiter=";")]


def register_numbers(rows) -> list[str]:
	"""The invoice numbers of a register's rows: its credit notes (a negative amount, or the status
	"avoir") are the customer's credits, deducted in the letters, not invoices of the plan."""
	header = rows[0]
	amount = header.index("Montant TTC") if "Montant TTC" in header else None
	status = header.index("Statut") if "Statut" in header else None
	return [
		row[0]
		for row in rows[1:]
		if row
		and row[0]
		and not (amount is not None and row[amount].strip().startswith("-"))
		and not (status is not None and row[status].strip().lower() == "avoir")
	]


def plan_invoices(data: dict) -> Counter:
	"""How many times each invoice appears in the plan (in an action or in skipped)."""
	seen = Counter(line["invoice"] for action in data["actions"] for line in action["invoices"])
	seen.update(skip["invoice"] for skip in data["skipped"])
	return seen


def recorded_pairs(data: dict) -> set[tuple[str, str]]:
	return {(line["invoice"], line["step"]) for action in data["actions"] for line in action["invoices"]}


class TempDir(unittest.TestCase):
	def setUp(self):
		self.dir = Path(tempfile.mkdtemp(prefix="relance-cli-"))
		self.addCleanup(shutil.rmtree, self.dir, True)

	def write_register(self, rows, name="ventes.csv") -> Path:
		path = self.dir / name
		with path.open("w", encoding="utf-8", newline="") as handle:
			csv.writer(handle, delimiter=";", lineterminator="\n").writerows(rows)
		return path

	def sample_with(self, changes: dict[str, dict[str, str]], name="ventes.csv") -> tuple[Path, dict]:
		"""The sample register with some cells changed: {invoice: {header: value}}.
		Returns the file and {invoice: its spreadsheet row (header = 1)}."""
		rows = sample_rows()
		header = rows[0]
		where = {}
		for number, row in enumerate(rows[1:], start=2):
			where[row[0]] = number
			for column, value in changes.get(row[0], {}).items():
				row[header.index(column)] = value
		return self.write_register(rows, name), where

	def plan_json(self, *extra) -> dict:
		code, out, err = run_cli("plan", "--register", SAMPLE, "--as-of", AS_OF, "--format", "json", *extra)
		self.assertEqual(code, 0, err)
		return json.loads(out)

	def check_plan(self, data: dict, expected_invoices) -> None:
		"""The documented JSON plan: keys, amounts as strings with 2 decimals, totals, each invoice once."""
		self.assertTrue(TOP_KEYS <= set(data), set(data))
		self.assertEqual(data["format"], 1)
		self.assertIsInstance(data["actions"], list)
		self.assertIsInstance(data["skipped"], list)
		self.assertIsInstance(data["errors"], list)
		for action in data["actions"]:
			self.assertTrue(ACTION_KEYS <= set(action), set(action))
			self.assertIn(action["channel"], ("email", "letter", "registered_letter", "phone", "escalation"))
			self.assertRegex(action["currency"], r"^[A-Z]{3}$")
			self.assertTrue(action["invoices"], action)
			for key in ("fee", "total", "outstanding", "interest", "indemnity"):
				self.assertIsInstance(action[key], str)
				self.assertRegex(action[key], MONEY, f"{action['customer']} {key}")
			lines = action["invoices"]
			for line in lines:
				self.assertTrue(LINE_KEYS <= set(line), set(line))
				date.fromisoformat(line["due"])
				self.assertIsInstance(line["days_late"], int)
				for key in ("outstanding", "interest", "indemnity"):
					self.assertIsInstance(line[key], str)
					self.assertRegex(line[key], MONEY, f"{line['invoice']} {key}")
			outstanding = sum(Decimal(line["outstanding"]) for line in lines)
			interest = sum(Decimal(line["interest"]) for line in lines)
			indemnity = sum(Decimal(line["indemnity"]) for line in lines)
			self.assertEqual(Decimal(action["outstanding"]), outstanding)
			self.assertEqual(Decimal(action["interest"]), interest)
			self.assertEqual(Decimal(action["indemnity"]), indemnity)
			self.assertEqual(
				Decimal(action["total"]), outstanding + interest + indemnity + Decimal(action["fee"]), action
			)
		for skip in data["skipped"]:
			self.assertTrue(SKIP_KEYS <= set(skip), set(skip))
			self.assertTrue(skip["reason"])
		seen = plan_invoices(data)
		self.assertEqual(set(seen), set(expected_invoices))
		self.assertEqual({n: c for n, c in seen.items() if c != 1}, {}, "invoices listed more than once")


class PlanJsonTest(TempDir):
	def test_plan_json_on_the_sample_register(self):
		code, out, err = run_cli("plan", "--register", SAMPLE, "--as-of", AS_OF, "--format", "json")
		self.assertEqual(code, 0, err)
		data = json.loads(out)  # the whole of stdout is one JSON document
		self.assertEqual(data["as_of"], AS_OF)
		self.assertEqual(data["errors"], [])
		self.check_plan(data, register_numbers(sample_rows()))
		self.assertTrue(data["actions"])
		reasons = {skip["invoice"]: skip["reason"] for skip in data["skipped"]}
		self.assertEqual(reasons["FA-2026-0004"], "paid")
		self.assertEqual(reasons["FA-2026-0024"], "paid")
		self.assertEqual(reasons["FA-2026-0020"], "disputed")
		self.assertEqual(reasons["FA-2026-0023"], "on_hold")
		self.assertEqual(reasons["FA-2026-0037"], "not_yet_due")
		currencies = {line["invoice"]: a["currency"] for a in data["actions"] for line in a["invoices"]}
		self.assertEqual(currencies["FA-2026-0015"], "CAD")
		self.assertEqual(currencies["FA-2026-0007"], "EUR")
		self.assertNotIn("Traceback", err)

	def test_plan_json_as_a_real_process(self):
		done = run_process("plan", "--register", SAMPLE, "--as-of", AS_OF, "--format", "json", cwd=self.dir)
		self.assertEqual(done.returncode, 0, done.stderr)
		data = json.loads(done.stdout)
		self.check_plan(data, register_numbers(sample_rows()))
		self.assertNotIn("Traceback", done.stderr)
		# Deterministic: the same plan as in-process
		self.assertEqual(data, self.plan_json())
		self.assertEqual(list(self.dir.iterdir()), [], "plan wrote something")

	def test_plan_json_with_a_missing_reference_rate_still_plans_every_reminder(self):
		# Far past the end of the rate table: the reminders are planned all the same, their interest
		# provisional (counted up to the table's last day), exit status 5, the message names the table
		# (by due date: a first contact, a courteous email, would claim no interest at all)
		with tempfile.TemporaryDirectory() as tmp:
			config = Path(tmp) / "c.toml"
			config.write_text('[settings]\ncatch_up = "by_due_date"\n', encoding="utf-8")
			code, out, err = run_cli(
				"plan", "--register", SAMPLE, "--as-of", "2040-01-15", "--format", "json", "--config", config
			)
		self.assertEqual(code, 5, err)
		data = json.loads(out)
		self.assertEqual(data["errors"], [])
		self.assertNotIn("rate_missing", {skip["reason"] for skip in data["skipped"]})
		self.check_plan(data, register_numbers(sample_rows()))
		self.assertTrue(data["provisional"])
		self.assertEqual(
			data["provisional"][0], {"table": "fr_ecb_refi", "from": "2026-07-01", "to": "2026-12-31"}
		)
		provisional = [line for a in data["actions"] for line in a["invoices"] if line["rates_missing"]]
		self.assertTrue(provisional)
		for line in provisional:
			self.assertEqual(line["interest_until"], "2026-06-30")
			self.assertIn("interest_provisional:2026-06-30", line["notes"])
		self.assertIn("fr_ecb_refi.csv", err)
		self.assertIn("relance rates update", err)
		self.assertIn("--rates", err)

	def test_plan_table(self):
		code, out, err = run_cli("plan", "--register", SAMPLE, "--as-of", AS_OF)
		self.assertEqual(code, 0, err)
		self.assertIn("Plan du 2026-06-15", out)
		self.assertIn("FA-2026-0007", out)
		self.assertIn("Sans action", out)
		code, out, err = run_cli("--lang", "en", "plan", "--register", SAMPLE, "--as-of", AS_OF)
		self.assertEqual(code, 0, err)
		self.assertIn("Plan for 2026-06-15", out)

	def test_lang_and_config_also_after_the_command(self):
		# As the README writes them: `relance run ... --config entreprise.toml`
		code, out, err = run_cli("plan", "--register", SAMPLE, "--as-of", AS_OF, "--lang", "en")
		self.assertEqual(code, 0, err)
		self.assertIn("Plan for 2026-06-15", out)
		code, out, err = run_cli(
			"--lang", "en", "plan", "--register", SAMPLE, "--as-of", AS_OF, "--lang", "fr"
		)
		self.assertEqual(code, 0, err)
		self.assertIn("Plan du 2026-06-15", out)
		config = self.dir / "c.toml"
		config.write_text('[settings]\nmin_amount = "1000000"\n', encoding="utf-8")
		data = json.loads(
			run_cli(
				*("plan", "--register", SAMPLE, "--as-of", AS_OF, "--format", "json"), "--config", config
			)[1]
		)
		self.assertEqual(data["actions"], [])
		self.assertIn("below_minimum", {skip["reason"] for skip in data["skipped"]})

	def test_xlsx_register(self):
		rows = sample_rows()
		book = openpyxl.Workbook()
		for row in rows:
			book.active.append(row)
		path = self.dir / "ventes.xlsx"
		book.save(path)
		code, out, err = run_cli("plan", "--register", path, "--as-of", AS_OF, "--format", "json")
		self.assertEqual(code, 0, err)
		data = json.loads(out)
		self.check_plan(data, register_numbers(rows))
		self.assertEqual(data, self.plan_json())

	def test_settings_from_the_command_line(self):
		data = self.plan_json("--min-amount", "1000000")
		self.assertEqual(data["actions"], [])
		for value in ("abc", "-5", "NaN", "Infinity"):
			code, out, err = run_cli(
				"--lang", "en", "plan", "--register", SAMPLE, "--as-of", AS_OF, "--min-amount", value
			)
			self.assertEqual(code, 3, value)
			self.assertEqual(out, "")
			self.assertIn("relance: settings:", err)
			self.assertNotIn("Traceback", err)

	def test_wrong_command_line_is_status_2(self):
		for argv in (
			("plan", "--as-of", AS_OF),  # no --register
			("plan", "--register", SAMPLE, "--as-of", "2026-13-01"),
			("plan", "--register", SAMPLE, "--format", "xml"),
			("nothing",),
		):
			code, out, _ = run_cli(*argv)
			self.assertEqual(code, 2, argv)
			self.assertEqual(out, "")


class RegisterErrorsTest(TempDir):
	def test_bad_date_names_file_row_and_column(self):
		path, where = self.sample_with({"FA-2026-0016": {"Échéance": "31/02/2026"}})
		code, out, err = run_cli(
			"--lang", "en", "plan", "--register", path, "--as-of", AS_OF, "--format", "json"
		)
		self.assertEqual(code, 3)
		self.assertEqual(out, "", "nothing may be planned")
		row = where["FA-2026-0016"]
		self.assertIn(f'ventes.csv, row {row}, column "Échéance"', err)
		self.assertIn('"31/02/2026" is not a date', err)
		self.assertIn("nothing planned", err)

	def test_bad_date_as_a_real_process(self):
		path, where = self.sample_with({"FA-2026-0030": {"Échéance": "demain"}})
		done = run_process("--lang", "en", "plan", "--register", path, "--as-of", AS_OF)
		self.assertEqual(done.returncode, 3)
		self.assertEqual(done.stdout, "")
		self.assertIn(f'ventes.csv, row {where["FA-2026-0030"]}, column "Échéance"', done.stderr)
		self.assertNotIn("Traceback", done.stderr)

	def test_every_bad_row_is_listed(self):
		bad = {
			"FA-2026-0007": {"Échéance": "31/02/2026"},
			"FA-2026-0021": {"Montant TTC": "trois cents"},
			"FA-2026-0035": {"Date d'émission": "2026-99-01"},
		}
		path, where = self.sample_with(bad)
		code, out, err = run_cli("--lang", "en", "plan", "--register", path, "--as-of", AS_OF)
		self.assertEqual(code, 3)
		self.assertEqual(out, "")
		self.assertIn(f'row {where["FA-2026-0007"]}, column "Échéance"', err)
		self.assertIn(f'row {where["FA-2026-0021"]}, column "Montant TTC"', err)
		self.assertIn(f'row {where["FA-2026-0035"]}, column "Date d\'émission"', err)
		self.assertIn("3 error(s)", err)
		self.assertIn("--skip-bad-rows", err)
		error_lines = [line for line in err.splitlines() if line.startswith("error:")]
		self.assertEqual(len(error_lines), 3, err)

	def test_skip_bad_rows_plans_the_good_ones(self):
		bad = {"FA-2026-0007": {"Échéance": "31/02/2026"}, "FA-2026-0021": {"Montant TTC": "trois cents"}}
		path, _ = self.sample_with(bad)
		code, out, err = run_cli(
			"--lang",
			"en",
			"plan",
			"--register",
			path,
			"--as-of",
			AS_OF,
			"--format",
			"json",
			"--skip-bad-rows",
		)
		self.assertEqual(code, 0, err)
		data = json.loads(out)
		good = [n for n in register_numbers(sample_rows()) if n not in bad]
		self.check_plan(data, good)
		self.assertIn("2 bad row(s) left out", err)
		self.assertIn('column "Échéance"', err)  # still named

	def test_skip_bad_rows_does_not_save_an_unusable_file(self):
		rows = [[cell for i, cell in enumerate(row) if i != 11] for row in sample_rows()]  # no "Échéance"
		path = self.write_register(rows)
		code, out, err = run_cli(
			"--lang", "en", "plan", "--register", path, "--as-of", AS_OF, "--skip-bad-rows"
		)
		self.assertEqual(code, 3)
		self.assertEqual(out, "")
		self.assertIn("no column for the due date", err)
		self.assertIn("cannot be used", err)

	def test_missing_file(self):
		missing = self.dir / "absent.csv"
		code, out, err = run_cli(
			"--lang", "en", "plan", "--register", missing, "--as-of", AS_OF, "--format", "json"
		)
		self.assertEqual(code, 3)
		self.assertEqual(out, "")
		self.assertIn(f"{missing}: no such file", err)

	def test_unusable_config(self):
		for name, text, expected in (
			("c.json", "[1, 2]", "must be a table"),
			("c.json", "{not json", "invalid JSON"),
			("c.toml", "[settings\n", "invalid TOML"),
			("c.toml", "settings = 3\n", "[settings] must be a table"),
		):
			path = self.dir / name
			path.write_text(text, encoding="utf-8")
			code, out, err = run_cli(
				"--lang", "en", "--config", path, "plan", "--register", SAMPLE, "--as-of", AS_OF
			)
			self.assertEqual(code, 3, text)
			self.assertEqual(out, "")
			self.assertIn(expected, err)
			self.assertNotIn("Traceback", err)
		latin = self.dir / "latin.toml"
		latin.write_bytes('[settings]\ndefault_scenario = "préventif"\n'.encode("cp1252"))
		code, _, err = run_cli(
			"--lang", "en", "--config", latin, "plan", "--register", SAMPLE, "--as-of", AS_OF
		)
		self.assertEqual(code, 3)
		self.assertIn("not UTF-8", err)


BAD_STEP_TOML = """
[scenarios.maison]
name = "Maison"

[[scenarios.maison.steps]]
key = "premier"
label = "Premier rappel"
offset = 3
channel = "email"
tone = "amical"
template = "courteous"

[[scenarios.maison.steps]]
key = "second"
label = "Second rappel"
offset = 10
channel = "fax"
tone = "formel"
template = "formal"
"""

BAD_STEP_JSON = {
	"scenarios": {
		"maison": {
			"name": "Maison",
			"steps": [
				{
					"key": "premier",
					"label": "Premier",
					"offset": 3,
					"channel": "email",
					"tone": "amical",
					"template": "courteous",
				},
				{
					"key": "second",
					"label": "Second",
					"offset": "bientôt",
					"channel": "email",
					"tone": "formel",
					"template": "formal",
				},
			],
		}
	}
}

GOOD_TOML = BAD_STEP_TOML.replace('"fax"', '"letter"')


class ScenariosTest(TempDir):
	def test_builtin_scenarios_are_listed(self):
		code, out, err = run_cli("scenarios")
		self.assertEqual(code, 0, err)
		keys = re.findall(r"^(\S+) : ", out, re.M)
		self.assertEqual(keys, ["standard", "clients_douteux", "preventif"])
		self.assertIn("rappel_courtois", out)
		self.assertIn("mise_en_demeure", out)
		self.assertIn("premier_rappel", out)
		self.assertIn("rappel_echeance", out)
		self.assertRegex(out, r"J\+1\s+rappel_courtois")
		self.assertRegex(out, r"J-5\s+rappel_echeance\s+courriel\s+amical\s+Rappel avant échéance")
		self.assertRegex(out, r"J\+30\s+mise_en_demeure\s+recommandé\s+ferme")
		code, out, err = run_cli("--lang", "en", "scenarios")
		self.assertEqual(re.findall(r"^(\S+): ", out, re.M), ["standard", "clients_douteux", "preventif"])
		self.assertRegex(out, r"D\+30\s+mise_en_demeure\s+registered letter\s+firm")

	def test_malformed_step_in_toml(self):
		path = self.dir / "maison.toml"
		path.write_text(BAD_STEP_TOML, encoding="utf-8")
		code, out, err = run_cli("--lang", "en", "scenarios", "--scenarios", path)
		self.assertEqual(code, 3)
		self.assertEqual(out, "")
		self.assertIn("maison.toml", err)
		self.assertIn("step 'second'", err)
		self.assertIn("field 'channel'", err)
		self.assertIn("'fax'", err)

	def test_malformed_step_in_json(self):
		path = self.dir / "maison.json"
		path.write_text(json.dumps(BAD_STEP_JSON, ensure_ascii=False), encoding="utf-8")
		code, out, err = run_cli("--lang", "en", "scenarios", "--scenarios", path)
		self.assertEqual(code, 3)
		self.assertEqual(out, "")
		self.assertIn("step 'second'", err)
		self.assertIn("field 'offset'", err)
		# plan refuses the same file before planning anything
		code, out, err = run_cli(
			"plan", "--register", SAMPLE, "--as-of", AS_OF, "--scenarios", path, "--format", "json"
		)
		self.assertEqual(code, 3)
		self.assertEqual(out, "")
		self.assertIn("étape 'second', champ 'offset' : nombre entier de jours attendu, reçu 'bientôt'", err)

	def test_malformed_step_as_a_real_process(self):
		path = self.dir / "maison.toml"
		path.write_text(BAD_STEP_TOML, encoding="utf-8")
		done = run_process("--lang", "en", "scenarios", "--scenarios", path)
		self.assertEqual(done.returncode, 3)
		self.assertIn("step 'second', field 'channel'", done.stderr)

	def test_custom_scenarios_are_added(self):
		path = self.dir / "maison.toml"
		path.write_text(GOOD_TOML, encoding="utf-8")
		code, out, err = run_cli("scenarios", "--scenarios", path)
		self.assertEqual(code, 0, err)
		self.assertEqual(
			re.findall(r"^(\S+) : ", out, re.M), ["standard", "clients_douteux", "preventif", "maison"]
		)
		self.assertRegex(out, r"J\+10\s+second\s+courrier")
		# A JSON list of scenarios, and a file holding one scenario alone, are accepted too
		one = {"key": "solo", "name": "Solo", "steps": [BAD_STEP_JSON["scenarios"]["maison"]["steps"][0]]}
		for data in ([one], one):
			path = self.dir / "solo.json"
			path.write_text(json.dumps(data), encoding="utf-8")
			code, out, err = run_cli("scenarios", "--scenarios", path)
			self.assertEqual(code, 0, err)
			self.assertIn("solo : Solo", out)


class JournalTest(TempDir):
	def record(self, journal: Path, as_of: str = AS_OF) -> dict:
		"""What `run` records, without writing letters: the plan's steps go into the journal."""
		args = cli.build_parser().parse_args(
			["plan", "--register", str(SAMPLE), "--as-of", as_of, "--journal", str(journal)]
		)
		register, result, opened = cli.make_plan(args, {}, create_journal=True)
		try:
			opened.record_actions(result.actions, result.as_of, status="planned")
		finally:
			opened.close()
		from relance_erpnext.dunning import plan_to_dict

		return plan_to_dict(result)

	def test_plan_with_the_journal_plans_nothing_already_recorded(self):
		journal = self.dir / "relance.sqlite"
		first = self.record(journal)
		done = recorded_pairs(first)
		self.assertTrue(done)
		code, out, err = run_cli(
			"plan", "--register", SAMPLE, "--as-of", AS_OF, "--journal", journal, "--format", "json"
		)
		self.assertEqual(code, 0, err)
		again = json.loads(out)
		self.assertEqual(again["actions"], [])
		self.check_plan(again, register_numbers(sample_rows()))
		# A week later the next steps come, never one already recorded
		code, out, err = run_cli(
			"plan", "--register", SAMPLE, "--as-of", "2026-06-22", "--journal", journal, "--format", "json"
		)
		self.assertEqual(code, 0, err)
		later = json.loads(out)
		self.assertTrue(later["actions"])
		self.assertEqual(recorded_pairs(later) & done, set())
		# plan changed nothing in the journal
		with Journal(journal) as opened:
			self.assertEqual(opened.counts(), {"planned": len(done)})

	def test_plan_does_not_create_a_journal(self):
		journal = self.dir / "new.sqlite"
		code, out, err = run_cli("plan", "--register", SAMPLE, "--as-of", AS_OF, "--journal", journal)
		self.assertEqual(code, 0, err)
		self.assertFalse(journal.exists())
		self.assertIn("new.sqlite : pas encore de journal (rien d'enregistré jusqu'ici)", err)

	def test_unusable_journal(self):
		journal = self.dir / "journal.sqlite"
		journal.write_text("not a database, just text " * 100, encoding="utf-8")
		code, out, err = run_cli(
			"--lang", "en", "plan", "--register", SAMPLE, "--as-of", AS_OF, "--journal", journal
		)
		self.assertEqual(code, 3)
		self.assertEqual(out, "")
		self.assertIn("not a usable journal (file is not a database)", err)

	def test_run_requires_a_journal(self):
		code, out, err = run_cli("run", "--register", SAMPLE, "--as-of", AS_OF, "--out", self.dir / "out")
		self.assertEqual(code, 3)
		self.assertIn("--journal", err)
		self.assertFalse((self.dir / "out").exists())
		done = run_process("run", "--register", SAMPLE, "--as-of", AS_OF, cwd=self.dir)
		self.assertEqual(done.returncode, 3)
		self.assertIn("--journal", done.stderr)

	def test_send_without_smtp_settings_is_refused(self):
		journal = self.dir / "j.sqlite"
		code, _, err = run_cli("run", "--register", SAMPLE, "--as-of", AS_OF, "--journal", journal, "--send")
		self.assertEqual(code, 3)
		self.assertIn("--send", err)
		self.assertFalse(journal.exists())


def letter_files(folder: Path) -> tuple[list[Path], dict[str, str]]:
	"""(each letter's .html, {stem: its text}): a letter's text is its .txt, an email's its entry in
	the run's emails.txt; summary.txt is the day's overview, a_imprimer.html every postal letter in one
	file to print: neither is a letter."""
	html = sorted(p for p in folder.glob("*.html") if not p.name.startswith("a_imprimer"))
	texts = {}
	for path in sorted(folder.glob("*.txt")):
		if path.name.startswith("emails"):
			texts.update(email_texts(path.read_text(encoding="utf-8")))
		elif not path.name.startswith("summary"):
			texts[path.stem] = path.read_text(encoding="utf-8")
	return html, texts


def journal_rows(path: Path) -> int:
	db = sqlite3.connect(path)
	try:
		return db.execute("SELECT COUNT(*) FROM follow_up").fetchone()[0]
	finally:
		db.close()


@unittest.skipUnless(HAS_LETTERS, NEEDS_LETTERS)
class RunAndDemoTest(TempDir):
	def test_run_writes_letters_records_and_the_next_plan_skips_them(self):
		out, journal = self.dir / "lettres", self.dir / "relance.sqlite"
		argv = ("run", "--register", SAMPLE, "--as-of", AS_OF, "--journal", journal, "--out", out)
		code, stdout, err = run_cli(*argv, "--config", SAMPLE_CONFIG)
		self.assertEqual(code, 0, err)
		written = json.loads((day_folder(out) / "plan.json").read_text(encoding="utf-8"))
		self.assertEqual(written, self.plan_json("--config", SAMPLE_CONFIG))
		html, text = letter_files(day_folder(out))
		self.assertEqual(len(html), len(written["actions"]))
		self.assertEqual(len(text), len(written["actions"]))
		self.assertEqual({p.stem for p in html}, set(text))
		lines = sum(len(a["invoices"]) for a in written["actions"])
		self.assertEqual(journal_rows(journal), lines)
		self.assertRegex(stdout, rf"journal : {lines} étape\(s\) enregistrée\(s\), 0 déjà")

		code, stdout, err = run_cli(
			"plan", "--register", SAMPLE, "--as-of", AS_OF, "--journal", journal, "--format", "json"
		)
		self.assertEqual(code, 0, err)
		self.assertEqual(json.loads(stdout)["actions"], [])
		code, stdout, err = run_cli(
			"plan", "--register", SAMPLE, "--as-of", "2026-06-22", "--journal", journal, "--format", "json"
		)
		self.assertEqual(recorded_pairs(json.loads(stdout)) & recorded_pairs(written), set())

	def test_run_needs_a_company(self):
		journal = self.dir / "j.sqlite"
		code, _, err = run_cli(
			"run", "--register", SAMPLE, "--as-of", AS_OF, "--journal", journal, "--out", self.dir / "o"
		)
		self.assertEqual(code, 3)
		self.assertIn("[company]", err)
		self.assertFalse(journal.exists())

	def test_nothing_is_recorded_when_the_letters_cannot_be_made(self):
		company = SAMPLE_CONFIG.read_text(encoding="utf-8").split("[settings]")[0]
		config = self.dir / "entreprise.toml"
		config.write_text(
			company
			+ '[settings]\ndefault_scenario = "maison"\n\n[scenarios.maison]\nname = "Maison"\n'
			+ '[[scenarios.maison.steps]]\nkey = "unique"\nlabel = "Unique"\noffset = 1\n'
			+ 'channel = "email"\ntone = "amical"\ntemplate = "inexistant"\n',
			encoding="utf-8",
		)
		rows = sample_rows()
		rows = [[*row[:8], "" if n else row[8], *row[9:]] for n, row in enumerate(rows)]  # no scenario
		register = self.write_register(rows)
		out, journal = self.dir / "lettres", self.dir / "j.sqlite"
		argv = ("run", "--register", register, "--as-of", AS_OF, "--journal", journal, "--out", out)
		code, stdout, err = run_cli(*argv, "--config", config)
		self.assertEqual(code, 3)
		self.assertIn("inexistant", err)
		self.assertEqual(journal_rows(journal), 0)
		self.assertEqual(letter_files(out) if out.exists() else ([], {}), ([], {}))
		# The folder cannot be written: nothing recorded either
		blocker = self.dir / "a-file"
		blocker.write_text("x", encoding="utf-8")
		argv = ("run", "--register", SAMPLE, "--as-of", AS_OF, "--journal", journal, "--out", blocker)
		code, stdout, err = run_cli(*argv, "--config", SAMPLE_CONFIG)
		self.assertEqual(code, 3)
		self.assertIn("a-file : impossible d'écrire les courriers (ce n'est pas un dossier)", err)
		self.assertEqual(journal_rows(journal), 0)

	def test_demo_twice(self):
		# The README's first command, as a real process in an empty folder
		done = run_process("demo", cwd=self.dir)
		self.assertEqual(done.returncode, 0, done.stderr)
		out = self.dir / "relance-demo"
		plan = json.loads((day_folder(out) / "plan.json").read_text(encoding="utf-8"))
		self.assertEqual(plan["as_of"], "2026-06-15")
		self.check_plan(plan, register_numbers(sample_rows()))
		self.assertTrue(plan["actions"])
		html, text = letter_files(day_folder(out))
		self.assertEqual(len(html), len(plan["actions"]))
		self.assertEqual(len(text), len(plan["actions"]))
		self.assertEqual({p.stem for p in html}, set(text))
		for page in html:
			self.assertIn("<html", page.read_text(encoding="utf-8").lower())
		self.assertTrue((out / "journal.sqlite").exists())
		steps = sum(len(a["invoices"]) for a in plan["actions"])
		self.assertEqual(journal_rows(out / "journal.sqlite"), steps)

		code, stdout, err = run_cli("--lang", "en", "demo", "--out", out)
		self.assertEqual(code, 0, err)
		self.assertIn("journal: 0 step(s) recorded", stdout)
		self.assertEqual(journal_rows(out / "journal.sqlite"), steps)
		# Nothing new the same day: nothing rewritten, nothing added
		self.assertIn("Nothing new for 2026-06-15", stdout)
		self.assertEqual(sorted(p.name for p in day_folder(out).glob("plan*.json")), ["plan.json"])


if __name__ == "__main__":
	unittest.main()
