"""The "Relance" group in the Connections of ERPNext's Sales Invoice and Customer (hooks.py,
`override_doctype_dashboards`): the follow-up logs, payment promises and payment arrangements. With
Relance Settings' "Hide ERPNext's Own Dunning" (the default), ERPNext's own Dunning leaves the Sales
Invoice (its connection here, its Create button in public/js/sales_invoice.js): two things called
"Relance" on one invoice, one of them at 0 % interest, mislead."""

import frappe
from frappe import _

RELANCE_DOCTYPES = ["Follow-up Log", "Payment Promise", "Payment Arrangement"]


def add_relance_group(data: dict) -> dict:
	data.setdefault("transactions", []).append({"label": _("Relance"), "items": list(RELANCE_DOCTYPES)})
	return data


def hide_erpnext_dunning() -> bool:
	return bool(frappe.db.get_single_value("Relance Settings", "hide_erpnext_dunning"))


def extend_bootinfo(bootinfo):
	bootinfo.relance = {"hide_erpnext_dunning": hide_erpnext_dunning()}


def sales_invoice_dashboard(data):
	"""The three doctypes name the invoice in a child table, in its `sales_invoice` column (Frappe
	finds a child-table field by its name when counting and filtering the list)."""
	if hide_erpnext_dunning():
		for group in data.get("transactions", []):
			group["items"] = [item for item in group.get("items", []) if item != "Dunning"]
	fieldnames = data.setdefault("non_standard_fieldnames", {})
	for doctype in RELANCE_DOCTYPES:
		fieldnames[doctype] = "sales_invoice"
	return add_relance_group(data)


def customer_dashboard(data):
	"""The three doctypes have a `customer` field, the Customer dashboard's own fieldname."""
	return add_relance_group(data)
