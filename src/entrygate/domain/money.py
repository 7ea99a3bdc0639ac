"""Money as an exact decimal amount and an ISO 4217 currency code."""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from entrygate.domain.currencies import UnknownCurrency, minor_units

_CURRENCY = re.compile(r"^[A-Z]{3}$")


class CurrencyMismatch(ValueError):
    """Two amounts in different currencies were combined."""


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not _CURRENCY.match(self.currency):
            raise ValueError(f"currency must be three capital letters, got {self.currency!r}")
        if not isinstance(self.amount, Decimal):
            object.__setattr__(self, "amount", Decimal(str(self.amount)))
        if not self.amount.is_finite():
            raise ValueError("amount must be a finite number")

    @classmethod
    def of(cls, amount: float | int | str | Decimal, currency: str) -> Money:
        return cls(Decimal(str(amount)), currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def to_json(self) -> dict[str, Any]:
        """The contract's money, ``{"value": 25.0, "currencyCode": "USD"}``, at the currency's minor units."""
        return {"value": float(_at_minor_units(self.amount, self.currency)), "currencyCode": self.currency}

    def __str__(self) -> str:
        return f"{self.amount:.2f} {self.currency}"


def _at_minor_units(amount: Decimal, currency: str) -> Decimal:
    """``amount`` with no more decimals than ISO 4217 gives ``currency`` (a code it does not know: as it is).

    Why round and not refuse: rendering must never fail an answer already decided. Amounts are
    checked against their currency where they enter (store settings, holds, the processor), so
    this only trims what a column's scale or a computation added.
    """
    try:
        places = minor_units(currency)
    except UnknownCurrency:
        return amount
    if amount.as_tuple().exponent >= -places:
        return amount
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
