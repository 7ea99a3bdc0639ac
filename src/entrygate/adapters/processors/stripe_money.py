"""Amounts as Stripe's API takes them: whole minor units (12.34 USD -> 1234, 500 JPY -> 500, 1.25 KWD -> 1250).

Stripe follows ISO 4217's minor units with the exceptions its currency guide lists:
- ISK has no minor unit in ISO 4217, but Stripe keeps it two-decimal in the API (100 is 1 króna)
  and takes only multiples of 100;
- MGA has two decimals in ISO 4217, but Stripe treats it as zero-decimal;
- three-decimal currencies (BHD, JOD, KWD, OMR, TND) must end in 0, for Stripe's card partners.
Amounts that cannot be sent exactly are refused, never rounded: a hold is for the amount asked.
"""
from __future__ import annotations

from decimal import Decimal

from entrygate.domain.currencies import minor_units, to_minor
from entrygate.domain.money import Money
from entrygate.services.ports.processor import InvalidProcessorRequest

_STRIPE_DECIMALS = {"ISK": 2, "MGA": 0}


def decimals(currency: str) -> int:
    """How many decimals Stripe's amounts in ``currency`` carry."""
    return _STRIPE_DECIMALS.get(currency, minor_units(currency))


def to_stripe(money: Money, *, field: str = "amount") -> int:
    """``money`` as Stripe's integer ``amount``; InvalidProcessorRequest if it cannot be sent exactly."""
    if money.amount <= 0:
        raise InvalidProcessorRequest(f"{field} must be above zero, got {_show(money)}")
    try:
        to_minor(money.amount, money.currency)       # no finer than ISO 4217 allows
        places = decimals(money.currency)
    except ValueError as exc:
        raise InvalidProcessorRequest(f"{field}: {exc}") from None
    scaled = money.amount.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise InvalidProcessorRequest(f"{field}: Stripe takes {money.currency} in whole units only, not {_show(money)}")
    units = int(scaled)
    if places == 3 and units % 10:
        raise InvalidProcessorRequest(f"{field}: Stripe takes {money.currency} amounts ending in 0, not {_show(money)}")
    return units


def from_stripe(units: int, currency: str) -> Money:
    """Stripe's integer ``amount`` in ``currency`` (any case) back as money."""
    code = currency.upper()
    return Money(Decimal(units).scaleb(-decimals(code)), code)


def _show(money: Money) -> str:
    # Money's own str() shows two decimals whatever the currency; show the amount as given.
    return f"{money.amount} {money.currency}"
