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
				"fieldname": "relance_section",
				"fieldtype": "Section Break",
				"label": _("Relance"),
				"insert_after": "payment_terms",
				"collapsible": 1,
			},
			{
				"fieldname": "relance_scenario",
				"fieldtype": "Link",
				"label": _("Dunning Scenario"),
				"options": "Dunning Scenario",
				"insert_after": "relance_section",
				"description": _("Empty: the customer group's, else the company default"),
			},
			*[
				{**f, "insert_after": prev}
				for f, prev in zip(
					HOLD_FIELDS,
					["relance_scenario", *[h["fieldname"] for h in HOLD_FIELDS[:-1]]],
					strict=True,
				)
			],
		],
		"Sales Invoice": [
			{
				"fieldname": "relance_section",
				"fieldtype": "Section Break",
				"label": _("Relance"),
				"insert_after": "payment_schedule",
				"collapsible": 1,
			},
			{
				"fieldname": "relance_scenario",
				"fieldtype": "Link",
				"label": _("Dunning Scenario"),
				"options": "Dunning Scenario",
				"insert_after": "relance_section",
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
