"""Reference rates in ERPNext: Relance Settings' rate table kept current by a daily job, and the
warning when a half-year is still missing. The rules (half-years, the ECB rate in force on the 1st,
row checks, merging) are the core's (dunning/rates.py); the fetching is the connector's
(connectors/rates.py): this module only reads and writes the Settings and tells people."""

from __future__ import annotations

from datetime import date

import frappe
from frappe import _
from frappe.utils import getdate, now_datetime, today

from relance_erpnext.dunning.models import MissingRate
from relance_erpnext.dunning.rates import (
	ECB_REFI,
	FR_LEGAL,
	TABLE_NAMES,
	RateRow,
	missing_for,
	next_half_year,
)
from relance_erpnext.services.mapping import to_decimal

SETTINGS = "Relance Settings"
# The tables the rules need each half-year (the consumer legal rate is kept, not used)
WATCHED = (ECB_REFI, FR_LEGAL)


def settings_rows() -> dict[str, list[RateRow]]:
	"""The rate table of Relance Settings, by series, as core rows."""
	rows: dict[str, list[RateRow]] = {name: [] for name in TABLE_NAMES}
	for row in frappe.get_all(
		"Relance Reference Rate",
		filters={"parenttype": SETTINGS, "parent": SETTINGS},
		fields=["series", "valid_from", "valid_until", "rate", "source", "read_on"],
		order_by="valid_from asc",
	):
		if row.series in rows:
			rows[row.series].append(
				RateRow(
					getdate(row.valid_from),
					getdate(row.valid_until) if row.valid_until else None,
					to_decimal(row.rate),
					row.source or "",
					getdate(row.read_on) if row.read_on else None,
				)
			)
	return rows


def missing_now(day: date | None = None) -> tuple[MissingRate, ...]:
	"""The half-years missing for `day` (default today) in the tables the rules need."""
	from relance_erpnext.services.repository import load_rates

	return missing_for(load_rates(), getdate(day or today()), WATCHED)


SERIES_LABELS = {
	"fr_ecb_refi": "ECB main refinancing rate (France, L441-10)",
	"fr_legal_rate": "French legal interest rate (other cases)",
	"fr_legal_rate_consumer": "French legal interest rate (consumers)",
	"qc_legal_rate": "Québec legal interest rate",
}


def series_label(series: str) -> str:
	return _(SERIES_LABELS.get(series, series))


@frappe.whitelist()
def coverage() -> list[dict]:
	"""How far each rate table of Relance Settings goes ("known until 31 December 2026")."""
	frappe.has_permission(SETTINGS, "read", throw=True)
	return [
		{
			"series": series,
			"label": series_label(series),
			"until": rows[-1].valid_until if rows else None,
			"open_ended": bool(rows) and rows[-1].valid_until is None,
		}
		for series, rows in settings_rows().items()
		if rows
	]


def missing_text(missing) -> str:
	"""E.g. "taux du 2nd semestre 2026 manquant : fr_ecb_refi, fr_legal_rate"."""
	by_half: dict[date, list[str]] = {}
	for m in missing:
		by_half.setdefault(m.start, []).append(m.table)
	parts = []
	for start, tables in sorted(by_half.items()):
		half = (
			_("1st half-year {0}").format(start.year)
			if start.month == 1
			else _("2nd half-year {0}").format(start.year)
		)
		parts.append(_("{0} rates missing: {1}").format(half, ", ".join(tables)))
	return "; ".join(parts)


def update_reference_rates(day: str | date | None = None, force: bool = False) -> dict:
	"""The daily job. Does something only when a half-year the rules need is missing for today (or,
	with a legal-rate address, for the next half-year, published before it starts): fetches, merges
	by the core's rules, fills the Settings' table with each rate's source and date read, then sets
	the warning (and notifies Accounts Managers) when a half-year is still missing."""
	from relance_erpnext.connectors.rates import ECB_URL, RateSourceError, fetch_update

	day = getdate(day or today())
	settings = frappe.get_single(SETTINGS)
	missing = missing_now(day)
	wanted = bool(missing)
	if not wanted and settings.rates_legal_url:
		wanted = bool(missing_now(next_half_year(day)[0]))
	log = ""
	if wanted and settings.rates_auto_update:
		try:
			update = fetch_update(
				settings_rows(),
				day,
				ecb_url=settings.rates_ecb_url or ECB_URL,
				legal_url=settings.rates_legal_url or None,
				force=force,
			)
		except RateSourceError as exc:
			log = _("Update failed, nothing was changed: {0}").format(str(exc))
		else:
			log = apply_update(settings, update)
	settings.reload()
	missing = missing_now(day)
	text = missing_text(missing)
	changed = (settings.rates_missing or "") != text
	frappe.db.set_single_value(
		SETTINGS,
		{
			"rates_missing": text,
			"rates_last_check": now_datetime(),
			**({"rates_update_log": log} if log else {}),
		},
	)
	if text and changed:
		notify_accounts_managers(text)
	return {"missing": [m.table + "@" + m.start.isoformat() for m in missing], "log": log}


def apply_update(settings, update) -> str:
	"""Write the merged tables into the Settings (all or nothing): the rows of each table the update
	touched are replaced by the merge's rows. Refused rows are reported and nothing is written."""
	if update.refused:
		return _("Nothing written: {0}").format(
			"; ".join(
				p.describe("fr" if (frappe.local.lang or "").startswith("fr") else "en")
				for p in update.refused
			)
		)
	touched = {name: merge for name, merge in update.merges.items() if merge.changed}
	if not touched:
		return _("Rates up to date, nothing new.")
	keep = [row for row in settings.reference_rates if row.series not in touched]
	settings.set("reference_rates", [])
	for row in keep:
		settings.append("reference_rates", row.as_dict(no_default_fields=True))
	lines = []
	for name, merge in touched.items():
		for row in merge.rows:
			settings.append(
				"reference_rates",
				{
					"series": name,
					"valid_from": row.valid_from,
					"valid_until": row.valid_until,
					"rate": float(row.rate),
					"source": row.source,
					"read_on": row.read_on,
				},
			)
		for row in merge.added + merge.replaced:
			lines.append(f"{name} {row.valid_from.isoformat()}: {row.rate} % — {row.source}")
	settings.flags.ignore_permissions = True
	settings.save()
	return "\n".join(lines)


def notify_accounts_managers(text: str) -> None:
	from frappe.utils.user import get_users_with_role

	users = [u for u in get_users_with_role("Accounts Manager") if u not in ("Administrator", "Guest")]
	subject = _("Relance: {0}. Reminders go out with provisional interest until the rates are added.").format(
		text
	)
	for user in users or ["Administrator"]:
		frappe.get_doc(
			{
				"doctype": "Notification Log",
				"for_user": user,
				"type": "Alert",
				"subject": subject,
				"document_type": SETTINGS,
				"document_name": SETTINGS,
			}
		).insert(ignore_permissions=True)


@frappe.whitelist()
def missing_rates_card(filters=None) -> dict:
	"""The workspace's number card: how many half-years of rates are missing for today."""
	missing = missing_now()
	return {
		"value": len(missing),
		"fieldtype": "Int",
		"route": ["Form", SETTINGS],
	}


@frappe.whitelist()
def update_now() -> dict:
	"""The "Update the rates now" button of Relance Settings."""
	frappe.only_for(("Accounts Manager", "System Manager"))
	return update_reference_rates()
