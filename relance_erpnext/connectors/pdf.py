"""The PDF renderer of the letters (WeasyPrint when it can render here), looked for on first need; when it
cannot, one warning for the whole run says that the letters are HTML only."""

from __future__ import annotations

import sys

from relance_erpnext.i18n import Text, say, warning

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
		lang = "fr" if self.fr else "en"
		what = []
		if self.send:
			what.append(say(Text("only {html} is written, no {pdf}", html=PRINT_FILE, pdf=PRINT_PDF), lang))
		if self.dolibarr:
			what.append(say(Text("letters attached to the Dolibarr invoices as HTML"), lang))
		if not what:
			return warning(
				Text(
					"no PDF: WeasyPrint is not installed, or the system libraries it needs (Pango) are missing;"
					" letters in HTML only. For PDF: pip install 'relance_erpnext[pdf]'"
				),
				lang,
			)
		return warning(
			Text(
				"no PDF: WeasyPrint is not installed, or the system libraries it needs (Pango) are missing;"
				" letters in HTML only ({what}). For PDF: pip install 'relance_erpnext[pdf]'",
				what=(" ; " if self.fr else "; ").join(what),
			),
			lang,
		)

	def render(self, html: str) -> bytes | None:
		"""The PDF, or None (no renderer, or it failed: said on standard error)."""
		render = self.get()
		if render is None:
			return None
		try:
			return render(html)
		except Exception as exc:  # a renderer that fails must not stop the run: the HTML is written
			message = Text(
				"{pdf}: the PDF could not be rendered ({error}); only {html} is written",
				pdf=PRINT_PDF,
				error=str(exc),
				html=PRINT_FILE,
			)
			print(warning(message, "fr" if self.fr else "en"), file=sys.stderr)
			return None
