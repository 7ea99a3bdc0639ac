"""A shopper authorization in the contract's terms (DESIGN 5): the retailer's answer, and the platform's recommendation.

The shopper-authorization connector answers in this shape, and under ``PLATFORM_RECOMMENDATION``
the platform sends its own recommendation to it in the same shape, so both are one type with one
JSON form (``to_json``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from entrygate.domain.channels import ShopperRisk
from entrygate.domain.money import Money

ADJUST = "ADJUST"


@dataclass(frozen=True, slots=True)
class AuthorizationCondition:
    """A condition on an authorization; the contract knows ``ADJUST``: pre-authorize this amount."""

    type: str
    amount: Money


@dataclass(frozen=True, slots=True)
class ShopperAuthorization:
    """A shopper-authorization answer, and the shape of the platform's recommendation too."""

    shopper_authorized: bool
    conditions: tuple[AuthorizationCondition, ...] = ()
    risks: tuple[ShopperRisk, ...] = ()

    @property
    def adjusted_amount(self) -> Money | None:
        """The amount an ``ADJUST`` condition asks to pre-authorize instead (the last one wins)."""
        adjust = [c.amount for c in self.conditions if c.type == ADJUST]
        return adjust[-1] if adjust else None

    def to_json(self) -> dict[str, Any]:
        """The contract's ``{shopperAuthorized, authorizationConditions, shopperRisks}``."""
        return {"shopperAuthorized": self.shopper_authorized,
                "authorizationConditions": [{"type": c.type, "amount": c.amount.to_json()} for c in self.conditions],
                "shopperRisks": [r.value for r in self.risks]}
