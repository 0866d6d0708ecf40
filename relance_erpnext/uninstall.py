import frappe

from relance_erpnext.custom_fields import get_custom_fields


def before_uninstall():
	from relance_erpnext.services.email_templates import delete_email_templates

	delete_email_templates()  # Email Template is Frappe's: its rows are not removed with the app
	for doctype, fields in get_custom_fields().items():
		frappe.db.delete(
			"Custom Field", {"dt": doctype, "fieldname": ("in", [f["fieldname"] for f in fields])}
		)
		frappe.clear_cache(doctype=doctype)
