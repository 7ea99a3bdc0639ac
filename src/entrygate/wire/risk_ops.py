"""Risk operations on the wire (DESIGN 14): list items, store rules and their test, reviews.

Request shapes (``*In``), typed answers (``*Out``, the routes' response models) and the rendering of
the typed results, shared by the API and the console so both accept and refuse the same input.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, Field, RootModel, StringConstraints

from entrygate.domain.money import Money
from entrygate.domain.risk_ops import (
    MAX_NOTE,
    ItemType,
    ListName,
    ReviewOutcome,
    Rule,
    RuleAction,
    RulesOutcome,
)
from entrygate.domain.views import item_view, review_view  # noqa: F401 - the views live with the others
from entrygate.services.errors import NotFound
from entrygate.services.risk_ops.lists import NewItem
from entrygate.wire.schemas import Model, MoneyIn


def _time(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at else None


def list_name(path: str) -> ListName:
    """``allow`` or ``block`` from a path; anything else is an unknown list (404)."""
    try:
        return ListName(path.upper())
    except ValueError:
        raise NotFound(f"list {path} not found; the lists are allow and block") from None


# --- the answer's risk (for the gate answer's response model) ----------------------------------------

class ContributionOut(BaseModel):
    feature: str  # a feature name of docs/risk-model.md
    value: float
    contribution: float  # log-odds of a loss; positive raises the risk


class RiskOut(BaseModel):
    """The gate answer's ``risk`` (DESIGN 14); rendered by ``wire.decisions.risk_answer``."""

    score: int | None = None
    level: Literal["LOW", "MEDIUM", "HIGH"] | None = None
    modelVersion: str | None = None  # present when the model ran
    explanation: list[ContributionOut] | None = Field(default=None, max_length=5)  # descending |contribution|
    allowListed: bool | None = None  # alone, when the allow list skipped the model


# --- lists ------------------------------------------------------------------------------------------

class ListItemIn(Model):
    type: ItemType
    value: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    note: Annotated[str, StringConstraints(max_length=MAX_NOTE)] | None = None
    expiresAt: AwareDatetime | None = None
    retailerId: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None  # the operator's token only

    def new_item(self) -> NewItem:
        return NewItem(item_type=self.type, value=self.value, note=self.note, expires_at=self.expiresAt)


class ListItemOut(BaseModel):
    itemId: str
    list: Literal["allow", "block"]
    type: ItemType
    value: str
    note: str | None
    expiresAt: str | None
    createdAt: str
    source: Literal["API", "CONSOLE", "FEEDBACK"]


class ListItemsOut(BaseModel):
    items: list[ListItemOut]


LIST_ITEM_EXAMPLE = {"type": "INSTRUMENT", "value": "ins_7Qk2mX9pL4vN8sR1tY6wZ3aB", "note": "regular, card tester false alarm",
                     "expiresAt": "2027-01-31T00:00:00Z"}


# --- rules ------------------------------------------------------------------------------------------

class RuleIn(Model):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    # No length bound here: the engine refuses an expression over 2,000 characters with the rule's name.
    when: Annotated[str, StringConstraints(min_length=1)]
    action: RuleAction
    amount: MoneyIn | None = None

    def rule(self) -> Rule:
        amount = Money(self.amount.value, self.amount.currencyCode) if self.amount else None
        return Rule(name=self.name, when=self.when, action=self.action, amount=amount)


class RulesIn(RootModel[list[RuleIn]]):
    root: list[RuleIn] = Field(max_length=50)

    def rules(self) -> list[Rule]:
        return [r.rule() for r in self.root]


class RulesTestIn(Model):
    facts: dict[str, Any]
    rules: list[RuleIn] | None = None


class MoneyOut(BaseModel):
    value: float
    currencyCode: str


class RuleOut(BaseModel):
    name: str
    when: str
    action: RuleAction
    amount: MoneyOut | None = None


class RuleResultOut(BaseModel):
    name: str
    matched: bool
    error: str | None


class RulesTestOut(BaseModel):
    outcome: Literal["DENY", "REVIEW", "ADJUST", "NONE"]
    matched: list[str]
    results: list[RuleResultOut]


RULES_EXAMPLE = [
    {"name": "night prepaid", "when": 'localHour < 6 && card.funding == "prepaid"', "action": "DENY"},
    {"name": "big groups", "when": "partySize >= 4", "action": "ADJUST", "amount": {"value": 60.0, "currencyCode": "USD"}},
    {"name": "new and foreign", "when": 'history.daysSinceFirstSeen < 1.0 && card.issuerCountry != "US"',
     "action": "REVIEW"},
]


def rule_view(rule: Rule) -> dict[str, Any]:
    return rule.to_json()


def rules_test_answer(outcome: RulesOutcome) -> dict[str, Any]:
    return {"outcome": outcome.outcome, "matched": list(outcome.matched),
            "results": [{"name": r.name, "matched": r.matched, "error": r.error} for r in outcome.results]}


# --- reviews ----------------------------------------------------------------------------------------

class VerdictIn(Model):
    outcome: ReviewOutcome


class ReviewOut(BaseModel):
    reviewId: str
    storeId: str
    eventId: str
    shoppingTripId: str | None
    visitorId: str | None
    rule: str
    createdAt: str
    outcome: ReviewOutcome | None


class ReviewsOut(BaseModel):
    reviews: list[ReviewOut]
