"""The gate's risk-operations steps (DESIGN 14): the lists before the risk strategy, the rules after it.

Order: a platform-wide block (a lost or stolen card; any retailer's CustomerFraud label), then the
retailer's block list (``INSTRUMENT_BLOCKED``, the message names the item), then its allow list,
which skips only the model (never the pre-authorization, a block or the balance). The lists are read
in the same unit of work as the instrument (``admit._card_backed``), one indexed lookup.

Rules run after the model and before the pre-authorization, on card and palm entries, under every
strategy: ``DENY`` denies with ``RULE_DENIED``, ``REVIEW`` opens and queues the entry for review,
``ADJUST`` sets the hold (the larger of the rule's and the model's). A rule that fails at run time
is skipped and the failure recorded on the decision.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import structlog

from entrygate.domain.money import Money
from entrygate.domain.reasons import ReasonCode
from entrygate.domain.risk_ops import ListItem, Presented, RuleAction, list_verdict
from entrygate.risk.features import InstrumentHistory
from entrygate.services.gate.context import EntryContext
from entrygate.services.gate.strategies import local_hour
from entrygate.services.ports.storage import UnitOfWork, UnitOfWorkFactory
from entrygate.services.risk_ops.rules import RuleBook

log = structlog.get_logger("entrygate.risk_ops")


def _presented(ctx: EntryContext, visitor_id: str | None) -> Presented:
    country = ctx.card.issuer_country if ctx.card else None
    return Presented(instrument_id=ctx.instrument_id, visitor_id=visitor_id,
                     issuer_country=country.upper() if country else None)


def read_list_items(uow: UnitOfWork, ctx: EntryContext, *, visitor_id: str | None) -> list[ListItem]:
    """The candidate items of this tap (one indexed lookup, in the caller's unit of work)."""
    return uow.risk_lists.candidates(_presented(ctx, visitor_id))


def apply_lists(ctx: EntryContext, items: list[ListItem], *, visitor_id: str | None) -> bool:
    """Deny on a block, note an allow; true when the entry goes on."""
    verdict = list_verdict(items, _presented(ctx, visitor_id), retailer_id=ctx.store.retailer_id, now=ctx.now)
    d = ctx.decision
    if verdict.block is not None:
        d.list_block = True
        d.list_item = verdict.block.item_id
        d.deny(ReasonCode.INSTRUMENT_BLOCKED, message=f"Blocked by the {verdict.block.describe()}.")
        return False
    if verdict.allow is not None:
        ctx.allow_listed = True
        d.list_item = verdict.allow.item_id
    return True


def rule_facts(ctx: EntryContext, history: InstrumentHistory) -> dict[str, Any]:
    """The facts of DESIGN 14 for one entry; ``risk`` is empty when the model did not run."""
    card, risk = ctx.card, ctx.decision.risk
    assert card is not None
    return {
        "partySize": ctx.event.party_size, "channel": ctx.event.channel.value, "localHour": local_hour(ctx),
        "card": {"brand": card.brand or "", "funding": card.funding or "", "issuerCountry": card.issuer_country or "",
                 "last4": card.last4 or "", "expMonth": card.exp_month, "expYear": card.exp_year},
        "risk": {"score": risk.score, "level": risk.level} if risk is not None and risk.score is not None else {},
        "history": {"entries1h": history.entries_1h, "entries24h": history.entries_24h,
                    "declines24h": history.declines_24h, "tripsTotal": history.trips_total,
                    "unpaidTrips": history.unpaid_trips, "outstandingBalance": float(history.outstanding_balance),
                    "daysSinceFirstSeen": round(float(history.days_since_first_seen), 3)},
    }


class RulesStep:
    """Applies a store's rules to a card-backed entry that the risk strategy let through."""

    def __init__(self, uow: UnitOfWorkFactory, book: RuleBook) -> None:
        self._uow = uow
        self._book = book

    def apply(self, ctx: EntryContext) -> None:
        rules = self._book.for_store(ctx.store.store_id)
        if rules is None:
            return
        history = ctx.history
        if history is None:  # strategies without the model did not read it
            assert ctx.instrument_id is not None
            with self._uow() as uow:
                history = uow.history.of(ctx.instrument_id, now=ctx.now)
            ctx.history = history
        outcome = rules.evaluate(rule_facts(ctx, history))
        d = ctx.decision
        d.rule_failures = outcome.failures
        for failure in outcome.failures:
            log.warning("rule_failed", store_id=ctx.store.store_id, rule=failure.name, error=failure.error)
        rule = outcome.decided_by
        if rule is None:
            return
        d.rule = rule.name
        if rule.action is RuleAction.DENY:
            d.deny(ReasonCode.RULE_DENIED, message=f"Denied by the store's rule {rule.name!r}.")
        elif rule.action is RuleAction.REVIEW:
            d.review = True
        elif rule.action is RuleAction.ADJUST and rule.amount is not None:
            ctx.amount = _larger_hold(ctx, rule.amount)


def _larger_hold(ctx: EntryContext, amount: Money) -> Money:
    """The rule's hold, or the model's (or retailer's) own ADJUST when that is larger."""
    current = ctx.amount
    if current is None or current == ctx.store.authorized_amount or current.currency != amount.currency:
        return amount
    return amount if Decimal(amount.amount) > Decimal(current.amount) else current
