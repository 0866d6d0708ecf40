import click
import frappe
from frappe.custom.doctype.custom_field.custom_field import create_custom_fields

from relance_erpnext.custom_fields import get_custom_fields
from relance_erpnext.dunning import BUILTIN_SCENARIOS
from relance_erpnext.dunning.rates import TABLE_NAMES, load_reference_rates
from relance_erpnext.services.email_templates import create_email_templates


def sync_custom_fields():
	"""After every migrate: the custom fields as this version of the app defines them (new ones
	created, moved ones moved), and the default answers' outcomes that are missing, so an update
	needs no patch for them."""
	from relance_erpnext.services.outcomes import create_default_outcomes

	create_custom_fields(get_custom_fields(), ignore_validate=True, update=True)
	create_default_outcomes()


def after_install():
	try:
		sync_custom_fields()
		create_builtin_scenarios()
		create_email_templates()
		seed_settings()
		click.secho(
			"Relance is set up: scenarios, email templates, custom fields and reference rates are in place.",
			fg="green",
		)
	except Exception:
		click.secho("Setting up Relance failed; see the error below.", fg="bright_red")
		raise


def create_builtin_scenarios():
	from relance_erpnext.services.mapping import step_rows

	for key, scenario in BUILTIN_SCENARIOS.items():
		if frappe.db.exists("Dunning Scenario", key):
			continue
		frappe.get_doc(
			{
				"doctype": "Dunning Scenario",
				"scenario_key": key,
				"scenario_name": scenario.name,
				"is_builtin": 1,
				"steps": step_rows(scenario),
			}
		).insert(ignore_permissions=True)


def seed_settings():
	settings = frappe.get_single("Relance Settings")
	if not settings.default_scenario:
		settings.default_scenario = "standard"
	if not settings.reference_rates:
		rates = load_reference_rates()
		for name in TABLE_NAMES:
			for row in rates.table(name).rows:
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
	settings.flags.ignore_permissions = True
	settings.save()
