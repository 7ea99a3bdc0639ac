"""A decision's explanation in words a store manager reads (DESIGN 14), for the console's decision detail.

``explanation_in_words`` turns the stored items ``{"feature", "value", "contribution"}`` (log-odds of a
loss, positive raises the risk) into one short line each: what was true of this entry, and whether
it pushed the risk up or down, and how hard. The wording follows the feature table of
``docs/risk-model.md``.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from entrygate.domain.risk_ops import Contribution


@dataclass(frozen=True, slots=True)
class ExplainedFactor:
    text: str  # "Card issued abroad"
    effect: str  # "raised the risk strongly"
    raises: bool  # for the console's colour


def _times(n: int, one: str, many: str) -> str:
    return one if n == 1 else many.format(n=n)


def _count(value: float) -> int:
    return int(round(value))


def _fact(feature: str, value: float) -> str:
    """What was true of the entry, in plain words."""
    n, on = _count(value), value >= 0.5
    if feature == "entries_1h":
        return "Not presented in the hour before" if n == 0 else \
            _times(n, "Presented once in the hour before", "Presented {n} times in the hour before")
    if feature == "entries_24h":
        return "Not presented in the day before" if n == 0 else \
            _times(n, "Presented once in the day before", "Presented {n} times in the day before")
    if feature == "entries_total":
        return "Never presented here before" if n == 0 else _times(n, "One earlier visit", "{n} earlier visits")
    if feature == "distinct_stores_24h":
        return "At no other store in the last day" if n == 0 else \
            _times(n, "At one store in the last day", "At {n} different stores in the last day")
    if feature == "declines_24h":
        return "No card declines in the last day" if n == 0 else \
            _times(n, "Declined by the card issuer once in the last day",
                   "Declined by the card issuer {n} times in the last day")
    if feature == "declines_total":
        return "Never declined by the card issuer" if n == 0 else \
            _times(n, "Declined by the card issuer once before", "Declined by the card issuer {n} times before")
    if feature == "trips_total":
        return "No earlier shopping trips" if n == 0 else _times(n, "One earlier shopping trip", "{n} earlier shopping trips")
    if feature == "unpaid_trips":
        return "No unpaid trips" if n == 0 else _times(n, "One trip left unpaid", "{n} trips left unpaid")
    if feature == "outstanding_balance":
        return "Nothing owed" if value <= 0 else f"Still owes {value:.2f} (store currency)"
    if feature == "fraud_labels":
        return "Never reported for fraud" if n == 0 else _times(n, "Reported for fraud once", "Reported for fraud {n} times")
    if feature == "bad_debt_labels":
        return "Never reported as bad debt" if n == 0 else \
            _times(n, "Reported as bad debt once", "Reported as bad debt {n} times")
    if feature == "invalid_card_labels":
        return "Never reported as an invalid card" if n == 0 else \
            _times(n, "Reported as an invalid card once", "Reported as an invalid card {n} times")
    if feature == "days_since_first_seen":
        if value < 1:
            return "First seen today"
        return _times(n, "First seen yesterday", "First seen {n} days ago")
    if feature == "foreign_issuer":
        return "Card issued abroad" if on else "Card issued in the store's country"
    if feature == "months_to_expiry":
        return "Card expires this month" if n <= 0 else _times(n, "Card expires next month", "Card expires in {n} months")
    if feature == "party_size":
        return "Alone" if n <= 1 else f"A group of {n}"
    if feature == "local_hour":
        return f"At {n:02d}:00 store time"
    if feature == "channel_palm":
        return "Entered by palm" if on else "Entered by card"
    if feature.startswith("brand_"):
        brand = feature.removeprefix("brand_")
        name = "a card of a less common brand" if brand == "other" else f"a {brand.upper()} card"
        return name[0].upper() + name[1:] if on else f"Not {name}"
    if feature.startswith("funding_"):
        kind = feature.removeprefix("funding_")
        name = "a card of unknown funding" if kind == "unknown" else f"a {kind} card"
        return name[0].upper() + name[1:] if on else f"Not {name}"
    return f"{feature.replace('_', ' ')}: {value:g}"


def _effect(contribution: float) -> str:
    """How hard it pushed: about 1 in log-odds multiplies the odds of a loss by e (2.7)."""
    size = abs(contribution)
    strength = "strongly" if size >= 1.0 else ("somewhat" if size >= 0.3 else "slightly")
    return f"{'raised' if contribution > 0 else 'lowered'} the risk {strength}"


def explanation_in_words(items: Iterable[Contribution | Mapping[str, Any]]) -> list[ExplainedFactor]:
    """The explanation's items, in their order (largest first), each as a plain sentence and its effect."""
    out = []
    for item in items:
        c = item if isinstance(item, Contribution) else Contribution.from_json(item)
        out.append(ExplainedFactor(_fact(c.feature, c.value), _effect(c.contribution), c.contribution > 0))
    return out
