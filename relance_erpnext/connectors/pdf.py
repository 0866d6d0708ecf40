"""The PDF renderer of the letters (WeasyPrint when it can render here), looked for on first need; when it
cannot, one warning for the whole run says that the letters are HTML only."""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path

from relance_erpnext.i18n import Text, default_language, error, reason, say, warning

PRINT_FILE = "a_imprimer.html"  # every postal letter of the day, one per page
PRINT_PDF = "a_imprimer.pdf"  # the same as one PDF, when WeasyPrint can render here

# `relance run` makes a_imprimer.pdf up to this many postal letters: WeasyPrint lays out about five
# letters a second here, so 200 letters take some 40 s. Beyond, a_imprimer.html holds them all and
# `python -m relance_erpnext.connectors.pdf a_imprimer.html` makes the PDF when it is wanted.
PDF_MAX_LETTERS = 200
# Letters laid out at once: WeasyPrint keeps every page of a document in memory (about 1.5 to 3 MB
# a letter), so a long PDF is made 25 letters at a time and the parts joined (pypdf)
PDF_CHUNK = 25

# Between two letters of a print file: each letter starts a new page
PAGE_BREAK = '\n<div class="page-break" style="break-after: page; page-break-after: always;"></div>\n'
_NO_HEAD = "<!DOCTYPE html>\n<html>\n<head>\n</head>\n"
_TAIL = "\n</body>\n</html>\n"


def page_head(page: str) -> str:
	"""What a print file starts with: the first letter's page up to its <body> (its styles)."""
	return page.partition("<body>")[0] if "<body>" in page else _NO_HEAD


def page_body(page: str) -> str:
	"""A letter's page without its head and the end of its body."""
	body = page.partition("<body>")[2] if "<body>" in page else page
	return body.rpartition("</body>")[0] if "</body>" in body else body


def merge_pages(pages: list[str]) -> str:
	"""One HTML page holding every letter, each starting on a new page (to print them all at once)."""
	return f"{page_head(pages[0])}<body>\n{PAGE_BREAK.join(page_body(page) for page in pages)}{_TAIL}"


class PrintFile:
	"""A print file written as the letters come (a_imprimer.html), a part at a time: the same bytes as
	merge_pages of them all, without holding them. Nothing is created before the first part."""

	def __init__(self, path: Path):
		self.path = path
		self.count = 0
		self._handle = None

	def add_part(self, head: str, part: Path, count: int) -> None:
		"""`count` letters already joined (page_body of each, PAGE_BREAK between) in a file of their own
		(written with newline=""), the first one's head given; copied a block at a time, never read
		whole."""
		if self._handle is None:
			self._handle = self.path.open("x", encoding="utf-8")
			self._handle.write(f"{head}<body>\n")
		else:
			self._handle.write(PAGE_BREAK)
		with part.open(encoding="utf-8", newline="") as source:
			shutil.copyfileobj(source, self._handle)
		self.count += count

	def close(self) -> None:
		if self._handle is not None:
			self._handle.write(_TAIL)
			self._handle.close()
			self._handle = None

	def discard(self) -> None:
		if self._handle is not None:
			self._handle.close()
			self._handle = None


def split_print_file(html: str) -> list[str]:
	"""The letters of a print file, each as a page of its own (what merge_pages joined)."""
	head, _, body = html.partition("<body>\n")
	body = body.removesuffix(_TAIL)
	return [f"{head}<body>{part}</body>\n</html>\n" for part in body.split(PAGE_BREAK)]


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

	def render_pages(self, pages: list[str], chunk: int | None = None) -> bytes | None:
		"""Every letter in one PDF, each from a new page, laid out `chunk` letters at a time and joined
		(pypdf), so that memory does not grow with their number; None as `render`. Without pypdf,
		all at once."""
		if not pages:
			return None
		chunk = chunk or PDF_CHUNK
		try:
			from pypdf import PdfReader, PdfWriter
		except ImportError:
			PdfWriter = None
		if PdfWriter is None or len(pages) <= chunk:
			return self.render(merge_pages(pages))
		writer = PdfWriter()
		for start in range(0, len(pages), chunk):
			part = self.render(merge_pages(pages[start : start + chunk]))
			if part is None:
				return None
			writer.append(PdfReader(io.BytesIO(part)))
		out = io.BytesIO()
		writer.write(out)
		return out.getvalue()

	def too_many(self, count: int, print_file: Path) -> None:
		"""Say that a_imprimer.pdf is not made for so many letters, and how to make it."""
		message = Text(
			"{count} letters to post: {pdf} is not made beyond {limit} letters (WeasyPrint takes about"
			" 0.2 s a letter); {html} holds them all. For the PDF: python -m relance_erpnext.connectors.pdf {path}",
			count=count,
			pdf=PRINT_PDF,
			limit=PDF_MAX_LETTERS,
			html=print_file.name,
			path=print_file,
		)
		print(warning(message, "fr" if self.fr else "en"), file=sys.stderr)

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


def main(argv: list[str] | None = None) -> int:
	"""python -m relance_erpnext.connectors.pdf a_imprimer.html [a_imprimer.pdf]: the PDF of a print
	file, made when it is wanted (`relance run` makes it up to PDF_MAX_LETTERS letters)."""
	argv = sys.argv[1:] if argv is None else argv
	lang = default_language()
	if not argv or len(argv) > 2 or argv[0].startswith("-"):
		usage = Text(
			"usage: {command}",
			command="python -m relance_erpnext.connectors.pdf a_imprimer.html [a_imprimer.pdf]",
		)
		print(say(usage, lang), file=sys.stderr)
		return 2
	source = Path(argv[0])
	target = Path(argv[1]) if len(argv) > 1 else source.with_suffix(".pdf")
	try:
		pages = split_print_file(source.read_text(encoding="utf-8"))
	except OSError as exc:
		print(error(Text("{path}: {reason}", path=source, reason=reason(exc)), lang), file=sys.stderr)
		return 1
	renderer = PdfRenderer(fr=lang.startswith("fr"), send=True)
	pdf = renderer.render_pages(pages)
	if pdf is None:
		return 1
	try:
		with target.open("xb") as handle:
			handle.write(pdf)
	except OSError as exc:
		print(error(Text("{path}: {reason}", path=target, reason=reason(exc)), lang), file=sys.stderr)
		return 1
	print(say(Text("{path}: {n} letter(s)", path=target, n=len(pages)), lang))
	return 0


if __name__ == "__main__":
	raise SystemExit(main())
