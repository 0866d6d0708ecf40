"""Letters whose agenda event relance wrote in Dolibarr but whose copy is not among the invoice's
documents: a run stopped (or failed to upload) after writing the event. The next run finds them.

Which ones: the events of a letter say ``letter=pending`` in their note until the copy is uploaded, then
``letter=<file name>`` (``DolibarrSource.letters_pending``, read with the history in the same bulk
request). For those only, the invoice's documents are listed (``GET /documents``, one request per
invoice: Dolibarr lists documents per invoice only). A copy already there (the upload went through,
the note did not) is just noted in the event. A missing one is rebuilt as it was on the event's day: the
same rules, planned for that day from the history before it and the payments made by then, must give
the same letter with the same invoices and steps; its copy is then uploaded and noted. A letter that
cannot be rebuilt that way is a warning naming the invoice: attach its copy by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date

from relance_erpnext.connectors.dolibarr import DolibarrError, DolibarrSource, PendingLetter
from relance_erpnext.dunning import plan
from relance_erpnext.dunning.models import POSTAL_CHANNELS
from relance_erpnext.i18n import Text

# The name the run gives a letter's copy (cli.DolibarrJournal.attach_letters): relance-<day>-<step>
STEM = "relance-{day}-"
SUFFIXES = (".pdf", ".html", ".html.noexe")


@dataclass
class Retried:
	"""What the check of the pending letters did: copies found (already uploaded), copies rebuilt and
	uploaded, and [(invoice, step, day, reason)] of those still missing (the reason a Text)."""

	found: int = 0
	attached: int = 0
	failures: list[tuple[str, str, date, str]] = field(default_factory=list)


def _has_copy(names: list[str], day: date) -> str:
	prefix = STEM.format(day=day.isoformat())
	return next((n for n in names if n.startswith(prefix) and n.endswith(SUFFIXES)), "")


def retry_pending_letters(
	source: DolibarrSource,
	customers: dict,
	invoices: list,
	history: list,
	scenarios: dict,
	rates,
	settings,
	sender,
	render_pdf: Callable[[], Callable[[str], bytes] | None],
	fr: bool = False,
) -> Retried:
	"""Find, rebuild and upload the copies of the letters ``source.load_book`` found pending."""
	from relance_erpnext.connectors.mailer import letter_attachment
	from relance_erpnext.dunning.letters import render_action

	done = Retried()
	pending: list[PendingLetter] = list(source.letters_pending)
	if not pending:
		return done

	def fail(letter: PendingLetter, reason: Text) -> None:
		done.failures.append((letter.invoice, letter.step, letter.day, reason))

	documents: dict[str, list[str]] = {}
	missing: dict[tuple[str, date], list[PendingLetter]] = {}
	for letter in pending:
		if letter.invoice not in documents:
			try:
				documents[letter.invoice] = source.documents(letter.invoice)
			except DolibarrError as exc:
				documents[letter.invoice] = []
				fail(letter, Text("its documents cannot be listed ({error})", error=exc.args[0]))
				continue
		name = _has_copy(documents[letter.invoice], letter.day)
		if name:
			try:
				source.letter_attached(letter.invoice, letter.step, name)
			except DolibarrError:
				pass  # the copy is there; the next run looks again and notes it
			done.found += 1
			continue
		missing.setdefault((letter.customer, letter.day), []).append(letter)

	by_id = {inv.id: inv for inv in invoices}
	renderer = None
	for (customer_id, day), letters in sorted(missing.items(), key=lambda item: (item[0][1], item[0][0])):
		wanted = {(letter.invoice, letter.step) for letter in letters}
		customer = customers.get(customer_id)
		action = None
		if customer is not None:
			# The day as it was: the history before it, the payments made by then
			own = [
				replace(inv, payments=tuple(p for p in inv.payments if p.day <= day))
				for inv in invoices
				if inv.customer == customer_id
			]
			before = [entry for entry in history if entry.day < day]
			result = plan(day, customers, own, before, scenarios, rates, settings)
			action = next(
				(
					a
					for a in result.actions
					if a.channel in POSTAL_CHANNELS
					and {(line.invoice, line.step) for line in a.lines} == wanted
				),
				None,
			)
		if action is None:
			for letter in letters:
				fail(
					letter,
					Text(
						"its letter cannot be rebuilt as it was on that day (the invoices, payments or steps"
						" differ now): attach its copy by hand"
					),
				)
			continue
		rendered = render_action(action, sender, customer, day, invoices=by_id)
		if renderer is None:
			renderer = render_pdf()
		file = letter_attachment(rendered, f"relance-{day.isoformat()}-{action.step}", renderer)
		for letter in letters:
			try:
				name = source.attach_to_invoice(letter.invoice, file.filename, file.content)
			except DolibarrError as exc:
				fail(letter, Text("its copy could not be uploaded ({error})", error=exc.args[0]))
				continue
			done.attached += 1
			try:
				source.letter_attached(letter.invoice, letter.step, name)
			except DolibarrError:
				pass  # uploaded: the next run finds it among the documents and notes it
	return done
