"""The PDF renderer of the letters (WeasyPrint when it can render here), looked for on first need; when it
cannot, one warning for the whole run says that the letters are HTML only."""

from __future__ import annotations

import sys

PRINT_FILE = "a_imprimer.html"  # every postal letter of the day, one per page
PRINT_PDF = "a_imprimer.pdf"  # the same as one PDF, when WeasyPrint can render here


class PdfRenderer:
	"""WeasyPrint when it can render here (mailer.pdf_renderer), looked for on first need; when it
	cannot, one warning for the whole run says that the letters are HTML only."""

	def __init__(self, fr: bool, send: bool = False, dolibarr: bool = False):
		self.fr = fr
		self.send = send  # a_imprimer.pdf is wanted
		self.dolibarr = dolibarr  # letters are attached to the invoices in Dolibarr
		self._looked = False
		self._render = None

	def get(self):
		if not self._looked:
			from relance_erpnext.connectors.mailer import pdf_renderer

			self._looked = True
			self._render = pdf_renderer()
			if self._render is None:
				print(self._missing(), file=sys.stderr)
		return self._render

	def _missing(self) -> str:
		fr = self.fr
		what = []
		if self.send:
			what.append(
				f"seul {PRINT_FILE} est écrit, sans {PRINT_PDF}"
				if fr
				else f"only {PRINT_FILE} is written, no {PRINT_PDF}"
			)
		if self.dolibarr:
			what.append(
				"lettres jointes aux factures de Dolibarr en HTML"
				if fr
				else "letters attached to the Dolibarr invoices as HTML"
			)
		return (
			"warning: pas de PDF : WeasyPrint n'est pas installé, ou les bibliothèques système qu'il demande"
			f" (Pango) manquent ; courriers en HTML seulement ({' ; '.join(what)})."
			" Pour le PDF : pip install 'relance_erpnext[pdf]'"
			if fr
			else "warning: no PDF: WeasyPrint is not installed, or the system libraries it needs (Pango) are"
			f" missing; letters in HTML only ({'; '.join(what)}). For PDF: pip install 'relance_erpnext[pdf]'"
		)

	def render(self, html: str) -> bytes | None:
		"""The PDF, or None (no renderer, or it failed: said on standard error)."""
		render = self.get()
		if render is None:
			return None
		try:
			return render(html)
		except Exception as exc:  # a renderer that fails must not stop the run: the HTML is written
			print(
				f"warning: {PRINT_PDF} : rendu PDF impossible ({exc}) ; seul {PRINT_FILE} est écrit"
				if self.fr
				else f"warning: {PRINT_PDF}: the PDF could not be rendered ({exc}); only {PRINT_FILE} is written",
				file=sys.stderr,
			)
			return None
