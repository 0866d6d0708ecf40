"""Reference rates that keep themselves current and never block a reminder.

No test reaches the network: the sources are served by a local HTTP server (http.server in a thread,
127.0.0.1, a free port) with answers written from the sources' documented formats:

- the ECB Data Portal's SDMX REST API answer with `format=csvdata` (data.ecb.europa.eu/help/api/data):
  one CSV row per observation, the series' dimensions then TIME_PERIOD and OBS_VALUE;
- the legal-rate CSV that `--legal-url` reads (its columns are ours, documented in the README).

Figures dated after 26 December 2025 in these answers are FICTITIOUS (9.99, 8.88...): test data only,
so that nobody mistakes them for published rates.
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from relance_erpnext.dunning.rates import (
	ECB_REFI,
	FR_LEGAL,
	RateRow,
	check_row,
	ecb_half_year_rows,
	half_year,
	load_reference_rates,
	merge_rows,
	missing_for,
	parse_rate_rows,
)
from tests.helpers import day_folder

from .test_cli import SAMPLE, run_cli

TODAY = date(2026, 12, 5)
HEADER = (
	"KEY,FREQ,REF_AREA,CURRENCY,PROVIDER_FM,INSTRUMENT_FM,PROVIDER_FM_ID,DATA_TYPE_FM,TIME_PERIOD,OBS_VALUE\n"
)
SERIES = "FM.B.U2.EUR.4F.KR.MRR_FR.LEV,B,U2,EUR,4F,KR,MRR_FR,LEV"
# The MRO fixed rate at each change (the ECB's decisions from September 2023 to June 2025), then one
# FICTITIOUS change for the test: 9.99 from 17 June 2026
CHANGES = [
	("2023-09-20", "4.5"),
	("2024-06-12", "4.25"),
	("2024-09-18", "3.65"),
	("2024-10-23", "3.4"),
	("2024-12-18", "3.15"),
	("2025-02-05", "2.9"),
	("2025-03-12", "2.65"),
	("2025-04-23", "2.4"),
	("2025-06-11", "2.15"),
	("2026-06-17", "9.99"),
]
ECB_CSV = HEADER + "".join(f"{SERIES},{day},{rate}\n" for day, rate in CHANGES)
LEGAL_CSV = (
	"series,valid_from,valid_until,rate,source\n"
	"fr_legal_rate,2026-07-01,2026-12-31,8.88,FICTITIOUS test row (arrêté du …)\n"
	"fr_legal_rate_consumer,2026-07-01,2026-12-31,7.77,FICTITIOUS test row (arrêté du …)\n"
)


class Sources:
	"""A local HTTP server answering each path with the text set in `pages` (404 otherwise)."""

	def __init__(self):
		self.pages: dict[str, tuple[int, str]] = {}
		self.hits: list[str] = []
		sources = self

		class Handler(http.server.BaseHTTPRequestHandler):
			def do_GET(self):
				sources.hits.append(self.path)
				status, body = sources.pages.get(self.path.split("?")[0], (404, "not found"))
				data = body.encode("utf-8")
				self.send_response(status)
				self.send_header("Content-Type", "text/csv; charset=utf-8")
				self.send_header("Content-Length", str(len(data)))
				self.end_headers()
				self.wfile.write(data)

			def log_message(self, *args):
				pass

		self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
		self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
		self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
		self.thread.start()

	def close(self):
		self.server.shutdown()
		self.server.server_close()


@pytest.fixture
def sources():
	server = Sources()
	server.pages["/ecb"] = (200, ECB_CSV)
	server.pages["/legal"] = (200, LEGAL_CSV)
	yield server
	server.close()


def closed_port_url() -> str:
	with socket.socket() as s:
		s.bind(("127.0.0.1", 0))
		port = s.getsockname()[1]
	return f"http://127.0.0.1:{port}/ecb"  # nothing listens there any more: connection refused


def snapshot(folder: Path) -> dict[str, str]:
	return (
		{p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.csv"))}
		if folder.exists()
		else {}
	)


# The rules (core) ---------------------------------------------------------------------------------


def test_half_years():
	assert half_year(date(2026, 6, 30)) == (date(2026, 1, 1), date(2026, 6, 30))
	assert half_year(date(2026, 7, 1)) == (date(2026, 7, 1), date(2026, 12, 31))
	rates = load_reference_rates()
	(missing,) = missing_for(rates, TODAY, (ECB_REFI,))
	assert (missing.start, missing.end) == (date(2026, 7, 1), date(2026, 12, 31))
	assert missing_for(rates, date(2026, 6, 15)) == ()


def test_the_rate_in_force_on_the_first_day_of_each_half_year():
	changes = [(date.fromisoformat(d), Decimal(r)) for d, r in CHANGES]
	rows = ecb_half_year_rows(changes, date(2024, 1, 1), TODAY, "FM.B…", TODAY)
	got = {row.valid_from.isoformat(): str(row.rate) for row in rows}
	# 1 July 2024: 4.25 (the 12 June cut), not the 3.65 of 18 September; 1 January 2025: 3.15 (18
	# December 2024); a change on 17 June 2026 counts for the half-year from 1 July 2026
	assert got == {
		"2024-01-01": "4.5",
		"2024-07-01": "4.25",
		"2025-01-01": "3.15",
		"2025-07-01": "2.15",
		"2026-01-01": "2.15",
		"2026-07-01": "9.99",
	}
	assert rows[-1].valid_until == date(2026, 12, 31)
	assert rows[-1].read_on == TODAY
	assert "17/06/2026" in rows[-1].source
	# The next half-year is not written before its first day
	assert ecb_half_year_rows(changes, date(2026, 1, 1), date(2026, 6, 30), "s", TODAY)[
		-1
	].valid_from == date(2026, 1, 1)


def row(start, rate="2.15", source="src", until=None):
	start = date.fromisoformat(start)
	return RateRow(start, until or half_year(start)[1], Decimal(rate), source)


def test_a_row_is_checked():
	assert check_row(ECB_REFI, row("2026-07-01", "30")) == []
	assert check_row(ECB_REFI, row("2026-07-01", "-5")) == []
	assert [p.code for p in check_row(ECB_REFI, row("2026-07-01", "30.01"))] == ["rate_range"]
	assert [p.code for p in check_row(ECB_REFI, row("2026-07-01", "-5.5"))] == ["rate_range"]
	assert [p.code for p in check_row(ECB_REFI, row("2026-07-01", "NaN"))] == ["rate_range"]
	not_whole = row("2026-07-02")
	(problem,) = check_row(ECB_REFI, not_whole)
	assert (problem.field, problem.code) == ("valid_until", "not_half_year")
	assert "semestre entier" in problem.describe("fr")
	assert [p.code for p in check_row(FR_LEGAL, row("2026-07-01", source=" "))] == ["no_source"]


def test_merging_never_overwrites_without_force():
	known = list(load_reference_rates().ecb_refi.rows)
	same = merge_rows(ECB_REFI, known, [row("2026-01-01", "2.15", "other words")])
	assert not same.changed and same.rows == tuple(known)  # the bundled row and its source stay
	other = merge_rows(ECB_REFI, known, [row("2026-01-01", "3.00")])
	assert not other.changed and [p.code for p in other.refused] == ["known"]
	forced = merge_rows(ECB_REFI, known, [row("2026-01-01", "3.00")], force=True)
	assert forced.rows[-1].rate == Decimal("3.00") and forced.replaced
	added = merge_rows(ECB_REFI, known, [row("2026-07-01", "9.99")])
	assert [r.valid_from for r in added.added] == [date(2026, 7, 1)]
	gap = merge_rows(ECB_REFI, known, [row("2027-01-01", "9.99")])
	assert not gap.changed and [p.code for p in gap.refused] == ["gap"]
	overlap = merge_rows(ECB_REFI, known, [RateRow(date(2026, 1, 1), date(2026, 12, 31), Decimal(1), "x")])
	assert [p.code for p in overlap.refused] == ["not_half_year"]


# relance rates update ------------------------------------------------------------------------------


def test_update_fills_the_missing_half_year(tmp_path, sources):
	folder = tmp_path / "taux"
	code, out, err = run_cli(
		"--lang", "en", "rates", "update", "--rates", folder, "--as-of", TODAY,
		"--ecb-url", f"{sources.url}/ecb?format=csvdata", "--legal-url", f"{sources.url}/legal",
	)  # fmt: skip
	assert code == 0, out + err
	assert "fr_ecb_refi: 2026-07-01..2026-12-31 9.99 % added" in out
	rows = parse_rate_rows(ECB_REFI, (folder / "fr_ecb_refi.csv").read_text(encoding="utf-8"))
	last = rows[-1]
	assert (last.valid_from, last.valid_until, last.rate, last.read_on) == (
		date(2026, 7, 1),
		date(2026, 12, 31),
		Decimal("9.99"),
		TODAY,
	)
	assert "ECB Data Portal" in last.source and sources.url in last.source
	# What was known stays as it was, with its own source
	bundled = load_reference_rates().ecb_refi.rows
	assert tuple(rows[:-1]) == bundled
	legal = parse_rate_rows(FR_LEGAL, (folder / "fr_legal_rate.csv").read_text(encoding="utf-8"))
	assert (legal[-1].rate, legal[-1].read_on) == (Decimal("8.88"), TODAY)
	assert f"{sources.url}/legal" in legal[-1].source
	# A second update finds nothing new and writes nothing
	before = snapshot(folder)
	code, out, err = run_cli(
		"--lang",
		"en",
		"rates",
		"update",
		"--rates",
		folder,
		"--as-of",
		TODAY,
		"--ecb-url",
		f"{sources.url}/ecb",
	)
	assert code == 0, out + err
	assert "nothing new" in out
	assert snapshot(folder) == before
	# And the plan of that day is final: no provisional figure, exit 0
	code, out, err = run_cli(
		"plan", "--register", SAMPLE, "--as-of", TODAY, "--rates", folder, "--format", "json",
		"--config", by_due_date_config(tmp_path),
	)  # fmt: skip
	assert code == 0, err
	data = json.loads(out)
	assert data["provisional"] == []
	periods = [p for a in data["actions"] for line in a["invoices"] for p in line["rate_periods"]]
	assert any(p["from"] == "2026-07-01" and p["rate"] == "19.99" for p in periods)


def test_update_without_the_legal_rate_still_says_what_is_missing(tmp_path, sources):
	folder = tmp_path / "taux"
	code, out, err = run_cli(
		"--lang",
		"en",
		"rates",
		"update",
		"--rates",
		folder,
		"--as-of",
		TODAY,
		"--ecb-url",
		f"{sources.url}/ecb",
	)
	assert code == 5, out + err  # written, but the legal rate of the half-year is still missing
	assert "missing for today (2026-12-05): fr_legal_rate, second half of 2026" in out
	assert "missing for today (2026-12-05): fr_ecb_refi" not in out


def test_unreachable_source_changes_nothing(tmp_path):
	folder = tmp_path / "taux"
	code, out, err = run_cli(
		"--lang", "en", "rates", "update", "--rates", folder, "--as-of", TODAY, "--ecb-url", closed_port_url()
	)
	assert code == 6, out + err
	assert err.count("\n") == 1, err  # one clear message
	assert "update failed, nothing was changed" in err and "unreachable" in err
	assert not folder.exists()
	code, out, err = run_cli(
		"rates", "update", "--rates", folder, "--as-of", TODAY, "--ecb-url", closed_port_url()
	)
	assert code == 6 and "rien n'a changé" in err


def test_a_source_contradicting_a_known_rate_needs_force(tmp_path, sources):
	folder = tmp_path / "taux"
	# FICTITIOUS: a change dated 1 December 2025 to 3.00, contradicting the bundled 2.15 for H1 2026
	sources.pages["/ecb"] = (200, HEADER + f"{SERIES},2025-06-11,2.15\n{SERIES},2025-12-01,3.00\n")
	argv = (
		"--lang",
		"en",
		"rates",
		"update",
		"--rates",
		folder,
		"--as-of",
		TODAY,
		"--ecb-url",
		f"{sources.url}/ecb",
	)
	code, out, err = run_cli(*argv)
	assert code == 3, out + err
	assert "fr_ecb_refi, 2026-01-01, rate: already known at 2.15; not overwritten (use --force" in err
	assert "nothing was written" in err
	assert snapshot(folder) == {}
	code, out, err = run_cli(*argv, "--force")
	assert code == 5, out + err  # written; the legal rate of the half-year is still missing
	assert "2026-01-01..2026-06-30 3.00 % replaced" in out


def test_bad_answers_change_nothing(tmp_path, sources):
	folder = tmp_path / "taux"
	sources.pages["/html"] = (200, "<html><body>Maintenance</body></html>")
	sources.pages["/legal-bad"] = (200, LEGAL_CSV.replace("8.88", "45"))
	sources.pages["/down"] = (503, "busy")
	for url, expected in (
		(f"{sources.url}/html", "no TIME_PERIOD and OBS_VALUE"),
		(f"{sources.url}/down", "HTTP 503"),
	):
		code, out, err = run_cli(
			"--lang", "en", "rates", "update", "--rates", folder, "--as-of", TODAY, "--ecb-url", url
		)
		assert code == 3 and expected in err, out + err
	code, out, err = run_cli(
		"--lang", "en", "rates", "update", "--rates", folder, "--as-of", TODAY,
		"--ecb-url", f"{sources.url}/ecb", "--legal-url", f"{sources.url}/legal-bad",
	)  # fmt: skip
	assert code == 3, out + err
	assert "fr_legal_rate, 2026-07-01, rate: the rate 45 is not a number between -5 and 30" in err
	assert snapshot(folder) == {}  # the good ECB row is not written either: all or nothing


# relance rates set / show ------------------------------------------------------------------------


def test_set_by_hand_and_show(tmp_path):
	folder = tmp_path / "taux"
	code, out, err = run_cli("--lang", "en", "rates", "show", "--rates", folder, "--as-of", TODAY)
	assert code == 5, out + err
	assert "fr_ecb_refi" in out and "covers 2024-01-01 .. 2026-06-30" in out
	assert "missing for today (2026-12-05): fr_ecb_refi, second half of 2026 (2026-07-01..2026-12-31)" in out
	code, out, err = run_cli(
		"rates",
		"set",
		"fr_legal_rate",
		"2026-07-02",
		"2,5",
		"--source",
		"x",
		"--rates",
		folder,
		"--as-of",
		TODAY,
	)
	assert code == 3 and "n'est pas un semestre entier" in err
	for table, rate in ((ECB_REFI, "2.15"), (FR_LEGAL, "2,62 %")):
		code, out, err = run_cli(
			"--lang", "en", "rates", "set", table, "2026-07-01", rate, "--source", "typed for the test",
			"--rates", folder, "--as-of", TODAY,
		)  # fmt: skip
		assert code == 0, out + err
	code, out, err = run_cli("--lang", "en", "rates", "show", "--rates", folder, "--as-of", TODAY)
	assert code == 0, out + err
	assert "covers 2024-01-01 .. 2026-12-31" in out
	assert "typed for the test, read on 2026-12-05" in out
	assert "to come: fr_ecb_refi, first half of 2027" in out


# A missing half-year never stops a reminder (the situation, on the sample register) -----


def by_due_date_config(tmp_path) -> Path:
	"""The sample company's configuration, its calendar by due date: a first contact is a courteous
	email claiming no interest, so without this nothing on the sample register would be provisional."""
	sample = (Path(SAMPLE).parent / "entreprise_exemple.toml").read_text(encoding="utf-8")
	config = tmp_path / "entreprise.toml"
	config.write_text(
		sample.replace("[settings]\n", '[settings]\ncatch_up = "by_due_date"\n'), encoding="utf-8"
	)
	return config


def test_run_on_the_fifth_of_december_plans_every_reminder_provisionally(tmp_path):
	out_dir = tmp_path / "lettres"
	code, out, err = run_cli(
		"run", "--register", SAMPLE, "--as-of", TODAY, "--journal", tmp_path / "j.sqlite", "--out", out_dir,
		"--config", by_due_date_config(tmp_path),
	)  # fmt: skip
	assert code == 5, err
	assert "intérêts provisoires (statut de sortie 5)" in err and "fr_ecb_refi.csv" in err
	plan = json.loads((day_folder(out_dir) / "plan.json").read_text(encoding="utf-8"))
	assert plan["actions"] and plan["errors"] == []
	assert "rate_missing" not in {s["reason"] for s in plan["skipped"]}
	texts = "\n".join(p.read_text(encoding="utf-8") for p in day_folder(out_dir).glob("*.txt"))
	words = " ".join(texts.split())
	assert "pénalités arrêtées au 30 juin 2026" in words
	assert (
		"celles du second semestre 2026 seront calculées au taux de refinancement de la BCE en vigueur au 1er juillet 2026 majoré de 10 points"
		in words
	)
	assert "(provisoire)" in words


# Provisional interest in the core (charges) -------------------------------------------------------


def test_instalments_and_penalty_claims_are_provisional_too():
	from relance_erpnext.dunning.charges import accrued_interest, penalty_claim
	from relance_erpnext.dunning.models import CONSUMER, Instalment

	from .helpers import RATES, customer, invoice

	# Two instalments of 500, due 1 June and 1 August 2026; 200 paid on 10 June
	inv = invoice(
		instalments=(Instalment(date(2026, 6, 1), Decimal(500)), Instalment(date(2026, 8, 1), Decimal(500))),
		payments=[(date(2026, 6, 10), "200")],
	)
	accrual = accrued_interest(inv, customer(), date(2026, 9, 1), RATES)
	# 500 x 12.15 % x 9 days (2-10 June) + 300 x 12.15 % x 20 days (11-30 June), nothing after 30 June:
	# (4500 + 6000) x 12.15 / 36500 = 3.495 -> 3.50
	assert accrual.amount == Decimal("3.50")
	assert accrual.until == date(2026, 6, 30)
	assert [(m.table, m.start) for m in accrual.missing] == [("fr_ecb_refi", date(2026, 7, 1))]
	# A consumer put on notice on 1 September: the legal rate of the second half-year is missing
	consumer = customer(kind=CONSUMER)
	late = invoice(due=date(2026, 6, 1))
	accrual = accrued_interest(late, consumer, date(2026, 10, 1), RATES, notice_day=date(2026, 9, 1))
	assert (accrual.amount, accrual.start, accrual.until) == (
		Decimal("0.00"),
		date(2026, 9, 2),
		date(2026, 9, 1),
	)
	assert [m.table for m in accrual.missing] == ["fr_legal_rate"]
	# The penalties claimed after a late payment on 15 July: provisional, the 40 EUR kept
	paid = invoice(due=date(2026, 6, 1), payments=[(date(2026, 7, 15), "1000")])
	line = penalty_claim(paid, customer(), date(2026, 12, 5), RATES)
	assert (line.interest, line.indemnity, line.interest_until) == (
		Decimal("9.65"),
		Decimal("40.00"),
		date(2026, 6, 30),
	)
	assert line.notes[0] == "interest_provisional:2026-06-30"
	# Where the rates are known, the very same figure as before
	known = invoice(due=date(2026, 3, 1))
	accrual = accrued_interest(known, customer(), date(2026, 3, 31), RATES)
	assert (accrual.amount, accrual.missing, accrual.until) == (Decimal("9.99"), (), date(2026, 3, 31))
