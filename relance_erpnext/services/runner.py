"""The daily run: plan through the core, record Follow-up Logs, send. No rule lives here."""

from __future__ import annotations

import json
import random
import time
from datetime import date

import frappe
from frappe import _
from frappe.utils import getdate, today

from relance_erpnext.dunning import PlanSettings, plan, plan_to_dict
from relance_erpnext.dunning import models as core
from relance_erpnext.dunning.reasons import describe, task_text
from relance_erpnext.services import repository
from relance_erpnext.services.mapping import LIVE_STATUSES, to_decimal, to_float


def plan_settings(company: str, scenarios: dict) -> PlanSettings:
	settings = frappe.get_cached_doc("Relance Settings")
	default = next((row.scenario for row in settings.company_scenarios if row.company == company), None)
	default = default or settings.default_scenario or "standard"
	if default not in scenarios:
		frappe.throw(_("The default scenario {0} is missing or disabled").format(default))
	return PlanSettings(
		default_scenario=default,
		min_amount=to_decimal(settings.min_amount),
		min_gap_days=int(settings.min_gap_days or 0),
		promise_grace_days=int(settings.promise_grace_days or 0),
		catch_up=settings.catch_up or core.FIRST_CONTACT,
		payment_days=int(settings.payment_days or 8),
	)


def make_plan(company: str, as_of: date):
	"""Read the company's book in bulk and plan the day (no writes)."""
	scenarios = repository.load_scenarios()
	settings = plan_settings(company, scenarios)
	rates = repository.load_rates()
	book = repository.load_book(company)
	book.default_scenario = settings.default_scenario
	result = plan(
		as_of,
		book.customers,
		book.invoices,
		book.history,
		scenarios,
		rates,
		settings,
		promises=book.promises,
		arrangements=book.arrangements,
		credits=book.credits,
		outcomes=book.outcomes,
	)
	return book, result


DEADLOCK_ATTEMPTS = 5


def run_for_company(
	company: str,
	as_of: str | date | None = None,
	dry_run: bool = False,
	triggered_by: str = "User",
	run_name: str | None = None,
) -> str:
	"""Plan and carry out one day for one company; return the Relance Run's name.

	The run is one transaction. Two runs meeting in the database (two workers, a person and the
	scheduler) may deadlock, e.g. on the first use of a naming series in a year: the database then
	rolls back the whole transaction of one of them, which is planned again from the start, from
	what the other has committed by then."""
	for attempt in range(1, DEADLOCK_ATTEMPTS + 1):
		try:
			return run_once(company, as_of, dry_run, triggered_by, run_name)
		except frappe.QueryDeadlockError:
			frappe.db.rollback()
			if attempt == DEADLOCK_ATTEMPTS:
				raise
			frappe.logger("relance_erpnext").warning(
				f"run {company} {as_of}: deadlock, rolled back, attempt {attempt + 1} of {DEADLOCK_ATTEMPTS}"
			)
			time.sleep(random.uniform(0.05, 0.25) * attempt)  # let the other transaction commit


def run_once(company: str, as_of, dry_run: bool, triggered_by: str, run_name: str | None) -> str:
	as_of = getdate(as_of or today())
	# A run made in the same transaction (a preview) is gone after a deadlock's rollback: made again
	known = run_name and frappe.db.exists("Relance Run", run_name)
	run = frappe.get_doc("Relance Run", run_name) if known else frappe.new_doc("Relance Run")
	run.update({"run_date": as_of, "company": company, "dry_run": int(dry_run), "triggered_by": triggered_by})
	run.status = "Running"
	run.save(ignore_permissions=True)
	if not dry_run:
		from relance_erpnext.services.behaviour import apply_doubtful_rule

		apply_doubtful_rule(company, as_of)  # before planning: today's plan follows the new scenario

	book, result = make_plan(company, as_of)
	run.planned_count = len(result.actions)
	run.skipped_count = len(result.skipped)
	run.error_count = len(result.errors)
	run.errors = "\n".join(result.errors)
	if result.provisional:
		# The reminders go out; their interest waits for these half-years (services/rates.py warns)
		from relance_erpnext.services.rates import missing_text

		run.provisional_rates = missing_text(result.provisional)
	run.plan_json = json.dumps(plan_to_dict(result), ensure_ascii=False, indent=1)
	run.summary = ""  # rendered from plan_json in the reader's language (RelanceRun.onload)
	logs = []
	if not dry_run:
		update_next_action_dates(result)
		mark_broken_promises(result)
		problems: list[str] = []
		logs = record_actions(result, book, run.name, problems)
		if problems:
			# What could not be recorded (e.g. an edited Email Template with a mistake) shows on the run
			run.error_count += len(problems)
			run.errors = "\n".join(filter(None, [run.errors, *problems]))
	run.status = "Done"
	run.save(ignore_permissions=True)
	if logs and not frappe.get_cached_value("Relance Settings", None, "review_before_sending"):
		# Letters, calls and escalations are handled here (the letters make one PDF for the run);
		# emails go to the background queue in chunks, each chunk its own job and transaction. Both
		# add to the run's sent count in the database (the run is saved already)
		send_logs([name for name, channel in logs if channel != core.EMAIL])
		enqueue_emails(run.name, [name for name, channel in logs if channel == core.EMAIL])
	return run.name


SEND_CHUNK = 100  # emails per background job


def enqueue_emails(run_name: str, names: list[str]) -> None:
	for start in range(0, len(names), SEND_CHUNK):
		frappe.enqueue(
			"relance_erpnext.services.runner.send_chunk",
			queue="long",
			run_name=run_name,
			names=names[start : start + SEND_CHUNK],
			enqueue_after_commit=True,
			now=frappe.flags.in_test,  # ERPNext's convention: jobs run inline in tests
		)


def send_chunk(run_name: str, names: list[str]) -> None:
	send_logs(names)


def count_sent(sent_by_run: dict[str, int]) -> None:
	"""Add to each run's sent count, as an increment in SQL: chunks of one run, or a person
	approving its letters, may send at the same time."""
	run = frappe.qb.DocType("Relance Run")
	for name, sent in sent_by_run.items():
		if name and sent:
			frappe.qb.update(run).set(run.sent_count, run.sent_count + sent).where(run.name == name).run()


def update_next_action_dates(result) -> None:
	"""Keep each open invoice's next follow-up date: one UPDATE per distinct date, not per invoice."""
	from collections import defaultdict

	from relance_erpnext.dunning.planner import next_steps

	by_date: dict = defaultdict(list)
	for invoice, (_step, day) in next_steps(result).items():
		by_date[day].append(invoice)
	si = frappe.qb.DocType("Sales Invoice")
	for day, invoices in by_date.items():
		for start in range(0, len(invoices), 1000):
			(
				frappe.qb.update(si)
				.set(si.relance_next_action_date, day)
				.where(si.name.isin(invoices[start : start + 1000]))
				.run()
			)


def mark_broken_promises(result) -> None:
	"""The promises the core found broken (their invoices escalated today) become "Broken": the
	workspace counts them, and the customer's file says so. Two queries, whatever their number."""
	from relance_erpnext.dunning.planner import NOTE_PROMISE_BROKEN

	invoices = sorted(
		{line.invoice for a in result.actions for line in a.lines if NOTE_PROMISE_BROKEN in line.notes}
	)
	if not invoices:
		return
	promise = frappe.qb.DocType("Payment Promise")
	row = frappe.qb.DocType("Payment Promise Invoice")
	broken = (
		frappe.qb.from_(promise)
		.join(row)
		.on(row.parent == promise.name)
		.select(promise.name)
		.distinct()
		.where(
			(promise.status == "Open")
			& (promise.promised_date < result.as_of)
			& row.sales_invoice.isin(invoices)
		)
		.run(pluck=True)
	)
	if broken:
		frappe.qb.update(promise).set(promise.status, "Broken").where(promise.name.isin(broken)).run()


def record_actions(result, book, run_name: str, problems: list[str] | None = None) -> list[tuple[str, str]]:
	"""One Follow-up Log per action, status Planned; returns (log name, channel) for each.

	A step already live for an invoice is refused by the unique key on the log's invoice rows, so
	two workers cannot both record it."""
	from relance_erpnext.services.email_templates import edited_templates

	edited = edited_templates()
	names = []
	for action in result.actions:
		savepoint = "relance_log"
		frappe.db.savepoint(savepoint)
		try:
			log = new_log_for_action(action, book, result.as_of, run_name, edited)
			log.insert(ignore_permissions=True)
			add_tasks(log, action)
			names.append((log.name, log.channel))
		except frappe.UniqueValidationError:
			frappe.db.rollback(save_point=savepoint)
		except frappe.QueryDeadlockError:
			raise  # the whole transaction is gone, not just this savepoint: the caller retries
		except Exception as exc:
			frappe.db.rollback(save_point=savepoint)
			title = _("Follow-up failed for customer {0}").format(action.customer)
			frappe.log_error(title=title)
			if problems is not None:
				problems.append(f"{title}: {exc}")
	return names


def add_tasks(log, action: core.Action) -> None:
	"""What a person must do before the action can go out as planned (an address to complete, a
	phone number to find): one ToDo each on the log, for the people a call or escalation goes to."""
	for task in action.tasks:
		for user in assignees(log):
			frappe.get_doc(
				{
					"doctype": "ToDo",
					"allocated_to": user,
					"description": f"{_(task_text(task, 'en'))} — {log.customer_name or log.customer}",
					"reference_type": "Follow-up Log",
					"reference_name": log.name,
					"date": log.log_date,
					"priority": "High",
				}
			).insert(ignore_permissions=True)


def new_log_for_action(action: core.Action, book, as_of: date, run_name: str | None, edited=None):
	customer = book.customers[action.customer]
	email = customer.email or next(
		(book.contact_emails[i] for i in action.invoices if i in book.contact_emails), ""
	)
	from relance_erpnext.services.desk import step_labels
	from relance_erpnext.services.mapping import site_language

	# Stored for everyone: in the site's language, steps by their labels
	notes_language = "fr" if site_language().startswith("fr") else "en"
	labels = step_labels() if any(line.notes for line in action.lines) else {}
	log = frappe.new_doc("Follow-up Log")
	log.update(
		{
			"customer": action.customer,
			"company": book.company,
			"contact_email": email,
			"log_date": as_of,
			"entry_type": "Automatic",
			"channel": action.channel,
			"status": "Planned",
			"scenario": action.scenario,
			"step": action.step,
			"step_label": action.step_label,
			"tone": action.tone,
			"formal_notice": int(action.formal_notice),
			"run": run_name,
			"currency": action.currency,
			"fee": to_float(action.fee),
		}
	)
	for line in action.lines:
		log.append(
			"invoices",
			{
				"sales_invoice": line.invoice,
				"step": line.step,
				"due_date": line.due,
				"days_late": line.days_late,
				"outstanding": to_float(line.outstanding),
				"interest": to_float(line.interest),
				"indemnity": to_float(line.indemnity),
				"interest_from": line.interest_from,
				"interest_until": line.interest_until,
				"interest_provisional": int(bool(line.missing_rates)),
				"currency": action.currency,
				"notes": "\n".join(describe(n, language=notes_language, labels=labels) for n in line.notes),
			},
		)
	subject, message = render_letter(action, customer, book.company, as_of, edited)
	log.subject, log.message = subject, message
	return log


def render_letter(
	action: core.Action, customer: core.Customer, company: str, as_of: date, edited=None
) -> tuple[str, str]:
	"""Subject and HTML of an action's letter, in the customer's language, with the wording of the
	step's Email Template for that language (`edited`: read once per run by the caller)."""
	from relance_erpnext.dunning.letters import render_action
	from relance_erpnext.services.email_templates import edited_templates

	if edited is None:
		edited = edited_templates()
	letter = render_action(action, sender_for(company), customer, as_of, edited=edited)
	return letter.subject, letter.html


def sender_for(company: str):
	from relance_erpnext.dunning.letters import Sender

	values = frappe.get_cached_value(
		"Company",
		company,
		["company_name", "email", "phone_no", "tax_id", "website", "country"],
		as_dict=True,
	)
	address_name = frappe.db.get_value(
		"Dynamic Link",
		{"link_doctype": "Company", "link_name": company, "parenttype": "Address"},
		"parent",
	)
	lines = ()
	city = ""
	if address_name:
		a = frappe.db.get_value(
			"Address",
			address_name,
			["address_line1", "address_line2", "pincode", "city", "country"],
			as_dict=True,
		)
		city = a.city or ""
		lines = tuple(
			x for x in (a.address_line1, a.address_line2, " ".join(y for y in (a.pincode, a.city) if y)) if x
		)
	return Sender(
		name=values.company_name or company,
		address=lines,
		city=city,
		email=values.email or "",
		phone=values.phone_no or "",
		vat_id=values.tax_id or "",
		website=values.website or "",
		signatory=frappe.get_cached_value("Relance Settings", None, "signatory_name") or "",
		signatory_title=frappe.get_cached_value("Relance Settings", None, "signatory_title") or "",
	)


def send_logs(names: list[str]) -> int:
	"""Send Planned logs: read the outstanding amounts again first, drop what was paid meanwhile."""
	if not names:
		return 0
	logs = [frappe.get_doc("Follow-up Log", name) for name in names]
	invoices = sorted({row.sales_invoice for log in logs for row in log.invoices})
	outstanding = repository.reread_outstanding(invoices)
	sent = 0
	sent_by_run: dict[str, int] = {}
	letters = []
	for log in logs:
		if log.status != "Planned":
			continue
		paid = [row for row in log.invoices if outstanding.get(row.sales_invoice, 0) <= 0]
		for row in paid:
			log.remove(row)
		if not log.invoices:
			log.status = "Cancelled"
			log.answer = _("Paid before sending")
			log.save(ignore_permissions=True)
			continue
		savepoint = "relance_send"
		frappe.db.savepoint(savepoint)
		try:
			deliver(log)
			log.save(ignore_permissions=True)
			if log.status in ("Sent", "To Post"):  # emailed, or printed for the post
				sent += 1
				sent_by_run[log.run or ""] = sent_by_run.get(log.run or "", 0) + 1
			if log.channel in core.POSTAL_CHANNELS:
				letters.append(log)
		except frappe.QueryDeadlockError:
			raise
		except Exception as exc:
			frappe.db.rollback(save_point=savepoint)
			frappe.db.set_value("Follow-up Log", log.name, {"status": "Failed", "error": str(exc)[:500]})
			frappe.log_error(title=_("Sending follow-up {0} failed").format(log.name))
	count_sent(sent_by_run)
	attach_print_batches(letters)
	return sent


LETTER_PRINT_FORMAT = "Lettre de relance"


def letter_file_name(log) -> str:
	"""E.g. "relance-2026-06-15-rappel_courtois": the day and the step, for the customer's files."""
	return f"relance-{log.log_date}-{log.step or log.channel}"


def attach_print_batches(letters: list) -> None:
	"""Every letter sent together goes into one PDF to print, attached to its run (or, for letters
	approved outside a run, to the first letter). A failure here never undoes the sending: the
	letters stay printable one by one from their logs."""
	from collections import defaultdict

	by_run: dict[str, list] = defaultdict(list)
	for log in letters:
		by_run[log.run or ""].append(log)
	for run_name, logs in by_run.items():
		try:
			pdf = merged_letters_pdf([log.name for log in logs])
			doctype, name = ("Relance Run", run_name) if run_name else ("Follow-up Log", logs[0].name)
			stamp = frappe.utils.now_datetime().strftime("%Y%m%d-%H%M%S")
			file = frappe.get_doc(
				{
					"doctype": "File",
					"file_name": f"lettres-{name}-{stamp}.pdf",
					"attached_to_doctype": doctype,
					"attached_to_name": name,
					"is_private": 1,
					"content": pdf,
				}
			).insert(ignore_permissions=True)
			if run_name:
				frappe.db.set_value(
					"Relance Run", run_name, "letters_pdf", file.file_url, update_modified=False
				)
		except frappe.QueryDeadlockError:
			raise
		except Exception:
			frappe.log_error(title=_("The letters to print could not be merged into one PDF"))


def merged_letters_pdf(log_names: list[str]) -> bytes:
	"""One PDF, each letter starting on a new page, in the order given."""
	import io

	from pypdf import PdfWriter

	writer = PdfWriter()
	for name in log_names:
		frappe.get_print("Follow-up Log", name, print_format=LETTER_PRINT_FORMAT, as_pdf=True, output=writer)
	merged = io.BytesIO()  # frappe's read_multi_pdf does this, and is deprecated from v16 on
	writer.write(merged)
	return merged.getvalue()


def deliver(log) -> None:
	"""Hand the log to Frappe's email queue, the print batch or a person's to-do list."""
	if log.channel == core.EMAIL:
		if not log.contact_email:
			raise frappe.ValidationError(_("No email address for customer {0}").format(log.customer))
		sender = frappe.db.get_value(
			"Email Account", frappe.get_cached_value("Relance Settings", None, "sender_email"), "email_id"
		)
		frappe.sendmail(
			recipients=[log.contact_email],
			sender=sender or None,
			subject=log.subject,
			message=log.message,
			reference_doctype="Follow-up Log",
			reference_name=log.name,
			# The letter itself as a PDF to keep or forward, then a copy of each invoice it names
			attachments=[
				{
					"print_format_attachment": 1,
					"doctype": "Follow-up Log",
					"name": log.name,
					"print_format": LETTER_PRINT_FORMAT,
					"file_name": letter_file_name(log),
				},
				*(
					{"print_format_attachment": 1, "doctype": "Sales Invoice", "name": row.sales_invoice}
					for row in log.invoices
				),
			],
		)
		log.status = "Sent"
	elif log.channel in core.POSTAL_CHANNELS:
		# Printed with the run's letters (one merged PDF per run, from the run form); posted by a
		# person, who marks it posted (the day it counts from) and, for a registered letter, delivered
		log.status = "To Post"
	else:
		users = assignees(log)
		for user in users:
			frappe.get_doc(
				{
					"doctype": "ToDo",
					"allocated_to": user,
					"description": f"{log.step_label} — {log.customer_name or log.customer}",
					"reference_type": "Follow-up Log",
					"reference_name": log.name,
					"date": log.log_date,
					"priority": "High" if log.channel == core.ESCALATION else "Medium",
				}
			).insert(ignore_permissions=True)
		log.status = "Planned" if log.channel == core.PHONE else "Sent"


def assignees(log) -> list[str]:
	manager = frappe.db.get_value("Customer", log.customer, "account_manager")
	if log.channel == core.PHONE and manager:
		return [manager]
	from frappe.utils.user import get_users_with_role

	users = [u for u in get_users_with_role("Accounts Manager") if u not in ("Administrator", "Guest")]
	return users[:3] or ["Administrator"]


def summary_html(plan: dict, run_name: str | None = None) -> str:
	"""What a run planned and why the rest waits, from its stored plan (`plan_to_dict`), in the
	language of whoever reads it now: a scheduled run has no user, so its summary is never stored as
	text. Customers link to their form; with `run_name`, the logs the run made are listed."""
	from relance_erpnext.dunning.models import MissingRate
	from relance_erpnext.dunning.reasons import reason_title, task_text
	from relance_erpnext.services.mapping import channel_label
	from relance_erpnext.services.rates import missing_text

	language = "fr" if (frappe.local.lang or "").startswith("fr") else "en"
	esc = frappe.utils.escape_html
	link = frappe.utils.get_link_to_form

	def money(amount: str, currency: str) -> str:
		return frappe.utils.fmt_money(float(amount), currency=currency)

	actions = plan.get("actions", [])
	rows = "".join(
		f"<tr><td>{link('Customer', a['customer'], esc(a['customer_name'] or a['customer']))}</td>"
		f"<td>{esc(a['step_label'])}</td><td>{esc(channel_label(a['channel']))}</td>"
		f"<td style='text-align:right'>{len(a['invoices'])}</td>"
		f"<td style='text-align:right'>{money(a['total'], a['currency'])}</td></tr>"
		for a in actions
	)
	tasks = "".join(
		f"<li>{esc(a['customer_name'] or a['customer'])} : {esc(task_text(code, language))}</li>"
		for a in actions
		for code in a.get("tasks", [])
	)
	reasons: dict[str, int] = {}
	for skip in plan.get("skipped", []):
		reasons[skip["reason"]] = reasons.get(skip["reason"], 0) + 1
	colon = " :" if language == "fr" else ":"
	skipped = "".join(
		f"<li>{esc(reason_title(code, language))}{colon} {count}</li>"
		for code, count in sorted(reasons.items(), key=lambda item: -item[1])
	)
	errors = "".join(f"<li>{esc(e)}</li>" for e in plan.get("errors", []))
	provisional = ""
	if plan.get("provisional"):
		missing = [MissingRate(m["table"], getdate(m["from"]), getdate(m["to"])) for m in plan["provisional"]]
		provisional = "<p class='text-danger'><b>{}</b> {}</p>".format(
			esc(missing_text(missing)),
			esc(
				_(
					"The reminders went out; their interest is provisional, counted up to the last day a known rate covers. Add the rates in Relance Settings."
				)
			),
		)
	logs = ""
	if run_name:
		made = frappe.get_all(
			"Follow-up Log",
			filters={"run": run_name},
			fields=["name", "customer_name", "step_label", "channel", "status"],
			order_by="customer_name",
		)
		logs = "".join(
			f"<li>{link('Follow-up Log', m.name)} — {esc(m.customer_name or '')}, {esc(m.step_label or '')}"
			f" ({esc(channel_label(m.channel))}, {esc(_(m.status))})</li>"
			for m in made
		)
	# Translated outside the f-strings: Frappe's extractor does not read inside them
	customer, step, channel, invoices, total = (
		_("Customer"),
		_("Step"),
		_("Channel"),
		_("Invoices"),
		_("Total"),
	)
	nothing, waiting, errors_title, tasks_title, logs_title = (
		_("Nothing to send on this day."),
		_("Not followed up today"),
		_("Errors"),
		_("To do before sending"),
		_("Follow-up Logs made by this run"),
	)
	table = (
		f"<table class='table table-bordered'><tr><th>{customer}</th><th>{step}</th><th>{channel}</th>"
		f"<th style='text-align:right'>{invoices}</th><th style='text-align:right'>{total}</th></tr>"
		f"{rows}</table>"
		if rows
		else f"<p>{nothing}</p>"
	)
	return (
		provisional
		+ table
		+ (f"<p><b>{tasks_title}</b></p><ul>{tasks}</ul>" if tasks else "")
		+ (f"<p><b>{logs_title}</b></p><ul>{logs}</ul>" if logs else "")
		+ f"<p><b>{waiting}</b></p><ul>{skipped}</ul>"
		+ (f"<p><b>{errors_title}</b></p><ul>{errors}</ul>" if errors else "")
	)
