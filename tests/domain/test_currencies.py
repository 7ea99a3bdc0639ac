"""ISO 4217 minor units and exact conversion to and from whole minor units."""
from __future__ import annotations

from decimal import Decimal

import pytest

from entrygate.domain.currencies import AmountTooPrecise, UnknownCurrency, from_minor, minor_units, to_minor


@pytest.mark.parametrize(("currency", "units"), [
    ("USD", 2), ("EUR", 2), ("JPY", 0), ("KRW", 0), ("KWD", 3), ("BHD", 3), ("IQD", 3), ("ISK", 0),
    ("HUF", 2), ("IDR", 2), ("CLF", 4),
])
def test_minor_units_follow_iso_4217(currency, units):
    assert minor_units(currency) == units


@pytest.mark.parametrize("currency", ["XAU", "XXX", "ABC", "usd", "", "US"])
def test_codes_one_cannot_pay_in_are_refused(currency):
    with pytest.raises(UnknownCurrency):
        minor_units(currency)


@pytest.mark.parametrize(("amount", "currency", "units"), [
    ("12.34", "USD", 1234), ("50", "USD", 5000), ("500", "JPY", 500), ("500.00", "JPY", 500),
    ("1.250", "KWD", 1250), ("0.001", "KWD", 1),
])
def test_to_minor_and_back_is_exact(amount, currency, units):
    assert to_minor(Decimal(amount), currency) == units
    assert from_minor(units, currency) == Decimal(amount)


@pytest.mark.parametrize(("amount", "currency"), [("0.001", "USD"), ("1.5", "JPY"), ("1.0001", "KWD")])
def test_to_minor_refuses_amounts_finer_than_the_currency(amount, currency):
    with pytest.raises(AmountTooPrecise):
        to_minor(Decimal(amount), currency)
