"""Benchmark on a real site (a script, not a test): planning queries and time against ERPNext's own
Accounts Receivable report, at growing numbers of submitted invoices.

	bench --site SITE execute relance_erpnext.benchmark.run --kwargs "{'sizes': [500, 5000]}"

For each size it creates (and keeps) a company "Relance Bench <size>" with that many submitted Sales
Invoices, late by 0 to 90 days, over one customer per ten invoices (`companies` names other ones; a
company that already has the invoices is only measured). It prints, per size: the SQL queries issued by one dry-run planning (must not grow with the number of invoices),
the planning time, and the Accounts Receivable report's time on the same data, with the ratio.
"""

from __future__ import annotations

import random
import time

import frappe
from frappe.utils import add_days, getdate

ITEM = "_Relance Prestation"
AS_OF = getdate("2026-06-15")


def run(sizes=(500, 5000), repeat: int = 3, companies=None):
	frappe.set_user("Administrator")
	companies = companies or [f"Relance Bench {size}" for size in sizes]
	print(f"# Relance planning vs Accounts Receivable, as of {AS_OF}")
	print(
		f"{'company':>20} {'invoices':>9} {'queries':>8} {'plan s':>8} {'AR s':>8} {'AR/plan':>8}"
		f" {'actions':>8} {'build s':>8}"
	)
	for size, company in zip(sizes, companies, strict=True):
		started = time.perf_counter()
		abbr = _company(company)
		_ensure_invoices(company, abbr, int(size))
		built = time.perf_counter() - started
		count = frappe.db.count("Sales Invoice", {"company": company, "docstatus": 1})
		queries, plan_seconds, actions = _time_planning(company, repeat)
		report_seconds = _time_receivable_report(company, repeat)
		print(
			f"{company:>20} {count:>9} {queries:>8} {plan_seconds:>8.3f} {report_seconds:>8.3f} "
			f"{report_seconds / plan_seconds:>8.1f} {actions:>8} {built:>8.0f}",
			flush=True,
		)


def _time_planning(company: str, repeat: int) -> tuple[int, float, int]:
	from relance_erpnext.services.runner import make_plan

	make_plan(company, AS_OF)  # warm the caches, as a daily run finds them
	counter = _QueryCounter()
	with counter:
		_, result = make_plan(company, AS_OF)
	best = min(_timed(lambda: make_plan(company, AS_OF)) for _ in range(repeat))
	return counter.count, best, len(result.actions)


def _time_receivable_report(company: str, repeat: int) -> float:
	from erpnext.accounts.report.accounts_receivable.accounts_receivable import execute

	filters = frappe._dict(
		company=company, report_date=AS_OF, ageing_based_on="Due Date", range="30, 60, 90, 120"
	)
	execute(filters.copy())
	return min(_timed(lambda: execute(filters.copy())) for _ in range(repeat))


def _timed(fn) -> float:
	started = time.perf_counter()
	fn()
	return time.perf_counter() - started


class _QueryCounter:
	"""Counts every SQL statement sent through frappe.db.sql while active."""

	def __enter__(self):
		self.count = 0
		self._sql = frappe.db.sql

		def counting(*args, **kwargs):
			self.count += 1
			return self._sql(*args, **kwargs)

		frappe.db.sql = counting
		return self

	def __exit__(self, *exc):
		frappe.db.sql = self._sql


def _company(company: str) -> str:
	if not frappe.db.exists("Company", company):
		frappe.get_doc(
			{
				"doctype": "Company",
				"company_name": company,
				"abbr": "RB" + "".join(ch for ch in company if ch.isdigit())[:6] or "RB",
				"default_currency": "EUR",
				"country": "France",
				"create_chart_of_accounts_based_on": "Standard Template",
				"chart_of_accounts": "Standard",
			}
		).insert()
	if not frappe.db.exists("Item", ITEM):
		frappe.get_doc(
			{
				"doctype": "Item",
				"item_code": ITEM,
				"item_group": frappe.db.get_value("Item Group", {"is_group": 0}, "name"),
				"stock_uom": "Nos",
				"is_stock_item": 0,
			}
		).insert()
	frappe.db.commit()  # nosemgrep: a long-running script keeps what it built
	return frappe.db.get_value("Company", company, "abbr")


def _ensure_invoices(company: str, abbr: str, target: int):
	have = frappe.db.count("Sales Invoice", {"company": company, "docstatus": 1})
	rng = random.Random(target)
	group = frappe.db.get_value("Customer Group", {"is_group": 0}, "name")
	territory = frappe.db.get_value("Territory", {"is_group": 0}, "name")
	for i in range(have, target):
		customer = f"Client Bench {abbr} {i // 10:05d}"
		if not frappe.db.exists("Customer", customer):
			frappe.get_doc(
				{
					"doctype": "Customer",
					"customer_name": customer,
					"customer_type": "Company",
					"customer_group": group,
					"territory": territory,
					"email_id": f"bench{i // 10}@example.com",
				}
			).insert()
		due = add_days(AS_OF, -rng.randint(0, 90))
		invoice = frappe.get_doc(
			{
				"doctype": "Sales Invoice",
				"company": company,
				"customer": customer,
				"currency": "EUR",
				"conversion_rate": 1,
				"set_posting_time": 1,
				"posting_date": add_days(due, -30),
				"due_date": due,
				"debit_to": f"Debtors - {abbr}",
				"items": [
					{
						"item_code": ITEM,
						"qty": 1,
						"rate": rng.randint(100, 5000),
						"income_account": f"Sales - {abbr}",
						"cost_center": f"Main - {abbr}",
					}
				],
			}
		)
		invoice.insert()
		invoice.submit()
		if i % 100 == 99:
			frappe.db.commit()  # nosemgrep: keep progress in a long build
	frappe.db.commit()  # nosemgrep
