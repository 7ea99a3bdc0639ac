"""ISO 4217 minor units: how many decimals an amount of each currency carries (USD 2, JPY 0, KWD 3)."""
from __future__ import annotations

from decimal import Decimal
from functools import cache

import iso4217


class UnknownCurrency(ValueError):
    """Not an ISO 4217 currency one can pay in (unknown code, or a fund/metal code with no minor unit)."""


class AmountTooPrecise(ValueError):
    """An amount with more decimals than its currency has (0.001 USD, 1.5 JPY)."""


@cache
def minor_units(currency: str) -> int:
    """The number of decimals of ``currency`` by the ISO 4217 table (its "minor unit" column)."""
    try:
        exponent = iso4217.Currency(currency).exponent
    except ValueError:
        raise UnknownCurrency(f"{currency!r} is not an ISO 4217 currency code") from None
    if exponent is None:
        # XAU, XDR, XXX...: ISO 4217 gives them no minor unit; nothing at a gate is priced in them.
        raise UnknownCurrency(f"{currency} has no minor unit in ISO 4217 and cannot be charged")
    return exponent


def to_minor(amount: Decimal, currency: str) -> int:
    """``amount`` as a whole number of the currency's minor units (12.34 USD -> 1234, 500 JPY -> 500)."""
    scaled = amount.scaleb(minor_units(currency))
    if scaled != scaled.to_integral_value():
        raise AmountTooPrecise(f"{amount} {currency} has more than {minor_units(currency)} decimals")
    return int(scaled)


def from_minor(units: int, currency: str) -> Decimal:
    """A whole number of minor units back as an exact amount (1234 USD -> 12.34)."""
    return Decimal(units).scaleb(-minor_units(currency))
