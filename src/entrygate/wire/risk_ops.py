"""Risk operations on the wire (DESIGN 14): list items, store rules and their test, reviews.

Request shapes (``*In``), typed answers (``*Out``, the routes' response models) and the rendering of
the typed results, shared by the API and the console so both accept and refuse the same input.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field, RootModel, StringConstraints

from entrygate.domain.channels import Channel
from entrygate.domain.money import Money
from entrygate.domain.risk_ops import (
    MAX_NOTE,
    ItemSource,
    ItemType,
    ListName,
    ReviewOutcome,
    Rule,
    RuleAction,
    RulesOutcome,
)
from entrygate.domain.risk_policy import RiskLevel
from entrygate.domain.views import item_view, review_view  # noqa: F401 - the views live with the others
from entrygate.services.errors import NotFound
from entrygate.services.risk_ops.lists import NewItem
from entrygate.wire.answers import Answer, MoneyOut
from entrygate.wire.schemas import Model, MoneyIn


def _time(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at else None


def list_name(path: str) -> ListName:
    """``allow`` or ``block`` from a path; anything else is an unknown list (404)."""
    try:
        return ListName(path.upper())
    except ValueError:
        raise NotFound(f"list {path} not found; the lists are allow and block") from None


# --- lists ------------------------------------------------------------------------------------------

_ITEM_TYPE = ("INSTRUMENT: an instrument id (`visitor.id` of card and palm answers); ISSUER_COUNTRY: a card issuer's "
              "ISO 3166-1 alpha-2 country; VISITOR: the id the identity connector returned.")


class ListItemIn(Model):
    type: ItemType = Field(description=_ITEM_TYPE)
    value: Annotated[str, StringConstraints(min_length=1, max_length=255)] = Field(
        description="The instrument id, country code or visitor id the item matches.")
    note: Annotated[str, StringConstraints(max_length=MAX_NOTE)] | None = Field(
        default=None, description="Why the item is there, for people.")
    expiresAt: AwareDatetime | None = Field(default=None, description="From then on the item has no effect (ISO 8601 "
                                                                      "with a time zone); never when left out.")
    retailerId: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        default=None, description="The operator's token only: the retailer whose list it is.")

    def new_item(self) -> NewItem:
        return NewItem(item_type=self.type, value=self.value, note=self.note, expires_at=self.expiresAt)


class ListItemOut(Answer):
    itemId: str = Field(description="The item's id.")
    list: Literal["allow", "block"] = Field(description="The list it is on.")
    type: ItemType = Field(description=_ITEM_TYPE)
    value: str = Field(description="What it matches.")
    note: str | None = Field(description="Why it is there; null when no note was given.")
    expiresAt: datetime | None = Field(description="From then on it has no effect (UTC); null: never.")
    createdAt: datetime = Field(description="When it was added (UTC).")
    source: ItemSource = Field(description="API, CONSOLE, or FEEDBACK: a CustomerFraud label (retailer feedback or a "
                                           "review verdict).")


class ListItemsOut(Answer):
    items: list[ListItemOut] = Field(description="The list's items.")


LIST_ITEM_EXAMPLE = {"type": "INSTRUMENT", "value": "ins_7Qk2mX9pL4vN8sR1tY6wZ3aB", "note": "regular, card tester false alarm",
                     "expiresAt": "2027-01-31T00:00:00Z"}


# --- rules ------------------------------------------------------------------------------------------

_WHEN = ("A CEL expression over the facts (partySize, channel, localHour, card.*, risk.*, history.*) that is true "
         "when the rule applies; at most 2,000 characters.")
_ACTION = ("DENY (RULE_DENIED), REVIEW (open, and put in the review queue) or ADJUST (hold `amount` instead); the first "
           "matching rule decides.")


class RuleIn(Model):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="The rule's name, unique in the store's rules; messages and reviews name it.")
    # No length bound here: the engine refuses an expression over 2,000 characters with the rule's name.
    when: Annotated[str, StringConstraints(min_length=1)] = Field(description=_WHEN)
    action: RuleAction = Field(description=_ACTION)
    amount: MoneyIn | None = Field(default=None, description="ADJUST only (and required there): the hold, in the "
                                                             "store's currency.")

    def rule(self) -> Rule:
        amount = Money(self.amount.value, self.amount.currencyCode) if self.amount else None
        return Rule(name=self.name, when=self.when, action=self.action, amount=amount)


class RulesIn(RootModel[list[RuleIn]]):
    root: list[RuleIn] = Field(max_length=50)

    def rules(self) -> list[Rule]:
        return [r.rule() for r in self.root]


class CardFactsIn(Model):
    brand: str | None = Field(default=None, description="The card's brand (VISA, MASTERCARD, ...).")
    funding: str | None = Field(default=None, description="credit, debit or prepaid.")
    issuerCountry: str | None = Field(default=None, description="The issuer's ISO 3166-1 alpha-2 country.")
    last4: str | None = Field(default=None, description="The card number's last four digits.")
    expMonth: int | None = Field(default=None, description="The expiry month, 1-12.")
    expYear: int | None = Field(default=None, description="The expiry year, four digits.")


class RiskFactsIn(Model):
    score: int | None = Field(default=None, description="The risk model's score, 0-100.")
    level: RiskLevel | None = Field(default=None, description="LOW, MEDIUM or HIGH.")


class HistoryFactsIn(Model):
    entries1h: int | None = Field(default=None, description="The instrument's entries in the last hour.")
    entries24h: int | None = Field(default=None, description="Its entries in the last day.")
    declines24h: int | None = Field(default=None, description="Its pre-authorizations declined in the last day.")
    tripsTotal: int | None = Field(default=None, description="Its trips, ever.")
    unpaidTrips: int | None = Field(default=None, description="Its trips not paid in full.")
    outstandingBalance: float | None = Field(default=None, description="What it owes, in the store's currency.")
    daysSinceFirstSeen: float | None = Field(default=None, description="Days since the platform first saw it.")


class FactsIn(Model):
    """The facts of one entry (DESIGN 14), as many as the test needs: a rule naming one left out fails, as at the gate."""

    partySize: int | None = Field(default=None, description="People entering on the credential.")
    channel: Channel | None = Field(default=None, description="How the visitor presents.")
    localHour: int | None = Field(default=None, ge=0, le=23, description="The hour at the store, 0-23.")
    card: CardFactsIn | None = Field(default=None, description="The card's facts.")
    risk: RiskFactsIn | None = Field(default=None, description="The model's verdict; empty when the model did not run.")
    history: HistoryFactsIn | None = Field(default=None, description="The instrument's history on the platform.")

    def facts(self) -> dict[str, Any]:
        """The facts as the rules see them at the gate: the given ones only."""
        return self.model_dump(mode="json", exclude_unset=True)


class RulesTestIn(Model):
    facts: FactsIn = Field(description="The facts to run the rules on; those left out are missing, as a fact the "
                                       "gate does not have.")
    rules: list[RuleIn] | None = Field(default=None, description="The rules to run; the store's stored rules when "
                                                                 "left out.")


class RuleOut(Answer):
    name: str = Field(description="The rule's name.")
    when: str = Field(description=_WHEN)
    action: RuleAction = Field(description=_ACTION)
    amount: MoneyOut | None = Field(default=None, description="ADJUST only: the hold, in the store's currency; absent "
                                                              "for the other actions.")


class StoreRules(RootModel[list[RuleOut]]):
    """A store's rules, in order (the answer of ``PUT`` and ``GET /v1/stores/{storeId}/rules``)."""

    root: list[RuleOut] = Field(max_length=50)


class RuleResultOut(Answer):
    name: str = Field(description="The rule.")
    matched: bool = Field(description="Its expression was true on the facts.")
    error: str | None = Field(description="Why it failed at run time and was skipped (a missing fact, a wrong type); "
                                          "null when it ran.")


class RulesTestOut(Answer):
    outcome: Literal["DENY", "REVIEW", "ADJUST", "NONE"] = Field(description="The first matching rule's action; NONE "
                                                                             "when none matched.")
    matched: list[str] = Field(description="The names of the rules that matched (the first decides; those after it "
                                           "do not run).")
    results: list[RuleResultOut] = Field(description="Each rule that ran, in order.")


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

_VERDICT = "FRAUD (a CustomerFraud label: the instrument is blocked), BAD_DEBT (a BadDebt label), or OK (no label)."


class VerdictIn(Model):
    outcome: ReviewOutcome = Field(description=_VERDICT)


class ReviewOut(Answer):
    reviewId: str = Field(description="The review's id.")
    storeId: str = Field(description="The store of the entry.")
    eventId: str = Field(description="The entry's eventId.")
    shoppingTripId: str | None = Field(description="The trip the entry opened; null when it opened none.")
    visitorId: str | None = Field(description="The entry's `visitor.id`; null when nobody was identified.")
    rule: str = Field(description="The REVIEW rule that matched.")
    createdAt: datetime = Field(description="When the entry was put in the queue (UTC).")
    outcome: ReviewOutcome | None = Field(description=f"The verdict: {_VERDICT} Null while pending.")


class ReviewsOut(Answer):
    reviews: list[ReviewOut] = Field(description="Newest first.")
