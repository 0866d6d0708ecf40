"""Small builders for test books (no Frappe, no fakes: plain core objects)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from relance_erpnext.dunning import (
	BUILTIN_SCENARIOS,
	Customer,
	Instalment,
	Invoice,
	Payment,
	PlanSettings,
	load_reference_rates,
	plan,
)

RATES = load_reference_rates()
ADDRESS = ("1 rue de la Paix", "75002 Paris")


def customer(id="C1", **kw) -> Customer:
	kw.setdefault("name", f"Client {id}")
	kw.setdefault("email", f"{id.lower()}@example.fr")
	kw.setdefault("address", ADDRESS)
	kw.setdefault("phone", "01 02 03 04 05")
	return Customer(id=id, **kw)


def invoice(id="F1", customer="C1", due=date(2026, 3, 1), amount="1000", payments=(), currency="EUR", **kw):
	instalments = kw.pop("instalments", None)
	if instalments is None:
		instalments = (Instalment(due, Decimal(amount)),)
	return Invoice(
		id=id,
		customer=customer,
		currency=currency,
		issued=kw.pop("issued", date(2026, 1, 1)),
		instalments=instalments,
		payments=tuple(Payment(d, Decimal(a)) for d, a in payments),
		**kw,
	)


def run(as_of, customers, invoices, history=(), settings=PlanSettings(), **kw):  # noqa: B008
	by_id = {c.id: c for c in customers}
	return plan(
		as_of, by_id, invoices, history, kw.pop("scenarios", BUILTIN_SCENARIOS), RATES, settings, **kw
	)


def day_folder(out):
	"""The folder of the day `relance run --out OUT` wrote into (OUT/YYYY-MM-DD/): the only (or latest) one."""
	from pathlib import Path

	days = sorted(p for p in Path(out).iterdir() if p.is_dir() and p.name[:4].isdigit())
	assert days, f"no day folder in {out}"
	return days[-1]
