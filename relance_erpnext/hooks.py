app_name = "relance_erpnext"
app_title = "Relance"
app_publisher = "relance_erpnext contributors"
app_description = "Payment follow-up and dunning (relance) for ERPNext"
app_email = "dev@relance-erpnext.local"
app_license = "mit"
required_apps = ["frappe/erpnext"]

# Includes in <head>
# ------------------

# include js, css files in header of desk.html
# app_include_css = "/assets/relance_erpnext/css/relance_erpnext.css"
# app_include_js = "/assets/relance_erpnext/js/relance_erpnext.js"

# include js in doctype views
doctype_js = {
	"Sales Invoice": ["public/js/relance_forms.js", "public/js/sales_invoice.js"],
	"Customer": ["public/js/relance_forms.js", "public/js/customer.js"],
}

# Jinja
# -----

# Methods the Relance print formats call (relance/print_format/*/)
jinja = {
	"methods": [
		"relance_erpnext.relance.print_format.utils.relance_letter",
		"relance_erpnext.relance.print_format.utils.relance_statement",
		"relance_erpnext.relance.print_format.utils.relance_arrangement",
		"relance_erpnext.relance.print_format.utils.relance_penalty_claim",
	],
	"filters": ["relance_erpnext.relance.jinja_filters"],
}

# DocType dashboards: a "Relance" group in the Connections of ERPNext's forms
override_doctype_dashboards = {
	"Sales Invoice": "relance_erpnext.relance.workspace.dashboards.sales_invoice_dashboard",
	"Customer": "relance_erpnext.relance.workspace.dashboards.customer_dashboard",
}

# The desk's boot information: what the forms' scripts need before they draw (public/js)
extend_bootinfo = "relance_erpnext.relance.workspace.dashboards.extend_bootinfo"

# Installation
# ------------

# before_install = "relance_erpnext.install.before_install"
after_install = "relance_erpnext.install.after_install"
after_migrate = "relance_erpnext.install.sync_custom_fields"

# Uninstallation
# ------------

before_uninstall = "relance_erpnext.uninstall.before_uninstall"

# Document Events
# ---------------

doc_events = {
	"Payment Entry": {
		"on_submit": "relance_erpnext.overrides.payments.on_payment_submit",
		"on_cancel": "relance_erpnext.overrides.payments.on_payment_cancel",
	},
	"Customer": {
		"on_update": "relance_erpnext.overrides.holds.note_hold_change",
	},
	"Sales Invoice": {
		# Late-payment penalties stay outside VAT, whatever ERPNext's tax defaults add on save
		"validate": "relance_erpnext.services.penalties.keep_outside_vat",
		# A hold or dispute set on a submitted invoice, with its reason, in its timeline
		"on_update_after_submit": "relance_erpnext.overrides.holds.note_hold_change",
		# A credit note pays the invoice it returns against
		"on_submit": "relance_erpnext.overrides.payments.on_payment_submit",
		"on_cancel": [
			"relance_erpnext.overrides.payments.on_payment_cancel",
			"relance_erpnext.overrides.payments.on_invoice_cancel",
		],
	},
}

# Scheduled Tasks
# ---------------

scheduler_events = {
	# Reference rates first (it does something only while a half-year is missing), then the run
	"daily": ["relance_erpnext.tasks.update_reference_rates"],
	"daily_long": ["relance_erpnext.tasks.run_daily_follow_up"],
}

# Testing
# -------

# To set up company and accounts
before_tests = "erpnext.setup.utils.before_tests"
