"""ERPNext Email Templates holding the wording of each step's letter, one per language.

Created at install from the core's built-in wording; an accountant edits them in ERPNext (Email
Template list) and the next run uses the edited copy for the customers of that language. The layout,
the amounts and the legal mentions stay the application's: a template sets the subject, the
introduction, the conclusion and the closing (see relance_erpnext/templates/letters/)."""

from __future__ import annotations

import frappe

from relance_erpnext.dunning.letters import (
	ACTION_TEMPLATES,
	LETTER_LANGUAGES,
	SUBJECT_FROM_BODY,
	template_source,
)

PREFIX = "Relance"


def template_name(template: str, language: str) -> str:
	return f"{PREFIX} - {template} - {language}"


def names() -> dict[str, tuple[str, str]]:
	return {
		template_name(template, language): (template, language)
		for template in ACTION_TEMPLATES
		for language in LETTER_LANGUAGES
	}


# Put at the top of each Email Template: what may be changed, and with what
HELP = {
	"en": """{#- Relance: the wording of this step's letter (subject, intro, outro, closing). Change the
    text between {% set … %} and {% endset %}; the table of invoices, the totals, the payment details
    and the legal mentions are added by the application. Usable: customer.name, lines (invoice, due,
    days_late, outstanding, interest, indemnity), totals (outstanding, interest, indemnity, fee,
    total), invoice_numbers, sender.name, as_of; filters |money, |date, |rate. -#}
""",
	"fr": """{#- Relance : le texte du courrier de cette étape (objet, introduction, conclusion, formule
    de politesse). Modifiez le texte entre {% set … %} et {% endset %} ; le tableau des factures, les
    totaux, les modalités de paiement et les mentions légales sont ajoutés par l'application.
    Disponibles : customer.name, lines (invoice, due, days_late, outstanding, interest, indemnity),
    totals (outstanding, interest, indemnity, fee, total), invoice_numbers, sender.name, as_of ;
    filtres |money, |date, |rate. -#}
""",
}


def initial_source(template: str, language: str) -> str:
	"""What a new Email Template holds: the help above, then the built-in wording."""
	return HELP["en" if language == "en" else "fr"] + template_source(template, language)


def create_email_templates() -> int:
	"""One Email Template per step template and language; existing ones (maybe edited) are kept."""
	existing = set(frappe.get_all("Email Template", filters={"name": ("in", list(names()))}, pluck="name"))
	created = 0
	for name, (template, language) in names().items():
		if name in existing:
			continue
		doc = frappe.new_doc("Email Template")
		doc.update(
			{
				"name": name,
				"subject": SUBJECT_FROM_BODY,
				"use_html": 1,
				"response_html": initial_source(template, language),
			}
		)
		doc.insert(ignore_permissions=True)
		created += 1
	return created


def delete_email_templates() -> None:
	frappe.db.delete("Email Template", {"name": ("in", list(names()))})


def edited_templates() -> dict[tuple[str, str], tuple[str, str]]:
	"""(template, language) → (subject, source) of the app's Email Templates, read in one query."""
	known = names()
	rows = frappe.get_all(
		"Email Template",
		filters={"name": ("in", list(known))},
		fields=["name", "subject", "use_html", "response_html", "response"],
	)
	return {
		known[row.name]: (
			row.subject or SUBJECT_FROM_BODY,
			(row.response_html if row.use_html else row.response) or "",
		)
		for row in rows
		if (row.response_html if row.use_html else row.response)
	}
