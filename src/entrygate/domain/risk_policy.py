"""The platform's risk recommendation: authorize, authorize with a larger hold, or deny.

Pure policy: it takes the model's calibrated probability that this entry ends in a loss, the
store's risk tolerance and authorized amount, and the hard facts the platform knows for certain,
and answers in the vocabulary of the shopper-authorization connector (DESIGN 5).

Three bands per tolerance, on the calibrated probability ``p``:

- ``p < adjust_at``: LOW risk, authorized as configured.
- ``adjust_at <= p < deny_at``: MEDIUM risk, authorized with an ``ADJUST`` condition that raises
  the pre-authorization. Why not deny: most mid-risk entries are honest shoppers; a larger hold
  costs them nothing when the card is good, while a tested or stolen card, or an account that
  cannot cover its trips, tends to fail the larger hold at the issuer, and when it passes the
  store holds enough to cover a typical basket.
- ``p >= deny_at``: HIGH risk, denied.

Hard facts deny whatever the score: a blocked instrument or a fraud label (``CustomerFraud``)
and a positive outstanding balance (``BadDebt``; DESIGN 3: a positive balance denies entry under
the platform strategies until the retailer reports it settled).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum
from types import MappingProxyType
from typing import Any

from entrygate.domain.authorization import ADJUST, AuthorizationCondition, ShopperAuthorization
from entrygate.domain.channels import RiskTolerance, ShopperRisk
from entrygate.domain.money import Money
from entrygate.domain.risk_ops import Contribution


class RiskLevel(str, Enum):
    """The risk band an entry falls in under its store's tolerance (the API's ``risk.level``)."""

    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"


@dataclass(frozen=True, slots=True)
class Band:
    """Probability thresholds of one tolerance: ADJUST from ``adjust_at``, DENY from ``deny_at``."""

    adjust_at: float
    deny_at: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.adjust_at <= self.deny_at <= 1.0:
            raise ValueError(f"need 0 <= adjust_at <= deny_at <= 1, got {self.adjust_at}, {self.deny_at}")

    def level(self, probability: float) -> RiskLevel:
        """The risk level of a probability under this band."""
        if probability >= self.deny_at:
            return RiskLevel.HIGH
        if probability >= self.adjust_at:
            return RiskLevel.MEDIUM
        return RiskLevel.LOW


@dataclass(frozen=True, slots=True)
class RiskThresholds:
    """One band per store risk tolerance; LOW tolerance is the strictest."""

    low: Band
    medium: Band
    high: Band
    source: str = "default"  # "default", or the model version whose held-out data chose them

    def __post_init__(self) -> None:
        # A more tolerant store never denies or adjusts where a stricter one would not.
        if not (self.low.adjust_at <= self.medium.adjust_at <= self.high.adjust_at
                and self.low.deny_at <= self.medium.deny_at <= self.high.deny_at):
            raise ValueError("thresholds must not decrease from LOW to MEDIUM to HIGH tolerance")

    def for_tolerance(self, tolerance: RiskTolerance) -> Band:
        """The band a store of this tolerance uses."""
        return {RiskTolerance.LOW: self.low, RiskTolerance.MEDIUM: self.medium,
                RiskTolerance.HIGH: self.high}[RiskTolerance(tolerance)]

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape kept in a model's metadata."""
        bands = {t.value: {"adjustAt": b.adjust_at, "denyAt": b.deny_at}
                 for t, b in ((RiskTolerance.LOW, self.low), (RiskTolerance.MEDIUM, self.medium),
                              (RiskTolerance.HIGH, self.high))}
        return {"source": self.source, **bands}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RiskThresholds:
        """Thresholds from the JSON shape ``as_dict`` writes."""
        def band(key: str) -> Band:
            return Band(float(data[key]["adjustAt"]), float(data[key]["denyAt"]))
        return cls(low=band("LOW"), medium=band("MEDIUM"), high=band("HIGH"),
                   source=str(data.get("source", "model")))


# Why these defaults (used until a model's held-out evaluation chooses its own): with a calibrated
# probability p, denying pays when p * (expected loss) > (1 - p) * (cost of turning an honest
# shopper away: lost margin and goodwill). A strict store (LOW tolerance) counts a loss about as
# heavily as a lost shopper and denies from p = 0.40; MEDIUM from 0.60 (a lost shopper weighs
# 1.5 losses); a lenient store (HIGH) only from 0.80 (4 losses). The ADJUST band starts where
# the risk is several times the base rate of a few percent, lower for stricter stores.
DEFAULT_THRESHOLDS = RiskThresholds(low=Band(0.10, 0.40), medium=Band(0.20, 0.60),
                                    high=Band(0.35, 0.80))

# Why a ceiling on ADJUST: a hold ties up the shopper's own money on debit and prepaid cards,
# and a hold far above the basket secures little more while drawing issuer declines for honest
# shoppers. Twice the store's amount covers a typical basket of a risky trip (the simulated
# risky baskets average 1.3-2x the usual 25-unit amount); the absolute ceiling keeps a store
# with an already large amount from doubling it. Currencies not listed get the factor only.
DEFAULT_ADJUST_CEILINGS: Mapping[str, Decimal] = MappingProxyType({
    "USD": Decimal(100), "EUR": Decimal(100), "GBP": Decimal(100), "CHF": Decimal(100),
    "CAD": Decimal(150), "AUD": Decimal(150), "NZD": Decimal(150), "SGD": Decimal(150),
    "JPY": Decimal(15000), "SEK": Decimal(1000), "NOK": Decimal(1000), "DKK": Decimal(700),
})


@dataclass(frozen=True, slots=True)
class AdjustLimits:
    """How far an ADJUST condition raises the pre-authorization."""

    factor: Decimal = Decimal(2)
    ceilings: Mapping[str, Decimal] = field(default_factory=lambda: DEFAULT_ADJUST_CEILINGS)

    def __post_init__(self) -> None:
        if self.factor <= 1:
            raise ValueError("an ADJUST factor must raise the amount (factor > 1)")

    def adjusted(self, amount: Money) -> Decimal | None:
        """The raised hold for ``amount``, or None when the ceiling leaves nothing to raise."""
        target = amount.amount * self.factor
        ceiling = self.ceilings.get(amount.currency)
        if ceiling is not None:
            target = min(target, ceiling)
        exponent = min(amount.amount.as_tuple().exponent, 0)
        target = target.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_UP)
        return target if target > amount.amount else None


DEFAULT_ADJUST_LIMITS = AdjustLimits()


@dataclass(frozen=True, slots=True)
class HardFacts:
    """What the platform knows for certain about the instrument, whatever the model says."""

    outstanding_balance: Decimal = Decimal(0)
    instrument_blocked: bool = False
    fraud_label: bool = False


NO_HARD_FACTS = HardFacts()


@dataclass(frozen=True, slots=True)
class RiskRecommendation:
    """The platform's risk view of one card-backed entry: the band, the score, and what it recommends."""

    shopper_authorized: bool
    adjust_to: Decimal | None
    shopper_risks: tuple[str, ...]
    level: RiskLevel
    score: int
    currency: str
    probability: float = 0.0
    model_version: str | None = None  # the model that scored it (set by the scorer)
    explanation: tuple[Contribution, ...] = ()  # its top contributions, largest first (DESIGN 14)

    @property
    def adjusted_amount(self) -> Money | None:
        """The raised pre-authorization as money, when there is one."""
        return Money(self.adjust_to, self.currency) if self.adjust_to is not None else None

    def as_authorization(self) -> ShopperAuthorization:
        """The recommendation in the connector's terms; labels the contract does not know are left out."""
        adjusted = self.adjusted_amount
        conditions = (AuthorizationCondition(ADJUST, adjusted),) if adjusted is not None else ()
        return ShopperAuthorization(self.shopper_authorized, conditions,
                                    tuple(ShopperRisk(r) for r in self.shopper_risks if r in ShopperRisk.__members__))


def risk_score(probability: float) -> int:
    """The 0-100 integer score shown for a probability: the loss probability in percent."""
    if not probability > 0.0:  # also catches NaN
        return 0
    return min(100, int(probability * 100.0 + 0.5))


def recommend(*, probability: float, tolerance: RiskTolerance, authorized_amount: Money,
              facts: HardFacts = NO_HARD_FACTS, model_risks: Sequence[str] = (),
              thresholds: RiskThresholds = DEFAULT_THRESHOLDS,
              limits: AdjustLimits = DEFAULT_ADJUST_LIMITS) -> RiskRecommendation:
    """The recommendation for one entry: the hard facts first, then the store's band."""
    score = risk_score(probability)
    hard: list[str] = []
    if facts.instrument_blocked or facts.fraud_label:
        hard.append(ShopperRisk.CustomerFraud.value)
    if facts.outstanding_balance > 0:
        hard.append(ShopperRisk.BadDebt.value)
    level = thresholds.for_tolerance(tolerance).level(probability)
    # Why the model's reasons only from MEDIUM: below the ADJUST threshold the entry is ordinary
    # and a listed "risk" would only alarm the retailer's connector.
    reasons = [str(getattr(r, "value", r)) for r in model_risks] if level is not RiskLevel.LOW else []
    risks = tuple(dict.fromkeys(hard + reasons))
    if hard:
        return RiskRecommendation(False, None, risks, RiskLevel.HIGH, score, authorized_amount.currency,
                              probability)
    if level is RiskLevel.HIGH:
        return RiskRecommendation(False, None, risks, level, score, authorized_amount.currency, probability)
    adjust_to = limits.adjusted(authorized_amount) if level is RiskLevel.MEDIUM else None
    return RiskRecommendation(True, adjust_to, risks, level, score, authorized_amount.currency, probability)
