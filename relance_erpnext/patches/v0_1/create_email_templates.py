from relance_erpnext.services.email_templates import create_email_templates


def execute():
	"""Sites that installed Relance before step letters became Email Templates get them now."""
	create_email_templates()
