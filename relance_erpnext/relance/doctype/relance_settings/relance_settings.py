# Copyright (c) 2026, relance_erpnext contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document


class RelanceSettings(Document):
	def validate(self):
		self.validate_penalty_item()
		self.sort_reference_rates()
		self.validate_reference_rates()

	def sort_reference_rates(self):
		"""By series, then by date: a table people read and extend at its end."""
		self.reference_rates.sort(key=lambda row: (row.series or "", str(row.valid_from or "")))
		for idx, row in enumerate(self.reference_rates, start=1):
			row.idx = idx

	def on_update(self):
		if self.has_value_changed("hide_erpnext_dunning"):
			frappe.clear_cache()  # the desk reads it from the session's boot information

	def validate_reference_rates(self):
		"""Each row by the core's rules (a rate between -5 and 30, a whole half-year, a source); each
		series a table without gap or overlap. A row typed by hand is dated today."""
		from frappe.utils import getdate, today

		from relance_erpnext.dunning.errors import RateTableError
		from relance_erpnext.dunning.rates import RateRow, RateTable, check_row
		from relance_erpnext.services.mapping import to_decimal

		language = "fr" if (frappe.local.lang or "").startswith("fr") else "en"
		by_series: dict[str, list] = {}
		for row in self.reference_rates:
			if not row.read_on and row.is_new():
				row.read_on = today()
			core = RateRow(
				getdate(row.valid_from),
				getdate(row.valid_until) if row.valid_until else None,
				to_decimal(row.rate),
				(row.source or "").strip(),
			)
			for problem in check_row(row.series, core):
				frappe.throw(
					_("Reference Rates, row {0}: {1}").format(row.idx, problem.describe(language)),
					title=_("Reference Rates"),
				)
			by_series.setdefault(row.series, []).append(core)
		for series, rows in by_series.items():
			try:
				RateTable(series, rows)
			except RateTableError as exc:
				frappe.throw(_("Reference Rates: {0}").format(str(exc)), title=_("Reference Rates"))

	def validate_penalty_item(self):
		if not self.bill_penalties:
			return
		if not self.penalty_item:
			frappe.throw(_("Set the Penalty Item to bill late-payment penalties."), title=_("Penalties"))
		if frappe.db.get_value("Item", self.penalty_item, "is_stock_item"):
			frappe.throw(
				_("Penalty Item {0} must not be a stock item.").format(self.penalty_item),
				title=_("Penalties"),
			)
