// Copyright (c) 2026, relance_erpnext contributors
// For license information, please see license.txt

frappe.query_reports["Late Invoices by Delay"] = {
	filters: [
		{
			fieldname: "company",
			label: __("Company"),
			fieldtype: "Link",
			options: "Company",
			default: frappe.defaults.get_user_default("Company"),
			reqd: 1,
		},
		{ fieldname: "as_of", label: __("As Of"), fieldtype: "Date", default: frappe.datetime.get_today() },
		{ fieldname: "customer", label: __("Customer"), fieldtype: "Link", options: "Customer" },
		{ fieldname: "scenario", label: __("Scenario"), fieldtype: "Link", options: "Dunning Scenario" },
		{ fieldname: "level", label: __("Last Step"), fieldtype: "Data" },
		{
			fieldname: "buckets",
			label: __("Delay Buckets"),
			fieldtype: "Select",
			options: "1-7 / 8-15 / >15\n30/60/90",
			default: "1-7 / 8-15 / >15",
		},
		{ fieldname: "include_not_due", label: __("Include Invoices Not Yet Due"), fieldtype: "Check" },
	],
};
