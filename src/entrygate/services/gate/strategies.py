"""The store's risk strategy for card and palm entries (DESIGN 3).

=========================  ==========================================================
PLATFORM_MANAGED          entrygate decides: the model, the deny list, the balance
PLATFORM_RECOMMENDATION   entrygate recommends, the retailer's connector decides
RETAILER_MANAGED          the retailer's connector decides with its own data
NONE                      baseline only (valid card, approved pre-authorization)
=========================  ==========================================================

When the shopper-authorization connector gives no usable answer, the store's fallback decides
(``DENY``, ``ALLOW``, or ``USE_RECOMMENDATION``: the platform's own recommendation), and the
answer says so with ``FALLBACK_APPLIED`` and ``decidedBy: FALLBACK``.
"""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from zoneinfo import ZoneInfo

import structlog

from entrygate.domain.channels import DecidedBy, FallbackDecision, RiskStrategy
from entrygate.domain.decision import RiskAssessment
from entrygate.domain.reasons import ReasonCode
from entrygate.domain.risk_policy import HardFacts, RiskRecommendation
from entrygate.risk.features import RiskFeatures
from entrygate.services.gate.context import EntryContext
from entrygate.services.ports.connectors import (
    ConnectorFailed,
    GateAuthEvent,
    ShopperAuthorizationConnector,
    auth_event_id,
)
from entrygate.services.ports.risk import Scorer
from entrygate.services.ports.storage import UnitOfWorkFactory

log = structlog.get_logger("entrygate.risk")


class StrategyAssessor:
    def __init__(self, *, uow: UnitOfWorkFactory, scorer: Callable[[], Scorer],
                 connector: ShopperAuthorizationConnector) -> None:
        self._uow = uow
        self._scorer = scorer
        self._connector = connector

    def assess(self, ctx: EntryContext) -> None:
        strategy = ctx.store.risk_strategy
        if strategy is RiskStrategy.NONE:
            return
        if strategy is RiskStrategy.RETAILER_MANAGED:
            self._ask_retailer(ctx, recommendation=None)
            return
        recommendation = self.recommendation(ctx)
        ctx.decision.risk = RiskAssessment(recommendation.score, recommendation.level.value)
        if strategy is RiskStrategy.PLATFORM_MANAGED:
            _apply(ctx, recommendation, by=DecidedBy.PLATFORM)
        else:
            self._ask_retailer(ctx, recommendation=recommendation)

    def recommendation(self, ctx: EntryContext) -> RiskRecommendation:
        """The platform's view of this entry: the model's score under the store's policy."""
        assert ctx.card is not None and ctx.instrument_id is not None
        with self._uow() as uow:
            history = uow.history.of(ctx.instrument_id, now=ctx.now)
            # DESIGN 10: the balance that denies entry is what is owed to this store's retailer; the
            # model's features keep their platform-wide history, as a card network's risk signal does.
            owed = uow.trips.outstanding_balance(ctx.instrument_id, retailer_id=ctx.store.retailer_id)
        ctx.history = history
        balance = sum(owed.values(), Decimal(0))
        ctx.owes_retailer = balance > 0
        features = RiskFeatures.from_parts(history, card=ctx.card, channel=ctx.event.channel,
                                           party_size=ctx.event.party_size, local_hour=_local_hour(ctx),
                                           store_country=ctx.store.country, today=ctx.now.date())
        facts = HardFacts(outstanding_balance=balance,
                          instrument_blocked=bool(ctx.instrument and ctx.instrument.blocked),
                          fraud_label=history.fraud_labels > 0)
        return self._scorer().recommend(features, tolerance=ctx.store.risk_tolerance,
                                        authorized_amount=ctx.store.authorized_amount, facts=facts)

    def _ask_retailer(self, ctx: EntryContext, *, recommendation: RiskRecommendation | None) -> None:
        assert ctx.card is not None and ctx.instrument_id is not None and ctx.trip_id is not None
        event = ctx.event
        gate_event = GateAuthEvent(id=auth_event_id(ctx.gate.gate_pk, event.event_id), type=event.channel,
                                   interaction_type=event.interaction_type, timestamp=event.timestamp,
                                   data=ctx.card.display())
        try:
            answer = self._connector.authorize_shopper(
                ctx.store, instrument_id=ctx.instrument_id, authorized_amount=ctx.store.authorized_amount,
                trip_id=ctx.trip_id, gate_event=gate_event,
                recommendation=recommendation.as_authorization() if recommendation else None)
        except ConnectorFailed as exc:
            self._fallback(ctx, recommendation, exc)
            return
        d = ctx.decision
        d.decided_by = DecidedBy.RETAILER
        if not answer.shopper_authorized:
            d.deny(ReasonCode.RETAILER_DENIED)
            return
        if answer.adjusted_amount is not None:
            ctx.amount = answer.adjusted_amount

    def _fallback(self, ctx: EntryContext, recommendation: RiskRecommendation | None, exc: ConnectorFailed) -> None:
        d = ctx.decision
        fallback = ctx.store.fallback_decision
        log.warning("shopper_authorization_fallback", store_id=ctx.store.store_id, kind=exc.kind.value,
                    fallback=fallback.value)
        d.decided_by = DecidedBy.FALLBACK
        if fallback is FallbackDecision.ALLOW:
            d.note(ReasonCode.FALLBACK_APPLIED)
        elif fallback is FallbackDecision.USE_RECOMMENDATION and recommendation is not None:
            _apply(ctx, recommendation, by=DecidedBy.FALLBACK)
            d.note(ReasonCode.FALLBACK_APPLIED)
        else:
            d.deny(ReasonCode.CONNECTOR_UNAVAILABLE)
            d.note(ReasonCode.FALLBACK_APPLIED)


def _apply(ctx: EntryContext, recommendation: RiskRecommendation, *, by: DecidedBy) -> None:
    d = ctx.decision
    d.decided_by = by
    if not recommendation.shopper_authorized:
        # The reason is the hard fact when there is one; the model's risk labels only explain.
        history = ctx.history
        if ctx.owes_retailer:
            d.deny(ReasonCode.OUTSTANDING_BALANCE)
        elif history is not None and history.fraud_labels > 0:
            d.deny(ReasonCode.INSTRUMENT_BLOCKED)
        else:
            d.deny(ReasonCode.HIGH_RISK)
        return
    if recommendation.adjusted_amount is not None:
        ctx.amount = recommendation.adjusted_amount


def _local_hour(ctx: EntryContext) -> int:
    try:
        return ctx.now.astimezone(ZoneInfo(ctx.store.timezone)).hour
    except (KeyError, ValueError, OSError):  # a store saved before time zones were checked ("America", a folder)
        return ctx.now.hour


