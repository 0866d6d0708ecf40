"""What the Frappe tests need that differs between Frappe 15 and 16: one name for each, so that the
tests read the same on both versions.

Frappe 16 split its test classes into `UnitTestCase` and `IntegrationTestCase` (every test here uses
a real site: integration) and deprecated `FrappeTestCase`, which Frappe 15 alone has."""

try:  # Frappe 16
	from frappe.tests import IntegrationTestCase, change_settings
except ImportError:  # Frappe 15
	from frappe.tests.utils import FrappeTestCase as IntegrationTestCase
	from frappe.tests.utils import change_settings

__all__ = ["IntegrationTestCase", "change_settings"]
