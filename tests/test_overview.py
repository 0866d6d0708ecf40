"""The weekly overview: the core (`dunning.overview`, `planner.plan_ahead`) and `relance overview`."""

from __future__ import annotations

import contextlib
import io
import json
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from relance_erpnext import cli
from relance_erpnext.dunning import (
	AGEING_BUCKETS,
	BUILTIN_SCENARIOS,
	Hold,
	Instalment,
	PlanSettings,
	Promise,
	build_overview,
	overview_to_dict,
	plan,
	plan_ahead,
	plan_to_dict,
)

from .helpers import RATES, customer, invoice

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "relance_erpnext" / "connectors" / "sample" / "registre_exemple.csv"
SAMPLE_CONFIG = ROOT / "relance_erpnext" / "connectors" / "sample" / "entreprise_exemple.toml"
AS_OF = date(2026, 6, 15)
from .test_cli import run_cli

MONEY = re.compile(r"^-?\d+\.\d{2}$")


def ago(days: int) -> date:
	return AS_OF - timedelta(days=days)


def week_of(customers, invoices, history=(), days=7, settings=PlanSettings()):  # noqa: B008
	by_id = {c.id: c for c in customers}
	return by_id, plan_ahead(AS_OF, by_id, invoices, history, BUILTIN_SCENARIOS, RATES, settings, days=days)


def overview_of(customers, invoices, promises=(), bounds=(7, 15)):
	by_id, plans = week_of(customers, invoices)
	return build_overview(AS_OF, by_id, invoices, plans, promises=promises, bounds=bounds)


# A small book whose totals are computed by hand below
CUSTOMERS = (customer("C1", name="Alpha SARL"), customer("C2", name="Bêta inc."))
BOOK = (
	invoice("E1", "C1", due=ago(1), amount="100.10"),  # 1-7
	invoice("E2", "C1", due=ago(7), amount="200.20"),  # 1-7 (its last day)
	invoice("E3", "C1", due=ago(8), amount="300.30"),  # 8-15 (its first day)
	invoice("E4", "C2", due=ago(16), amount="400.40", payments=((ago(10), "100.00"),)),  # >15, 300.40 left
	invoice("E5", "C2", due=ago(15), amount="50.00"),  # 8-15
	invoice("E6", "C1", due=AS_OF, amount="999.00"),  # due today: not late
	invoice("E7", "C1", due=ago(30), amount="80.00", payments=((ago(29), "80.00"),)),  # paid
	invoice("E8", "C1", due=ago(30), amount="70.00", cancelled=True),  # cancelled
	invoice("K1", "C1", due=ago(3), amount="1000.00", currency="CAD"),  # 1-7, CAD
	invoice("K2", "C2", due=ago(40), amount="2500.55", currency="CAD"),  # >15, CAD
)


def test_bucket_totals_by_hand_and_per_currency():
	ov = overview_of(CUSTOMERS, BOOK)
	assert ov.buckets == ("1-7", "8-15", ">15")
	assert ov.until == date(2026, 6, 21)
	totals = {(t.currency, t.bucket): (t.invoices, t.amount) for t in ov.bucket_totals}
	assert totals == {
		("EUR", "1-7"): (2, Decimal("300.30")),  # E1 + E2
		("EUR", "8-15"): (2, Decimal("350.30")),  # E3 + E5
		("EUR", ">15"): (1, Decimal("300.40")),  # E4, after its partial payment
		("CAD", "1-7"): (1, Decimal("1000.00")),
		("CAD", "8-15"): (0, Decimal("0")),  # an empty bucket still has its row
		("CAD", ">15"): (1, Decimal("2500.55")),
	}
	assert {(t.currency, t.invoices, t.amount) for t in ov.currency_totals} == {
		("EUR", 5, Decimal("951.00")),
		("CAD", 2, Decimal("3500.55")),
	}
	assert [row.invoice for row in ov.late] == ["K2", "E4", "E5", "E3", "E2", "K1", "E1"]  # oldest first


def test_customer_totals_never_mix_currencies():
	ov = overview_of(CUSTOMERS, BOOK)
	rows = {(t.customer, t.currency): t for t in ov.customer_totals}
	assert set(rows) == {("C1", "EUR"), ("C1", "CAD"), ("C2", "EUR"), ("C2", "CAD")}
	alpha_eur = rows["C1", "EUR"]
	assert alpha_eur.customer_name == "Alpha SARL"
	assert alpha_eur.invoices == 3
	assert alpha_eur.by_bucket == (Decimal("300.30"), Decimal("300.30"), Decimal("0"))
	assert alpha_eur.total == Decimal("600.60")
	assert alpha_eur.oldest_days_late == 8
	assert rows["C2", "EUR"].by_bucket == (Decimal("0"), Decimal("50.00"), Decimal("300.40"))
	assert rows["C1", "CAD"].total == Decimal("1000.00")
	assert rows["C2", "CAD"].oldest_days_late == 40
	# Within a currency, the largest amounts first
	eur = [t.customer for t in ov.customer_totals if t.currency == "EUR"]
	assert eur == ["C1", "C2"]


def test_ageing_buckets_come_from_the_core():
	ov = overview_of(CUSTOMERS, BOOK, bounds=AGEING_BUCKETS)
	assert ov.buckets == ("1-30", "31-60", "61-90", ">90")
	totals = {(t.currency, t.bucket): t.amount for t in ov.bucket_totals}
	assert totals["EUR", "1-30"] == Decimal("951.00")
	assert totals["CAD", "31-60"] == Decimal("2500.55")


def test_instalments_only_the_part_past_due_is_late():
	schedule = (
		Instalment(ago(10), Decimal("300.00")),
		Instalment(AS_OF + timedelta(days=20), Decimal("700.00")),
	)
	ov = overview_of(CUSTOMERS, [invoice("S1", "C1", instalments=schedule)])
	(row,) = ov.late
	assert (row.due, row.days_late, row.bucket) == (ago(10), 10, "8-15")
	assert row.late_amount == Decimal("300.00")
	assert row.outstanding == Decimal("1000.00")


def test_holds_and_disputes():
	held = customer("C3", name="Gamma", hold=Hold("hold", "procédure collective"))
	book = [
		invoice("D1", "C1", due=ago(20), hold=Hold("dispute", "quantité contestée")),
		invoice("D2", "C1", due=ago(5), hold=Hold("hold", "bon de commande", ago(1))),  # ended yesterday
		invoice("D3", "C3", due=AS_OF + timedelta(days=10)),  # customer on hold, not yet due
	]
	ov = overview_of((*CUSTOMERS, held), book)
	holds = {row.invoice: row for row in ov.holds}
	assert set(holds) == {"D1", "D3"}
	assert (holds["D1"].kind, holds["D1"].on_customer, holds["D1"].reason) == (
		"dispute",
		False,
		"quantité contestée",
	)
	assert (holds["D3"].kind, holds["D3"].on_customer, holds["D3"].days_late) == ("hold", True, -10)
	# A disputed invoice is still late: it counts in its bucket, flagged
	late = {row.invoice: row for row in ov.late}
	assert late["D1"].hold == "dispute"
	assert late["D2"].hold == ""
	assert "D3" not in late


def test_promises_falling_due_this_week():
	book = [
		invoice("P1", "C1", due=ago(20)),
		invoice("P2", "C1", due=ago(20), currency="CAD"),
		invoice("P3", "C2", due=ago(20)),
		invoice("P4", "C2", due=ago(20), payments=((ago(2), "1000"),)),  # paid meanwhile
	]
	promises = [
		Promise(("P1", "P2"), AS_OF + timedelta(days=3), Decimal("500"), made_on=ago(2)),  # two currencies
		Promise(("P3",), AS_OF + timedelta(days=6), Decimal("250"), made_on=ago(1)),
		Promise(("P3",), AS_OF + timedelta(days=7), made_on=ago(1)),  # next week
		Promise(("P4",), AS_OF + timedelta(days=1)),  # nothing left to pay
	]
	ov = overview_of(CUSTOMERS, book, promises=promises)
	rows = [(p.due, p.invoices, p.currency, p.promised, p.outstanding) for p in ov.promises]
	assert rows == [
		(AS_OF + timedelta(days=3), ("P2",), "CAD", None, Decimal("1000.00")),
		(AS_OF + timedelta(days=3), ("P1",), "EUR", None, Decimal("1000.00")),
		(AS_OF + timedelta(days=6), ("P3",), "EUR", Decimal("250"), Decimal("1000.00")),
	]


def test_overview_needs_the_plan_of_its_day():
	by_id, plans = week_of(CUSTOMERS, BOOK)
	with pytest.raises(ValueError):
		build_overview(AS_OF + timedelta(days=1), by_id, BOOK, plans)


def test_plan_ahead_starts_with_todays_plan_and_forecasts_the_week():
	by_id, plans = week_of(CUSTOMERS, BOOK)
	assert [p.as_of for p in plans] == [AS_OF + timedelta(days=n) for n in range(7)]
	today = plan(AS_OF, by_id, BOOK, (), BUILTIN_SCENARIOS, RATES, PlanSettings())
	assert plan_to_dict(plans[0]) == plan_to_dict(today)
	steps = {
		(p.as_of, line.invoice): action.step for p in plans for action in p.actions for line in action.lines
	}
	# E1 (due yesterday): courteous email today, formal reminder on day 7 after the due date
	assert steps[AS_OF, "E1"] == "rappel_courtois"
	assert steps[ago(1) + timedelta(days=7), "E1"] == "relance_formelle"
	# E6 (due today): courteous email tomorrow
	assert steps[AS_OF + timedelta(days=1), "E6"] == "rappel_courtois"
	# A step planned one day is never planned again on a later day
	assert len(steps) == len(set(steps))
	per_step = [(inv, step) for (_, inv), step in steps.items()]
	assert len(per_step) == len(set(per_step))


def test_plan_ahead_keeps_the_minimum_gap():
	by_id, plans = week_of(
		CUSTOMERS,
		[invoice("G1", "C1", due=ago(1)), invoice("G2", "C1", due=AS_OF)],
		settings=PlanSettings(min_gap_days=3),
	)
	days: dict = {}
	for p in plans:
		for action in p.actions:
			for line in action.lines:
				days.setdefault(line.invoice, p.as_of)  # the first action of each invoice
	assert days["G1"] == AS_OF
	assert days["G2"] == AS_OF + timedelta(days=3)  # not the next day: the customer was just reminded


def test_plan_ahead_needs_a_day():
	with pytest.raises(ValueError):
		week_of(CUSTOMERS, BOOK, days=0)


def test_overview_json_shape():
	data = overview_to_dict(overview_of(CUSTOMERS, BOOK))
	assert set(data) == {
		"format",
		"as_of",
		"until",
		"buckets",
		"totals",
		"late",
		"actions",
		"promises",
		"holds",
		"errors",
	}
	assert set(data["totals"]) == {"by_bucket", "by_currency", "by_customer"}
	by_customer = {(t["customer"], t["currency"]): t for t in data["totals"]["by_customer"]}
	assert by_customer["C1", "EUR"]["buckets"] == {"1-7": "300.30", "8-15": "300.30", ">15": "0.00"}
	assert by_customer["C1", "EUR"]["total"] == "600.60"
	amounts = [row["amount"] for row in data["totals"]["by_bucket"]]
	amounts += [row["late_amount"] for row in data["late"]] + [row["total"] for row in data["actions"]]
	assert amounts and all(MONEY.match(a) for a in amounts)
	json.dumps(data)  # plain JSON types only


# The command, on the bundled sample register -------------------------------------------------


@pytest.fixture(scope="module")
def sample_json():
	code, out, err = run_cli(
		"--config", SAMPLE_CONFIG, "overview", "--register", SAMPLE, "--as-of", AS_OF, "--format", "json"
	)
	assert code == 0, err
	return json.loads(out)  # JSON alone on standard output


def test_sample_bucket_totals_by_hand(sample_json):
	totals = {
		(t["currency"], t["bucket"]): (t["invoices"], t["amount"]) for t in sample_json["totals"]["by_bucket"]
	}
	assert totals == {
		# FA-0031 864.00, FA-0033 1156.80, FA-0034 3240.00, FA-0035 1080.00, FA-0038 129.90
		("EUR", "1-7"): (5, "6470.70"),
		# FA-0028 705.60, FA-0029 612.00, FA-0030 960.00
		("EUR", "8-15"): (3, "2277.60"),
		# FA-0007 1152, FA-0012 3600 - 1200, FA-0016 1728, FA-0018 780, FA-0020 2496 (disputed),
		# FA-0021 349, FA-0023 5400 (on hold), FA-0027 2280
		("EUR", ">15"): (8, "16585.00"),
		("CAD", "1-7"): (1, "1897.09"),  # FA-0032
		("CAD", "8-15"): (0, "0.00"),
		("CAD", ">15"): (2, "6266.14"),  # FA-0015 4254.08, FA-0026 2012.06
	}
	assert {t["currency"]: t["amount"] for t in sample_json["totals"]["by_currency"]} == {
		"CAD": "8163.23",
		"EUR": "25333.30",
	}


def test_sample_totals_agree_with_the_late_list(sample_json):
	sums: dict = {}
	for row in sample_json["late"]:
		key = (row["customer"], row["currency"])
		sums[key] = sums.get(key, Decimal(0)) + Decimal(row["late_amount"])
	by_customer = {(t["customer"], t["currency"]): t for t in sample_json["totals"]["by_customer"]}
	assert set(by_customer) == set(sums)
	for key, total in sums.items():
		assert Decimal(by_customer[key]["total"]) == total
		assert sum(Decimal(v) for v in by_customer[key]["buckets"].values()) == total
	assert {
		"FA-2026-0020": "dispute",
		"FA-2026-0023": "hold",
	} == {row["invoice"]: row["hold"] for row in sample_json["late"] if row["hold"]}
	assert [h["invoice"] for h in sample_json["holds"]] == ["FA-2026-0020", "FA-2026-0023"]
	assert sample_json["holds"][1]["until"] == "2026-06-30"
	assert sample_json["promises"] == []


def test_sample_actions_are_todays_plan_then_the_forecast(sample_json):
	code, out, err = run_cli(
		"--config", SAMPLE_CONFIG, "plan", "--register", SAMPLE, "--as-of", AS_OF, "--format", "json"
	)
	assert code == 0, err
	today = [
		(a["customer"], a["step"], [i["invoice"] for i in a["invoices"]]) for a in json.loads(out)["actions"]
	]
	actions = sample_json["actions"]
	assert [(a["customer"], a["step"], a["invoices"]) for a in actions if a["date"] == "2026-06-15"] == today
	later = [a for a in actions if a["date"] != "2026-06-15"]
	assert later and all("2026-06-16" <= a["date"] <= "2026-06-21" for a in later)
	# Courteous email on 14 June's due invoices today, formal reminder 7 days after the due date
	assert {i for a in later if a["step"] == "relance_formelle" for i in a["invoices"]} >= {
		"FA-2026-0031",
		"FA-2026-0034",
	}


def test_sample_table_french_and_english():
	code, out, _ = run_cli("overview", "--register", SAMPLE, "--as-of", AS_OF)
	assert code == 0
	assert "Vue d'ensemble du 2026-06-15 au 2026-06-21" in out
	assert "Factures en retard par tranche" in out and "Litiges et suspensions (2)" in out
	assert "6\u202f470,70\u00a0€" in out  # French amounts
	code, out, _ = run_cli("overview", "--register", SAMPLE, "--as-of", AS_OF, "--lang", "en")
	assert code == 0
	assert "Overview from 2026-06-15 to 2026-06-21" in out and "€6,470.70" in out
	assert "Payment promises falling due this week (0)" in out


def test_sample_buckets_option_and_settings(tmp_path):
	code, out, _ = run_cli(
		"overview", "--register", SAMPLE, "--as-of", AS_OF, "--format", "json", "--buckets", "30,60,90"
	)
	assert code == 0
	assert json.loads(out)["buckets"] == ["1-30", "31-60", "61-90", ">90"]
	config = tmp_path / "c.toml"
	config.write_text("[settings]\nbuckets = [10, 20]\n", encoding="utf-8")
	code, out, _ = run_cli(
		"--config", config, "overview", "--register", SAMPLE, "--as-of", AS_OF, "--format", "json"
	)
	assert json.loads(out)["buckets"] == ["1-10", "11-20", ">20"]
	code, _, err = run_cli("overview", "--register", SAMPLE, "--buckets", "15,7")
	assert code == 2 and "--buckets" in err
	config.write_text("[settings]\nbuckets = [20, 10]\n", encoding="utf-8")
	code, _, err = run_cli("--config", config, "overview", "--register", SAMPLE, "--as-of", AS_OF)
	assert code == 3 and "buckets" in err
	code, _, err = run_cli("overview", "--as-of", AS_OF)
	assert code == 2 and "--register" in err


def test_sample_xlsx_read_back(tmp_path):
	path = tmp_path / "semaine.xlsx"
	code, out, err = run_cli(
		"overview", "--register", SAMPLE, "--as-of", AS_OF, "--format", "json", "--xlsx", path, "--lang", "en"
	)
	assert code == 0, err
	json.loads(out)  # the JSON stays alone on standard output
	assert str(path) in err
	book = openpyxl.load_workbook(path)
	assert book.sheetnames == ["Buckets", "Customers", "Late invoices", "Actions", "Promises", "Holds"]
	for sheet in book:
		assert all(cell.font.bold for cell in sheet[1])
		assert all(
			sheet.column_dimensions[col].width and sheet.column_dimensions[col].width > 5 for col in "AB"
		)
	buckets = book["Buckets"]
	assert [c.value for c in buckets[1]] == ["Currency", "Delay", "Invoices", "Amount"]
	rows = {(r[0].value, r[1].value): r for r in buckets.iter_rows(min_row=2)}
	amount = rows["EUR", "1-7"][3]
	assert isinstance(amount.value, int | float) and amount.value == pytest.approx(6470.70)
	assert amount.number_format == "#,##0.00"
	assert rows["EUR", "1-7"][2].value == 5
	assert rows["CAD", "Total"][3].value == pytest.approx(8163.23)
	late = book["Late invoices"]
	header = [c.value for c in late[1]]
	first = {name: cell for name, cell in zip(header, late[2], strict=True)}
	assert first["Invoice"].value == "FA-2026-0007"
	assert first["Currency"].value == "EUR"
	assert isinstance(first["Due"].value, datetime) and first["Due"].value.date() == date(2026, 2, 11)
	assert first["Due"].is_date
	assert first["Days late"].value == 124
	assert first["Late"].value == pytest.approx(1152.00)
	actions = book["Actions"]
	assert actions.max_row - 1 == len([a for a in json.loads(out)["actions"]])
	assert book["Promises"].max_row == 1  # the header alone
	holds = book["Holds"]
	assert [holds.cell(row=r, column=1).value for r in (2, 3)] == ["FA-2026-0020", "FA-2026-0023"]


def test_small_register_two_currencies(tmp_path):
	register = tmp_path / "ventes.csv"
	register.write_text(
		"Numéro;Client;Montant;Échéance;Date d'émission;Devise;Courriel;Adresse\n"
		"A-1;Client Mixte;1 000,00;2026-06-10;2026-05-10;EUR;a@example.fr;1 rue A / 75001 Paris\n"
		"A-2;Client Mixte;250,50;2026-06-01;2026-05-01;CAD;a@example.fr;1 rue A / 75001 Paris\n"
		"A-3;Client Mixte;99,99;2026-05-01;2026-04-01;EUR;a@example.fr;1 rue A / 75001 Paris\n"
		"A-4;Autre;10,00;2026-06-30;2026-06-01;EUR;b@example.fr;2 rue B / 75002 Paris\n",
		encoding="utf-8",
	)
	code, out, err = run_cli("overview", "--register", register, "--as-of", AS_OF, "--format", "json")
	assert code == 0, err
	data = json.loads(out)
	rows = {(t["customer"], t["currency"]): t for t in data["totals"]["by_customer"]}
	assert set(rows) == {("Client Mixte", "EUR"), ("Client Mixte", "CAD")}
	assert rows["Client Mixte", "EUR"]["buckets"] == {"1-7": "1000.00", "8-15": "0.00", ">15": "99.99"}
	assert rows["Client Mixte", "EUR"]["total"] == "1099.99"
	assert rows["Client Mixte", "CAD"]["buckets"] == {"1-7": "0.00", "8-15": "250.50", ">15": "0.00"}
	assert {t["currency"]: t["amount"] for t in data["totals"]["by_currency"]} == {
		"CAD": "250.50",
		"EUR": "1099.99",
	}


def test_sample_after_a_run_today_is_done_and_the_week_goes_on(tmp_path):
	journal = tmp_path / "journal.sqlite"
	code, _, err = run_cli(
		"--config", SAMPLE_CONFIG, "run", "--register", SAMPLE, "--as-of", AS_OF,
		"--journal", journal, "--out", tmp_path / "lettres",
	)  # fmt: skip
	assert code == 0, err
	code, out, err = run_cli(
		"--config", SAMPLE_CONFIG, "overview", "--register", SAMPLE, "--as-of", AS_OF,
		"--journal", journal, "--format", "json", "--days", 3,
	)  # fmt: skip
	assert code == 0, err
	data = json.loads(out)
	assert data["until"] == "2026-06-17"
	assert [a for a in data["actions"] if a["date"] == "2026-06-15"] == []  # recorded by the run
	# The late list names what comes next for the invoices done today
	late = {row["invoice"]: row for row in data["late"]}
	assert late["FA-2026-0034"]["next_step"] == "relance_formelle"
	assert late["FA-2026-0034"]["next_date"] == "2026-06-21"
	code, _, err = run_cli("overview", "--register", SAMPLE, "--as-of", AS_OF, "--days", 0)
	assert code == 3 and "--days" in err
