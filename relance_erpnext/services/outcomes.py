"""What the customer answered, and what the app does about it (seed 004): a Follow-up Outcome per
answer (data, editable; the defaults below are created at install and after each migrate when
missing), and `record_answer`, which writes the answer into the follow-up and carries out its
outcome's actions where people see them (a Payment Promise, a dispute, a ToDo, the invoice emailed
again, a draft arrangement). The rules that read these documents are the core's."""

from __future__ import annotations

import frappe
from frappe import _
from frappe.utils import add_days, getdate, today

from relance_erpnext.dunning.outcomes import ERPNEXT_OUTCOMES, OUTCOMES

# ERPNext's outcome name → what it does here, and what to answer (seed 004, "Réponse à apporter")
DEFAULTS: dict[str, dict] = {
	"No Answer": {"call_back": 1, "pause_days": 2},
	"Promise to Pay": {
		"standard_answer": "Obtenez une date précise et un montant, et faites-les confirmer par écrit "
		"(un courriel suffit).",
	},
	"Dispute": {
		"notify_account_manager": 1,
		"standard_answer": "Notez précisément l'objet du litige et les factures concernées ; le "
		"responsable du compte est prévenu. Le reste des sommes dues reste exigible.",
	},
	"Paid": {
		"pause_days": 5,
		"standard_answer": "Demandez la date, le montant et le moyen de paiement ; la relance reprend "
		"si rien n'arrive.",
	},
	"Refused": {"notify_account_manager": 1},
	"Invoice Not Received": {
		"resend_invoice": 1,
		"deadline_days": 8,
		"call_back": 1,
		"pause_days": 2,
		"standard_answer": "Envoyez immédiatement un duplicata conforme par courriel (fait à "
		"l'enregistrement), si nécessaire aussi par courrier, puis rappelez le client pour obtenir "
		"une confirmation de paiement immédiate.",
	},
	"Cheque Lost": {
		"standard_answer": "Après une courte vérification de l'absence de réception du chèque, "
		"envoyez une lettre de désistement et demandez un paiement immédiat par virement (les "
		"virements ne se perdent pas par la poste).",
	},
	"Waiting for Their Customer": {
		"standard_answer": "Cette raison n'est pas acceptable : vous n'êtes pas concerné par la "
		"relation de votre client avec son propre client. Exigez qu'il respecte ses engagements "
		"envers votre entreprise.",
	},
	"Signatory Absent": {
		"call_back": 1,
		"standard_answer": "Rappelez dès le retour du signataire, et demandez pour les prochaines "
		"échéances un autre moyen de paiement (lettre de change, billet à ordre) reçu avant "
		"l'échéance.",
	},
	"Due Date Disputed": {
		"notify_account_manager": 1,
		"standard_answer": "Mettez-vous d'accord avec le client sur une seule méthode de calcul (par "
		"exemple pour les 45 jours fin de mois) afin d'éviter tout litige à l'avenir, et obtenez une "
		"confirmation écrite.",
	},
	"Wrong Invoice Details": {
		"notify_account_manager": 1,
		"standard_answer": "Refaites immédiatement la facture avec une échéance à vue, envoyez-la par "
		"courriel et demandez une confirmation de paiement immédiate.",
	},
	"Delivery Note Missing": {
		"resend_invoice": 1,
		"deadline_days": 8,
		"standard_answer": "Envoyez immédiatement le bon de livraison par courriel (la facture part "
		"avec) et exigez un règlement immédiat.",
	},
	"Weekly Payment Run": {
		"standard_answer": "Exigez une confirmation de paiement pour le prochain jour de règlement. "
		"Rappelez que l'échéance s'entend date du crédit sur votre compte : si les règlements ne "
		"partent qu'une fois par semaine, le paiement doit partir la veille de l'échéance.",
	},
	"Cash-flow Problems": {
		"draft_arrangement": 1,
		"standard_answer": "Si les difficultés sont avérées, négociez un échéancier le plus court "
		"possible, contractualisé ou au minimum confirmé par écrit.",
	},
	"Other": {},
}


def default_outcomes() -> list[dict]:
	"""Every outcome of the core that ERPNext names, with its label and effect from the core."""
	rows = []
	for name, code in ERPNEXT_OUTCOMES.items():
		core = OUTCOMES[code]
		rows.append(
			{
				"doctype": "Follow-up Outcome",
				"outcome_name": name,
				"code": code,
				"title": core.fr[:1].upper() + core.fr[1:],
				"effect": core.effect if core.effect in ("promise", "dispute", "hold", "resume") else "none",
				**DEFAULTS.get(name, {}),
			}
		)
	return rows


def create_default_outcomes() -> None:
	"""The missing ones only: an outcome edited on the site stays as it was edited."""
	for row in default_outcomes():
		if not frappe.db.exists("Follow-up Outcome", row["outcome_name"]):
			frappe.get_doc(row).insert(ignore_permissions=True)


@frappe.whitelist()
def outcome_help(outcome: str) -> dict:
	"""What the dialog shows once an answer is picked: the standard answer and what will be done."""
	doc = frappe.get_cached_doc("Follow-up Outcome", outcome)
	return {
		"standard_answer": doc.standard_answer or "",
		"effect": doc.effect,
		"asks_date": doc.effect in ("promise", "dispute", "hold") or bool(doc.call_back),
		"asks_amount": doc.effect == "promise",
		"actions": planned_actions(doc),
	}


def planned_actions(doc) -> list[str]:
	actions = {
		"promise": _("a Payment Promise pauses the follow-up until its date"),
		"dispute": _("the invoices are put in dispute: no reminder until it ends"),
		"hold": _("the invoices are put on hold"),
		"resume": _("their dispute or hold ends: the follow-up resumes"),
	}
	done = [actions[doc.effect]] if doc.effect in actions else []
	if doc.resend_invoice:
		done.append(
			_("the invoices are emailed again now, to be paid within {0} days").format(doc.deadline_days)
		)
	if doc.call_back:
		done.append(_("a ToDo to call back on the date given"))
	if doc.notify_account_manager:
		done.append(_("a ToDo for the account manager"))
	if doc.draft_arrangement:
		done.append(_("a draft Payment Arrangement to complete"))
	return done


@frappe.whitelist()
def record_answer(
	customer: str,
	company: str,
	invoices: str | list,
	outcome: str,
	day: str | None = None,
	amount: float | None = None,
	notes: str | None = None,
	log: str | None = None,
	channel: str = "phone",
) -> dict:
	"""The customer's answer about these invoices, and what its outcome does. With `log` (a call to
	make), the answer completes that log; otherwise a log of the exchange is made. Returns what was
	done, for the person to see."""
	invoices = frappe.parse_json(invoices) if isinstance(invoices, str) else list(invoices)
	if not invoices:
		frappe.throw(_("Choose the invoices the answer is about."))
	config = frappe.get_doc("Follow-up Outcome", outcome)
	day = getdate(day) if day else None
	done: dict = {"actions": []}
	entry = answer_log(customer, company, invoices, config, notes, log, channel)
	done["log"] = entry.name
	until = day or add_days(today(), config.pause_days or 7)
	until_text = frappe.format(until, {"fieldtype": "Date"})  # as the person reads dates
	if config.effect == "promise":
		promise = frappe.get_doc(
			{
				"doctype": "Payment Promise",
				"customer": customer,
				"company": company,
				"promised_date": until,
				"amount": amount or None,
				"made_on": today(),
				"notes": notes,
				"invoices": [{"sales_invoice": name} for name in invoices],
			}
		).insert()
		done["promise"] = promise.name
		done["actions"].append(_("Payment Promise {0} until {1}").format(promise.name, until_text))
	if config.effect in ("dispute", "hold", "resume"):
		set_holds(invoices, config.effect, notes or config.title, day)
		done["actions"].append(
			{
				"dispute": _("Invoices put in dispute"),
				"hold": _("Invoices put on hold"),
				"resume": _("Dispute or hold ended"),
			}[config.effect]
		)
	if config.resend_invoice:
		done["email"] = resend_invoices(customer, company, invoices, config, entry)
		done["actions"].append(_("Invoices emailed again to {0}").format(done["email"]))
	if config.call_back:
		todo(entry, [frappe.session.user], _("Call back {0}").format(entry.customer_name or customer), until)
		done["actions"].append(_("ToDo: call back on {0}").format(until_text))
	if config.notify_account_manager:
		manager = frappe.db.get_value("Customer", customer, "account_manager")
		from relance_erpnext.services.runner import assignees

		users = [manager] if manager else assignees(entry)
		todo(entry, users, _("{0}: {1}").format(config.title, entry.customer_name or customer), today())
		done["actions"].append(_("ToDo for {0}").format(", ".join(users)))
	if config.draft_arrangement:
		arrangement = frappe.new_doc("Payment Arrangement")
		arrangement.update({"customer": customer, "company": company, "agreed_on": today(), "notes": notes})
		for name in invoices:
			arrangement.append("invoices", {"sales_invoice": name})
		arrangement.flags.ignore_mandatory = True  # its schedule is for the person to complete
		arrangement.insert()
		done["arrangement"] = arrangement.name
		done["actions"].append(_("Draft Payment Arrangement {0} to complete").format(arrangement.name))
	return done


def answer_log(customer, company, invoices, config, notes, log, channel):
	"""The call that was to be made, now answered; or a new log of the exchange."""
	if log:
		entry = frappe.get_doc("Follow-up Log", log)
		entry.outcome = config.name
		entry.answer = notes or config.title
		entry.save()  # a call answered is done (its ToDo closes)
		return entry
	rows = frappe.get_all(
		"Sales Invoice",
		filters={"name": ("in", invoices)},
		fields=["name", "due_date", "outstanding_amount", "currency"],
	)
	entry = frappe.get_doc(
		{
			"doctype": "Follow-up Log",
			"customer": customer,
			"company": company,
			"log_date": today(),
			"entry_type": "Manual",
			"channel": channel,
			"status": "Done",
			"outcome": config.name,
			"answer": notes or config.title,
			"currency": rows[0].currency if rows else None,
			"invoices": [
				{"sales_invoice": r.name, "due_date": r.due_date, "outstanding": r.outstanding_amount}
				for r in rows
			],
		}
	)
	return entry.insert()


def set_holds(invoices: list[str], effect: str, reason: str, until) -> None:
	for name in invoices:
		invoice = frappe.get_doc("Sales Invoice", name)
		if effect == "resume":
			invoice.update({"relance_hold": 0, "relance_hold_reason": "", "relance_hold_until": None})
		else:
			invoice.update(
				{
					"relance_hold": 1,
					"relance_hold_kind": "Dispute" if effect == "dispute" else "Hold",
					"relance_hold_reason": reason,
					"relance_hold_until": until,
				}
			)
		invoice.save()  # allowed on a submitted invoice; its timeline says why


def todo(entry, users: list[str], description: str, day) -> None:
	for user in users:
		frappe.get_doc(
			{
				"doctype": "ToDo",
				"allocated_to": user,
				"description": description,
				"reference_type": "Follow-up Log",
				"reference_name": entry.name,
				"date": day,
			}
		).insert(ignore_permissions=True)


def resend_invoices(customer: str, company: str, invoices: list[str], config, entry) -> str:
	"""The invoices emailed again now, as PDFs, with a short deadline; the exchange counts as the
	customer's latest reminder (the next step is timed from today)."""
	from relance_erpnext.dunning.letters import format_date
	from relance_erpnext.services.runner import sender_for

	email = frappe.db.get_value("Customer", customer, "email_id") or frappe.db.get_value(
		"Contact", {"name": frappe.db.get_value("Customer", customer, "customer_primary_contact")}, "email_id"
	)
	if not email:
		frappe.throw(_("No email address for customer {0}").format(customer))
	language = (frappe.db.get_value("Customer", customer, "language") or "fr")[:2]
	pay_by = format_date(getdate(add_days(today(), config.deadline_days or 8)), language)
	names = ", ".join(invoices)
	subject = (
		_("Duplicate of invoice(s) {0}", language).format(names)
		if language == "en"
		else f"Duplicata de la facture {names}"
		if len(invoices) == 1
		else f"Duplicata des factures {names}"
	)
	body = (
		f"<p>Dear Sir or Madam,</p><p>As agreed, please find attached a copy of invoice(s) {names}. "
		f"We would be grateful if you could settle it by {pay_by}.</p><p>Kind regards,<br>{sender_for(company).name}</p>"
		if language == "en"
		else f"<p>Madame, Monsieur,</p><p>Comme convenu, vous trouverez ci-joint le duplicata de la facture "
		f"{names}. Nous vous remercions de bien vouloir procéder à son règlement au plus tard le {pay_by}.</p>"
		f"<p>Bien cordialement,<br>{sender_for(company).name}</p>"
	)
	frappe.sendmail(
		recipients=[email],
		subject=subject,
		message=body,
		reference_doctype="Follow-up Log",
		reference_name=entry.name,
		attachments=[
			{"print_format_attachment": 1, "doctype": "Sales Invoice", "name": name} for name in invoices
		],
	)
	# The exchange is the latest reminder of these invoices: their next step counts from today
	last = last_steps(invoices)
	if last:
		copy = frappe.get_doc(
			{
				"doctype": "Follow-up Log",
				"customer": customer,
				"company": company,
				"log_date": today(),
				"entry_type": "Manual",
				"channel": "email",
				"status": "Sent",
				"subject": subject,
				"message": body,
				"contact_email": email,
				"answer": _("Invoice sent again after the answer {0}").format(config.title),
				"invoices": [{"sales_invoice": name, "step": step} for name, step in last.items()],
			}
		)
		copy.insert(ignore_permissions=True)
	return email


def last_steps(invoices: list[str]) -> dict[str, str]:
	"""Each invoice's latest step already taken (for the re-timing of the next one)."""
	line = frappe.qb.DocType("Follow-up Log Invoice")
	log = frappe.qb.DocType("Follow-up Log")
	rows = (
		frappe.qb.from_(line)
		.join(log)
		.on(line.parent == log.name)
		.select(line.sales_invoice, line.step, log.log_date)
		.where(
			line.sales_invoice.isin(invoices) & line.step.isnotnull() & (line.parenttype == "Follow-up Log")
		)
		.orderby(log.log_date)
		.run(as_dict=True)
	)
	return {row.sales_invoice: row.step for row in rows if row.step}
