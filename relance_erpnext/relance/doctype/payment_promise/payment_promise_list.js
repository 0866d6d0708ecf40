// Copyright (c) 2026, relance_erpnext contributors
// For license information, please see license.txt

// An open promise is a good sign, not an alarm: Frappe's default paints "Open" red
frappe.listview_settings["Payment Promise"] = {
	get_indicator(doc) {
		return {
			Open: [__("Pending"), "orange", "status,=,Open"],
			Kept: [__("Kept"), "green", "status,=,Kept"],
			Broken: [__("Broken"), "red", "status,=,Broken"],
			Cancelled: [__("Cancelled"), "grey", "status,=,Cancelled"],
		}[doc.status];
	},
};
