"""Two `relance run --send` processes on the same journal at the same time: each reminder is sent
once, whichever process gets it (SQLite's write lock and the journal's unique key decide)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.helpers import day_folder

from .test_cli import AS_OF, ROOT, SAMPLE, SAMPLE_CONFIG, TempDir
from .test_cli_send import journal_status
from .test_mailer import SmtpServer

COMPANY = SAMPLE_CONFIG.read_text(encoding="utf-8").split("[settings]")[0]
LIVE = ("planned", "sent", "unknown", "done")


class TestTwoRunsAtOnce(TempDir):
	def start(self, config, journal, out):
		env = dict(os.environ)
		env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
		env["PYTHONIOENCODING"] = "utf-8"
		argv = ["run", "--register", SAMPLE, "--as-of", AS_OF, "--journal", journal, "--out", out]
		return subprocess.Popen(
			[sys.executable, "-m", "relance_erpnext.cli", *map(str, argv), "--config", str(config), "--send"],
			stdout=subprocess.PIPE,
			stderr=subprocess.PIPE,
			text=True,
			encoding="utf-8",
			env=env,
		)

	def test_each_email_goes_out_once(self):
		with SmtpServer() as server:
			config = self.dir / "entreprise.toml"
			config.write_text(
				COMPANY
				+ f'[smtp]\nhost = "127.0.0.1"\nport = {server.port}\nsecurity = "none"\ntimeout = 10\n',
				encoding="utf-8",
			)
			journal = self.dir / "relance.sqlite"
			runs = [self.start(config, journal, self.dir / f"out{i}") for i in (1, 2)]
			outputs = [run.communicate(timeout=180) for run in runs]
			messages = list(server.handler.messages)
		for run, (_out, err) in zip(runs, outputs, strict=True):
			self.assertEqual(run.returncode, 0, err)
		plan = json.loads((day_folder(self.dir / "out1") / "plan.json").read_text(encoding="utf-8"))
		emailed = {
			(line["invoice"], line["step"])
			for action in plan["actions"]
			if action["channel"] == "email"
			for line in action["invoices"]
		}
		self.assertGreaterEqual(len(emailed), 5)
		# One message per email action of the day, not two
		email_actions = [a for a in plan["actions"] if a["channel"] == "email"]
		self.assertEqual(len(messages), len(email_actions), [m[1] for m in messages])
		subjects = [message["Subject"] for _, _, message in messages]
		self.assertEqual(len(subjects), len(set(subjects)), subjects)
		# Each step has one live entry in the journal, and every emailed one is "sent"
		entries = journal_status(journal)
		for key in emailed:
			live = [status for status, _ in entries[key] if status in LIVE]
			self.assertEqual(live, ["sent"], (key, entries[key]))
