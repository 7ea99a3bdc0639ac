"""The closed vocabularies of the contract: entry channels, strategies, fallbacks, visitors."""
from __future__ import annotations

from enum import Enum


class Channel(str, Enum):
    CREDIT_CARD = "CREDIT_CARD"
    PALM = "PALM"
    QR_CODE = "QR_CODE"
    BADGE = "BADGE"

    @property
    def card_backed(self) -> bool:
        """Card and palm entries are tied to a payment instrument the platform authenticates."""
        return self in (Channel.CREDIT_CARD, Channel.PALM)


class InteractionType(str, Enum):
    TAP = "TAP"
    INSERT = "INSERT"
    SWIPE = "SWIPE"
    SCAN = "SCAN"
    HOVER = "HOVER"


class RiskStrategy(str, Enum):
    PLATFORM_MANAGED = "PLATFORM_MANAGED"
    PLATFORM_RECOMMENDATION = "PLATFORM_RECOMMENDATION"
    RETAILER_MANAGED = "RETAILER_MANAGED"
    NONE = "NONE"


class RiskTolerance(str, Enum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"


class FallbackDecision(str, Enum):
    DENY = "DENY"
    ALLOW = "ALLOW"
    USE_RECOMMENDATION = "USE_RECOMMENDATION"


class AntiPassback(str, Enum):
    NONE = "NONE"
    SOFT = "SOFT"
    HARD = "HARD"


class GateDirection(str, Enum):
    ENTRY = "ENTRY"
    EXIT = "EXIT"


class VisitorType(str, Enum):
    SHOPPER = "SHOPPER"
    ASSOCIATE = "ASSOCIATE"


class DecisionOutcome(str, Enum):
    OPEN = "OPEN"
    DENY = "DENY"


class DecidedBy(str, Enum):
    PLATFORM = "PLATFORM"
    RETAILER = "RETAILER"
    FALLBACK = "FALLBACK"
    OFFLINE = "OFFLINE"  # the gate agent, from its bundle, while the platform did not answer (DESIGN 11)


class ShopperRisk(str, Enum):
    """Risk labels, as the retailer connectors and the feedback API spell them."""

    InvalidCard = "InvalidCard"
    CustomerFraud = "CustomerFraud"
    BadDebt = "BadDebt"
    HighVelocity = "HighVelocity"
    ExpiredCard = "ExpiredCard"


class TripStatus(str, Enum):
    OPEN = "OPEN"
    CLOSED = "CLOSED"
