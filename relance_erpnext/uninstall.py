import frappe

from relance_erpnext.custom_fields import get_custom_fields


def before_uninstall():
	for doctype, fields in get_custom_fields().items():
		frappe.db.delete(
			"Custom Field", {"dt": doctype, "fieldname": ("in", [f["fieldname"] for f in fields])}
		)
		frappe.clear_cache(doctype=doctype)
