"""Bank statement readers: CAMT.053 (ISO 20022 XML), OFX (1.x SGML and 2.x XML) and CSV exports.

Every reader gives a `Statement` of `BankLine`s (relance_erpnext.dunning.matching): a line id that
stays the same when the same statement is read again (so a payment is never recorded twice), the
booking date, the amount (positive: money in), the currency, the remittance text and the payer.

Every problem is collected, not just the first; an error names the file, the entry (CAMT), the
transaction (OFX) or the row (CSV, the header being where it is in the file), and the field, e.g.
``releve.csv, row 7, column "Crédit": "12,3,4" is not an amount``. A statement with an error must
not be used: a line left out could be a payment recorded later against the wrong invoice.

Line ids: CAMT's AcctSvcrRef (else NtryRef), OFX's FITID, each prefixed with the account (IBAN or
account id) when the file gives it; a CSV without a reference column gets a digest of the row's date,
amount and text (and its rank among identical rows), so re-reading an export gives the same ids.

XML is parsed with defusedxml: no DTD, no entity expansion, no external resource.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from relance_erpnext.dunning.matching import BankLine
from relance_erpnext.dunning.money import parse_amount
from relance_erpnext.i18n import Text, reason, say

CAMT = "camt.053"
OFX = "ofx"
CSV = "csv"
FORMATS = (CAMT, OFX, CSV)
DEFAULT_CURRENCY = "EUR"
_TOO_LARGE = Decimal(10) ** 13  # a pasted account number, not an amount
_CAMT_NAMESPACE = re.compile(r"urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.(\d+)")


@dataclass(frozen=True, slots=True)
class StatementError:
	file: str
	where: str | None
	field: str | None
	message: str

	def __str__(self) -> str:
		return self.text("en")

	def text(self, lang: str = "en") -> str:
		"""The error in the user's language ("fr" or "en"), naming the file, the place and the field."""
		parts = [self.file]
		if self.where:
			parts.append(say(self.where, lang))
		if self.field:
			# A CSV has columns (its header as written); XML and OFX have fields (their tag names)
			if getattr(self.where, "template", "") == "row {row}":
				parts.append(say(Text('column "{column}"', column=self.field), lang))
			else:
				parts.append(say(Text('field "{field}"', field=self.field), lang))
		return say(Text("{where}: {message}", where=", ".join(parts), message=self.message), lang)


@dataclass
class Statement:
	path: Path
	format: str = ""
	account: str = ""
	lines: list[BankLine] = field(default_factory=list)
	errors: list[StatementError] = field(default_factory=list)
	warnings: list[str] = field(default_factory=list)

	@property
	def ok(self) -> bool:
		return not self.errors


def read_statement(path: str | Path, default_currency: str = DEFAULT_CURRENCY) -> Statement:
	"""Read a statement, its format found from its content (then its name).

	`default_currency` is used for a CSV without a currency column."""
	path = Path(path)
	statement = Statement(path)
	try:
		data = path.read_bytes()
	except OSError as exc:
		statement.errors.append(StatementError(str(path), None, None, reason(exc)))
		return statement
	kind = detect_format(data, path)
	statement.format = kind or ""
	if kind is None:
		statement.errors.append(
			StatementError(str(path), None, None, Text("not a CAMT.053, OFX or CSV bank statement"))
		)
	elif kind == CAMT:
		_read_camt(data, statement)
	elif kind == OFX:
		_read_ofx(data, statement)
	else:
		_read_csv(data, statement, default_currency.upper())
	return statement


def detect_format(data: bytes, path: Path) -> str | None:
	head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
	if b"ofxheader" in head or b"<ofx>" in head or b"<?ofx" in head:
		return OFX
	if head.startswith(b"<"):
		return CAMT  # any other XML: the CAMT reader says what is wrong with it
	suffix = path.suffix.lower()
	if suffix in (".ofx", ".qfx"):
		return OFX
	if suffix in (".xml", ".053", ".camt"):
		return CAMT
	if b"\x00" in data[:4096]:
		return None
	return CSV


def _digest(*parts: object) -> str:
	return hashlib.sha1("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:16]


def _said(exc: Exception):
	"""A reading error as a value of a message: its Text when it carries one, else its own text."""
	message = exc.args[0] if exc.args else ""
	return message if isinstance(message, Text) else str(exc)


def _clean(text: str | None) -> str:
	return " ".join(html.unescape(text or "").split())


def _amount(text: str | None) -> Decimal:
	"""A statement amount, as a Decimal; ValueError with a short reason."""
	if text is None or not str(text).strip():
		raise ValueError(Text("no amount"))
	raw = str(text).strip()
	try:
		value = parse_amount(raw.lstrip("+"))
	except ValueError as exc:
		if "ambiguous" in str(exc):
			raise ValueError(Text("ambiguous amount {value!r}", value=raw)) from None
		raise ValueError(Text("{value!r} is not an amount", value=raw)) from None
	if abs(value) >= _TOO_LARGE:
		raise ValueError(Text("{raw!r} is too large to be an amount", raw=raw))
	if value.as_tuple().exponent < -2:  # type: ignore[operator]
		raise ValueError(Text("{raw!r} has more than two decimals", raw=raw))
	return value


# ---------------------------------------------------------------------------------------------------
# CAMT.053


def _local(tag: str) -> str:
	return tag.rpartition("}")[2]


def _child(element, *path: str):
	"""The first descendant along `path` (local names, any namespace), or None."""
	current = element
	for name in path:
		if current is None:
			return None
		current = next((child for child in current if _local(child.tag) == name), None)
	return current


def _children(element, name: str) -> list:
	return [child for child in element if _local(child.tag) == name] if element is not None else []


def _text(element, *path: str) -> str:
	found = _child(element, *path)
	return _clean(found.text) if found is not None and found.text else ""


def _read_camt(data: bytes, statement: Statement) -> None:
	from defusedxml import DefusedXmlException
	from defusedxml.ElementTree import ParseError, fromstring

	name = str(statement.path)
	try:
		root = fromstring(data)
	except ParseError as exc:
		line, column = getattr(exc, "position", (None, None))
		where = Text("line {line}, column {column}", line=line, column=column) if line else None
		statement.errors.append(
			StatementError(name, where, None, Text("not well-formed XML ({msg})", msg=exc.msg))
		)
		return
	except DefusedXmlException as exc:
		statement.errors.append(
			StatementError(
				name,
				None,
				None,
				Text("refused: the XML declares a DTD or entities ({error})", error=type(exc).__name__),
			)
		)
		return
	namespace = root.tag[1:].partition("}")[0] if root.tag.startswith("{") else ""
	version = _CAMT_NAMESPACE.fullmatch(namespace)
	if _local(root.tag) != "Document" or version is None:
		statement.errors.append(
			StatementError(
				name,
				None,
				None,
				Text(
					"not a CAMT.053 statement (root {root!r}, namespace {namespace!r})",
					root=_local(root.tag),
					namespace=namespace or "none",
				),
			)
		)
		return
	report = _child(root, "BkToCstmrStmt")
	statements = _children(report, "Stmt")
	if not statements:
		statement.errors.append(
			StatementError(name, None, "BkToCstmrStmt/Stmt", Text("no statement in the file"))
		)
		return
	entry_number = 0
	for stmt in statements:
		account = _text(stmt, "Acct", "Id", "IBAN") or _text(stmt, "Acct", "Id", "Othr", "Id")
		statement.account = statement.account or account
		account_currency = _text(stmt, "Acct", "Ccy")
		for entry in _children(stmt, "Ntry"):
			entry_number += 1
			_camt_entry(entry, entry_number, account, account_currency, statement)


def _camt_entry(entry, number: int, account: str, account_currency: str, statement: Statement) -> None:
	name = str(statement.path)
	ref = _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef")
	where = (
		Text("entry {number} ({ref})", number=number, ref=ref)
		if ref
		else Text("entry {number}", number=number)
	)
	errors = []

	def fail(field_name: str, message: str) -> None:
		errors.append(StatementError(name, where, field_name, message))

	status = _text(entry, "Sts", "Cd") or _text(entry, "Sts")
	if status and status.upper() != "BOOK":
		statement.warnings.append(
			Text(
				"{file}, {where}: status {status} (not booked), ignored",
				file=name,
				where=where,
				status=status,
			)
		)
		return
	indicator = _text(entry, "CdtDbtInd").upper()
	if indicator not in ("CRDT", "DBIT"):
		fail("CdtDbtInd", Text("{value!r} is neither CRDT nor DBIT", value=indicator or "nothing"))
	amount_element = _child(entry, "Amt")
	amount = None
	currency = ""
	if amount_element is None:
		fail("Amt", Text("no amount"))
	else:
		currency = (amount_element.get("Ccy") or account_currency or "").strip().upper()
		if not re.fullmatch(r"[A-Z]{3}", currency):
			fail("Amt/@Ccy", Text("{value!r} is not a currency code", value=currency or "nothing"))
		try:
			amount = _amount(amount_element.text)
			if amount < 0:
				raise ValueError(
					Text(
						"{value!r} is negative (CdtDbtInd gives the direction)",
						value=amount_element.text.strip(),
					)
				)
		except ValueError as exc:
			fail("Amt", _said(exc))
	booked_text = _text(entry, "BookgDt", "Dt") or _text(entry, "BookgDt", "DtTm")[:10]
	booked = None
	try:
		booked = date.fromisoformat(booked_text)
	except ValueError:
		fail("BookgDt", Text("{value!r} is not a date (YYYY-MM-DD)", value=booked_text or "nothing"))
	details = [tx for batch in _children(entry, "NtryDtls") for tx in _children(batch, "TxDtls")]
	if errors:
		statement.errors.extend(errors)
		return
	sign = 1 if indicator == "CRDT" else -1
	entry_text = _text(entry, "AddtlNtryInf")
	base_id = ref or f"camt:{_digest(booked, amount, indicator, entry_text, number)}"
	if account:
		base_id = f"{account}:{base_id}"
	# A batch booked as one entry: one line per transaction when each has its own amount
	split = len(details) > 1 and all(_tx_amount(tx) is not None for tx in details)
	if not split:
		texts = [_remittance(tx) for tx in details] or []
		remittance = " ".join(t for t in [*texts, entry_text] if t)
		payer = next((p for p in (_payer(tx, indicator) for tx in details) if p), "")
		statement.lines.append(
			BankLine(base_id, booked, sign * amount, currency, remittance, payer, where)  # type: ignore[operator,arg-type]
		)
		return
	total = Decimal(0)
	lines = []
	for index, tx in enumerate(details, start=1):
		tx_where = Text("{where}, transaction {index}", where=where, index=index)
		element = _tx_amount(tx)
		try:
			tx_amount = _amount(element.text)
		except ValueError as exc:
			statement.errors.append(StatementError(name, tx_where, "TxDtls/Amt", _said(exc)))
			continue
		total += tx_amount
		tx_ref = _text(tx, "Refs", "AcctSvcrRef") or _text(tx, "Refs", "EndToEndId") or str(index)
		lines.append(
			BankLine(
				f"{base_id}/{tx_ref}" if tx_ref != "NOTPROVIDED" else f"{base_id}/{index}",
				booked,  # type: ignore[arg-type]
				sign * tx_amount,
				(element.get("Ccy") or currency).upper(),
				" ".join(t for t in (_remittance(tx), entry_text) if t),
				_payer(tx, indicator),
				tx_where,
			)
		)
	if total != amount and not any(e.where and e.where.startswith(where) for e in statement.errors):
		statement.errors.append(
			StatementError(
				name,
				where,
				"TxDtls/Amt",
				Text(
					"the transactions add up to {total}, not to the entry's {amount}",
					total=total,
					amount=amount,
				),
			)
		)
		return
	statement.lines.extend(lines)


def _tx_amount(tx):
	# Not `a or b`: an element without children is false
	found = _child(tx, "AmtDtls", "TxAmt", "Amt")
	return found if found is not None else _child(tx, "Amt")


def _remittance(tx) -> str:
	info = _child(tx, "RmtInf")
	parts = [_clean(u.text) for u in _children(info, "Ustrd") if u.text]
	for structured in _children(info, "Strd"):
		for ref in (
			_text(structured, "CdtrRefInf", "Ref"),
			*(_text(d, "Nb") for d in _children(structured, "RfrdDocInf")),
		):
			if ref:
				parts.append(ref)
	return " ".join(parts)


def _payer(tx, indicator: str) -> str:
	# The payer of a credit is the debtor; 001.08 puts its name under Pty
	party = "Dbtr" if indicator == "CRDT" else "Cdtr"
	return _text(tx, "RltdPties", party, "Nm") or _text(tx, "RltdPties", party, "Pty", "Nm")


# ---------------------------------------------------------------------------------------------------
# OFX


def _read_ofx(data: bytes, statement: Statement) -> None:
	from ofxtools.header import OFXHeaderError
	from ofxtools.Parser import OFXTree, ParseError

	name = str(statement.path)
	if b"<!DOCTYPE" in data[:4096].upper() or b"<!ENTITY" in data.upper():
		statement.errors.append(
			StatementError(name, None, None, Text("refused: the OFX declares a DTD or entities"))
		)
		return
	tree = OFXTree()
	try:
		tree.parse(io.BytesIO(data))
	except OFXHeaderError as exc:
		statement.errors.append(
			StatementError(name, "header", None, Text("not a valid OFX header ({error})", error=str(exc)))
		)
		return
	except (ParseError, ValueError, UnicodeDecodeError, LookupError) as exc:
		statement.errors.append(
			StatementError(name, None, None, Text("not a readable OFX file ({error})", error=str(exc)))
		)
		return
	root = tree.getroot()
	statements = [*root.iter("STMTRS"), *root.iter("CCSTMTRS")]
	if not statements:
		statement.errors.append(
			StatementError(name, None, "STMTRS", Text("no bank or card statement in the file"))
		)
		return
	number = 0
	for stmt in statements:
		account = _clean(stmt.findtext("BANKACCTFROM/ACCTID") or stmt.findtext("CCACCTFROM/ACCTID"))
		statement.account = statement.account or account
		default_currency = _clean(stmt.findtext("CURDEF")).upper()
		for tx in stmt.iter("STMTTRN"):
			number += 1
			_ofx_transaction(tx, number, account, default_currency, statement)


def _ofx_transaction(tx, number: int, account: str, default_currency: str, statement: Statement) -> None:
	name = str(statement.path)
	fitid = _clean(tx.findtext("FITID"))
	where = (
		Text("transaction {number} ({id})", number=number, id=fitid)
		if fitid
		else Text("transaction {number}", number=number)
	)
	errors = []
	if not fitid:
		errors.append(StatementError(name, where, "FITID", Text("no transaction id")))
	amount = None
	try:
		amount = _amount(tx.findtext("TRNAMT"))
	except ValueError as exc:
		errors.append(StatementError(name, where, "TRNAMT", _said(exc)))
	posted = _clean(tx.findtext("DTPOSTED"))
	booked = None
	try:
		# The date as the bank wrote it: the time and zone after it would only move it across midnight
		booked = date(int(posted[0:4]), int(posted[4:6]), int(posted[6:8]))
	except ValueError:
		errors.append(
			StatementError(
				name, where, "DTPOSTED", Text("{value!r} is not a date (YYYYMMDD)", value=posted or "nothing")
			)
		)
	currency = (
		_clean(tx.findtext("CURRENCY/CURSYM") or tx.findtext("ORIGCURRENCY/CURSYM")) or default_currency
	)
	if not re.fullmatch(r"[A-Z]{3}", currency.upper()):
		errors.append(
			StatementError(
				name, where, "CURDEF", Text("{value!r} is not a currency code", value=currency or "nothing")
			)
		)
	if errors:
		statement.errors.extend(errors)
		return
	payer = _clean(tx.findtext("NAME") or tx.findtext("PAYEE/NAME"))
	remittance = " ".join(t for t in (_clean(tx.findtext("MEMO")), payer, _clean(tx.findtext("REFNUM"))) if t)
	line_id = f"{account}:{fitid}" if account else fitid
	statement.lines.append(BankLine(line_id, booked, amount, currency.upper(), remittance, payer, where))  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------
# CSV


def _normalize(text: str) -> str:
	decomposed = unicodedata.normalize("NFKD", str(text)).casefold()
	return "".join(ch for ch in decomposed if ch.isalnum())


# Column -> accepted headers (normalized)
_CSV_COLUMNS = {
	"date": (
		"date",
		"dateoperation",
		"datedoperation",
		"datecomptable",
		"datedecomptabilisation",
		"datecomptabilisation",
		"bookingdate",
		"transactiondate",
		"dateop",
		"posted",
		"postingdate",
	),
	"label": (
		"libelle",
		"libelleoperation",
		"libelledeloperation",
		"libellesimplifie",
		"description",
		"label",
		"details",
		"detail",
		"memo",
		"motif",
		"communication",
		"informationscomplementaires",
	),
	"debit": (
		"debit",
		"debits",
		"debiteur",
		"montantdebit",
		"withdrawal",
		"withdrawals",
		"moneyout",
		"paidout",
	),
	"credit": ("credit", "credits", "crediteur", "montantcredit", "deposit", "deposits", "moneyin", "paidin"),
	"amount": ("montant", "amount", "montanteur", "montanteuros", "somme", "valeur"),
	"currency": ("devise", "currency", "monnaie"),
	"id": (
		"id",
		# Documented as the line id (README): a bank's own reference of the operation
		"reference",
		"ref",
		"referenceoperation",
		"referencedeloperation",
		"transactionid",
		"identifiant",
		"referencebancaire",
		"refbanque",
		"numerodoperation",
		"fitid",
	),
	"payer": (
		"tiers",
		"contrepartie",
		"emetteur",
		"donneurdordre",
		"counterparty",
		"payer",
		"payee",
		"nomdutiers",
	),
}
_COLUMN_LABELS = {
	"date": "Date, Date opération, Booking date",
	"label": "Libellé, Description, Label",
	"amount": "Montant, Amount (or Débit and Crédit)",
}
_BALANCE_RE = re.compile(r"(solde|total|balance|nouveausolde|anciensolde)")
_DATE_RE = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})")
_ISO_RE = re.compile(r"(\d{4})[/\-.](\d{1,2})[/\-.](\d{1,2})")


def _decode(data: bytes) -> str:
	for encoding in ("utf-8-sig", "cp1252"):
		try:
			return data.decode(encoding)
		except UnicodeDecodeError:
			continue
	return data.decode("latin-1")


def _csv_date(text: str) -> date:
	value = text.strip()
	match = _ISO_RE.fullmatch(value[:10]) if len(value) >= 8 else None
	if match:
		return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
	match = _DATE_RE.fullmatch(value.split(" ")[0]) if value else None
	if not match:
		raise ValueError(Text("{text!r} is not a date (DD/MM/YYYY or YYYY-MM-DD)", text=text))
	day, month, year = (int(g) for g in match.groups())
	if year < 100:
		year += 2000
	try:
		return date(year, month, day)
	except ValueError:
		raise ValueError(Text("{text!r} is not a date (DD/MM/YYYY or YYYY-MM-DD)", text=text))


def _find_header(rows: list[list[str]]) -> tuple[int, dict[str, int]] | None:
	"""The header row (French banks put the account and period above it) and its columns."""
	for index, row in enumerate(rows[:30]):
		columns: dict[str, int] = {}
		for position, cell in enumerate(row):
			key = _normalize(cell)
			for column, accepted in _CSV_COLUMNS.items():
				if column not in columns and key in accepted:
					columns[column] = position
					break
		if "date" in columns and ("amount" in columns or "credit" in columns):
			return index, columns
	return None


def _read_csv(data: bytes, statement: Statement, default_currency: str) -> None:
	name = str(statement.path)
	text = _decode(data)
	sample = "\n".join(text.splitlines()[:40])
	counts = {sep: sample.count(sep) for sep in (";", "\t", ",")}
	delimiter = max(counts, key=lambda sep: (counts[sep], sep == ";"))
	rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
	found = _find_header(rows)
	if found is None:
		first = next((row for row in rows if any(cell.strip() for cell in row)), [])
		missing = []
		header_keys = {_normalize(cell) for cell in first}
		for column in ("date", "amount"):
			accepted = _CSV_COLUMNS[column] + (_CSV_COLUMNS["credit"] if column == "amount" else ())
			if not header_keys & set(accepted):
				missing.append(column)
		if len(missing) == 2:
			message = Text(
				"no date column (expected {dates}); no amount column (expected {amounts})",
				dates=_COLUMN_LABELS["date"],
				amounts=Text("Montant, Amount (or Débit and Crédit)"),
			)
		elif missing == ["date"]:
			message = Text("no date column (expected {dates})", dates=_COLUMN_LABELS["date"])
		elif missing == ["amount"]:
			message = Text(
				"no amount column (expected {amounts})", amounts=Text("Montant, Amount (or Débit and Crédit)")
			)
		else:
			message = Text("no header row with a date and an amount")
		statement.errors.append(StatementError(name, None, None, message))
		return
	header_index, columns = found
	header = rows[header_index]
	seen: dict[tuple, int] = {}
	for index in range(header_index + 1, len(rows)):
		row = rows[index]
		if not any(cell.strip() for cell in row):
			continue
		row_number = index + 1  # as a text editor or spreadsheet numbers it
		where = Text("row {row}", row=row_number)

		def cell(column: str, row=row) -> str:
			position = columns.get(column)
			return row[position].strip() if position is not None and position < len(row) else ""

		errors = []
		try:
			booked = _csv_date(cell("date"))
		except ValueError as exc:
			if not cell("date") and (
				_BALANCE_RE.match(_normalize(cell("label")))
				or not (cell("amount") or cell("credit") or cell("debit"))
			):
				continue  # a balance, a total or a note under the table
			errors.append(StatementError(name, where, header[columns["date"]], _said(exc)))
			booked = None
		amount = Decimal(0)
		if "amount" in columns:
			try:
				amount = _amount(cell("amount"))
			except ValueError as exc:
				errors.append(StatementError(name, where, header[columns["amount"]], _said(exc)))
		else:
			for column, sign in (("credit", 1), ("debit", -1)):
				if column in columns and cell(column):
					try:
						amount += sign * abs(_amount(cell(column)))
					except ValueError as exc:
						errors.append(StatementError(name, where, header[columns[column]], _said(exc)))
			if not cell("credit") and not cell("debit"):
				errors.append(
					StatementError(
						name, where, header[columns["credit"]], Text("neither a debit nor a credit")
					)
				)
		currency = (cell("currency") or default_currency).upper()
		if not re.fullmatch(r"[A-Z]{3}", currency):
			errors.append(
				StatementError(
					name,
					where,
					header[columns["currency"]],
					Text("{currency!r} is not a currency code", currency=currency),
				)
			)
		if errors:
			statement.errors.extend(errors)
			continue
		label = _clean(cell("label"))
		payer = _clean(cell("payer"))
		line_id = cell("id")
		if not line_id:
			key = (booked, amount, label, payer)
			seen[key] = seen.get(key, 0) + 1
			line_id = f"csv:{_digest(booked, amount, label, payer, seen[key])}"
		statement.lines.append(BankLine(line_id, booked, amount, currency, label, payer or label, where))  # type: ignore[arg-type]
