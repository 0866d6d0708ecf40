"""Decimal money: parse once, round once, to the currency's minor unit, half up."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
# Currencies without cents; every other one rounds to 0.01
_ZERO_DECIMAL_CURRENCIES = frozenset(("JPY", "KRW", "XOF", "XAF", "CLP", "VND", "ISK"))


def quantum(currency: str) -> Decimal:
	return Decimal("1") if currency.upper() in _ZERO_DECIMAL_CURRENCIES else CENT


def round_money(amount: Decimal, currency: str = "EUR") -> Decimal:
	return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def parse_amount(text: str | int | float | Decimal) -> Decimal:
	"""Parse "1 234,56", "1234.56", "1,234.56", "1.234,56" or a number into a Decimal.

	Raises ValueError with a short reason when it is not an amount.
	"""
	if isinstance(text, Decimal):
		value = text
	elif isinstance(text, bool):
		raise ValueError("not an amount")
	elif isinstance(text, int):
		value = Decimal(text)
	elif isinstance(text, float):
		# A float from a spreadsheet cell: its shortest repr is what the user typed
		value = Decimal(repr(text))
	else:
		value = _parse_text(str(text))
	if not value.is_finite():
		raise ValueError("not a finite amount")
	return value


def _parse_text(raw: str) -> Decimal:
	text = raw.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace("'", "")
	for symbol in ("€", "$", "EUR", "CAD", "USD"):
		text = text.replace(symbol, "")
	if not text:
		raise ValueError("empty amount")
	negative = False
	if text.startswith("(") and text.endswith(")"):
		negative, text = True, text[1:-1]
	if "," in text and "." in text:
		# The last separator is the decimal one
		if text.rfind(",") > text.rfind("."):
			text = text.replace(".", "").replace(",", ".")
		else:
			text = text.replace(",", "")
	elif "," in text:
		if text.count(",") > 1:
			raise ValueError(f"ambiguous amount {raw!r}")
		text = text.replace(",", ".")
	elif text.count(".") > 1:
		raise ValueError(f"ambiguous amount {raw!r}")
	try:
		value = Decimal(text)
	except InvalidOperation:
		raise ValueError(f"not an amount: {raw!r}")
	return -value if negative else value


def format_amount(amount: Decimal, currency: str, language: str) -> str:
	"""1234.5 EUR -> "1 234,50 €" (fr-FR), "1 234,50 $" (fr-CA, CAD), "€1,234.50" (en)."""
	value = round_money(amount, currency)
	places = 0 if quantum(currency) == 1 else 2
	sign = "-" if value < 0 else ""
	digits = f"{abs(value):,.{places}f}"
	symbol = {"EUR": "€", "CAD": "$", "USD": "$"}.get(currency.upper(), currency.upper())
	if language.startswith("fr"):
		digits = digits.replace(",", "\u202f").replace(".", ",")
		return f"{sign}{digits}\u00a0{symbol}"
	if symbol in ("€", "$"):
		return f"{sign}{symbol}{digits}"
	return f"{sign}{digits} {symbol}"


def format_rate(rate: Decimal, language: str) -> str:
	"""12.15 -> "12,15 %" (fr) or "12.15%" (en); trailing zeros beyond two places dropped."""
	text = f"{rate.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}"
	if language.startswith("fr"):
		return text.replace(".", ",") + "\u00a0%"
	return text + "%"
