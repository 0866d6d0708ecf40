"""`relance run --send` against a real SMTP server (aiosmtpd) on the loopback interface, and
`relance plan|run --source dolibarr` against the recorded Dolibarr answers."""

from __future__ import annotations

import base64
import builtins
import io
import json
import os
import shutil
import sqlite3
import tempfile
import unittest
from contextlib import redirect_stdout
from datetime import date
from pathlib import Path
from unittest import mock

from relance_erpnext import cli
from relance_erpnext.cli.workflow import email_texts
from relance_erpnext.connectors import mailer
from relance_erpnext.connectors.journal import Journal
from tests.helpers import day_folder

from .test_cli import AS_OF, SAMPLE, SAMPLE_CONFIG, TempDir, run_cli, run_process
from .test_dolibarr import EXPECTED_ACTIONS, KEY, DolibarrTestCase, recorded_answer, recorded_upload
from .test_mailer import PASSWORD, PASSWORD_ENV, Inbox, SmtpServer, free_port

AS_OF_DATE = date.fromisoformat(AS_OF)
COMPANY = SAMPLE_CONFIG.read_text(encoding="utf-8").split("[settings]")[0]
# The recorded Dolibarr answers and these sending tests were made with the calendar counted from the
# due dates (a first run catches up to later steps: letters, registered letters, calls)
BY_DUE_DATE = '[settings]\ncatch_up = "by_due_date"\n'
POSTAL = ("letter", "registered_letter")
NO_PDF = "pas de PDF"  # the start of the warning printed when WeasyPrint cannot render


def attached_as() -> tuple[str, str]:
	"""(kind, suffix) of the letter attached to an email here: PDF when WeasyPrint renders, else HTML."""
	return ("PDF", ".pdf") if mailer.pdf_renderer() is not None else ("HTML", ".html")


def needs_weasyprint(test: unittest.TestCase) -> None:
	"""Skip, saying why, where WeasyPrint cannot render (never a silent pass without it)."""
	if mailer.pdf_renderer() is None:
		test.skipTest("WeasyPrint cannot render here (not installed, or no Pango): pip install -e '.[test]'")


def pdf_pages(test: unittest.TestCase, data: bytes) -> list[str]:
	"""The text of each page of a PDF (pypdf, from the test extra)."""
	try:
		import pypdf
	except ImportError:
		test.skipTest("pypdf is not installed (it comes with the test extra: pip install -e '.[test]')")
	test.assertTrue(data.startswith(b"%PDF-"), data[:20])
	return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def weasyprint_without_pango():
	"""builtins.__import__ as it goes when WeasyPrint is installed but Pango is not: WeasyPrint prints
	its notice on standard output, then its import fails with OSError."""
	real_import = builtins.__import__

	def fake(name, *args, **kwargs):
		if name == "weasyprint" or name.startswith("weasyprint."):
			print("WeasyPrint could not import some external libraries.")
			raise OSError(
				"cannot load library 'libpango-1.0-0': libpango-1.0-0: cannot open shared object file"
			)
		return real_import(name, *args, **kwargs)

	return mock.patch.object(builtins, "__import__", fake)


def journal_status(path: Path) -> dict[tuple[str, str], list[tuple[str, str]]]:
	"""{(invoice, step): [(status, detail), ...]} in the order recorded."""
	db = sqlite3.connect(path)
	try:
		rows = db.execute("SELECT invoice, step, status, detail FROM follow_up ORDER BY id").fetchall()
	finally:
		db.close()
	found: dict[tuple[str, str], list[tuple[str, str]]] = {}
	for invoice, step, status, detail in rows:
		found.setdefault((invoice, step), []).append((status, detail))
	return found


def latest(path: Path) -> dict[tuple[str, str], str]:
	return {key: entries[-1][0] for key, entries in journal_status(path).items()}


class DropAfterData(Inbox):
	"""Takes the message, then drops the connection before answering: the client cannot know."""

	async def handle_DATA(self, server, session, envelope):
		await super().handle_DATA(server, session, envelope)
		server.transport.close()
		return "250 never seen"


class SendCase(TempDir):
	"""`relance run --send` on the sample register, with an [smtp] table for a given port."""

	def config(self, port: int, **smtp) -> Path:
		table = {"host": "127.0.0.1", "port": port, "security": "none", "timeout": 5, **smtp}
		lines = ["[smtp]"] + [f"{k} = {json.dumps(v)}" for k, v in table.items()]
		path = self.dir / "entreprise.toml"
		path.write_text(COMPANY + BY_DUE_DATE + "\n".join(lines) + "\n", encoding="utf-8")
		return path

	def run_send(self, config: Path, *extra):
		# The day's output: OUT/AS_OF/
		self.out, self.journal = self.dir / "lettres" / AS_OF, self.dir / "relance.sqlite"
		argv = (
			"run",
			"--register",
			SAMPLE,
			"--as-of",
			AS_OF,
			"--journal",
			self.journal,
			"--out",
			self.out.parent,
		)
		return run_cli(*argv, "--config", config, "--send", *extra)

	def plan(self) -> dict:
		# The latest run's plan (a later run of the same day writes plan-2.json, …)
		plans = sorted(self.out.glob("plan*.json"), key=lambda p: (len(p.name), p.name))
		return json.loads(plans[-1].read_text(encoding="utf-8"))

	def email_actions(self, plan: dict) -> list[dict]:
		return [a for a in plan["actions"] if a["channel"] == "email"]


class SendTest(SendCase):
	def test_emails_arrive_and_the_journal_says_sent(self):
		with SmtpServer() as server:
			config = self.config(server.port)
			code, out, err = self.run_send(config)
			self.assertEqual(code, 0, err)
			plan = self.plan()
			emails = self.email_actions(plan)
			self.assertTrue(emails)
			self.assertEqual(len(server.messages), len(emails))
			by_recipient = {rcpts[0]: message for _, rcpts, message in server.messages}
			customers = {}
			for row in SAMPLE.read_text(encoding="utf-8").splitlines()[1:]:
				cells = row.split(";")
				customers[cells[1]] = cells[5]
			texts = email_texts((self.out / "emails.txt").read_text(encoding="utf-8"))
			self.assertEqual(len(texts), len(emails))
			for number, action in enumerate(plan["actions"], start=1):
				if action["channel"] != "email":
					continue
				address = customers[action["customer"]]
				self.assertIn(address, by_recipient, action["customer"])
				message = by_recipient[address]
				# An email's text version is in the run's emails.txt, under its letter's name
				[letter] = self.out.glob(f"{number:03d}_*.html")
				subject, _, text = texts[letter.stem].partition("\n\n")
				self.assertEqual(message["Subject"], subject)
				self.assertEqual(message["To"], address)
				body = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
				self.assertEqual(body.strip(), text.strip())
				for line in action["invoices"]:
					self.assertIn(line["invoice"], message.get_body(("html",)).get_content())
				[attachment] = message.iter_attachments()
				self.assertEqual(attachment.get_filename(), letter.with_suffix(attached_as()[1]).name)
			# The journal: emails sent (with the Message-ID as proof), everything else planned
			statuses = journal_status(self.journal)
			for action in plan["actions"]:
				for line in action["invoices"]:
					[(status, detail)] = statuses[(line["invoice"], line["step"])]
					if action["channel"] == "email":
						self.assertEqual(status, "sent", line)
						self.assertRegex(detail, r"^sent to \S+@\S+, <[^>]+>$")
					else:
						self.assertEqual(status, "planned", line)
			self.assertIn(f"{len(emails)} courriel(s) envoyé(s), 0 en échec", out)
			self.assertIn(f"lettre jointe en {attached_as()[0]}", out)
			# The postal letters, all in one file to print, one per page
			postal = [a for a in plan["actions"] if a["channel"] in ("letter", "registered_letter")]
			printable = (self.out / "a_imprimer.html").read_text(encoding="utf-8")
			self.assertEqual(printable.count("page-break-after: always"), len(postal) - 1)
			self.assertEqual(printable.lower().count("<body"), 1)
			for action in postal:
				self.assertIn(action["invoices"][0]["invoice"], printable)
			for action in emails:
				self.assertNotIn(action["invoices"][0]["invoice"], printable)
			self.assertIn("Envoi", (self.out / "summary.txt").read_text(encoding="utf-8"))

			# A second run the same day sends nothing and records nothing
			before = journal_status(self.journal)
			code, out, err = self.run_send(config)
			self.assertEqual(code, 0, err)
			self.assertEqual(len(server.messages), len(emails))
			# Nothing new: the earlier run's files stay as they were, none is added
			self.assertIn(f"Rien de nouveau pour le {AS_OF}", out)
			self.assertEqual(sorted(p.name for p in self.out.glob("plan*.json")), ["plan.json"])
			self.assertEqual(journal_status(self.journal), before)
			self.assertIn("0 courriel(s) envoyé(s)", out)

	def test_a_refused_recipient_fails_and_the_next_run_retries_it(self):
		refused = "accounts.payable@bluefield-analytics.example"
		with SmtpServer(Inbox(refuse=[refused])) as server:
			config = self.config(server.port)
			code, out, err = self.run_send(config)
			self.assertEqual(code, 4, err)
			emails = self.email_actions(self.plan())
			self.assertEqual(len(server.messages), len(emails) - 1)
			self.assertIn("Bluefield Analytics SAS", err)
			self.assertIn("550", err)
			self.assertIn("1 en échec", out)
			status = journal_status(self.journal)
			[(state, detail)] = status[("FA-2026-0034", "rappel_courtois")]
			self.assertEqual(state, "failed")
			self.assertIn(refused, detail)
			self.assertIn("550", detail)
			others = {k: v for k, v in latest(self.journal).items() if k[0] != "FA-2026-0034"}
			self.assertNotIn("failed", others.values())
		# The next run (the address fixed on the server side) sends that one only
		with SmtpServer() as server:
			code, out, err = self.run_send(self.config(server.port))
			self.assertEqual(code, 0, err)
			self.assertEqual([rcpts for _, rcpts, _ in server.messages], [[refused]])
			self.assertEqual([a["invoices"][0]["invoice"] for a in self.plan()["actions"]], ["FA-2026-0034"])
			self.assertEqual(
				[s for s, _ in journal_status(self.journal)[("FA-2026-0034", "rappel_courtois")]],
				["failed", "sent"],
			)
			# And then nothing more
			code, out, err = self.run_send(self.config(server.port))
			self.assertEqual(code, 0, err)
			self.assertEqual(len(server.messages), 1)

	def test_server_down_nothing_sent_nothing_recorded_as_sent_password_never_shown(self):
		port = free_port()  # nothing listens there
		config = self.config(port, user="relance", password_env=PASSWORD_ENV)
		env = {PASSWORD_ENV: PASSWORD}
		with mock.patch.dict(os.environ, env):
			code, out, err = self.run_send(config)
		self.assertEqual(code, 4, err)
		self.assertIn(f"127.0.0.1:{port}", err)
		self.assertIn("a refusé la connexion (est-il arrêté ?)", err)
		emails = self.email_actions(self.plan())
		email_steps = {(line["invoice"], line["step"]) for a in emails for line in a["invoices"]}
		states = latest(self.journal)
		self.assertEqual({states[key] for key in email_steps}, {"failed"})
		self.assertNotIn("sent", states.values())
		self.assertNotIn("unknown", states.values())
		self.assertIn(f"{len(emails)} en échec", out)
		# The password appears nowhere: output, files written, journal
		self.assertNotIn(PASSWORD, out + err)
		for path in self.out.iterdir():  # a_imprimer.pdf too: read as bytes
			self.assertNotIn(PASSWORD.encode(), path.read_bytes(), path)
		self.assertNotIn(PASSWORD, self.journal.read_bytes().decode("utf-8", "replace"))

		# As a real process too (what a cron job runs)
		self.journal.unlink()
		process_env = {PASSWORD_ENV: PASSWORD}
		with mock.patch.dict(os.environ, process_env):
			done = run_process(
				*("run", "--register", SAMPLE, "--as-of", AS_OF, "--journal", self.journal),
				*("--out", self.out, "--config", config, "--send"),
			)
		self.assertEqual(done.returncode, 4, done.stderr)
		self.assertNotIn("Traceback", done.stderr)
		self.assertNotIn(PASSWORD, done.stdout + done.stderr)

		# The server is back: the failed emails go out, nothing else is repeated
		with SmtpServer(auth=True) as server:
			config = self.config(server.port, user="relance", password_env=PASSWORD_ENV)
			with mock.patch.dict(os.environ, env):
				code, out, err = self.run_send(config)
			self.assertEqual(code, 0, err)
			self.assertEqual(len(server.messages), len(emails))
			self.assertEqual({latest(self.journal)[key] for key in email_steps}, {"sent"})
			self.assertEqual(len(self.email_actions(self.plan())), len(emails))
			self.assertEqual(len(self.plan()["actions"]), len(emails))

	def test_wrong_password_fails_every_email_without_showing_it(self):
		with SmtpServer(auth=True) as server:
			config = self.config(server.port, user="relance", password_env=PASSWORD_ENV)
			with mock.patch.dict(os.environ, {PASSWORD_ENV: "not-" + PASSWORD}):
				code, out, err = self.run_send(config)
			self.assertEqual(code, 4)
			self.assertEqual(server.messages, [])
		self.assertIn("a refusé l'identification de 'relance'", err)
		self.assertNotIn("not-" + PASSWORD, out + err)
		self.assertNotIn("sent", latest(self.journal).values())

	def test_error_lines_in_the_language_of_lang_the_journal_in_english(self):
		port = free_port()  # nothing listens there
		config = self.config(port, user="relance", password_env=PASSWORD_ENV)
		lines = {}
		for lang in ("fr", "en"):
			with mock.patch.dict(os.environ, {PASSWORD_ENV: PASSWORD}):
				code, out, err = self.run_send(config, "--lang", lang)
			self.assertEqual(code, 4, err)
			self.assertNotIn(PASSWORD, out + err)
			prefix = "erreur : " if lang == "fr" else "error: "
			lines[lang] = [line for line in err.splitlines() if line.startswith(prefix)]
			self.assertEqual(len(lines[lang]), len(self.email_actions(self.plan())))
			self.journal.unlink()  # the next language tries the same emails again
		where = f"127.0.0.1:{port}"
		first, *others = lines["fr"]
		self.assertRegex(
			first, rf"\) : échec : le serveur SMTP {where} a refusé la connexion \(est-il arrêté \?\)$"
		)
		for line in others:
			self.assertRegex(line, rf"\) : pas essayé \(le serveur SMTP {where} a refusé la connexion")
		self.assertNotIn("refused", "\n".join(lines["fr"]))
		first, *others = lines["en"]
		self.assertRegex(
			first, rf"\): failed: the SMTP server {where} refused the connection \(is it down\?\)$"
		)
		for line in others:
			self.assertRegex(line, rf"\): not tried \(the SMTP server {where} refused the connection")
		self.assertNotIn("serveur", "\n".join(lines["en"]))
		# The journal keeps the English text, whatever the language of the messages
		with mock.patch.dict(os.environ, {PASSWORD_ENV: PASSWORD}):
			self.run_send(config)
		details = [detail for entries in journal_status(self.journal).values() for _, detail in entries]
		self.assertTrue(any("refused the connection (is it down?)" in d for d in details), details)
		self.assertFalse(any("refusé" in d for d in details), details)

	def test_connection_lost_during_data_is_unknown_and_never_resent(self):
		with SmtpServer(DropAfterData()) as server:
			code, out, err = self.run_send(self.config(server.port))
			self.assertEqual(code, 4, err)
			emails = self.email_actions(self.plan())
			# Every email reached the server, which never answered: each one is "unknown"
			self.assertEqual(len(server.messages), len(emails))
			states = latest(self.journal)
			email_steps = {(line["invoice"], line["step"]) for a in emails for line in a["invoices"]}
			self.assertEqual({states[key] for key in email_steps}, {"unknown"})
			self.assertNotIn("sent", states.values())
			self.assertNotIn("failed", states.values())
			self.assertIn("le courriel est peut-être parti", err)
			self.assertIn(f"{len(emails)} incertain(s)", out)
		# The next run sends none of them again: a person checks and decides
		with SmtpServer() as server:
			code, out, err = self.run_send(self.config(server.port))
			self.assertEqual(code, 0, err)
			# Nothing new: the earlier run's files stay as they were, none is added
			self.assertIn(f"Rien de nouveau pour le {AS_OF}", out)
			self.assertEqual(sorted(p.name for p in self.out.glob("plan*.json")), ["plan.json"])
			self.assertEqual(server.messages, [])
			self.assertEqual({latest(self.journal)[key] for key in email_steps}, {"unknown"})

	def test_a_crash_between_data_and_recording_leaves_unknown(self):
		# The server accepted the message, then the process died before writing "sent"
		from relance_erpnext.connectors import mailer

		real_send = mailer.Mailer.send

		def send_then_die(self, *args, **kwargs):
			real_send(self, *args, **kwargs)
			raise KeyboardInterrupt

		with SmtpServer() as server:
			config = self.config(server.port)
			with mock.patch.object(mailer.Mailer, "send", send_then_die):
				with self.assertRaises(KeyboardInterrupt):
					self.run_send(config)
			self.assertEqual(len(server.messages), 1)
			states = latest(self.journal)
			self.assertEqual(list(states.values()).count("unknown"), 1)
			self.assertNotIn("sent", states.values())
			[(invoice, step)] = [key for key, state in states.items() if state == "unknown"]
			# The next run never sends that one again; the others (not recorded at all) go out
			code, out, err = self.run_send(config)
			self.assertEqual(code, 0, err)
			sent_to = [rcpts for _, rcpts, _ in server.messages]
			self.assertEqual(len(sent_to), len(set(map(tuple, sent_to))), "an email went out twice")
			self.assertEqual(latest(self.journal)[(invoice, step)], "unknown")

	def test_the_postal_letters_in_one_pdf_to_print(self):
		needs_weasyprint(self)
		with SmtpServer() as server:
			code, out, err = self.run_send(self.config(server.port))
		self.assertEqual(code, 0, err)
		actions = self.plan()["actions"]
		postal = [a for a in actions if a["channel"] in POSTAL]
		self.assertGreaterEqual(len(postal), 2)
		pages = pdf_pages(self, (self.out / cli.PRINT_PDF).read_bytes())
		self.assertGreaterEqual(len(pages), len(postal))
		# Every letter there, in the plan's order, each from a page of its own
		text = "\n".join(pages)
		first_pages = []
		for action in postal:
			for line in action["invoices"]:
				self.assertIn(line["invoice"], text)
			ref = action["invoices"][0]["invoice"]
			first_pages.append(next(number for number, page in enumerate(pages) if ref in page))
		self.assertEqual(first_pages, sorted(set(first_pages)))
		self.assertEqual(first_pages[0], 0)
		for action in actions:
			if action["channel"] not in POSTAL:
				self.assertNotIn(action["invoices"][0]["invoice"], text)
		self.assertIn(f"Courriers à imprimer : {self.out / cli.PRINT_PDF}", out)
		self.assertTrue((self.out / cli.PRINT_FILE).exists())  # the HTML as well
		self.assertNotIn(NO_PDF, err)

	def test_without_pango_only_the_html_to_print_and_one_warning(self):
		# An earlier day's PDF must not stay beside today's letters
		(self.dir / "lettres" / "2026-06-08").mkdir(parents=True)
		(self.dir / "lettres" / "2026-06-08" / cli.PRINT_PDF).write_bytes(
			b"%PDF-1.7 an earlier day's letters"
		)
		with SmtpServer() as server, weasyprint_without_pango():
			code, out, err = self.run_send(self.config(server.port))
		self.assertEqual(code, 0, err)
		postal = [a for a in self.plan()["actions"] if a["channel"] in POSTAL]
		self.assertTrue(postal)
		self.assertTrue((self.out / cli.PRINT_FILE).exists())
		self.assertFalse((self.out / cli.PRINT_PDF).exists())
		self.assertEqual(err.count(NO_PDF), 1, err)
		self.assertIn("a_imprimer.html", err.split(NO_PDF)[1].splitlines()[0])
		self.assertIn("lettre jointe en HTML", out)
		self.assertIn(f"Courriers à imprimer : {self.out / cli.PRINT_FILE}", out)
		# WeasyPrint's own notice does not end up in the command's output
		self.assertNotIn("WeasyPrint could not import", out)

	def test_send_needs_an_smtp_table_and_a_set_password_variable(self):
		code, _, err = self.run_send(SAMPLE_CONFIG)
		self.assertEqual(code, 3)
		self.assertIn("[smtp]", err)
		self.assertFalse(self.journal.exists())
		config = self.config(free_port(), user="relance", password_env="RELANCE_UNSET_VARIABLE_FOR_TESTS")
		code, _, err = self.run_send(config)
		self.assertEqual(code, 3)
		self.assertIn("RELANCE_UNSET_VARIABLE_FOR_TESTS", err)
		self.assertFalse(self.journal.exists())
		self.assertFalse(self.out.exists())

	def test_without_send_nothing_goes_out(self):
		with SmtpServer() as server:
			config = self.config(server.port)
			self.out, self.journal = self.dir / "lettres", self.dir / "relance.sqlite"
			code, out, err = run_cli(
				*("run", "--register", SAMPLE, "--as-of", AS_OF, "--journal", self.journal),
				*("--out", self.out, "--config", config),
			)
			self.assertEqual(code, 0, err)
			self.assertEqual(server.messages, [])
			self.assertEqual(set(latest(self.journal).values()), {"planned"})
			with Journal(self.journal) as journal:
				self.assertNotIn("sent", journal.counts())

	def test_an_invoice_on_two_lines_of_an_email_is_attached_once(self):
		from dataclasses import replace

		from relance_erpnext.connectors.mailer import Attachment, Mailer, SmtpSettings

		register = cli.read_book(Path(SAMPLE), False)
		result = cli.plan(
			AS_OF_DATE,
			register.customers,
			register.invoices,
			[],
			cli.BUILTIN_SCENARIOS,
			cli.load_rates(None),
			cli.PlanSettings(),
		)
		action = next(a for a in result.actions if a.channel == "email")
		line = action.lines[0]
		# The same invoice twice in one email (two steps of it): its PDF goes once
		action = replace(action, lines=(line, replace(line, step=line.step + "_bis")))
		[(stem, letter)] = cli.render_letters(
			replace(result, actions=(action,)),
			register,
			cli.sender_from({"company": {"name": "Atelier Lumière SAS", "email": "compta@atelier.example"}}),
		)
		files = {line.invoice: Attachment(f"{line.invoice}.pdf", b"%PDF-1.7 stand-in", "application/pdf")}
		with SmtpServer() as server, Journal(self.dir / "j.sqlite") as journal:
			settings = SmtpSettings(
				host="127.0.0.1", port=server.port, security="none", from_address="a@b.example"
			)
			with Mailer(settings, pdf=None) as mailer:
				report = cli.send_emails(
					[(stem, letter, action)], journal, mailer, register.customers, AS_OF_DATE, True, files
				)
			self.assertEqual((report.sent, report.invoice_pdfs), (1, 1))
			[(_, _, message)] = server.messages
			names = [part.get_filename() for part in message.iter_attachments()]
			self.assertEqual(names, [f"{stem}.html", f"{line.invoice}.pdf"])

	def test_the_register_attaches_no_invoice_pdf(self):
		with SmtpServer() as server:
			code, out, err = self.run_send(self.config(server.port))
			self.assertEqual(code, 0, err)
			for _, _, message in server.messages:
				self.assertEqual(len(list(message.iter_attachments())), 1)
		self.assertNotIn("facture(s) en PDF", out)


class PdfRendererTest(unittest.TestCase):
	def test_not_installed_and_no_pango_alike_mean_no_renderer(self):
		with mock.patch.dict("sys.modules", {"weasyprint": None}):  # not installed: ImportError
			self.assertIsNone(mailer.pdf_renderer())
		shown = io.StringIO()
		with weasyprint_without_pango(), redirect_stdout(shown):  # installed, Pango missing: OSError
			self.assertIsNone(mailer.pdf_renderer())
		self.assertEqual(shown.getvalue(), "")


class DolibarrRunTest(DolibarrTestCase):
	"""`relance plan|run --source dolibarr` against the answers recorded from a real Dolibarr."""

	def setUp(self):
		super().setUp()
		self.tmp = Path(tempfile.mkdtemp(prefix="relance-dolibarr-"))
		self.addCleanup(shutil.rmtree, self.tmp, True)
		self.config = self.tmp / "entreprise.toml"
		self.config.write_text(COMPANY + BY_DUE_DATE, encoding="utf-8")
		# The answers were recorded 5 items a page
		patcher = mock.patch.object(cli.common, "DOLIBARR_PAGE_SIZE", 5)  # read by cli.workflow
		patcher.start()
		self.addCleanup(patcher.stop)

	def cli(self, *argv, key: str | None = KEY):
		with mock.patch.dict(os.environ, {}):
			os.environ.pop("DOLIBARR_API_KEY", None)
			if key is not None:
				os.environ["DOLIBARR_API_KEY"] = key
			if "--config" not in argv:
				argv = (*argv, "--config", self.config)
			return run_cli(*argv, "--source", "dolibarr", "--dolibarr-url", self.server.url, "--as-of", AS_OF)

	def test_plan_and_run_from_dolibarr(self):
		code, out, err = self.cli("plan", "--format", "json")
		self.assertEqual(code, 0, err)
		data = json.loads(out)
		got = {(a["customer"], a["step"], a["invoices"][0]["invoice"]) for a in data["actions"]}
		self.assertEqual(got, EXPECTED_ACTIONS)
		self.assertEqual(self.requests_to("/agendaevents", "POST"), [], "plan writes nothing")

		out_dir = self.tmp / "lettres"
		code, out, err = self.cli("run", "--out", out_dir, "--config", self.config)
		self.assertEqual(code, 0, err)
		self.assertEqual(len(self.requests_to("/agendaevents", "POST")), len(EXPECTED_ACTIONS))
		self.assertEqual(len(list(day_folder(out_dir).glob("[0-9]*.html"))), len(EXPECTED_ACTIONS))
		self.assertIn(f"journal : {len(EXPECTED_ACTIONS)} étape(s) enregistrée(s)", out)
		# The two registered letters, each attached to its invoice's documents
		self.assertEqual(
			sorted(r["json"]["ref"] for r in self.requests_to("/documents/upload", "POST")),
			["FA2602-0001", "FA2604-0003"],
		)
		self.assertNotIn("avertissement : facture", err)
		self.assertNotIn(KEY, out + err)

		# Dolibarr now holds the events: the next run plans and writes nothing
		self.server.reset("recorded")
		code, out, err = self.cli("run", "--out", out_dir, "--config", self.config)
		self.assertEqual(code, 0, err)
		self.assertIn("Rien de nouveau pour le", out)
		self.assertEqual(sorted(p.name for p in day_folder(out_dir).glob("plan*.json")), ["plan.json"])
		self.assertEqual(self.requests_to("/agendaevents", "POST"), [])

	def uploads(self) -> list[dict]:
		return [r["json"] for r in self.requests_to("/documents/upload", "POST")]

	def test_run_attaches_each_registered_letter_to_its_invoice_as_pdf(self):
		needs_weasyprint(self)
		self.server.reset("letters")
		code, out, err = self.cli("run", "--out", self.tmp / "lettres", "--config", self.config)
		self.assertEqual(code, 0, err)
		uploads = self.uploads()
		# The two registered letters of the day (mises en demeure), each to its own invoice
		self.assertEqual(sorted(u["ref"] for u in uploads), ["FA2602-0001", "FA2604-0003"])
		for upload in uploads:
			self.assertEqual(
				{k: v for k, v in upload.items() if k != "filecontent"},
				{k: v for k, v in recorded_upload(upload["ref"], "letters").items() if k != "filecontent"},
			)
			self.assertEqual(upload["filename"], "relance-2026-06-15-mise_en_demeure.pdf")
			pages = pdf_pages(self, base64.b64decode(upload["filecontent"]))
			self.assertIn(upload["ref"], pages[0])
			self.assertIn("LETTRE RECOMMANDÉE", pages[0])
		# Every event first: an upload never comes before its step is recorded
		posts = [r["path"].rsplit("/", 1)[1] for r in self.server.requests if r["method"] == "POST"]
		self.assertEqual(posts, ["agendaevents"] * 11 + ["upload"] * 2)
		self.assertIn("Dolibarr : 2 courrier(s) joint(s) aux documents des factures, 0 en échec", out)
		self.assertNotIn("avertissement : facture", err)
		self.assertNotIn(KEY, out + err)

		# The same day again: the events are in Dolibarr, nothing is planned, written or uploaded
		self.server.reset("letters_again")
		code, out, err = self.cli("run", "--out", self.tmp / "again", "--config", self.config)
		self.assertEqual(code, 0, err)
		self.assertEqual([r for r in self.server.requests if r["method"] != "GET"], [])
		self.assertNotIn("joint", out)

	def test_without_a_pdf_renderer_the_html_letter_is_attached(self):
		self.server.reset("letters_html")
		out_dir = self.tmp / "lettres"
		with mock.patch.object(mailer, "pdf_renderer", lambda: None):
			code, out, err = self.cli("run", "--out", out_dir, "--config", self.config)
		self.assertEqual(code, 0, err)
		uploads = self.uploads()
		self.assertEqual(len(uploads), 2)
		for upload in uploads:
			[letter] = [
				path
				for path in day_folder(out_dir).glob("*_mise_en_demeure.html")
				if upload["ref"] in path.read_text("utf-8")
			]
			self.assertEqual(base64.b64decode(upload["filecontent"]), letter.read_bytes())
			# The request is the one the real Dolibarr was sent when the answers were recorded, but the
			# letter: its wording changed since (the customer code rather than the row id, the
			# conversation's history, the signatory), and its account is the customer code now
			recorded = recorded_upload(upload["ref"], "letters_html")
			self.assertEqual({**upload, "filecontent": ""}, {**recorded, "filecontent": ""})
			cid = {"FA2604-0003": "1", "FA2602-0001": "6"}[upload["ref"]]
			self.assertIn(f"Votre compte client\u00a0: CU2611-{int(cid):05d}</p>", letter.read_text("utf-8"))
		self.assertEqual(err.count(NO_PDF), 1, err)
		self.assertIn("Dolibarr : 2 courrier(s) joint(s)", out)

	def test_a_refused_upload_is_a_warning_naming_the_invoice_and_the_events_stay(self):
		self.server.reset("letters_refused")
		# A stand-in renderer: the refusals were recorded for the PDF's name, with or without WeasyPrint here
		with mock.patch.object(mailer, "pdf_renderer", lambda: lambda html: b"%PDF-1.7 stand-in"):
			code, out, err = self.cli("run", "--out", self.tmp / "lettres", "--config", self.config)
		self.assertEqual(code, 0, err)
		self.assertEqual(len(self.requests_to("/agendaevents", "POST")), 11)
		self.assertEqual(len(self.uploads()), 2)
		self.assertEqual([r for r in self.server.requests if r["method"] in ("PUT", "DELETE")], [])
		for ref in ("FA2604-0003", "FA2602-0001"):
			[line] = [line for line in err.splitlines() if f"facture {ref} :" in line]
			self.assertTrue(line.startswith("avertissement : "), line)
			self.assertIn("courrier non joint à ses documents dans Dolibarr", line)
			self.assertIn("l'événement d'agenda est bien enregistré", line)
			# Dolibarr's error said in French too, Dolibarr's own words quoted
			self.assertIn(
				"POST /api/index.php/documents/upload : ce Dolibarr n'offre pas cette API (HTTP 501", line
			)
			self.assertIn("forbidden by config API_ENDPOINT_RULES", line)
		self.assertIn("Dolibarr : 0 courrier(s) joint(s) aux documents des factures, 2 en échec", out)
		self.assertIn("journal : 11 étape(s) enregistrée(s)", out)
		self.assertNotIn(KEY, out + err)

	def test_dolibarr_refusals(self):
		code, _, err = self.cli("plan", key=None)
		self.assertEqual(code, 3)
		self.assertIn("DOLIBARR_API_KEY", err)
		code, _, err = self.cli("plan", key="wrong-key-0123456789")
		self.assertEqual(code, 3)
		self.assertIn("Dolibarr", err)
		self.assertNotIn("wrong-key-0123456789", err)
		journal = self.tmp / "j.sqlite"
		code, _, err = self.cli("run", "--journal", journal, "--config", self.config)
		self.assertEqual(code, 3)
		self.assertIn("--journal", err)
		self.assertFalse(journal.exists())
		# --send without a mail server in the configuration: refused before anything is read or written
		self.server.reset("fresh")
		code, _, err = self.cli("run", "--out", self.tmp / "out", "--config", self.config, "--send")
		self.assertEqual(code, 3)
		self.assertIn("[smtp]", err)
		self.assertEqual(self.requests_to("/agendaevents", "POST"), [])
		self.assertEqual(self.server.requests, [])

	def smtp_config(self, port: int) -> Path:
		path = self.tmp / "envoi.toml"
		smtp = f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\ntimeout = 5\n'
		path.write_text(COMPANY + BY_DUE_DATE + smtp, encoding="utf-8")
		return path

	def puts(self) -> dict[str, list[dict]]:
		"""{agenda event id: [PUT bodies that move its status, in order]}"""
		found: dict[str, list[dict]] = {}
		for r in self.server.requests:
			if r["method"] == "PUT" and "/agendaevents/" in r["path"] and "percentage" in r["json"]:
				found.setdefault(r["path"].rsplit("/", 1)[1], []).append(r["json"])
		return found

	def letter_notes(self) -> list[str]:
		"""The notes of the PUTs that say a letter's copy is among its invoice's documents (their answers
		were not recorded: the live tests prove them, tests/test_dolibarr_live.py)."""
		return [
			r["json"]["note_private"]
			for r in self.server.requests
			if r["method"] == "PUT" and "/agendaevents/" in r["path"] and "percentage" not in r["json"]
		]

	def test_run_send_from_dolibarr_then_nothing_the_same_day(self):
		with SmtpServer() as server:
			self.server.reset("send")
			out_dir = self.tmp / "lettres"
			code, out, err = self.cli(
				"run", "--out", out_dir, "--config", self.smtp_config(server.port), "--send"
			)
			self.assertEqual(code, 0, err)
			plan = json.loads((day_folder(out_dir) / "plan.json").read_text(encoding="utf-8"))
			emails = [a for a in plan["actions"] if a["channel"] == "email"]
			self.assertEqual(len(emails), 6)
			# One message per email action, to the customer's address in Dolibarr (for Moreau, the
			# billing contact named on its invoice; for Dubois, its only contact)
			got = {tuple(rcpts): message for _, rcpts, message in server.messages}
			self.assertEqual(len(server.messages), 6)
			expected = {
				"FA2605-0009": "accounts@northwind.example",
				"FA2605-0013": "paul.dubois@dubois-conseil.fr",
				"FA2605-0008": "garage.dupont@example.fr",
				"FA2605-0010": "comptabilite@transports-moreau.fr",
				"FA2605-0011": "sci.girard@example.fr",
				"FA2605-0007": "jean.lambert@example.fr",
			}
			self.assertEqual(set(got), {(address,) for address in expected.values()})
			for action in emails:
				[line] = action["invoices"]
				message = got[(expected[line["invoice"]],)]
				self.assertIn(line["invoice"], message["Subject"])
				attachment, invoice_pdf = message.iter_attachments()
				# Named after the customer, not after its Dolibarr id
				self.assertRegex(
					attachment.get_filename(), r"^\d{3}_[a-z-]+_" + action["step"] + attached_as()[1] + "$"
				)
				# Then the invoice's own PDF, as Dolibarr has it (read, or built: see test_invoice_pdfs)
				self.assertEqual(invoice_pdf.get_filename(), f"{line['invoice']}.pdf")
				self.assertTrue(invoice_pdf.get_content().startswith(b"%PDF-"))
			# 11 events written (one per invoice and step); each email's moved to unknown, then sent
			self.assertEqual(len(self.requests_to("/agendaevents", "POST")), 11)
			puts = self.puts()
			self.assertEqual(len(puts), 6)
			message_ids = {m["Message-ID"].strip("<>") for m in got.values()}
			for bodies in puts.values():
				self.assertEqual([b["percentage"] for b in bodies], [0, -1])
				self.assertRegex(bodies[0]["note_private"], r"status=unknown$")
				self.assertRegex(bodies[1]["note_private"], r"status=sent$")
				self.assertIn(
					bodies[1]["note_private"].split("Envoi : sent to ")[1].split(", ")[1].split("\n")[0],
					message_ids,
				)
			# The two registered letters' copies uploaded, and their events saying so
			notes = self.letter_notes()
			self.assertEqual(len(notes), 2)
			for note in notes:
				self.assertRegex(note, r"letter=relance-2026-06-15-mise_en_demeure\.(pdf|html)$")
			self.assertIn("6 courriel(s) envoyé(s), 0 en échec", out)
			self.assertIn("journal : 11 étape(s) enregistrée(s)", out)
			self.assertNotIn(KEY, out + err)

			# The same day again, against what Dolibarr now holds: nothing sent, nothing written
			self.server.reset("sent")
			code, out, err = self.cli(
				"run", "--out", self.tmp / "again", "--config", self.smtp_config(server.port), "--send"
			)
			self.assertEqual(code, 0, err)
			self.assertEqual(len(server.messages), 6)
			self.assertEqual(self.requests_to("/agendaevents", "POST"), [])
			self.assertEqual(self.puts(), {})
			self.assertIn("0 courriel(s) envoyé(s)", out)

	# The email actions of 15 June 2026: invoice -> (address, customer code)
	EMAILS = {
		"FA2605-0009": ("accounts@northwind.example", "CU2611-00011"),
		"FA2605-0013": ("paul.dubois@dubois-conseil.fr", "CU2611-00012"),
		"FA2605-0008": ("garage.dupont@example.fr", "CU2611-00002"),
		"FA2605-0010": ("comptabilite@transports-moreau.fr", "CU2611-00003"),
		"FA2605-0011": ("sci.girard@example.fr", "CU2611-00008"),
		"FA2605-0007": ("jean.lambert@example.fr", "CU2611-00009"),
	}
	HAD_PDF = ("FA2605-0008", "FA2605-0010")  # in Dolibarr's documents already; the 4 others were built

	def send_in(self, state: str, *extra):
		"""`run --send` against the answers of `state`: (code, out, err, {invoice: message})."""
		self.server.reset(state)
		with SmtpServer() as server:
			config = self.smtp_config(server.port)
			code, out, err = self.cli("run", "--out", self.tmp / state, "--config", config, "--send", *extra)
		by_address = {rcpts[0]: message for _, rcpts, message in server.messages}
		self.assertEqual(len(server.messages), len(by_address))
		return code, out, err, {ref: by_address[address] for ref, (address, _) in self.EMAILS.items()}

	def test_invoice_pdfs_read_or_built_in_dolibarr_attached_to_the_emails(self):
		code, out, err, messages = self.send_in("invoice_pdf")
		self.assertEqual(code, 0, err)
		for ref, message in messages.items():
			letter, invoice_pdf = message.iter_attachments()
			self.assertTrue(letter.get_filename().startswith(("0", "1")), letter.get_filename())
			self.assertEqual(invoice_pdf.get_filename(), f"{ref}.pdf")
			self.assertEqual(invoice_pdf.get_content_type(), "application/pdf")
			content = invoice_pdf.get_content()
			self.assertTrue(content.startswith(b"%PDF-"))
			# Exactly the file Dolibarr gave: read as it was, or built because it had none
			how = ("GET", "download") if ref in self.HAD_PDF else ("PUT", "builddoc")
			self.assertEqual(content, base64.b64decode(recorded_answer(*how, ref)["content"]))
			# The letter names the customer's account by its code, not by Dolibarr's row id
			body = message.get_body(("plain",)).get_content()
			account = self.EMAILS[ref][1]
			self.assertIn(account, body)
			self.assertIn(account, message.get_body(("html",)).get_content())
		self.assertIn(
			"Your customer account: CU2611-00011", messages["FA2605-0009"].get_body(("plain",)).get_content()
		)
		# Read once per invoice, all before the first email; built only where Dolibarr had none, in the
		# customer's language (Northwind: en_US)
		downloads = [r["query"]["original_file"] for r in self.requests_to("/documents/download")]
		self.assertEqual(sorted(downloads), sorted(f"{ref}/{ref}.pdf" for ref in self.EMAILS))
		builds = {
			r["json"]["original_file"]: r["json"]["langcode"]
			for r in self.requests_to("/documents/builddoc", "PUT")
		}
		self.assertEqual(
			builds,
			{
				"FA2605-0009/FA2605-0009.pdf": "en_US",
				"FA2605-0013/FA2605-0013.pdf": "fr_FR",
				"FA2605-0011/FA2605-0011.pdf": "fr_FR",
				"FA2605-0007/FA2605-0007.pdf": "fr_FR",
			},
		)
		order = [r["path"] for r in self.server.requests]
		last_document = max(
			i for i, path in enumerate(order) if "/documents/download" in path or "builddoc" in path
		)
		first_put = min(
			i
			for i, r in enumerate(self.server.requests)
			if r["method"] == "PUT" and "/agendaevents/" in r["path"] and "percentage" in r["json"]
		)
		self.assertLess(last_document, first_put, "an invoice's PDF was read after an email went")
		self.assertIn("6 courriel(s) envoyé(s), 0 en échec", out)
		self.assertIn("6 facture(s) en PDF jointe(s) (4 générée(s) par Dolibarr)", out)
		self.assertNotIn("avertissement : facture", err)
		self.assertNotIn(KEY, out + err)

	def test_an_invoice_pdf_dolibarr_cannot_build_is_one_warning_and_the_email_goes(self):
		for lang, warning in (
			(
				"fr",
				"avertissement : facture FA2605-0009 : son PDF n'a pu être ni lu ni généré dans Dolibarr ; le courriel part sans lui : ",
			),
			(
				"en",
				"warning: invoice FA2605-0009: its PDF could be neither read nor built in Dolibarr; the email goes without it: ",
			),
		):
			with self.subTest(lang=lang):
				code, out, err, messages = self.send_in("invoice_pdf_failed", "--lang", lang)
				self.assertEqual(code, 0, err)
				[line] = [line for line in err.splitlines() if "FA2605-0009" in line]
				self.assertTrue(line.startswith(warning), line)
				self.assertIn(
					"Dolibarr n'a pu générer le PDF : TCPDF ERROR"
					if lang == "fr"
					else "Dolibarr could not build the PDF: TCPDF ERROR",
					line,
				)
				# that one, the Ontario customer's and the calendar by due date of these tests
				self.assertEqual(err.count("avertissement : " if lang == "fr" else "warning: "), 3, err)
				# Northwind's email went, with its letter only; the others with their invoices' PDFs
				[letter] = messages["FA2605-0009"].iter_attachments()
				self.assertTrue(
					letter.get_filename().endswith(("_rappel_courtois.pdf", "_rappel_courtois.html"))
				)
				for ref, message in messages.items():
					if ref != "FA2605-0009":
						_, invoice_pdf = message.iter_attachments()
						self.assertEqual(invoice_pdf.get_filename(), f"{ref}.pdf")
				self.assertEqual(len(self.requests_to("/documents/builddoc", "PUT")), 4)
				self.assertEqual(len(self.puts()), 6)
				self.assertIn(
					"6 courriel(s) envoyé(s), 0 en échec" if lang == "fr" else "6 email(s) sent, 0 failed",
					out,
				)
				self.assertIn(
					"5 facture(s) en PDF jointe(s) (3 générée(s) par Dolibarr)"
					if lang == "fr"
					else "5 invoice PDF(s) attached (3 built by Dolibarr)",
					out,
				)
				self.assertNotIn(KEY, out + err)

	def test_run_send_with_the_mail_server_down_fails_and_the_next_run_retries(self):
		self.server.reset("send_down")
		down = free_port()  # nothing listens there
		code, out, err = self.cli(
			"run", "--out", self.tmp / "lettres", "--config", self.smtp_config(down), "--send"
		)
		self.assertEqual(code, cli.EXIT_NOT_SENT, err)
		self.assertIn("0 courriel(s) envoyé(s), 6 en échec", out)
		self.assertIn("a refusé la connexion (est-il arrêté ?)", err)
		self.assertEqual(len(self.requests_to("/agendaevents", "POST")), 11)
		puts = self.puts()
		self.assertEqual(len(puts), 6)
		for [body] in puts.values():  # failed straight away: never marked unknown, never sent
			self.assertEqual(body["percentage"], -1)
			self.assertTrue(body["label"].endswith(" (échec de l'envoi)"))
			self.assertRegex(
				body["note_private"], r"\nEnvoi : .*refused the connection.*\nrelance-data: .*status=failed$"
			)
		# The next run, the server back: the 6 emails are sent (new events), the rest is not redone
		with SmtpServer() as server:
			self.server.reset("retry")
			code, out, err = self.cli(
				"run", "--out", self.tmp / "retry", "--config", self.smtp_config(server.port), "--send"
			)
			self.assertEqual(code, 0, err)
			self.assertEqual(len(server.messages), 6)
			self.assertEqual(len(self.requests_to("/agendaevents", "POST")), 6)
			self.assertIn("6 courriel(s) envoyé(s), 0 en échec", out)


if __name__ == "__main__":
	unittest.main()
