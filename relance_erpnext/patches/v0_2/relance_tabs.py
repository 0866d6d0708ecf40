"""The Relance fields of Customer and Sales Invoice move to a tab of their own."""

from frappe.custom.doctype.custom_field.custom_field import create_custom_fields

from relance_erpnext.custom_fields import get_custom_fields


def execute():
	create_custom_fields(get_custom_fields(), ignore_validate=True, update=True)
