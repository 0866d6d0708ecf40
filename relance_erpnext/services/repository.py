"""Bulk reads from ERPNext into core objects: a fixed handful of queries per company, whatever the
number of invoices (never one query per invoice)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import frappe
from frappe.query_builder import Case
from frappe.query_builder.functions import Count

from relance_erpnext.dunning import models as core
from relance_erpnext.dunning import scenario_from_dict
from relance_erpnext.dunning.rates import TABLE_NAMES, ReferenceRates, parse_rate_table
from relance_erpnext.services.mapping import (
	GONE_STATUSES,
	STATUS_TO_CORE,
	customer_kind,
	language_code,
	regime_of_country,
	scenario_dict,
	to_date,
	to_decimal,
)

TOLERANCE = Decimal("0.005")


@dataclass
class Book:
	company: str
	regime: str
	customers: dict[str, core.Customer] = field(default_factory=dict)
	invoices: list[core.Invoice] = field(default_factory=list)
	history: list[core.HistoryEntry] = field(default_factory=list)
	promises: list[core.Promise] = field(default_factory=list)
	arrangements: list[core.Arrangement] = field(default_factory=list)
	credits: list[core.Credit] = field(default_factory=list)
	outcomes: list = field(default_factory=list)  # dunning.outcomes.ManualEntry
	contact_emails: dict[str, str] = field(default_factory=dict)  # invoice -> contact email on the invoice
	default_scenario: str = ""  # the company's, from Relance Settings (set by the runner)

	def scenario_of(self, invoice: core.Invoice) -> str:
		"""The scenario an invoice follows: its own, else its customer's, else the company's."""
		customer = self.customers.get(invoice.customer)
		return invoice.scenario or (customer.scenario if customer else None) or self.default_scenario


def _open_invoice_filter(si, company: str):
	return (si.company == company) & (si.docstatus == 1) & (si.is_return == 0) & (si.outstanding_amount > 0)


def load_book(company: str, invoice_names: list[str] | None = None) -> Book:
	"""Every open Sales Invoice of the company (or only `invoice_names`), with what the rules need."""
	country = frappe.db.get_value("Company", company, "country")
	regime = regime_of_country(country)
	book = Book(company=company, regime=regime)

	si = frappe.qb.DocType("Sales Invoice")
	condition = _open_invoice_filter(si, company)
	if invoice_names is not None:
		if not invoice_names:
			return book
		condition = condition & si.name.isin(invoice_names)
	rounded = si.rounded_total
	invoice_rows = (
		frappe.qb.from_(si)
		.select(
			si.name,
			si.customer,
			si.currency,
			si.posting_date,
			si.due_date,
			# The amount billed: the rounded total unless rounding is off
			Case()
			.when((si.disable_rounded_total == 1) | (rounded == 0) | rounded.isnull(), si.grand_total)
			.else_(rounded)
			.as_("total"),
			si.outstanding_amount,
		)
		.where(condition)
		.orderby(si.name)
		.run()
	)
	if not invoice_rows:
		return book

	# Only schedules of several rows are read: a single row is the invoice's own due date and total
	ps = frappe.qb.DocType("Payment Schedule")
	split = (
		frappe.qb.from_(ps)
		.join(si)
		.on(ps.parent == si.name)
		.select(ps.parent)
		.distinct()
		.where((ps.parenttype == "Sales Invoice") & (ps.idx > 1) & condition)
		.run(pluck=True)
	)
	schedules: dict[str, list[core.Instalment]] = defaultdict(list)
	if split:
		for parent, due_date, amount in (
			frappe.qb.from_(ps)
			.select(ps.parent, ps.due_date, ps.payment_amount)
			.where((ps.parenttype == "Sales Invoice") & ps.parent.isin(split))
			.orderby(ps.parent)
			.orderby(ps.idx)
			.run()
		):
			if due_date:
				schedules[parent].append(core.Instalment(to_date(due_date), to_decimal(amount)))

	# Rarely set: read only for the invoices that have them
	holds = {}
	scenario_of = {}
	for row in (
		frappe.qb.from_(si)
		.select(
			si.name,
			si.relance_scenario,
			si.relance_hold,
			si.relance_hold_kind,
			si.relance_hold_reason,
			si.relance_hold_until,
		)
		.where(
			condition
			& ((si.relance_hold == 1) | (si.relance_scenario.isnotnull() & (si.relance_scenario != "")))
		)
		.run(as_dict=True)
	):
		if row.relance_scenario:
			scenario_of[row.name] = row.relance_scenario
		if row.relance_hold:
			holds[row.name] = core.Hold(
				core.DISPUTE if row.relance_hold_kind == "Dispute" else core.HOLD,
				row.relance_hold_reason or "",
				to_date(row.relance_hold_until),
			)

	ple = frappe.qb.DocType("Payment Ledger Entry")
	payments: dict[str, list[core.Payment]] = defaultdict(list)
	for row in (
		frappe.qb.from_(ple)
		.join(si)
		.on(ple.against_voucher_no == si.name)
		.select(ple.against_voucher_no, ple.posting_date, ple.amount_in_account_currency)
		.where(
			(ple.against_voucher_type == "Sales Invoice")
			& (ple.voucher_no != ple.against_voucher_no)
			& (ple.delinked == 0)
			& condition
		)
		.orderby(ple.posting_date)
		.run(as_dict=True)
	):
		amount = -to_decimal(row.amount_in_account_currency)
		if amount:
			payments[row.against_voucher_no].append(core.Payment(to_date(row.posting_date), amount))

	customer_names = sorted({row[1] for row in invoice_rows})
	book.customers = load_customers(customer_names, regime)

	zero = Decimal(0)
	for name, customer, currency, posting_date, due_date, billed, outstanding in invoice_rows:
		total = to_decimal(billed)
		instalments = schedules.get(name) or ([core.Instalment(due_date, total)] if due_date else [])
		paid = payments.get(name, ())
		# ERPNext's outstanding is authoritative: what the ledger does not explain (a write-off, an
		# exchange difference) is taken as settled on the invoice date, so interest is never over-claimed
		explained = (total if len(instalments) == 1 else sum((i.amount for i in instalments), zero)) - sum(
			(p.amount for p in paid), zero
		)
		gap = explained - to_decimal(outstanding)
		if gap > TOLERANCE:
			paid = [core.Payment(posting_date, gap), *paid]
		book.invoices.append(
			core.Invoice(
				id=name,
				customer=customer,
				currency=currency,
				issued=posting_date,
				instalments=tuple(instalments),
				payments=tuple(paid),
				scenario=scenario_of.get(name),
				hold=holds.get(name),
			)
		)

	# The invoice's contact email, only as a fallback for customers without one
	no_email = [name for name, customer in book.customers.items() if not customer.email]
	if no_email:
		for row in (
			frappe.qb.from_(si)
			.select(si.name, si.contact_email)
			.where(
				condition
				& si.customer.isin(no_email)
				& si.contact_email.isnotnull()
				& (si.contact_email != "")
			)
			.run(as_dict=True)
		):
			book.contact_emails[row.name] = row.contact_email

	book.history = load_history(company)
	book.promises, book.arrangements = load_commitments(company)
	if invoice_names is None:
		book.credits = load_credits(company)
		book.outcomes = load_deliveries(company)
	return book


def load_deliveries(company: str) -> list:
	"""Registered letters whose avis de réception is in: a formal notice's interest (consumers,
	Québec) runs from its delivery (the core's "delivered" manual entry)."""
	from relance_erpnext.dunning.outcomes import DELIVERED, ManualEntry

	log = frappe.qb.DocType("Follow-up Log")
	line = frappe.qb.DocType("Follow-up Log Invoice")
	rows = (
		frappe.qb.from_(line)
		.join(log)
		.on(line.parent == log.name)
		.select(log.name, log.customer, log.delivered_on, line.sales_invoice)
		.where(
			(log.company == company)
			& (log.channel == "registered_letter")
			& (log.status == "Delivered")
			& log.delivered_on.isnotnull()
			& (line.parenttype == "Follow-up Log")
		)
		.run(as_dict=True)
	)
	invoices: dict[str, list[str]] = defaultdict(list)
	meta: dict[str, tuple] = {}
	for row in rows:
		invoices[row.name].append(row.sales_invoice)
		meta[row.name] = (row.customer, to_date(row.delivered_on))
	return [
		ManualEntry(invoices=tuple(names), day=meta[name][1], outcome=DELIVERED, customer=meta[name][0])
		for name, names in invoices.items()
	]


def load_credits(company: str) -> list[core.Credit]:
	"""What the company's customers may deduct, in two queries: credit notes that keep their own
	outstanding (ERPNext's "Update Outstanding for Self", the default for a return made from the
	invoice) and payments received that no invoice took (Payment Entry's unallocated amount)."""
	si = frappe.qb.DocType("Sales Invoice")
	notes = (
		frappe.qb.from_(si)
		.select(si.name, si.customer, si.currency, si.outstanding_amount, si.posting_date, si.return_against)
		.where(
			(si.company == company) & (si.docstatus == 1) & (si.is_return == 1) & (si.outstanding_amount < 0)
		)
		.run(as_dict=True)
	)
	pe = frappe.qb.DocType("Payment Entry")
	payments = (
		frappe.qb.from_(pe)
		.select(pe.name, pe.party, pe.paid_from_account_currency, pe.unallocated_amount, pe.posting_date)
		.where(
			(pe.company == company)
			& (pe.docstatus == 1)
			& (pe.party_type == "Customer")
			& (pe.payment_type == "Receive")
			& (pe.unallocated_amount > 0)
		)
		.run(as_dict=True)
	)
	return [
		core.Credit(
			customer=row.customer,
			currency=row.currency,
			amount=to_decimal(-row.outstanding_amount),
			reference=row.name,
			day=to_date(row.posting_date),
			against_invoice=row.return_against or "",
			kind=core.CREDIT_NOTE,
		)
		for row in notes
	] + [
		core.Credit(
			customer=row.party,
			currency=row.paid_from_account_currency,
			amount=to_decimal(row.unallocated_amount),
			reference=row.name,
			day=to_date(row.posting_date),
			kind=core.UNALLOCATED_PAYMENT,
		)
		for row in payments
	]


def load_customers(names: list[str], regime: str) -> dict[str, core.Customer]:
	if not names:
		return {}
	group_scenario = dict(frappe.get_all("Customer Group", fields=["name", "relance_scenario"], as_list=True))
	rows = frappe.get_all(
		"Customer",
		filters={"name": ("in", names)},
		fields=[
			"name",
			"customer_name",
			"customer_type",
			"customer_group",
			"language",
			"email_id",
			"mobile_no",
			"customer_primary_address",
			"account_manager",
			"relance_scenario",
			"relance_hold",
			"relance_hold_kind",
			"relance_hold_reason",
			"relance_hold_until",
		],
	)
	address_names = [row.customer_primary_address for row in rows if row.customer_primary_address]
	addresses = {}
	if address_names:
		for a in frappe.get_all(
			"Address",
			filters={"name": ("in", address_names)},
			fields=[
				"name",
				"address_line1",
				"address_line2",
				"pincode",
				"city",
				"country",
				"phone",
				"email_id",
			],
		):
			lines = [
				a.address_line1,
				a.address_line2,
				" ".join(x for x in (a.pincode, a.city) if x),
				a.country,
			]
			addresses[a.name] = (tuple(line for line in lines if line), a.phone, a.email_id)
	customers = {}
	for row in rows:
		address, address_phone, address_email = addresses.get(row.customer_primary_address, ((), None, None))
		hold = None
		if row.relance_hold:
			hold = core.Hold(
				core.DISPUTE if row.relance_hold_kind == "Dispute" else core.HOLD,
				row.relance_hold_reason or "",
				to_date(row.relance_hold_until),
			)
		customers[row.name] = core.Customer(
			id=row.name,
			name=row.customer_name or row.name,
			kind=customer_kind(row.customer_type),
			regime=regime,
			language=language_code(row.language, regime),
			email=row.email_id or address_email or "",
			phone=row.mobile_no or address_phone or "",
			address=tuple(address),  # the postal lines: the letters print the name above them
			scenario=row.relance_scenario or group_scenario.get(row.customer_group) or None,
			hold=hold,
			account_manager=row.account_manager or "",
		)
	return customers


def load_history(company: str) -> list[core.HistoryEntry]:
	log = frappe.qb.DocType("Follow-up Log")
	line = frappe.qb.DocType("Follow-up Log Invoice")
	rows = (
		frappe.qb.from_(line)
		.join(log)
		.on(line.parent == log.name)
		.select(
			line.sales_invoice,
			line.step,
			log.log_date,
			log.posted_on,
			log.status,
			log.channel,
			log.formal_notice,
			log.customer,
			log.registered_letter_number,
		)
		.where((log.company == company) & (line.parenttype == "Follow-up Log") & (line.step.isnotnull()))
		.run(as_dict=True)
	)
	return [
		core.HistoryEntry(
			invoice=row.sales_invoice,
			step=row.step,
			day=to_date(row.posted_on or row.log_date),  # a letter counts from the day it was posted
			status=STATUS_TO_CORE.get(row.status, core.DONE),
			channel=row.channel or "",
			formal_notice=bool(row.formal_notice),
			customer=row.customer,
			reference=row.registered_letter_number or "",
		)
		for row in rows
		if row.step
	]


def load_commitments(company: str) -> tuple[list[core.Promise], list[core.Arrangement]]:
	promises = frappe.get_all(
		"Payment Promise",
		filters={"company": company, "status": "Open"},
		fields=["name", "promised_date", "amount", "made_on"],
	)
	arrangements = frappe.get_all(
		"Payment Arrangement", filters={"company": company, "status": "Active"}, fields=["name", "agreed_on"]
	)
	parents = [p.name for p in promises] + [a.name for a in arrangements]
	invoices_of: dict[str, list[str]] = defaultdict(list)
	schedule_of: dict[str, list[core.Payment]] = defaultdict(list)
	if parents:
		for row in frappe.get_all(
			"Payment Promise Invoice",
			filters={"parent": ("in", parents)},
			fields=["parent", "sales_invoice"],
			order_by="idx asc",
		):
			invoices_of[row.parent].append(row.sales_invoice)
	if arrangements:
		for row in frappe.get_all(
			"Payment Arrangement Instalment",
			filters={"parent": ("in", [a.name for a in arrangements])},
			fields=["parent", "due_date", "amount"],
			order_by="idx asc",
		):
			schedule_of[row.parent].append(core.Payment(to_date(row.due_date), to_decimal(row.amount)))
	return (
		[
			core.Promise(
				invoices=tuple(invoices_of[p.name]),
				due=to_date(p.promised_date),
				amount=to_decimal(p.amount) if p.amount else None,
				made_on=to_date(p.made_on),
			)
			for p in promises
		],
		[
			core.Arrangement(
				invoices=tuple(invoices_of[a.name]),
				schedule=tuple(schedule_of[a.name]),
				agreed_on=to_date(a.agreed_on),
			)
			for a in arrangements
		],
	)


def load_scenarios() -> dict[str, core.Scenario]:
	"""Every enabled Dunning Scenario, validated by the core (two queries)."""
	names = frappe.get_all("Dunning Scenario", filters={"disabled": 0}, fields=["name", "scenario_name"])
	steps: dict[str, list] = defaultdict(list)
	if names:
		for row in frappe.get_all(
			"Dunning Scenario Step",
			filters={"parenttype": "Dunning Scenario", "parent": ("in", [n.name for n in names])},
			fields=["*"],
			order_by="idx asc",
		):
			steps[row.parent].append(row)
	return {n.name: scenario_from_dict(scenario_dict(n.name, n.scenario_name, steps[n.name])) for n in names}


def load_rates() -> ReferenceRates:
	"""The reference-rate tables kept in Relance Settings (seeded from the core's files at install)."""
	from relance_erpnext.dunning import load_reference_rates

	rows = frappe.get_all(
		"Relance Reference Rate",
		filters={"parenttype": "Relance Settings"},
		fields=["series", "valid_from", "valid_until", "rate", "source"],
		order_by="series asc, valid_from asc",
	)
	overrides = {}
	for series in TABLE_NAMES:
		lines = ["valid_from,valid_until,rate,source"]
		for row in rows:
			if row.series == series:
				source = (row.source or "").replace('"', "'")
				lines.append(f'{row.valid_from},{row.valid_until or ""},{row.rate},"{source}"')
		if len(lines) > 1:
			overrides[series] = "\n".join(lines) + "\n"
	return load_reference_rates(overrides)


def reread_outstanding(names: list[str]) -> dict[str, Decimal]:
	"""Outstanding amounts read again just before sending (one query)."""
	if not names:
		return {}
	return {
		row.name: to_decimal(row.outstanding_amount)
		for row in frappe.get_all(
			"Sales Invoice",
			filters={"name": ("in", names), "docstatus": 1},
			fields=["name", "outstanding_amount"],
		)
	}


# One document (print formats, penalty invoices): a few queries per document -----------------


def load_customer(name: str, company: str | None) -> core.Customer:
	"""One customer as the core sees it, under the legal regime of the company's country."""
	country = frappe.get_cached_value("Company", company, "country") if company else None
	return load_customers([name], regime_of_country(country))[name]


def invoice_total(row) -> Decimal:
	return to_decimal(
		row.grand_total if row.disable_rounded_total or not row.rounded_total else row.rounded_total
	)


def load_invoice(doc) -> core.Invoice | None:
	"""A submitted Sales Invoice as the core sees it: its instalments and its dated payments."""
	if doc.docstatus != 1 or doc.is_return:
		return None
	total = invoice_total(doc)
	instalments = tuple(
		core.Instalment(to_date(row.due_date), to_decimal(row.payment_amount))
		for row in doc.get("payment_schedule") or []
		if row.due_date
	) or (core.Instalment(to_date(doc.due_date), total),)
	ple = frappe.qb.DocType("Payment Ledger Entry")
	payments = [
		core.Payment(to_date(row.posting_date), -to_decimal(row.amount_in_account_currency))
		for row in (
			frappe.qb.from_(ple)
			.select(ple.posting_date, ple.amount_in_account_currency)
			.where(
				(ple.against_voucher_type == "Sales Invoice")
				& (ple.against_voucher_no == doc.name)
				& (ple.voucher_no != doc.name)
				& (ple.delinked == 0)
			)
			.orderby(ple.posting_date)
			.run(as_dict=True)
		)
		if row.amount_in_account_currency
	]
	# ERPNext's outstanding is authoritative: what the ledger does not explain (a write-off) is
	# taken as settled on the invoice date, so interest is never over-claimed
	gap = (
		sum((i.amount for i in instalments), core.ZERO)
		- sum((p.amount for p in payments), core.ZERO)
		- to_decimal(doc.outstanding_amount)
	)
	if gap > TOLERANCE:
		payments.insert(0, core.Payment(to_date(doc.posting_date), gap))
	return core.Invoice(
		id=doc.name,
		customer=doc.customer,
		currency=doc.currency,
		issued=to_date(doc.posting_date),
		instalments=instalments,
		payments=tuple(payments),
	)


def formal_notice_of(invoice: str) -> tuple[date | None, int]:
	"""The day the first mise en demeure about this invoice went out, and the days it gave to pay
	(interest runs from it for consumers in France and in Québec)."""
	log = frappe.qb.DocType("Follow-up Log")
	line = frappe.qb.DocType("Follow-up Log Invoice")
	step = frappe.qb.DocType("Dunning Scenario Step")
	rows = (
		frappe.qb.from_(line)
		.join(log)
		.on(line.parent == log.name)
		.left_join(step)
		.on((step.parent == log.scenario) & (step.step_key == line.step))
		.select(log.log_date, log.posted_on, log.delivered_on, step.notice_days)
		.where(
			(line.parenttype == "Follow-up Log")
			& (line.sales_invoice == invoice)
			& (log.formal_notice == 1)
			# One letter lists all of a customer's invoices: only those at a formal-notice step of
			# their own were formally demanded (a manual entry's step may be unknown to the scenario)
			& (step.formal_notice.isnull() | (step.formal_notice == 1))
			& log.status.isin(GONE_STATUSES)
		)
		.orderby(log.log_date)
		.limit(1)
		.run(as_dict=True)
	)
	if not rows:
		return None, 0
	# From its delivery when the avis de réception is in, else from its posting, else from the run
	row = rows[0]
	return to_date(row.delivered_on or row.posted_on or row.log_date), int(row.notice_days or 0)
