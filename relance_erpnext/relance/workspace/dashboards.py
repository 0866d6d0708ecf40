"""The "Relance" group in the Connections of ERPNext's Sales Invoice and Customer (hooks.py,
`override_doctype_dashboards`): the follow-up logs, payment promises and payment arrangements."""

from frappe import _

RELANCE_DOCTYPES = ["Follow-up Log", "Payment Promise", "Payment Arrangement"]


def add_relance_group(data: dict) -> dict:
	data.setdefault("transactions", []).append({"label": _("Relance"), "items": list(RELANCE_DOCTYPES)})
	return data


def sales_invoice_dashboard(data):
	"""The three doctypes name the invoice in a child table, in its `sales_invoice` column (Frappe
	finds a child-table field by its name when counting and filtering the list)."""
	fieldnames = data.setdefault("non_standard_fieldnames", {})
	for doctype in RELANCE_DOCTYPES:
		fieldnames[doctype] = "sales_invoice"
	return add_relance_group(data)


def customer_dashboard(data):
	"""The three doctypes have a `customer` field, the Customer dashboard's own fieldname."""
	return add_relance_group(data)
