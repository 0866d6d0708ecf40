"""A hold or a dispute put on (or lifted from) an invoice or a customer goes into its timeline with
its reason: Frappe's own trace ("Relance suspendue changed from 0 to 1") says neither why nor how long."""

import frappe
from frappe import _


def note_hold_change(doc, method=None):
	if not any(
		doc.has_value_changed(field)
		for field in ("relance_hold", "relance_hold_kind", "relance_hold_reason", "relance_hold_until")
	):
		return
	from relance_erpnext.services.mapping import site_language

	lang = site_language()  # stored for everyone, whoever set it
	before = doc.get_doc_before_save()
	if not doc.relance_hold:
		if before and before.relance_hold:
			doc.add_comment("Info", _("Follow-up resumed (hold lifted).", lang))
		return
	kind = _("in dispute", lang) if doc.relance_hold_kind == "Dispute" else _("on hold", lang)
	text = _("Follow-up {0}", lang).format(kind)
	if doc.relance_hold_until:
		until = frappe.format(doc.relance_hold_until, {"fieldtype": "Date"})
		text += " " + _("until {0}", lang).format(until)
	if doc.relance_hold_reason:
		text += " — " + frappe.utils.escape_html(doc.relance_hold_reason)
	doc.add_comment("Info", text)
