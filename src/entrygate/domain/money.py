"""Money as an exact decimal amount and an ISO 4217 currency code."""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

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

    def rounded(self) -> Money:
        return Money(self.amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), self.currency)

    def as_float(self) -> float:
        return float(self.amount)

    def __str__(self) -> str:
        return f"{self.amount:.2f} {self.currency}"
