"""Risk operations (DESIGN 14), pure: list items and what a tap matches, store rules, reviews, explanations.

A retailer's lists hold items of three types (``INSTRUMENT``: a payment instrument id, the
``visitor.id`` of card and palm answers; ``ISSUER_COUNTRY``: ISO 3166-1 alpha-2; ``VISITOR``: the id
the identity connector returned). An item with ``expiresAt`` has no effect from then on. The order a
tap meets them: a platform-wide block (a lost or stolen card, or any retailer's ``CustomerFraud``
label, a ``FEEDBACK`` item), then the retailer's block list, then its allow list, which skips only
the model.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from entrygate.domain.money import Money


class ListName(str, Enum):
    ALLOW = "ALLOW"
    BLOCK = "BLOCK"

    @property
    def path(self) -> str:
        """How the API spells the list in its paths: ``allow`` or ``block``."""
        return self.value.lower()


class ItemType(str, Enum):
    INSTRUMENT = "INSTRUMENT"
    ISSUER_COUNTRY = "ISSUER_COUNTRY"
    VISITOR = "VISITOR"


class ItemSource(str, Enum):
    API = "API"
    CONSOLE = "CONSOLE"
    FEEDBACK = "FEEDBACK"  # a CustomerFraud label (retailer feedback or a review verdict)


_COUNTRY = re.compile(r"^[A-Z]{2}$")
_ID = re.compile(r"^[0-9A-Za-z_.:@-]{1,255}$")
MAX_NOTE = 500


def check_item_value(item_type: ItemType, value: str) -> str | None:
    """Why ``value`` cannot be an item of this type, or None when it can."""
    if item_type is ItemType.ISSUER_COUNTRY:
        return None if _COUNTRY.match(value) else "must be an ISO 3166-1 alpha-2 country code (two capital letters)"
    if not _ID.match(value):
        return "must be 1-255 characters of letters, digits and _ . : @ -"
    return None


@dataclass(frozen=True, slots=True)
class ListItem:
    item_id: str
    retailer_id: str
    list_name: ListName
    item_type: ItemType
    value: str
    note: str | None
    expires_at: datetime | None
    created_at: datetime
    source: ItemSource

    def active(self, now: datetime) -> bool:
        """In effect at ``now``: no expiry, or not reached yet."""
        return self.expires_at is None or now < self.expires_at

    def describe(self) -> str:
        """The item in a sentence fragment, as a denial's message names it."""
        kind = {ItemType.INSTRUMENT: "payment method", ItemType.ISSUER_COUNTRY: "issuer country",
                ItemType.VISITOR: "visitor"}[self.item_type]
        origin = " (a CustomerFraud report)" if self.source is ItemSource.FEEDBACK else ""
        return f"{self.list_name.path} list item {self.item_id}: {kind} {self.value}{origin}"


@dataclass(frozen=True, slots=True)
class Presented:
    """What a tap presents to the lists."""

    instrument_id: str | None = None
    issuer_country: str | None = None
    visitor_id: str | None = None

    def matches(self, item: ListItem) -> bool:
        wanted = {ItemType.INSTRUMENT: self.instrument_id, ItemType.ISSUER_COUNTRY: self.issuer_country,
                  ItemType.VISITOR: self.visitor_id}[item.item_type]
        return wanted is not None and wanted == item.value


@dataclass(frozen=True, slots=True)
class ListVerdict:
    """What the lists say about one tap: a block (and which item), or an allow, or nothing."""

    block: ListItem | None = None
    allow: ListItem | None = None


def list_verdict(items: Iterable[ListItem], presented: Presented, *, retailer_id: str, now: datetime) -> ListVerdict:
    """Apply the order of DESIGN 14 to the candidate items of a tap (any retailer's, as read).

    Another retailer's ``FEEDBACK`` block is platform-wide (a fraud label, DESIGN 10); its other
    items do not apply here. The first block wins over any allow.
    """
    platform_block = own_block = allow = None
    for item in sorted(items, key=lambda i: (i.created_at, i.item_id)):
        if not item.active(now) or not presented.matches(item):
            continue
        if item.list_name is ListName.BLOCK and item.source is ItemSource.FEEDBACK and item.retailer_id != retailer_id:
            platform_block = platform_block or item
        elif item.retailer_id != retailer_id:
            continue
        elif item.list_name is ListName.BLOCK:
            own_block = own_block or item
        else:
            allow = allow or item
    block = platform_block or own_block
    return ListVerdict(block=block, allow=None if block else allow)


# --- rules -------------------------------------------------------------------------------------------

class RuleAction(str, Enum):
    DENY = "DENY"
    REVIEW = "REVIEW"
    ADJUST = "ADJUST"


MAX_EXPRESSION = 2000
MAX_RULES = 50


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    when: str  # a CEL expression over the facts of ``rule_facts``
    action: RuleAction
    amount: Money | None = None  # ADJUST: the hold, in the store's currency

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "when": self.when, "action": self.action.value}
        if self.amount is not None:
            out["amount"] = self.amount.to_json()
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Rule:
        amount = data.get("amount")
        return cls(name=data["name"], when=data["when"], action=RuleAction(data["action"]),
                   amount=Money(Decimal(str(amount["value"])), amount["currencyCode"]) if amount else None)


@dataclass(frozen=True, slots=True)
class RuleResult:
    name: str
    matched: bool
    error: str | None = None


@dataclass(frozen=True, slots=True)
class RulesOutcome:
    """What a store's rules made of one entry's facts: the first matching rule decides."""

    results: tuple[RuleResult, ...] = ()
    decided_by: Rule | None = None

    @property
    def outcome(self) -> str:
        """``DENY``, ``REVIEW``, ``ADJUST``, or ``NONE`` when no rule matched."""
        return self.decided_by.action.value if self.decided_by else "NONE"

    @property
    def matched(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.results if r.matched)

    @property
    def failures(self) -> tuple[RuleResult, ...]:
        return tuple(r for r in self.results if r.error is not None)


# --- reviews -------------------------------------------------------------------------------------------

class ReviewOutcome(str, Enum):
    OK = "OK"
    FRAUD = "FRAUD"
    BAD_DEBT = "BAD_DEBT"

    @property
    def label(self) -> str | None:
        """The feedback label the verdict becomes (DESIGN 14): FRAUD CustomerFraud, BAD_DEBT BadDebt, OK none."""
        return {ReviewOutcome.FRAUD: "CustomerFraud", ReviewOutcome.BAD_DEBT: "BadDebt"}.get(self)


@dataclass(frozen=True, slots=True)
class Review:
    review_id: str
    store_id: str
    gate_pk: str
    event_id: str
    trip_id: str | None
    visitor_id: str | None
    instrument_id: str | None
    rule: str
    created_at: datetime
    outcome: ReviewOutcome | None = None
    decided_at: datetime | None = None


# --- explanations ----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Contribution:
    """One feature's push on the model's log-odds of a loss (positive raises the risk)."""

    feature: str
    value: float
    contribution: float

    def to_json(self) -> dict[str, Any]:
        value: float | int = int(self.value) if float(self.value).is_integer() else round(self.value, 4)
        return {"feature": self.feature, "value": value, "contribution": round(self.contribution, 6)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Contribution:
        return cls(str(data["feature"]), float(data["value"]), float(data["contribution"]))


@dataclass(frozen=True, slots=True)
class RiskDetail:
    """What a decision records beside its score: the model's explanation, and what lists and rules did."""

    explanation: tuple[Contribution, ...] = ()
    allow_listed: bool = False
    list_item: str | None = None  # the list item that blocked or allowed
    rule: str | None = None  # the rule that decided
    rule_failures: tuple[RuleResult, ...] = ()
    messages: Mapping[str, str] = field(default_factory=dict)  # reason code -> the sentence naming an item or rule

    def to_json(self) -> dict[str, Any] | None:
        out: dict[str, Any] = {}
        if self.explanation:
            out["explanation"] = [c.to_json() for c in self.explanation]
        if self.allow_listed:
            out["allowListed"] = True
        if self.list_item:
            out["listItem"] = self.list_item
        if self.rule:
            out["rule"] = self.rule
        if self.rule_failures:
            out["ruleFailures"] = [{"name": r.name, "error": r.error} for r in self.rule_failures]
        if self.messages:
            out["messages"] = dict(self.messages)
        return out or None

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> RiskDetail:
        if not data:
            return NO_DETAIL
        return cls(explanation=tuple(Contribution.from_json(c) for c in data.get("explanation", ())),
                   allow_listed=bool(data.get("allowListed")), list_item=data.get("listItem"),
                   rule=data.get("rule"),
                   rule_failures=tuple(RuleResult(f["name"], False, f.get("error")) for f in data.get("ruleFailures", ())),
                   messages=dict(data.get("messages", {})))


NO_DETAIL = RiskDetail()
