"""Dolibarr's agenda as the journal of `relance run`: what relance did is read from and written to its
events; the letters of postal steps attached to their invoices, those an earlier run left unattached
found or rebuilt, the invoices' PDFs read for the emails."""

from __future__ import annotations

import sys
from datetime import date

from relance_erpnext.connectors.pdf import PdfRenderer
from relance_erpnext.i18n import Text, warning


class JournalUnusable(Exception):
	"""The journal (Dolibarr's agenda) refused to record a step or a status: the run must stop. Its
	message is a Text (English as str, said in the user's language by the command)."""


class DolibarrJournal:
	"""Dolibarr's agenda as the journal: what relance did is read from and written to its events."""

	def __init__(self, source):
		self.source = source
		self.inputs = ([], {}, None, None)  # (history, scenarios, rates, settings) of the day's plan

	def record_actions(self, actions, day, status="planned"):
		from relance_erpnext.connectors.dolibarr import DolibarrError

		try:
			return self.source.record_actions(actions, day, status=status)
		except DolibarrError as exc:
			raise JournalUnusable(
				Text("Dolibarr: the steps could not be recorded ({error})", error=exc.args[0])
			)

	def set_status(self, invoice: str, step: str, status: str, detail: str = "") -> None:
		from relance_erpnext.connectors.dolibarr import DolibarrError

		try:
			self.source.set_status(invoice, step, status, detail)
		except DolibarrError as exc:
			raise JournalUnusable(
				Text(
					"Dolibarr: the status of {invoice} ({step}) could not be set to {status} ({error}); check"
					" its agenda event before the next run",
					invoice=invoice,
					step=step,
					status=status,
					error=exc.args[0],
				)
			)

	def attach_letters(self, items, day: date, pdf: PdfRenderer) -> tuple[int, list[tuple[str, str]]]:
		"""The letter of each postal step this run recorded, added to the documents of its invoices
		(PDF, else the HTML page). (files attached, [(invoice, error)]), each error a Text: a failure is
		not raised, the agenda event is written already and stays."""
		from relance_erpnext.connectors.dolibarr import DolibarrError
		from relance_erpnext.connectors.mailer import letter_attachment

		attached, failures = 0, []
		for letter, action in items:
			# A step recorded by an earlier run had its letter attached then
			invoices = [
				line.invoice for line in action.lines if (line.invoice, line.step) in self.source.written
			]
			if not invoices:
				continue
			file = letter_attachment(letter, f"relance-{day.isoformat()}-{action.step}", pdf.get())
			for invoice in invoices:
				try:
					name = self.source.attach_to_invoice(invoice, file.filename, file.content)
				except DolibarrError as exc:
					failures.append((invoice, exc.args[0]))
					continue
				attached += 1
				step = next(line.step for line in action.lines if line.invoice == invoice)
				try:
					self.source.letter_attached(invoice, step, name)
				except DolibarrError:
					pass  # the copy is there: the next run finds it among the documents and notes it
		return attached, failures

	def retry_letters(self, book, sender, pdf: PdfRenderer, fr: bool):
		"""The copies of the letters an earlier run recorded without attaching them, found among the
		invoices' documents or rebuilt and attached (connectors.dolibarr_letters); one warning per
		letter still missing."""
		from relance_erpnext.connectors.dolibarr_letters import retry_pending_letters

		history, scenarios, rates, settings = self.inputs
		done = retry_pending_letters(
			self.source,
			book.customers,
			book.invoices,
			history,
			scenarios,
			rates,
			settings,
			sender,
			pdf.get,
			fr,
		)
		for invoice, step, day, reason in done.failures:
			message = Text(
				"invoice {invoice}: the letter of step {step} of {day} is recorded in the agenda but missing"
				" from its documents in Dolibarr: {reason}",
				invoice=invoice,
				step=step,
				day=day,
				reason=reason,
			)
			print(warning(message, "fr" if fr else "en"), file=sys.stderr)
		return done

	def invoice_pdfs(self, actions, customers) -> tuple[dict, list[tuple[str, str]], int]:
		"""The PDF of every invoice of these (email) actions, read once each before anything is sent
		(never again for another email, nor for a retry): ({invoice: Attachment}, [(invoice, error)],
		how many Dolibarr built because it had none). A failure is not raised: the email goes without."""
		from relance_erpnext.connectors.dolibarr import LANGCODES, DolibarrError
		from relance_erpnext.connectors.mailer import Attachment

		files, failures, built = {}, [], 0
		unreachable = None  # no answer at all: the next invoices are not asked (each would wait as long)
		wanted = {}
		for action in actions:
			customer = customers.get(action.customer)
			lang = self.source.langcodes.get(action.customer) or LANGCODES.get(
				getattr(customer, "language", ""), ""
			)
			for line in action.lines:
				wanted.setdefault(line.invoice, lang)
		for invoice, lang in wanted.items():
			if unreachable is not None:
				failures.append((invoice, unreachable))
				continue
			try:
				filename, content, made = self.source.invoice_pdf(invoice, lang)
			except DolibarrError as exc:
				failures.append((invoice, exc.args[0]))
				if exc.status is None:
					unreachable = exc.args[0]
				continue
			files[invoice] = Attachment(filename, content, "application/pdf")
			built += made
		return files, failures, built

	def close(self) -> None:
		self.source.session.close()
