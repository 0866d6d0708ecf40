"""Fetching the reference rates from where they are published (I/O only: the rules are in
dunning/rates.py, shared with the ERPNext app).

- ECB main refinancing operations, fixed rate: the ECB Data Portal's SDMX REST API, dataflow FM,
  series B.U2.EUR.4F.KR.MRR_FR.LEV (the level at each change; the daily series D.U2.EUR.4F.KR.MRR_FR.LEV
  is read the same way), as CSV (`format=csvdata`): one row per observation, with the columns
  TIME_PERIOD (YYYY-MM-DD) and OBS_VALUE (percent a year) among the series' dimensions.
- French legal interest rate: no documented public API could be checked here (the Banque de France's
  Webstat API needs a registered client id), so it is typed by hand (`relance rates set`, or Relance
  Settings in ERPNext) with its source, the arrêté published in the Journal officiel. A shared copy can
  be read from a URL (`--legal-url`): a CSV with the columns series, valid_from, valid_until, rate,
  source (series fr_legal_rate or fr_legal_rate_consumer), the same rows as Relance Settings' table.
"""

from __future__ import annotations

import csv
import io
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from relance_erpnext.dunning.rates import (
	ECB_REFI,
	FR_LEGAL,
	FR_LEGAL_CONSUMER,
	Merge,
	RateRow,
	ecb_half_year_rows,
	half_year,
	merge_rows,
)
from relance_erpnext.i18n import Text, reason

ECB_SERIES = "FM.B.U2.EUR.4F.KR.MRR_FR.LEV"
ECB_URL = (
	"https://data-api.ecb.europa.eu/service/data/FM/B.U2.EUR.4F.KR.MRR_FR.LEV?format=csvdata&detail=dataonly"
)
TIMEOUT = 20  # seconds per request
MAX_BYTES = 5_000_000  # the whole daily series since 1999 is well under this
LEGAL_TABLES = (FR_LEGAL, FR_LEGAL_CONSUMER)


class RateSourceError(Exception):
	"""A source could not be read or understood: `url` and the reason, nothing was changed."""

	def __init__(self, url: str, reason, unreachable: bool = False):
		self.url = url
		self.reason = reason
		self.unreachable = unreachable  # no answer at all (no network, DNS, refused, timeout)
		super().__init__(f"{url}: {reason}")


def fetch_text(url: str, timeout: float = TIMEOUT) -> str:
	if not url.lower().startswith(("https://", "http://")):
		raise RateSourceError(url, Text("only http(s) addresses are read"))
	request = urllib.request.Request(url, headers={"Accept": "text/csv", "User-Agent": "relance_erpnext"})
	try:
		with urllib.request.urlopen(request, timeout=timeout) as response:
			body = response.read(MAX_BYTES + 1)
	except urllib.error.HTTPError as exc:
		raise RateSourceError(url, Text("HTTP {code} {reason}", code=exc.code, reason=exc.reason))
	except (urllib.error.URLError, OSError) as exc:
		why = getattr(exc, "reason", exc)
		why = reason(why) if isinstance(why, BaseException) else str(why)
		raise RateSourceError(url, Text("unreachable ({reason})", reason=why), unreachable=True)
	if len(body) > MAX_BYTES:
		raise RateSourceError(url, Text("answer larger than {n} bytes", n=MAX_BYTES))
	try:
		return body.decode("utf-8-sig")
	except UnicodeDecodeError:
		raise RateSourceError(url, Text("the answer is not UTF-8 text"))


def parse_ecb_csv(text: str, url: str = "") -> list[tuple[date, Decimal]]:
	"""(day, rate) of each observation of an ECB Data Portal `csvdata` answer."""
	reader = csv.DictReader(io.StringIO(text))
	fields = set(reader.fieldnames or ())
	if not {"TIME_PERIOD", "OBS_VALUE"} <= fields:
		raise RateSourceError(url, Text("not an ECB csvdata answer (no TIME_PERIOD and OBS_VALUE columns)"))
	out = []
	for number, record in enumerate(reader, start=2):
		value = (record.get("OBS_VALUE") or "").strip()
		if not value:
			continue  # a period without observation
		try:
			out.append((date.fromisoformat(record["TIME_PERIOD"].strip()), Decimal(value)))
		except (ValueError, InvalidOperation, AttributeError):
			raise RateSourceError(
				url,
				Text(
					"line {number}: TIME_PERIOD {period!r} / OBS_VALUE {value!r} unreadable",
					number=number,
					period=record.get("TIME_PERIOD"),
					value=value,
				),
			)
	if not out:
		raise RateSourceError(url, Text("no observation in the answer"))
	return out


def parse_legal_csv(text: str, url: str, read_on: date) -> dict[str, list[RateRow]]:
	"""Rows of the legal-rate tables from a CSV: series, valid_from, valid_until, rate, source."""
	reader = csv.DictReader(io.StringIO(text))
	missing = {"series", "valid_from", "valid_until", "rate", "source"} - set(reader.fieldnames or ())
	if missing:
		raise RateSourceError(url, Text("missing column(s) {listed}", listed=", ".join(sorted(missing))))
	out: dict[str, list[RateRow]] = {name: [] for name in LEGAL_TABLES}
	for number, record in enumerate(reader, start=2):
		series = (record.get("series") or "").strip()
		if series not in out:
			raise RateSourceError(
				url,
				Text(
					"line {number}: series {series!r} is not one of {listed}",
					number=number,
					series=series,
					listed=", ".join(LEGAL_TABLES),
				),
			)
		try:
			until = (record.get("valid_until") or "").strip()
			row = RateRow(
				date.fromisoformat((record.get("valid_from") or "").strip()),
				date.fromisoformat(until) if until else None,
				Decimal((record.get("rate") or "").strip().replace(",", ".")),
				f"{(record.get('source') or '').strip()} ; lu sur {url}",
				read_on,
			)
		except (ValueError, InvalidOperation):
			raise RateSourceError(
				url, Text("line {number}: valid_from, valid_until or rate unreadable", number=number)
			)
		out[series].append(row)
	return out


@dataclass(frozen=True, slots=True)
class Update:
	"""What an update would write: for each table it touched, the merge (rows, added, refused...)."""

	merges: dict[str, Merge]

	@property
	def changed(self) -> bool:
		return any(m.changed for m in self.merges.values())

	@property
	def refused(self):
		return [problem for m in self.merges.values() for problem in m.refused]


def fetch_update(
	known: dict[str, list[RateRow]],
	today: date,
	ecb_url: str | None = ECB_URL,
	legal_url: str | None = None,
	force: bool = False,
	timeout: float = TIMEOUT,
) -> Update:
	"""Read every source first (any failure raises RateSourceError: nothing is merged), then merge
	what they publish into the known tables by the core's rules. Writes nothing: the caller does."""
	fetched: dict[str, list[RateRow]] = {}
	if ecb_url:
		changes = parse_ecb_csv(fetch_text(ecb_url, timeout), ecb_url)
		first = known[ECB_REFI][0].valid_from if known.get(ECB_REFI) else half_year(today)[0]
		fetched[ECB_REFI] = ecb_half_year_rows(changes, first, today, f"{ECB_SERIES} ({ecb_url})", today)
	if legal_url:
		fetched.update(parse_legal_csv(fetch_text(legal_url, timeout), legal_url, today))
	return Update(
		{name: merge_rows(name, known.get(name, []), rows, force=force) for name, rows in fetched.items()}
	)
