"""`relance match`: the statement readers, the matching rules, --apply (journal and Dolibarr), the planner after it."""

from __future__ import annotations

import contextlib
import io
import json
import sqlite3
import threading
from datetime import date
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relance_erpnext.cli import main
from relance_erpnext.connectors.bank_statement import CAMT, CSV, OFX, read_statement
from relance_erpnext.connectors.dolibarr import bank_token
from relance_erpnext.dunning.matching import (
	ALREADY,
	AMBIGUOUS,
	AMOUNT_AND_NAME,
	AMOUNT_ONLY,
	CITED_FULL,
	CITED_OVERPAID,
	CITED_PARTIAL,
	CITED_TOTAL_DIFFERS,
	MATCHED,
	NAME_ONLY,
	NO_OPEN_INVOICE,
	NOTHING_FITS,
	SEVERAL_AMOUNT,
	SUM_OF_CUSTOMER,
	UNMATCHED,
	BankLine,
	BankPayment,
	OpenInvoice,
	cited_numbers,
	describe_match,
	match_payments,
	name_similarity,
	with_bank_payments,
)
from tests.helpers import invoice

DATA = Path(__file__).parent / "data" / "bank"
REGISTER = DATA / "registre.csv"
CAMT_02 = DATA / "releve_camt053_001_02.xml"
CAMT_08 = DATA / "releve_camt053_001_08.xml"
IBAN = "FR7630004008230001234567890"


def run(*argv: str) -> tuple[int, str, str]:
	out, err = io.StringIO(), io.StringIO()
	with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
		try:
			code = main(list(argv))
		except SystemExit as exc:  # argparse
			code = exc.code
	return code, out.getvalue(), err.getvalue()


def inv(number, customer="C1", amount="100.00", name=None, due=date(2026, 5, 1), currency="EUR"):
	return OpenInvoice(number, customer, name or f"Client {customer}", Decimal(amount), currency, due)


def credit(amount, text="", payer="", id="L1", day=date(2026, 6, 10), currency="EUR"):
	return BankLine(id, day, Decimal(amount), currency, text, payer)


def one(line, invoices, applied=()):
	result = match_payments([line], invoices, applied)
	assert len(result.lines) == 1
	return result.lines[0]


# ---------------------------------------------------------------------------------------------------
# Matching rules


@pytest.mark.parametrize(
	"text",
	[
		"FA-2026-0012",
		"fa2026 0012",
		"FA20260012",
		"Fact. FA 2026 12",
		"réf:FA/2026/012",
		"VIR FA-2026-0012,FA-X",
	],
)
def test_invoice_number_variants_are_found(text):
	assert [i.number for i in cited_numbers(text, [inv("FA-2026-0012")])] == ["FA-2026-0012"]


@pytest.mark.parametrize(
	"text", ["FA-2026-00123", "XFA-2026-0012", "FA-2026", "FA-2027-0012", "montant 2026,0012"]
)
def test_other_numbers_are_not_taken_for_it(text):
	assert cited_numbers(text, [inv("FA-2026-0012")]) == []


def test_a_numeric_invoice_number_is_not_an_amount():
	assert cited_numbers("VIR 1042,00 EUR", [inv("1042")]) == []
	assert [i.number for i in cited_numbers("FACTURE 1042 MERCI", [inv("1042")])] == ["1042"]


def test_name_similarity_ignores_legal_forms_order_case_and_accents():
	assert name_similarity("MARTIN BOULANGERIE", "SARL Boulangerie Martin") == 1.0
	assert name_similarity("IMPRIMERIE LEFEVRE", "Imprimerie Lefèvre") == 1.0
	assert name_similarity("URSSAF RHONE ALPES", "SAS Transports Rhône-Alpes") < 0.85
	assert name_similarity("", "Anyone") == 0.0


def test_cited_invoices_paid_in_full_several_at_once():
	match = one(credit("150.00", "FA-1 et FA 2"), [inv("FA-1"), inv("FA-2", amount="50.00"), inv("FA-3")])
	assert (match.outcome, match.reason) == (MATCHED, CITED_FULL)
	assert [(a.invoice, a.amount, a.remaining) for a in match.allocations] == [
		("FA-1", Decimal("100.00"), 0),
		("FA-2", Decimal("50.00"), 0),
	]


def test_partial_payment_of_one_cited_invoice():
	match = one(credit("40.00", "acompte FA-1"), [inv("FA-1")])
	assert (match.outcome, match.reason) == (MATCHED, CITED_PARTIAL)
	assert [(a.amount, a.remaining) for a in match.allocations] == [(Decimal("40.00"), Decimal("60.00"))]


def test_more_than_the_cited_invoice_owes_is_ambiguous():
	match = one(credit("140.00", "FA-1"), [inv("FA-1")])
	assert (match.outcome, match.reason) == (AMBIGUOUS, CITED_OVERPAID)
	assert match.allocations == ()


def test_several_cited_for_less_than_their_total_is_ambiguous_with_the_sets_that_fit():
	match = one(
		credit("100.00", "FA-1 FA-2 FA-3"), [inv("FA-1"), inv("FA-2", amount="60"), inv("FA-3", amount="40")]
	)
	assert (match.outcome, match.reason) == (AMBIGUOUS, CITED_TOTAL_DIFFERS)
	assert {c.invoices for c in match.candidates} == {("FA-2", "FA-3"), ("FA-1",)}


def test_exact_amount_and_payer_name():
	book = [inv("FA-1", "C1", "75.00", "Garage du Centre"), inv("FA-2", "C2", "75.00", "Cabinet Dubois")]
	match = one(credit("75.00", "VIREMENT", "CABINET DUBOIS"), book)
	assert (match.outcome, match.reason, match.invoices) == (MATCHED, AMOUNT_AND_NAME, ("FA-2",))


def test_sum_of_one_customers_open_invoices():
	book = [
		inv("FA-1", "C1", "100.00", "Garage du Centre", due=date(2026, 4, 1)),
		inv("FA-2", "C1", "250.00", "Garage du Centre", due=date(2026, 5, 1)),
		inv("FA-3", "C1", "400.00", "Garage du Centre", due=date(2026, 6, 1)),
		inv("FA-4", "C2", "350.00", "Cabinet Dubois"),
	]
	match = one(credit("500.00", "paiement", "GARAGE DU CENTRE"), book)
	assert (match.outcome, match.reason, match.invoices) == (MATCHED, SUM_OF_CUSTOMER, ("FA-1", "FA-3"))


def test_the_payer_with_two_invoices_of_that_amount_is_ambiguous():
	book = [
		inv("FA-1", "C1", "600", "Transports Rhône-Alpes"),
		inv("FA-2", "C1", "600", "Transports Rhône-Alpes"),
	]
	match = one(credit("600", "", "TRANSPORTS RHONE ALPES"), book)
	assert (match.outcome, match.reason) == (AMBIGUOUS, SEVERAL_AMOUNT)
	assert [c.invoices for c in match.candidates] == [("FA-1",), ("FA-2",)]


def test_amount_alone_or_name_alone_is_not_enough():
	book = [inv("FA-1", "C1", "80.00", "Garage du Centre")]
	assert one(credit("80.00", "", "SOMEONE ELSE"), book).reason == AMOUNT_ONLY
	assert one(credit("81.00", "", "GARAGE DU CENTRE"), book).reason == NAME_ONLY
	unmatched = one(credit("81.00", "", "SOMEONE ELSE"), book)
	assert (unmatched.outcome, unmatched.reason) == (UNMATCHED, NOTHING_FITS)


def test_other_currency_debits_and_lines_already_applied():
	book = [inv("FA-1", amount="100")]
	assert one(credit("100", "FA-1", currency="CAD"), book).reason == NO_OPEN_INVOICE
	result = match_payments(
		[credit("-100", "FA-1", id="D"), credit("100", "FA-1", id="X")], book, applied={"X"}
	)
	assert result.debits == 1
	assert [line.outcome for line in result.lines] == [ALREADY]


def test_what_an_earlier_line_paid_is_no_longer_owed():
	lines = [
		credit("70", "FA-1", id="A", day=date(2026, 6, 2)),
		credit("40", "FA-1", id="B", day=date(2026, 6, 1)),
	]
	result = match_payments(lines, [inv("FA-1")])
	# Booking order: B (1 June) first, then A pays more than is left
	assert [(m.line.id, m.outcome) for m in result.lines] == [("B", MATCHED), ("A", AMBIGUOUS)]
	assert result.lines[0].allocations[0].remaining == Decimal("60.00")


def test_describe_in_both_languages():
	assert describe_match(CITED_FULL, "FA-1", "fr") == "facture(s) citée(s), payée(s) en totalité : FA-1"
	assert describe_match(CITED_FULL, "FA-1", "en") == "invoice(s) cited and paid in full: FA-1"


@settings(max_examples=60, deadline=None)
@given(
	amounts=st.lists(st.integers(min_value=1, max_value=5000), min_size=1, max_size=6),
	paid=st.integers(min_value=1, max_value=20000),
	cite=st.lists(st.integers(min_value=0, max_value=5), max_size=3),
	seed=st.randoms(use_true_random=False),
)
def test_matching_never_overpays_and_ignores_invoice_order(amounts, paid, cite, seed):
	book = [inv(f"FA-{n}", "C1", str(Decimal(a) / 4), "Garage du Centre") for n, a in enumerate(amounts)]
	text = " ".join(f"FA-{n}" for n in cite if n < len(book))
	line = credit(str(Decimal(paid) / 4), text, "GARAGE DU CENTRE")
	first = one(line, book)
	shuffled = list(book)
	seed.shuffle(shuffled)
	assert one(line, shuffled) == first
	owed = {i.number: i.outstanding for i in book}
	for allocation in first.allocations:
		assert 0 < allocation.amount <= owed[allocation.invoice]
		assert allocation.remaining == owed[allocation.invoice] - allocation.amount
	if first.outcome == MATCHED:
		assert sum(a.amount for a in first.allocations) == line.amount
	else:
		assert first.allocations == ()


def test_bank_payments_come_on_top_of_the_register_never_twice_nor_beyond_the_total():
	book = [
		invoice("A", amount="100"),
		invoice("B", amount="100", payments=((date(2026, 6, 20), "30"),)),
		invoice("C", amount="100"),
	]
	payments = [
		BankPayment("L1", "A", Decimal("40"), date(2026, 6, 10)),
		BankPayment("L2", "B", Decimal("30"), date(2026, 6, 10)),  # the register was updated since
		BankPayment("L3", "C", Decimal("80"), date(2026, 6, 10)),
		BankPayment("L4", "C", Decimal("80"), date(2026, 6, 11)),
	]
	invoices, warnings = with_bank_payments(book, payments)
	assert [i.outstanding for i in invoices] == [Decimal("60"), Decimal("70"), Decimal("0")]
	assert invoices[0].payments[-1].day == date(2026, 6, 10)
	assert len(warnings) == 1 and "L4" in warnings[0]


# ---------------------------------------------------------------------------------------------------
# Statement readers


def test_camt_053_001_02():
	statement = read_statement(CAMT_02)
	assert statement.ok and statement.format == CAMT and statement.account == IBAN
	lines = {line.id.split(":")[1]: line for line in statement.lines}
	assert len(lines) == 6
	first = lines["2026060800011"]
	assert (first.booked, first.amount, first.currency) == (date(2026, 6, 8), Decimal("1800.00"), "EUR")
	assert first.counterparty == "BOULANGERIE MARTIN"
	assert first.remittance == "FACT FA2026 0012 ET FA-2026-13"
	assert lines["2026061000044"].amount == Decimal("-89.90")
	assert lines["2026061100055"].remittance == "FA-2026-0014"  # the structured creditor reference


def test_camt_053_001_08_party_name_datetime_and_pending_entries():
	statement = read_statement(CAMT_08)
	assert statement.ok and statement.account == "815-30012-1234567"
	[line] = statement.lines
	assert (line.id, line.booked, line.counterparty) == (
		"815-30012-1234567:QC-77001",
		date(2026, 6, 10),
		"Garage du Centre",
	)
	assert "PDNG" in statement.warnings[0] and "entry 2" in statement.warnings[0]


def test_camt_batch_entry_is_split_into_its_transactions(tmp_path):
	text = CAMT_08.read_text(encoding="utf-8").replace(
		"<TxDtls>",
		'<TxDtls><Refs><EndToEndId>E1</EndToEndId></Refs><Amt Ccy="EUR">2000.00</Amt></TxDtls>'
		'<TxDtls><Refs><EndToEndId>E2</EndToEndId></Refs><Amt Ccy="EUR">180.00</Amt>',
		1,
	)
	path = tmp_path / "batch.xml"
	path.write_text(text, encoding="utf-8")
	statement = read_statement(path)
	assert statement.ok
	assert [(line.id.rsplit("/", 1)[1], line.amount) for line in statement.lines] == [
		("E1", Decimal("2000.00")),
		("E2", Decimal("180.00")),
	]


@pytest.mark.parametrize("name", ["releve.ofx", "releve_v2.ofx"])
def test_ofx_sgml_and_xml(name):
	statement = read_statement(DATA / name)
	assert statement.ok and statement.format == OFX
	credits = [line for line in statement.lines if line.is_credit]
	debits = [line for line in statement.lines if not line.is_credit]
	assert len(debits) == 1
	if name == "releve.ofx":
		assert credits[0].id == "00012345678:OFX0603A1"
		assert (credits[0].booked, credits[0].amount, credits[0].currency) == (
			date(2026, 6, 3),
			Decimal("1440.00"),
			"EUR",
		)
		assert "FA-2026-0012" in credits[0].remittance
		assert credits[0].counterparty == "VIR SEPA BOULANGERIE MARTIN"
	else:
		# The date as written: 10 June, even though 00:00 EDT is 04:00 UTC
		assert (credits[0].booked, credits[0].amount, credits[0].currency) == (
			date(2026, 6, 10),
			Decimal("4254.08"),
			"CAD",
		)
		assert "FA-2026-15 & frais" in credits[0].remittance


def test_french_csv_export_cp1252_with_preamble_and_balance_footer():
	statement = read_statement(DATA / "releve_banque.csv")
	assert statement.ok and statement.format == CSV
	assert [(line.booked, line.amount, line.where) for line in statement.lines] == [
		(date(2026, 6, 8), Decimal("1440.00"), "row 5"),
		(date(2026, 6, 9), Decimal("-89.90"), "row 6"),
		(date(2026, 6, 10), Decimal("750.00"), "row 7"),
		(date(2026, 6, 11), Decimal("310.00"), "row 8"),
	]
	# Ids are stable from one reading to the next
	assert [line.id for line in read_statement(DATA / "releve_banque.csv").lines] == [
		line.id for line in statement.lines
	]


def test_english_csv_with_a_signed_amount_and_identical_rows(tmp_path):
	path = tmp_path / "export.csv"
	path.write_text(
		"Date,Description,Amount,Currency\n2026-06-08,Payment INV-7,100.50,CAD\n2026-06-08,Payment INV-7,100.50,CAD\n"
		"2026-06-09,Fee,-3.00,CAD\n",
		encoding="utf-8",
	)
	statement = read_statement(path)
	assert statement.ok
	assert [(line.amount, line.currency) for line in statement.lines] == [
		(Decimal("100.50"), "CAD"),
		(Decimal("100.50"), "CAD"),
		(Decimal("-3.00"), "CAD"),
	]
	assert statement.lines[0].id != statement.lines[1].id


def test_csv_reference_column_is_the_line_id_as_documented(tmp_path):
	# "Référence" is the bank's reference of the operation: the line's id (README), never its text,
	# whichever column comes first
	for header, row in (
		("Date;Libellé;Référence;Crédit", "08/06/2026;VIR SEPA MARTIN FA2603-0001;BQ-778812;1 440,00"),
		("Référence;Date;Libellé;Crédit", "BQ-778812;08/06/2026;VIR SEPA MARTIN FA2603-0001;1 440,00"),
	):
		path = tmp_path / "releve.csv"
		path.write_text(f"{header}\n{row}\n", encoding="utf-8")
		statement = read_statement(path)
		assert statement.ok, statement.errors
		[line] = statement.lines
		assert (line.id, line.remittance) == ("BQ-778812", "VIR SEPA MARTIN FA2603-0001")


def _errors(path: Path) -> list[str]:
	statement = read_statement(path)
	assert statement.errors
	return [str(error) for error in statement.errors]


def test_malformed_files_say_file_entry_and_field(tmp_path):
	bad_xml = tmp_path / "bad.xml"
	bad_xml.write_text("<?xml version='1.0'?>\n<Document>\n<Stmt></Document>", encoding="utf-8")
	[error] = _errors(bad_xml)
	assert error.startswith(f"{bad_xml}, line 3, column") and "not well-formed" in error

	bomb = tmp_path / "bomb.xml"
	bomb.write_text(
		'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><Document>&a;</Document>', encoding="utf-8"
	)
	assert "refused" in _errors(bomb)[0]

	other = tmp_path / "pain.xml"
	other.write_text('<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"/>', encoding="utf-8")
	assert "not a CAMT.053" in _errors(other)[0]

	bad_amount = tmp_path / "amount.xml"
	bad_amount.write_text(
		CAMT_02.read_text(encoding="utf-8")
		.replace(">600.00<", ">6OO.00<")
		.replace("<Dt>2026-06-10</Dt>", "<Dt>10/06/2026</Dt>", 1),
		encoding="utf-8",
	)
	errors = _errors(bad_amount)
	assert f"{bad_amount}, entry 2 (2026060900022), field \"Amt\": '6OO.00' is not an amount" in errors[0]
	assert f'{bad_amount}, entry 3 (2026061000033), field "BookgDt"' in errors[1]


def test_malformed_csv_and_ofx(tmp_path):
	missing = tmp_path / "missing.csv"
	missing.write_text("Date;Libellé;Solde\n08/06/2026;VIR;12\n", encoding="utf-8")
	[error] = _errors(missing)
	assert error == f"{missing}: no amount column (expected Montant, Amount (or Débit and Crédit))"

	amount = tmp_path / "amount.csv"
	amount.write_text(
		"Date;Libellé;Débit;Crédit\n08/06/2026;VIR;;12,3,4\n31/02/2026;VIR;;1,00\n", encoding="utf-8"
	)
	assert _errors(amount) == [
		f"{amount}, row 2, column \"Crédit\": ambiguous amount '12,3,4'",
		f"{amount}, row 3, column \"Date\": '31/02/2026' is not a date (DD/MM/YYYY or YYYY-MM-DD)",
	]

	ofx = tmp_path / "bad.ofx"
	ofx.write_text(
		(DATA / "releve.ofx").read_text(encoding="utf-8").replace("<TRNAMT>250.00", "<TRNAMT>deux cents"),
		encoding="utf-8",
	)
	[error] = _errors(ofx)
	assert error.startswith(
		f"{ofx}, transaction 3 (OFX0605A2), field \"TRNAMT\": 'deux cents' is not an amount"
	)


# ---------------------------------------------------------------------------------------------------
# The command, on a register


def test_match_prints_each_outcome_in_french_and_changes_nothing(tmp_path):
	journal = tmp_path / "j.sqlite"
	code, out, err = run(
		"match", "--statement", str(CAMT_02), "--register", str(REGISTER), "--journal", str(journal)
	)
	assert code == 0, err
	assert "5 crédit(s) ; 1 débit(s) ignoré(s)" in out
	assert "3 rapproché(s), 1 ambigu(s), 1 sans correspondance, 0 déjà enregistré(s)" in out
	assert "candidats : FA-2026-0015 (600,00\u00a0€) ; FA-2026-0016 (600,00\u00a0€)" in out
	assert "Rien n'est enregistré sans --apply." in out
	assert not journal.exists()


def test_match_json_in_english():
	code, out, _ = run(
		"match", "--lang", "en", "--format", "json", "--statement", str(CAMT_02), "--register", str(REGISTER)
	)
	assert code == 0
	data = json.loads(out)
	assert data["summary"] == {"matched": 3, "ambiguous": 1, "unmatched": 1, "already_applied": 0}
	assert data["debits"] == 1
	two = data["lines"][0]
	assert two["outcome"] == "matched" and two["reason"] == "cited_full"
	assert two["allocations"] == [
		{
			"invoice": "FA-2026-0012",
			"customer": "SARL Boulangerie Martin",
			"amount": "1440.00",
			"remaining": "0.00",
		},
		{
			"invoice": "FA-2026-0013",
			"customer": "SARL Boulangerie Martin",
			"amount": "360.00",
			"remaining": "0.00",
		},
	]
	partial = next(line for line in data["lines"] if line["reason"] == "cited_partial")
	assert partial["allocations"][0]["remaining"] == "1400.00"
	unmatched = next(line for line in data["lines"] if line["outcome"] == "unmatched")
	assert unmatched["message"] == "no invoice number, amount or customer name fits"


def test_apply_twice_records_once_and_the_planner_counts_the_payments(tmp_path):
	journal = str(tmp_path / "j.sqlite")
	base = (
		"match",
		"--statement",
		str(CAMT_02),
		"--register",
		str(REGISTER),
		"--journal",
		journal,
		"--apply",
	)
	code, out, _ = run(*base)
	assert code == 0 and "3 ligne(s) payée(s), 0 déjà enregistrée(s)" in out
	code, out, _ = run(*base, "--lang", "en")
	assert code == 0 and "0 matched, 1 ambiguous, 1 unmatched, 3 already recorded" in out
	with sqlite3.connect(journal) as db:
		rows = db.execute(
			"SELECT line_id, invoice, amount, day FROM bank_payment ORDER BY invoice"
		).fetchall()
	assert rows == [
		(f"{IBAN}:2026060800011", "FA-2026-0012", "1440.00", "2026-06-08"),
		(f"{IBAN}:2026060800011", "FA-2026-0013", "360.00", "2026-06-08"),
		(f"{IBAN}:2026061100055", "FA-2026-0014", "1000.00", "2026-06-11"),
		(f"{IBAN}:2026061200066", "FA-2026-0018", "750.00", "2026-06-12"),
	]

	code, out, _ = run(
		"plan", "--register", str(REGISTER), "--as-of", "2026-06-15", "--journal", journal, "--format", "json"
	)
	assert code == 0
	result = json.loads(out)
	planned = {line["invoice"]: line for action in result["actions"] for line in action["invoices"]}
	skipped = {skip["invoice"]: skip["reason"] for skip in result["skipped"]}
	assert "FA-2026-0012" not in planned and skipped["FA-2026-0012"] == "paid"
	assert skipped["FA-2026-0018"] == "paid"
	# Before the payment check, the same day reminded FA-2026-0012
	code, out, _ = run("plan", "--register", str(REGISTER), "--as-of", "2026-06-15", "--format", "json")
	before = {line["invoice"] for action in json.loads(out)["actions"] for line in action["invoices"]}
	assert "FA-2026-0012" in before and "FA-2026-0018" in before


def test_a_later_statement_sees_what_the_earlier_one_paid(tmp_path):
	journal = str(tmp_path / "j.sqlite")
	assert (
		run(
			"match",
			"--statement",
			str(DATA / "releve.ofx"),
			"--register",
			str(REGISTER),
			"--journal",
			journal,
			"--apply",
		)[0]
		== 0
	)
	# The CAMT's first line pays FA-2026-0012 again (with FA-2026-0013): it no longer adds up
	code, out, _ = run(
		"match",
		"--format",
		"json",
		"--statement",
		str(CAMT_02),
		"--register",
		str(REGISTER),
		"--journal",
		journal,
	)
	first = json.loads(out)["lines"][0]
	assert (first["outcome"], first["reason"]) == ("ambiguous", "cited_overpaid")


def test_bad_statement_exits_3_and_names_the_problem(tmp_path):
	bad = tmp_path / "releve.csv"
	bad.write_text("Date;Libellé;Montant\n08/06/2026;VIR;abc\n", encoding="utf-8")
	code, out, err = run("match", "--lang", "en", "--statement", str(bad), "--register", str(REGISTER))
	assert code == 3 and out == ""
	assert f"error: {bad}, row 2, column \"Montant\": 'abc' is not an amount" in err
	assert "1 error(s) in the statement; nothing matched" in err
	code, out, err = run("match", "--lang", "fr", "--statement", str(bad), "--register", str(REGISTER))
	assert code == 3 and out == ""
	assert f"erreur : {bad}, ligne 2, colonne « Montant » : 'abc' n'est pas un montant" in err
	assert "1 erreur(s) dans le relevé ; aucun rapprochement fait" in err
	code, _, err = run(
		"match", "--lang", "en", "--statement", str(tmp_path / "none.xml"), "--register", str(REGISTER)
	)
	assert code == 3 and "no such file" in err


def test_command_line_errors():
	code, _, err = run("match", "--statement", str(CAMT_02))
	assert code == 2 and "--register" in err
	code, _, err = run("match", "--statement", str(CAMT_02), "--register", str(REGISTER), "--apply")
	assert code == 3 and "--apply demande --journal" in err
	code, _, err = run(
		"match", "--lang", "en", "--statement", str(CAMT_02), "--register", str(REGISTER), "--apply"
	)
	assert code == 3 and "--apply needs --journal" in err


# ---------------------------------------------------------------------------------------------------
# The command, on Dolibarr (answers recorded from a real Dolibarr 20.0.2)

EXCHANGES = json.loads((DATA / "dolibarr" / "exchanges.json").read_text(encoding="utf-8"))["exchanges"]


class _Replay(BaseHTTPRequestHandler):
	def log_message(self, *args):
		pass

	def _handle(self):
		url = urlsplit(self.path)
		query = {
			k: v[0] if len(v) == 1 else v for k, v in parse_qs(url.query, keep_blank_values=True).items()
		}
		length = int(self.headers.get("Content-Length") or 0)
		body = json.loads(self.rfile.read(length)) if length else None
		self.server.seen.append((self.command, url.path, body))
		for exchange in EXCHANGES:
			if (
				exchange["phase"],
				exchange["method"],
				exchange["path"],
				exchange["query"],
				exchange["json"],
			) == (
				self.server.phase,
				self.command,
				url.path,
				query,
				body,
			):
				data = exchange["body"].encode("utf-8")
				self.send_response(exchange["status"])
				self.send_header("Content-Type", exchange["content_type"])
				self.send_header("Content-Length", str(len(data)))
				self.end_headers()
				self.wfile.write(data)
				return
		self.send_response(599, "Not recorded")
		self.send_header("Content-Length", "0")
		self.end_headers()

	do_GET = do_POST = _handle


@pytest.fixture
def dolibarr(monkeypatch):
	server = ThreadingHTTPServer(("127.0.0.1", 0), _Replay)
	server.daemon_threads = True
	server.phase, server.seen = "dry", []
	thread = threading.Thread(target=server.serve_forever, daemon=True)
	thread.start()
	monkeypatch.setenv("DOLIBARR_API_KEY", "TEST-DOLAPIKEY-PLACEHOLDER")
	yield server
	server.shutdown()
	server.server_close()


def test_dolibarr_dry_run_apply_and_apply_again(dolibarr):
	statement = DATA / "dolibarr" / "releve_dolibarr.xml"
	base = ("match", "--lang", "en", "--statement", str(statement), "--source", "dolibarr", "--dolibarr-url")
	code, out, err = run(*base, f"http://127.0.0.1:{dolibarr.server_address[1]}", "--format", "json")
	assert code == 0, err
	data = json.loads(out)
	assert data["summary"] == {"matched": 3, "ambiguous": 0, "unmatched": 1, "already_applied": 0}
	assert not [s for s in dolibarr.seen if s[0] == "POST"]

	dolibarr.phase, dolibarr.seen = "apply", []
	code, out, err = run(*base, f"http://127.0.0.1:{dolibarr.server_address[1]}", "--apply")
	assert code == 0, err
	assert "3 line(s) paid, 0 already recorded" in out
	posts = [body for method, _, body in dolibarr.seen if method == "POST"]
	assert [p["arrayofamounts"] for p in posts] == [
		{
			"10": {"amount": "1176.00", "multicurrency_amount": ""},
			"12": {"amount": "900.00", "multicurrency_amount": ""},
		},
		{"8": {"amount": "100.00", "multicurrency_amount": ""}},
		{"2": {"amount": "380.00", "multicurrency_amount": ""}},
	]
	line_id = "FR7630004008230009876543210:D20260616001"
	assert posts[0]["num_payment"] == bank_token(line_id) and posts[0]["ref_ext"] == line_id
	assert (
		posts[0]["paymentid"] == 2 and posts[0]["accountid"] == 1 and posts[0]["closepaidinvoices"] == "yes"
	)
	assert posts[0]["datepaye"] == 1781568000  # 16 June 2026, midnight in the server's zone (UTC)

	dolibarr.phase, dolibarr.seen = "again", []
	code, out, err = run(*base, f"http://127.0.0.1:{dolibarr.server_address[1]}", "--apply")
	assert code == 0, err
	assert "0 matched, 0 ambiguous, 1 unmatched, 3 already recorded" in out
	# and the last line says the same (it said "0 already recorded")
	assert "0 line(s) paid, 3 already recorded" in out
	assert not [s for s in dolibarr.seen if s[0] == "POST"]
