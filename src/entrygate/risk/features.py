"""What the gate knows about a payment instrument and this entry, as the risk model reads it.

``RiskFeatures`` is the one input of the model, at training time and at the gate alike, so the
model never sees a feature the gate could not have computed at that moment. ``to_vector`` turns
it into the float32 row the trees split on; it runs on the gate's hot path, so it is a single
list literal and one ``np.array`` call.

Categoricals are one-hot encoded rather than given as LightGBM categorical codes: every split is
then a plain ``x <= threshold``, which is what lets the scorer traverse the trees as numpy arrays
(see ``compiled.py``).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

import numpy as np

from entrygate.domain.cards import CardCredential
from entrygate.domain.channels import Channel, ShopperRisk

BRANDS = ("VISA", "MASTERCARD", "AMEX", "DISCOVER")  # anything else is encoded as "other"
FUNDINGS = ("credit", "debit", "prepaid", "unknown")
CHANNELS = (Channel.CREDIT_CARD, Channel.PALM)


@dataclass(frozen=True, slots=True)
class InstrumentHistory:
    """What the platform has recorded about a payment instrument before this entry."""

    entries_1h: int = 0
    entries_24h: int = 0
    entries_total: int = 0
    distinct_stores_24h: int = 0
    declines_24h: int = 0
    declines_total: int = 0
    trips_total: int = 0
    unpaid_trips: int = 0
    outstanding_balance: float = 0.0  # store currency units
    fraud_labels: int = 0
    bad_debt_labels: int = 0
    invalid_card_labels: int = 0
    days_since_first_seen: float = 0.0


NEW_INSTRUMENT = InstrumentHistory()


@dataclass(frozen=True, slots=True)
class RiskFeatures:
    """Everything known at the gate about a payment instrument and this entry."""

    # Instrument history (counts before this entry; windows end at this entry).
    entries_1h: int
    entries_24h: int
    entries_total: int
    distinct_stores_24h: int
    declines_24h: int
    declines_total: int
    trips_total: int
    unpaid_trips: int
    outstanding_balance: float
    fraud_labels: int
    bad_debt_labels: int
    invalid_card_labels: int
    days_since_first_seen: float
    # The credential.
    brand: str
    funding: str
    foreign_issuer: bool
    months_to_expiry: int
    # The entry.
    channel: Channel
    party_size: int
    local_hour: int

    @classmethod
    def from_parts(cls, history: InstrumentHistory, *, card: CardCredential, channel: Channel,
                   party_size: int, local_hour: int, store_country: str | None,
                   today: date) -> RiskFeatures:
        """Build the features of one entry from the instrument's history, its card and the entry."""
        return cls(
            entries_1h=history.entries_1h, entries_24h=history.entries_24h,
            entries_total=history.entries_total, distinct_stores_24h=history.distinct_stores_24h,
            declines_24h=history.declines_24h, declines_total=history.declines_total,
            trips_total=history.trips_total, unpaid_trips=history.unpaid_trips,
            outstanding_balance=float(history.outstanding_balance),
            fraud_labels=history.fraud_labels, bad_debt_labels=history.bad_debt_labels,
            invalid_card_labels=history.invalid_card_labels,
            days_since_first_seen=float(history.days_since_first_seen),
            brand=normalize_brand(card.brand), funding=normalize_funding(card.funding),
            foreign_issuer=is_foreign(card.issuer_country, store_country),
            months_to_expiry=card.months_to_expiry(today),
            channel=Channel(channel), party_size=party_size, local_hour=local_hour,
        )


def normalize_brand(brand: str | None) -> str:
    """The brand as the model knows it: one of ``BRANDS`` or ``"OTHER"``."""
    value = (brand or "").upper()
    return value if value in BRANDS else "OTHER"


def normalize_funding(funding: str | None) -> str:
    """The funding as the model knows it: one of ``FUNDINGS``."""
    value = (funding or "").lower()
    return value if value in FUNDINGS else "unknown"


def is_foreign(issuer_country: str | None, store_country: str | None) -> bool:
    """True when both countries are known and differ; an unknown country is not evidence."""
    if not issuer_country or not store_country:
        return False
    return issuer_country.upper() != store_country.upper()


FEATURE_NAMES: tuple[str, ...] = (
    "entries_1h", "entries_24h", "entries_total", "distinct_stores_24h",
    "declines_24h", "declines_total", "trips_total", "unpaid_trips", "outstanding_balance",
    "fraud_labels", "bad_debt_labels", "invalid_card_labels", "days_since_first_seen",
    "foreign_issuer", "months_to_expiry", "party_size", "local_hour", "channel_palm",
    "brand_visa", "brand_mastercard", "brand_amex", "brand_discover", "brand_other",
    "funding_credit", "funding_debit", "funding_prepaid", "funding_unknown",
)


def to_vector(f: RiskFeatures) -> np.ndarray:
    """The model's float32 row for one entry, in ``FEATURE_NAMES`` order."""
    brand, funding = f.brand, f.funding
    return np.array((
        f.entries_1h, f.entries_24h, f.entries_total, f.distinct_stores_24h,
        f.declines_24h, f.declines_total, f.trips_total, f.unpaid_trips, f.outstanding_balance,
        f.fraud_labels, f.bad_debt_labels, f.invalid_card_labels, f.days_since_first_seen,
        f.foreign_issuer, f.months_to_expiry, f.party_size, f.local_hour, f.channel == "PALM",
        brand == "VISA", brand == "MASTERCARD", brand == "AMEX", brand == "DISCOVER",
        brand not in BRANDS,
        funding == "credit", funding == "debit", funding == "prepaid", funding not in _KNOWN_FUNDING,
    ), dtype=np.float32)


_KNOWN_FUNDING = frozenset(("credit", "debit", "prepaid"))


def to_matrix(rows: Iterable[RiskFeatures]) -> np.ndarray:
    """Stack many entries into an (n, len(FEATURE_NAMES)) float32 matrix."""
    vectors = [to_vector(f) for f in rows]
    if not vectors:
        return np.empty((0, len(FEATURE_NAMES)), dtype=np.float32)
    return np.vstack(vectors)


# Which contract risk value each feature speaks for, when it pushes the score up. Why these
# groups: they follow the labels a retailer can act on. Velocity features are card testing's
# signature; declines and invalid-card labels say the card itself is bad; unpaid trips and
# balances are bad debt; the stolen-card profile (foreign issuer, new instrument, odd hours,
# large parties, how the card is presented) is customer fraud; a card close to its expiry
# month is the expired-card risk.
FEATURE_RISK: Mapping[str, ShopperRisk] = MappingProxyType({
    "entries_1h": ShopperRisk.HighVelocity,
    "entries_24h": ShopperRisk.HighVelocity,
    "distinct_stores_24h": ShopperRisk.HighVelocity,
    "declines_24h": ShopperRisk.InvalidCard,
    "declines_total": ShopperRisk.InvalidCard,
    "invalid_card_labels": ShopperRisk.InvalidCard,
    "funding_prepaid": ShopperRisk.InvalidCard,
    "funding_unknown": ShopperRisk.InvalidCard,
    "unpaid_trips": ShopperRisk.BadDebt,
    "outstanding_balance": ShopperRisk.BadDebt,
    "bad_debt_labels": ShopperRisk.BadDebt,
    "funding_debit": ShopperRisk.BadDebt,
    "months_to_expiry": ShopperRisk.ExpiredCard,
    **{name: ShopperRisk.CustomerFraud for name in (
        "fraud_labels", "foreign_issuer", "days_since_first_seen", "entries_total", "trips_total",
        "party_size", "local_hour", "channel_palm", "brand_visa", "brand_mastercard",
        "brand_amex", "brand_discover", "brand_other", "funding_credit")},
})
RISK_GROUPS: tuple[ShopperRisk, ...] = tuple(ShopperRisk)
FEATURE_GROUP_INDEX: np.ndarray = np.array(
    [RISK_GROUPS.index(FEATURE_RISK[name]) for name in FEATURE_NAMES], dtype=np.intp)
