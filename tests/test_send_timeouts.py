"""`relance run --send` against servers that stop answering: a silent server fails the emails
(nothing went out: retried next run), a server that hangs after receiving a message leaves it
"unknown" (it may have gone out: never resent without a person deciding)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

from .test_cli_send import SendCase, journal_status, latest
from .test_mailer import Inbox, SmtpServer


class SilentServer:
	"""Accepts TCP connections and never says a word (a firewall that swallows, a hung daemon)."""

	def __enter__(self):
		self.sock = socket.socket()
		self.sock.bind(("127.0.0.1", 0))
		self.sock.listen(16)
		self.port = self.sock.getsockname()[1]
		self.clients = []
		self.stop = threading.Event()
		threading.Thread(target=self.accept, daemon=True).start()
		return self

	def accept(self):
		self.sock.settimeout(0.2)
		while not self.stop.is_set():
			try:
				self.clients.append(self.sock.accept()[0])
			except OSError:
				continue

	def __exit__(self, *exc):
		self.stop.set()
		for client in self.clients:
			client.close()
		self.sock.close()


class HangAfterData(Inbox):
	"""Takes the message, then never answers the end of DATA."""

	async def handle_DATA(self, server, session, envelope):
		await super().handle_DATA(server, session, envelope)
		await asyncio.sleep(30)
		return "250 too late"


class TestTimeouts(SendCase):
	def test_a_silent_server_fails_every_email_after_the_timeout_and_nothing_counts_as_sent(self):
		with SilentServer() as server:
			started = time.monotonic()
			code, out, err = self.run_send(self.config(server.port, timeout=1))
			elapsed = time.monotonic() - started
		self.assertEqual(code, 4, err)
		self.assertLess(elapsed, 20)  # one timeout, not one per email: the server is given up
		states = latest(self.journal)
		emailed = {
			(line["invoice"], a["step"]) for a in self.email_actions(self.plan()) for line in a["invoices"]
		}
		self.assertTrue(emailed)
		self.assertEqual({states[key] for key in emailed}, {"failed"})
		self.assertIn("0 courriel(s) envoyé(s)", out)
		# The next run, the server answering again, sends them
		with SmtpServer() as smtp:
			code, out, err = self.run_send(self.config(smtp.port))
			self.assertEqual(code, 0, err)
			self.assertEqual(len(smtp.handler.messages), len(self.email_actions(self.plan())))

	def test_a_server_that_hangs_after_the_message_leaves_it_unknown_and_never_resent(self):
		with SmtpServer(HangAfterData()) as server:
			code, out, err = self.run_send(self.config(server.port, timeout=1))
			received = len(server.handler.messages)
		self.assertEqual(code, 4, err)
		self.assertGreaterEqual(received, 1)
		unknown = [
			key for key, entries in journal_status(self.journal).items() if entries[-1][0] == "unknown"
		]
		self.assertGreaterEqual(len(unknown), 1)
		self.assertIn("incertain", out + err)
		# The next run does not send those again
		with SmtpServer() as smtp:
			code, out, err = self.run_send(self.config(smtp.port))
			subjects = [message["Subject"] for _, _, message in smtp.handler.messages]
		for invoice, _step in unknown:
			self.assertFalse(any(invoice in subject for subject in subjects), (invoice, subjects))
		self.assertEqual({latest(self.journal)[key] for key in unknown}, {"unknown"})
