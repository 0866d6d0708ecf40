"""What the Relance print formats render: Jinja methods declared in hooks.py (`jinja["methods"]`).

The words and the layout of every letter come from the core (`relance_erpnext.dunning.letters`):

- "Lettre de relance" (Follow-up Log) shows the letter stored on the log when it was planned;
- "Relevé des factures échues" (Customer), "Échéancier de paiement" (Payment Arrangement) and
  "Réclamation des pénalités" (Sales Invoice) are rendered now, from ERPNext's figures: outstanding
  amounts from the invoices and the payment ledger, interest and indemnity from the core's rules.

Each method returns the page(s) ready to print: the company's letter head (its default one, else the
one Frappe passes), then the letter without its own page geometry, which the print format's CSS
(`letter_page.html`) sets for A4 and a window envelope.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from decimal import Decimal

import frappe
from frappe import _
from frappe.query_builder.functions import Sum
from frappe.utils import escape_html, formatdate, getdate, today
from markupsafe import Markup

from relance_erpnext.dunning import models as core
from relance_erpnext.dunning.charges import PENALTY_STEP, penalty_claim
from relance_erpnext.dunning.errors import DunningError
from relance_erpnext.dunning.letters import build_context, render_document
from relance_erpnext.services import repository
from relance_erpnext.services.mapping import regime_of_country, to_date, to_decimal
from relance_erpnext.services.repository import formal_notice_of, invoice_total, load_customer, load_invoice

# Jinja methods -----------------------------------------------------------------------------------


def relance_letter(doc, letter_head: str | None = None, no_letterhead=0) -> Markup:
	"""The letter stored on a Follow-up Log, as it was sent (or will be)."""
	head = company_letter_head(doc.company, letter_head, no_letterhead, doc)
	if not doc.message:
		return page(head, notice(_("No letter is stored on this follow-up ({0}).").format(doc.channel)))
	return letter_page(head, doc.message)


def relance_statement(doc, letter_head: str | None = None, no_letterhead=0, as_of=None) -> Markup:
	"""The customer's overdue invoices, one page per company and currency."""
	as_of = getdate(as_of or today())
	pages = []
	for (company, currency), rows in overdue_invoices(doc.name, as_of).items():
		customer = load_customer(doc.name, company)
		lines = [
			core.ActionLine(
				invoice=row.name,
				step="statement",
				due=to_date(row.due_date),
				days_late=(as_of - to_date(row.due_date)).days,
				outstanding=to_decimal(row.outstanding_amount),
				interest=core.ZERO,
				indemnity=core.ZERO,
			)
			for row in rows
		]
		invoices = {row.name: invoice_summary(row, doc.name) for row in rows}
		action = document_action(customer, "statement", currency, lines)
		html = render(action, company, customer, as_of, invoices)
		pages.append(letter_page(company_letter_head(company, letter_head, no_letterhead, doc), html))
	if not pages:
		head = company_letter_head(None, letter_head, no_letterhead, doc)
		pages.append(
			page(
				head,
				notice(_("{0} has no overdue invoice on {1}.").format(doc.customer_name, formatdate(as_of))),
			)
		)
	return Markup("".join(pages))


def relance_arrangement(doc, letter_head: str | None = None, no_letterhead=0) -> Markup:
	"""The instalment plan to sign, for the invoices it covers, as owed on the day it was agreed."""
	agreed_on = getdate(doc.agreed_on)
	names = [row.sales_invoice for row in doc.invoices]
	rows = invoice_rows(names)
	owed = outstanding_on(names, agreed_on)
	currency = next((row.currency for row in rows.values()), None) or company_currency(doc.company)
	customer = load_customer(doc.customer, doc.company)
	lines = [
		core.ActionLine(
			invoice=name,
			step="arrangement",
			due=to_date(rows[name].due_date),
			days_late=max((agreed_on - to_date(rows[name].due_date)).days, 0),
			outstanding=owed.get(name, core.ZERO),
			interest=core.ZERO,
			indemnity=core.ZERO,
		)
		for name in names
		if name in rows
	]
	invoices = {name: invoice_summary(rows[name], doc.customer) for name in names if name in rows}
	schedule = [(to_date(row.due_date), to_decimal(row.amount)) for row in doc.schedule]
	action = document_action(customer, "arrangement", currency, lines)
	html = render(action, doc.company, customer, agreed_on, invoices, reference=doc.name, schedule=schedule)
	return letter_page(company_letter_head(doc.company, letter_head, no_letterhead, doc), html)


def relance_penalty_claim(doc, letter_head: str | None = None, no_letterhead=0, as_of=None) -> Markup:
	"""Late-payment penalties (interest and, between French businesses, the 40 € indemnity) for one
	invoice: up to its last payment when it is paid, else up to today."""
	head = company_letter_head(doc.company, letter_head, no_letterhead, doc)
	letter_day = getdate(as_of or today())
	customer = load_customer(doc.customer, doc.company)
	invoice = load_invoice(doc)
	if invoice is None:
		return page(head, notice(_("Only a submitted sales invoice can carry late-payment penalties.")))
	notice_day, notice_days = formal_notice_of(doc.name)
	try:
		line = penalty_claim(invoice, customer, letter_day, repository.load_rates(), notice_day, notice_days)
	except DunningError as exc:
		return page(head, notice(_("The penalties cannot be computed: {0}").format(exc)))
	if line is None:
		return page(head, notice(_("No late-payment penalty is due on invoice {0}.").format(doc.name)))
	action = document_action(customer, PENALTY_STEP, doc.currency, [line])
	html = render(action, doc.company, customer, letter_day, {doc.name: invoice})
	return letter_page(head, html)


# Reading ERPNext (bulk: a few queries per document, never one per invoice) -----------------------


def overdue_invoices(customer: str, as_of: date) -> dict[tuple[str, str], list]:
	rows = frappe.get_all(
		"Sales Invoice",
		filters={
			"customer": customer,
			"docstatus": 1,
			"is_return": 0,
			"outstanding_amount": (">", 0),
			"due_date": ("<", as_of),
		},
		fields=[
			"name",
			"company",
			"currency",
			"posting_date",
			"due_date",
			"grand_total",
			"rounded_total",
			"disable_rounded_total",
			"outstanding_amount",
		],
		order_by="company asc, currency asc, due_date asc, name asc",
	)
	groups: dict[tuple[str, str], list] = defaultdict(list)
	for row in rows:
		groups[row.company, row.currency].append(row)
	return groups


def invoice_rows(names: list[str]) -> dict:
	if not names:
		return {}
	return {
		row.name: row
		for row in frappe.get_all(
			"Sales Invoice",
			filters={"name": ("in", names), "docstatus": 1},
			fields=[
				"name",
				"currency",
				"posting_date",
				"due_date",
				"grand_total",
				"rounded_total",
				"disable_rounded_total",
				"outstanding_amount",
			],
		)
	}


def invoice_summary(row, customer: str) -> core.Invoice:
	"""What a letter shows of an invoice besides the follow-up line: its date and total."""
	return core.Invoice(
		id=row.name,
		customer=customer,
		currency=row.currency,
		issued=to_date(row.posting_date),
		instalments=(core.Instalment(to_date(row.due_date), invoice_total(row)),),
	)


def outstanding_on(names: list[str], day: date) -> dict[str, Decimal]:
	"""What was owed on each invoice at the end of `day`, from the payment ledger (one query)."""
	if not names:
		return {}
	ple = frappe.qb.DocType("Payment Ledger Entry")
	rows = (
		frappe.qb.from_(ple)
		.select(ple.against_voucher_no, Sum(ple.amount_in_account_currency).as_("owed"))
		.where(
			(ple.against_voucher_type == "Sales Invoice")
			& ple.against_voucher_no.isin(names)
			& (ple.delinked == 0)
			& (ple.posting_date <= day)
		)
		.groupby(ple.against_voucher_no)
		.run(as_dict=True)
	)
	return {row.against_voucher_no: to_decimal(row.owed) for row in rows}


def company_currency(company: str) -> str:
	return frappe.get_cached_value("Company", company, "default_currency") or "EUR"


# Rendering ---------------------------------------------------------------------------------------


def document_action(customer: core.Customer, template: str, currency: str, lines) -> core.Action:
	"""A core Action for a document that is not a step of a scenario (statement, plan, claim)."""
	return core.Action(
		customer=customer.id,
		customer_name=customer.name,
		scenario="",
		step=template,
		step_label="",
		channel=core.LETTER,
		tone=core.FORMEL,
		template=template,
		currency=currency,
		language=customer.language,
		regime=customer.regime,
		customer_kind=customer.kind,
		formal_notice=False,
		notice_days=0,
		lines=tuple(lines),
		fee=core.ZERO,
		contract_rate=customer.contract_rate,
	)


def render(action, company: str, customer, as_of: date, invoices, reference: str = "", schedule=()) -> str:
	"""The core's HTML letter for a document action, in the customer's language."""
	from relance_erpnext.services.runner import sender_for

	context = build_context(
		action, sender_for(company), customer, as_of, invoices, reference, schedule=schedule
	)
	return render_document(action.template, action.language, context).html


def company_letter_head(company: str | None, letter_head: str | None, no_letterhead, doc=None) -> str:
	"""The company's default letter head, else the one Frappe chose (the print view's or the site's)
	unless it is another company's: a letter must not go out under someone else's name; without a
	letter head the letter prints its own sender block, made from the company's data."""
	if frappe.utils.cint(no_letterhead):
		return ""
	name = frappe.get_cached_value("Company", company, "default_letter_head") if company else None
	if not name:
		if not letter_head or (company and other_companys_letter_head(company)):
			return ""
		name = frappe.local.form_dict.get("letterhead") or frappe.db.get_value(
			"Letter Head", {"is_default": 1}, "name"
		)
	content = frappe.db.get_value("Letter Head", name, "content") if name else None
	if not content:
		return letter_head or ""
	return frappe.render_template(content, {"doc": letter_head_context(doc)})


def letter_head_context(doc) -> dict:
	"""What a letter head may show of the letter. ERPNext's letter heads are made for its documents
	and print their type and number (v16's default "Company Letterhead - Grey": "Follow-up Log
	RELANCE-2026-00004"): a record of ours the customer's letter must not show, so both are blank."""
	context = doc.as_dict() if doc else frappe._dict()
	context.update({"doctype": "", "name": ""})
	return context


def other_companys_letter_head(company: str) -> bool:
	"""Whether the site's default letter head is the default one of another company."""
	default = frappe.db.get_value("Letter Head", {"is_default": 1}, "name")
	return bool(
		default and frappe.db.exists("Company", {"default_letter_head": default, "name": ("!=", company)})
	)


def letter_page(letter_head: str, html: str) -> Markup:
	"""A page with the letter head, then the letter (its own sender block only without a letter head)."""
	return page(letter_head, embed(html, keep_sender=not letter_head))


def page(letter_head: str, body: str) -> Markup:
	head = f'<div class="relance-letterhead">{letter_head}</div>' if letter_head else ""
	zoom = pdf_zoom()
	style = f' style="zoom: {zoom}"' if zoom != 1 else ""
	return Markup(f'<div class="relance-page"{style}>{head}{body}</div>')


# wkhtmltopdf built on an unpatched Qt (Debian's) cannot turn smart shrinking off: it prints CSS
# lengths at 1/1.3 of their size, so 90 mm come out as 69 mm and the address misses the window
UNPATCHED_WKHTMLTOPDF_ZOOM = 1.3


def pdf_zoom() -> float:
	"""The zoom that makes CSS millimetres real ones in the PDF being rendered (1 in a browser)."""
	if frappe.local.form_dict.get("pdf_generator") != "wkhtmltopdf":
		return 1
	from frappe.utils.pdf import is_wkhtmltopdf_valid

	return 1 if is_wkhtmltopdf_valid() else UNPATCHED_WKHTMLTOPDF_ZOOM


def notice(text: str) -> Markup:
	return Markup(f'<div class="relance-letter"><p class="relance-notice">{escape_html(text)}</p></div>')


_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")


def scope_css(css: str, scope: str = ".relance-letter") -> str:
	"""The letter's own CSS, confined to the letter: page-level rules (@page, body, .page) dropped,
	every other selector prefixed with `scope`."""
	css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
	rules = []
	for match in _RULE.finditer(css):
		selectors = [s.strip() for s in match.group(1).split(",")]
		kept = [s for s in selectors if s and not s.startswith("@") and s not in ("body", "html", ".page")]
		if kept:
			rules.append(f"{', '.join(f'{scope} {s}' for s in kept)} {{{match.group(2).strip()}}}")
	return "\n".join(rules)


def embed(html: str, keep_sender: bool = True) -> Markup:
	"""A letter's full HTML page (as the core renders it, or as stored on a log) made into a block
	that sits inside a Frappe print page."""
	from bs4 import BeautifulSoup

	soup = BeautifulSoup(html or "", "html.parser")
	css = "\n".join(tag.get_text() for tag in soup.find_all("style"))
	for tag in soup.find_all(["style", "title", "meta", "link", "script"]):
		tag.decompose()
	root = soup.find(class_="page") or soup
	if not keep_sender:
		for head in root.find_all(class_="head", limit=1):
			head.decompose()
	for recipient in root.find_all(class_="recipient"):
		drop_repeated_name(recipient)
	if root.find(class_="signatures"):
		# A document signed by both parties: the creditor signs in its box, not twice
		for signature in root.find_all(class_="signature"):
			signature.decompose()
	body = root.decode_contents() if root is not soup else str(soup)
	return Markup(f'<style>{scope_css(css)}</style><div class="relance-letter">{body}</div>')


def drop_repeated_name(recipient) -> None:
	"""The address lines of a stored letter may start with the customer's name, already printed in
	bold above them (services.repository.load_customers puts it there): show it once in the window."""
	strong = recipient.find("strong")
	if strong is None:
		return
	name = strong.get_text(strip=True)
	node = strong.next_sibling
	if getattr(node, "name", None) == "br":
		node = node.next_sibling
	if node is not None and not getattr(node, "name", None) and node.strip() == name:
		after = node.next_sibling
		node.extract()
		if getattr(after, "name", None) == "br":
			after.decompose()


# Preview from a form ------------------------------------------------------------------------------


@frappe.whitelist()
def preview_letter(doctype: str, name: str, as_of: str | None = None) -> dict:
	"""The letter(s) a run on `as_of` would plan for this Sales Invoice or Customer, rendered as they
	would be stored, and why its invoices are not followed up otherwise. Changes nothing."""
	from relance_erpnext.dunning.reasons import describe
	from relance_erpnext.services.email_templates import edited_templates
	from relance_erpnext.services.runner import make_plan, render_letter

	if doctype not in ("Sales Invoice", "Customer"):
		frappe.throw(_("A letter can be previewed from a Sales Invoice or a Customer"))
	frappe.has_permission(doctype, "read", name, throw=True)
	frappe.has_permission("Follow-up Log", "read", throw=True)
	day = getdate(as_of or today())
	language = "fr" if (frappe.local.lang or "").startswith("fr") else "en"
	if doctype == "Sales Invoice":
		companies = [frappe.db.get_value("Sales Invoice", name, "company")]
	else:
		companies = frappe.get_all(
			"Sales Invoice",
			filters={"customer": name, "docstatus": 1, "outstanding_amount": (">", 0)},
			pluck="company",
			distinct=True,
		)
	out = {"as_of": str(day), "letters": [], "skipped": [], "errors": []}
	edited = edited_templates()
	for company in companies:
		book, result = make_plan(company, day)

		def concerns(customer: str, invoices) -> bool:
			return customer == name if doctype == "Customer" else name in invoices

		for action in result.actions:
			if not concerns(action.customer, action.invoices):
				continue
			try:
				subject, html = render_letter(action, book.customers[action.customer], company, day, edited)
			except DunningError as exc:
				out["errors"].append(str(exc))
				continue
			out["letters"].append(
				{
					"company": company,
					"step": action.step_label,
					"channel": action.channel,
					"invoices": list(action.invoices),
					"total": float(action.total),
					"currency": action.currency,
					"subject": subject,
					"html": embed(html),
				}
			)
		out["skipped"] += [
			{"invoice": skip.invoice, "reason": describe(skip.reason, skip.detail, language)}
			for skip in result.skipped
			if concerns(skip.customer, (skip.invoice,))
		]
		out["errors"] += list(result.errors)
	return out
