"""Money as the console shows it: at the currency's minor units (ISO 4217), JPY without decimals."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from entrygate.domain.currencies import UnknownCurrency, minor_units
from entrygate.domain.money import Money


def _places(currency: str | None) -> int:
    try:
        return minor_units(currency) if currency else 2
    except UnknownCurrency:
        return 2


def _at_minor_units(value: Any, currency: str | None) -> Decimal:
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-_places(currency)), rounding=ROUND_HALF_UP)


def money_text(value: Any, currency: str | None = None) -> str:
    """An amount with its code, grouped in thousands: ``12.50 USD``, ``1,500 JPY``, ``—`` for none."""
    if value is None:
        return "—"
    if isinstance(value, Money):
        value, currency = value.amount, value.currency
    text = f"{_at_minor_units(value, currency):,.{_places(currency)}f}"
    return f"{text} {currency}" if currency else text


def amount_input(value: Money | None) -> str:
    """An amount as a form field holds it: minor units, no grouping (``25.00``, ``1500``)."""
    if value is None:
        return ""
    return f"{_at_minor_units(value.amount, value.currency):.{_places(value.currency)}f}"
