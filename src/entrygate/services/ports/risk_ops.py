"""Risk operations' ports (DESIGN 14): list items, store rules and the review queue in storage, and the
rule engine. SQL in ``adapters/db/risk_ops.py``, in memory in ``adapters/memory/risk_ops.py``, the
CEL engine in ``adapters/cel_rules.py``."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from entrygate.domain.risk_ops import ListItem, ListName, Presented, Review, ReviewOutcome, Rule, RulesOutcome


class ListRepository(Protocol):
    def add(self, item: ListItem) -> None: ...
    def get(self, item_id: str) -> ListItem | None: ...
    def list(self, retailer_id: str, list_name: ListName, *, limit: int = 1000) -> list[ListItem]: ...
    def delete(self, item_id: str) -> bool:
        """Remove the item; true when this call removed it."""
        ...

    def candidates(self, presented: Presented) -> list[ListItem]:
        """Every retailer's items naming what a tap presents (one indexed read; ``domain.risk_ops.list_verdict``
        sorts out which apply)."""
        ...

    def add_feedback_block(self, item: ListItem) -> bool:
        """The retailer's FEEDBACK block for an instrument, unless it has one already (one conditional insert):
        true when added."""
        ...


@dataclass(frozen=True, slots=True)
class StoredRules:
    store_id: str
    rules: tuple[Rule, ...]
    version: int  # raised by every change: compiled rules are cached by it
    updated_at: datetime


class RuleRepository(Protocol):
    def get(self, store_id: str) -> StoredRules | None: ...
    def put(self, store_id: str, rules: Sequence[Rule], *, at: datetime) -> int:
        """Replace the store's rules in one write; returns the new version."""
        ...


class ReviewRepository(Protocol):
    def add(self, review: Review) -> None: ...
    def get(self, review_id: str) -> Review | None: ...
    def list(self, store_id: str, *, pending_only: bool = False, limit: int = 200) -> list[Review]: ...
    def decide(self, review_id: str, outcome: ReviewOutcome, *, at: datetime) -> bool:
        """Record the verdict unless one is recorded (one conditional write): true when this call recorded it."""
        ...


class RuleRefused(ValueError):
    """A rule that cannot be stored: its expression does not compile, is too long, or would run too long."""

    def __init__(self, index: int, name: str, why: str) -> None:
        super().__init__(f"[{index}].when: rule {name!r} {why}")
        self.index = index
        self.name = name
        self.why = why


class CompiledRules(Protocol):
    rules: tuple[Rule, ...]

    def evaluate(self, facts: Mapping[str, Any]) -> RulesOutcome: ...


class RuleCompiler(Protocol):
    def compile(self, rules: Sequence[Rule]) -> CompiledRules:
        """The rules compiled, in order; raises ``RuleRefused`` for the first that cannot be."""
        ...


def sample_facts() -> dict[str, Any]:
    """A complete set of facts (DESIGN 14), for checking rules when they are stored and for the console's test box."""
    return {"partySize": 1, "channel": "CREDIT_CARD", "localHour": 12,
            "card": {"brand": "VISA", "funding": "credit", "issuerCountry": "US", "last4": "4242",
                     "expMonth": 12, "expYear": 2030},
            "risk": {"score": 12, "level": "LOW"},
            "history": {"entries1h": 0, "entries24h": 1, "declines24h": 0, "tripsTotal": 3, "unpaidTrips": 0,
                        "outstandingBalance": 0.0, "daysSinceFirstSeen": 30.0}}
