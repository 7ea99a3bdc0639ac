"""How the console shows money (at the currency's minor units, ISO 4217: JPY without decimals) and visitors
(one helper, so a visitor looks the same on every page)."""
from __future__ import annotations

from dataclasses import dataclass
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


# -- visitors -------------------------------------------------------------------------------------

SHORT_ID_HEAD = 8
SHORT_ID_TAIL = 4
_CHANNEL_NAMES = {"PALM": "Palm", "QR_CODE": "QR", "BADGE": "Badge", "EXTERNAL_AUTH": "External"}


@dataclass(frozen=True, slots=True)
class VisitorDisplay:
    """A visitor as every console page shows it: what presented itself, and a short form of the id."""

    label: str  # "Visa •••• 4242", "Palm · Visa •••• 4242", "QR", "Badge"; "" when nothing is known
    short_id: str  # the id, or its first 8 and last 4 characters
    full_id: str  # the whole id (the title of the short one, and what search takes)
    associate: bool


def short_id(value: str) -> str:
    """``ins_3f9a2c1d…9b1c`` for a long id; a short id unchanged."""
    if len(value) <= SHORT_ID_HEAD + SHORT_ID_TAIL + 1:
        return value
    return f"{value[:SHORT_ID_HEAD]}…{value[-SHORT_ID_TAIL:]}"


def card_text(brand: str | None, last4: str | None) -> str:
    """``Visa •••• 4242``; the brand as the card networks write it, in title case."""
    if not brand and not last4:
        return ""
    return f"{(brand or 'Card').title()} •••• {last4 or '????'}"


def visitor_display(*, visitor_id: str | None, channel: str | None = None, brand: str | None = None,
                    last4: str | None = None, visitor_type: str | None = None) -> VisitorDisplay | None:
    """The one way the console shows a visitor (None: the decision names no one)."""
    if not visitor_id:
        return None
    card = card_text(brand, last4)
    name = _CHANNEL_NAMES.get(channel or "")
    if channel == "PALM":
        label = f"Palm · {card}" if card else "Palm"
    elif card:
        label = card
    else:
        label = name or ""
    return VisitorDisplay(label, short_id(visitor_id), visitor_id, visitor_type == "ASSOCIATE")
