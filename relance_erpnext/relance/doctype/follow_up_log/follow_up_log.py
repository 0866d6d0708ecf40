# Copyright (c) 2026, relance_erpnext contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model import no_value_fields
from frappe.model.document import Document
from frappe.utils import cstr, flt

from relance_erpnext.services.mapping import GONE_STATUSES, LIVE_STATUSES

# What an automatic follow-up says is frozen once it left: only what came after may still be written
EDITABLE_STATUSES = ("Planned", "Failed")
WRITABLE_AFTER_SENDING = frozenset(
	(
		"status",
		"outcome",
		"answer",
		"proof",
		"registered_letter_number",
		"posted_on",
		"delivered_on",
		"acknowledgement",
		"error",
		"run",
	)
)
NUMERIC_TYPES = frozenset(("Currency", "Float", "Int", "Check", "Percent"))


class FollowupLog(Document):
	def validate(self):
		self.validate_answer()
		self.keep_what_was_sent()
		self.set_totals()
		self.set_step_keys()

	def keep_what_was_sent(self):
		"""A letter, an email or a call that went out is a record (it may be shown to a judge): its
		content, its amounts and its invoices no longer change; its answer and proof still may."""
		before = self.get_doc_before_save()
		if not before or before.entry_type != "Automatic" or before.status in EDITABLE_STATUSES:
			return
		changed = [
			_(df.label)
			for df in self.meta.fields
			if df.fieldname not in WRITABLE_AFTER_SENDING
			and not df.read_only  # computed or fetched: follows the rest
			and df.fieldtype not in no_value_fields
			and df.fieldtype != "Table"
			and not same_value(df.fieldtype, self.get(df.fieldname), before.get(df.fieldname))
		]
		if invoice_rows(self) != invoice_rows(before):
			changed.append(_("Invoices"))
		if changed:
			frappe.throw(
				_(
					"This follow-up went out ({0}): {1} can no longer change, only its answer and proof."
				).format(_(before.status), ", ".join(changed)),
				title=_("Follow-up already sent"),
			)

	def set_totals(self):
		self.total_outstanding = sum(flt(row.outstanding) for row in self.invoices)
		self.total_interest = sum(flt(row.interest) for row in self.invoices)
		self.total_indemnity = sum(flt(row.indemnity) for row in self.invoices)
		self.grand_total = self.total_outstanding + self.total_interest + self.total_indemnity + flt(self.fee)

	def set_step_keys(self):
		"""invoice:step is unique while the step is live: the database refuses a second live log."""
		for row in self.invoices:
			# A person's record (a letter posted by hand, an invoice sent again) may repeat a step
			if row.step and self.status in LIVE_STATUSES and self.entry_type != "Manual":
				row.dedupe_key = f"{row.sales_invoice}:{row.step}"
			else:
				row.dedupe_key = None

	def validate_answer(self):
		"""A call answered is done: its status says so (its ToDo closes on update)."""
		if self.channel == "phone" and self.status == "Planned" and (self.outcome or self.answer):
			self.status = "Done"

	def on_update(self):
		self.update_invoices()
		self.add_to_timelines()
		if self.channel == "phone" and self.status == "Done" and self.has_value_changed("status"):
			self.close_todos()

	def close_todos(self):
		for todo in frappe.get_all(
			"ToDo",
			filters={"reference_type": self.doctype, "reference_name": self.name, "status": "Open"},
			pluck="name",
		):
			frappe.db.set_value("ToDo", todo, "status", "Closed")

	def add_to_timelines(self):
		"""Once it went out (or was done), the follow-up shows in the timeline of its customer and of
		each of its invoices, where people look, with a link to the log."""
		if self.status not in GONE_STATUSES or not self.has_value_changed("status"):
			return
		from relance_erpnext.services.mapping import channel_label, site_language

		lang = site_language()
		what = self.step_label or channel_label(self.channel, lang)
		text = _("{0} ({1}), {2}: {3}", lang).format(
			frappe.utils.escape_html(what),
			channel_label(self.channel, lang),
			_(self.status, lang).lower(),
			frappe.utils.get_link_to_form("Follow-up Log", self.name),
		)
		if self.answer:
			text += " — " + frappe.utils.escape_html(self.answer)
		targets = [("Customer", self.customer)] + [
			("Sales Invoice", invoice)
			for invoice in dict.fromkeys(row.sales_invoice for row in self.invoices)
		]
		for doctype, name in targets:
			if name:
				frappe.get_doc(
					{
						"doctype": "Comment",
						"comment_type": "Info",
						"reference_doctype": doctype,
						"reference_name": name,
						"content": text,
					}
				).insert(ignore_permissions=True)

	def update_invoices(self):
		if not self.step or self.status not in LIVE_STATUSES:
			return
		for row in self.invoices:
			frappe.db.set_value(
				"Sales Invoice",
				row.sales_invoice,
				{"relance_level": self.step_label or self.step, "relance_last_action_date": self.log_date},
				update_modified=False,
			)


def same_value(fieldtype: str, a, b) -> bool:
	"""Values as saved: a date from the form is a string, from the database a date."""
	if fieldtype in NUMERIC_TYPES:
		return flt(a) == flt(b)
	return cstr(a) == cstr(b)


def invoice_rows(doc) -> list[tuple]:
	return [
		(row.sales_invoice, row.step, flt(row.outstanding), flt(row.interest), flt(row.indemnity))
		for row in doc.invoices
	]


POSTAL = ("letter", "registered_letter")


@frappe.whitelist()
def mark_posted(entries: str | list) -> int:
	"""Letters printed by a run, posted: each {name, posted_on, registered_letter_number}. A registered
	letter needs its number (the proof the law asks for)."""
	entries = frappe.parse_json(entries) if isinstance(entries, str) else entries
	done = 0
	for entry in entries:
		log = frappe.get_doc("Follow-up Log", entry["name"])
		log.check_permission("write")
		if log.channel not in POSTAL or log.status != "To Post":
			frappe.throw(_("{0} is not a letter waiting to be posted.").format(log.name))
		number = (entry.get("registered_letter_number") or "").strip()
		if log.channel == "registered_letter" and not number:
			frappe.throw(_("{0}: the registered letter's number is needed.").format(log.name))
		log.posted_on = entry.get("posted_on") or frappe.utils.today()
		log.registered_letter_number = number or log.registered_letter_number
		log.status = "Posted"
		log.save()
		done += 1
	return done


@frappe.whitelist()
def mark_delivered(
	name: str, delivered_on: str, acknowledgement: str | None = None, returned: int = 0
) -> str:
	"""The avis de réception of a registered letter: delivered (or returned) on that day."""
	log = frappe.get_doc("Follow-up Log", name)
	log.check_permission("write")
	if log.channel != "registered_letter" or log.status != "Posted":
		frappe.throw(_("{0} is not a posted registered letter.").format(log.name))
	log.delivered_on = delivered_on
	log.acknowledgement = acknowledgement or log.acknowledgement
	log.status = "Returned" if int(returned) else "Delivered"
	log.save()
	return log.status


@frappe.whitelist()
def email_status(name: str) -> dict | None:
	"""Where the log's email is in Frappe's email queue: queued, sent or failed (and when, and why)."""
	frappe.get_doc("Follow-up Log", name).check_permission("read")
	rows = frappe.get_all(
		"Email Queue",
		filters={"reference_doctype": "Follow-up Log", "reference_name": name},
		fields=["status", "error", "modified", "creation"],
		order_by="creation desc",
		limit=1,
		ignore_permissions=True,  # Email Queue is System Manager's; the log's reader may know this
	)
	if not rows:
		return None
	row = rows[0]
	state = {"Sent": "sent", "Error": "failed", "Expired": "failed"}.get(row.status, "queued")
	return {"state": state, "status": row.status, "error": cstr(row.error)[:300], "when": row.modified}


@frappe.whitelist()
def send_now(names: str | list) -> int:
	"""Approve and send Planned logs (review before sending)."""
	from relance_erpnext.services.runner import send_logs

	if isinstance(names, str):
		names = frappe.parse_json(names) if names.startswith("[") else [names]
	for name in names:
		frappe.get_doc("Follow-up Log", name).check_permission("write")
	return send_logs(list(names))
