"""Custom fields this app adds to ERPNext documents (created at install, removed at uninstall)."""


def _(message: str) -> str:
	# Identity: labels are stored untranslated and translated by Frappe when shown
	return message


HOLD_FIELDS = [
	{
		"fieldname": "relance_hold",
		"fieldtype": "Check",
		"label": _("Follow-up on Hold"),
		"allow_on_submit": 1,
	},
	{
		"fieldname": "relance_hold_kind",
		"fieldtype": "Select",
		"label": _("Hold Kind"),
		"options": "Hold\nDispute",
		"default": "Hold",
		"depends_on": "relance_hold",
		"allow_on_submit": 1,
	},
	{
		"fieldname": "relance_hold_reason",
		"fieldtype": "Small Text",
		"label": _("Hold Reason"),
		"depends_on": "relance_hold",
		"allow_on_submit": 1,
	},
	{
		"fieldname": "relance_hold_until",
		"fieldtype": "Date",
		"label": _("On Hold Until"),
		"depends_on": "relance_hold",
		"allow_on_submit": 1,
		"description": _("Empty: until lifted by hand"),
	},
]


def field_before(doctype: str, tab: str) -> str:
	"""The standard field just before `tab` in ERPNext's layout (it differs between v15 and v16), so
	that a tab inserted after it comes just before `tab`; the last field when `tab` is not there."""
	import frappe

	standard = [df.fieldname for df in frappe.get_meta(doctype).fields if not df.get("is_custom_field")]
	return standard[standard.index(tab) - 1] if tab in standard[1:] else standard[-1]


def get_custom_fields() -> dict[str, list[dict]]:
	return {
		"Customer Group": [
			{
				"fieldname": "relance_scenario",
				"fieldtype": "Link",
				"label": _("Dunning Scenario"),
				"options": "Dunning Scenario",
				"insert_after": "default_price_list",
			},
		],
		"Customer": [
			{
				# Its own tab (it used to split the Accounting tab's credit-limit section)
				"fieldname": "relance_section",
				"fieldtype": "Tab Break",
				"label": _("Relance"),
				"insert_after": field_before("Customer", "settings_tab"),
			},
			{
				# Filled by public/js/relance_forms.js: the history and, on a customer, its overdue invoices
				"fieldname": "relance_follow_up_html",
				"fieldtype": "HTML",
				"label": _("Follow-up"),
				"insert_after": "relance_section",
			},
			{
				"fieldname": "relance_scenario",
				"fieldtype": "Link",
				"label": _("Dunning Scenario"),
				"options": "Dunning Scenario",
				"insert_after": "relance_follow_up_html",
				"description": _("Empty: the customer group's, else the company default"),
			},
			{
				"fieldname": "relance_scenario_by_rule",
				"fieldtype": "Check",
				"label": _("Scenario Set by the Doubtful Customers' Rule"),
				"read_only": 1,
				"insert_after": "relance_scenario",
			},
			*[
				{**f, "insert_after": prev}
				for f, prev in zip(
					HOLD_FIELDS,
					["relance_scenario_by_rule", *[h["fieldname"] for h in HOLD_FIELDS[:-1]]],
					strict=True,
				)
			],
		],
		"Sales Invoice": [
			{
				# Its own tab (it used to be a folded section at the foot of the Terms tab)
				"fieldname": "relance_section",
				"fieldtype": "Tab Break",
				"label": _("Relance"),
				"insert_after": field_before("Sales Invoice", "more_info_tab"),
			},
			{
				# Filled by public/js/relance_forms.js: the history and, on a customer, its overdue invoices
				"fieldname": "relance_follow_up_html",
				"fieldtype": "HTML",
				"label": _("Follow-up"),
				"insert_after": "relance_section",
			},
			{
				"fieldname": "relance_scenario",
				"fieldtype": "Link",
				"label": _("Dunning Scenario"),
				"options": "Dunning Scenario",
				"insert_after": "relance_follow_up_html",
				"allow_on_submit": 1,
				"no_copy": 1,
			},
			{
				"fieldname": "relance_level",
				"fieldtype": "Data",
				"label": _("Follow-up Level"),
				"read_only": 1,
				"no_copy": 1,
				"insert_after": "relance_scenario",
				"allow_on_submit": 1,
			},
			{
				"fieldname": "relance_last_action_date",
				"fieldtype": "Date",
				"label": _("Last Follow-up"),
				"read_only": 1,
				"no_copy": 1,
				"insert_after": "relance_level",
				"allow_on_submit": 1,
			},
			{
				"fieldname": "relance_next_action_date",
				"fieldtype": "Date",
				"label": _("Next Follow-up"),
				"read_only": 1,
				"no_copy": 1,
				"insert_after": "relance_last_action_date",
				"allow_on_submit": 1,
			},
			{
				"fieldname": "relance_column_break",
				"fieldtype": "Column Break",
				"insert_after": "relance_next_action_date",
			},
			*[
				{**f, "insert_after": prev, "no_copy": 1}
				for f, prev in zip(
					HOLD_FIELDS,
					["relance_column_break", *[h["fieldname"] for h in HOLD_FIELDS[:-1]]],
					strict=True,
				)
			],
			{
				"fieldname": "relance_penalty_for",
				"fieldtype": "Link",
				"label": _("Late-payment Penalties for"),
				"options": "Sales Invoice",
				"read_only": 1,
				"no_copy": 1,
				"unique": 1,
				"insert_after": "relance_hold_until",
			},
		],
	}
