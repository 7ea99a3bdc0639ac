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

import time
from collections.abc import Callable
from decimal import Decimal
from zoneinfo import ZoneInfo

import structlog

from entrygate.domain.channels import DecidedBy, FallbackDecision, RiskStrategy
from entrygate.domain.decision import RiskAssessment, ShadowAssessment
from entrygate.domain.decision_trace import OK
from entrygate.domain.reasons import ReasonCode
from entrygate.domain.risk_policy import HardFacts, RiskRecommendation, recommend
from entrygate.risk.features import RiskFeatures
from entrygate.services.gate.context import EntryContext
from entrygate.services.ports.connectors import (
    SHOPPER_AUTHORIZATION,
    ConnectorFailed,
    GateAuthEvent,
    ShopperAuthorizationConnector,
    auth_event_id,
)
from entrygate.services.ports.risk import Scorer, ShadowScorer
from entrygate.services.ports.storage import UnitOfWorkFactory

log = structlog.get_logger("entrygate.risk")


class StrategyAssessor:
    def __init__(self, *, uow: UnitOfWorkFactory, scorer: Callable[[], Scorer],
                 connector: ShopperAuthorizationConnector,
                 shadow: Callable[[], ShadowScorer | None] | None = None) -> None:
        self._uow = uow
        self._scorer = scorer
        self._connector = connector
        self._shadow = shadow

    def assess(self, ctx: EntryContext) -> None:
        strategy = ctx.store.risk_strategy
        if strategy is RiskStrategy.NONE:
            return
        if strategy is RiskStrategy.RETAILER_MANAGED:
            self._ask_retailer(ctx, recommendation=None)
            return
        recommendation = self.recommendation(ctx)
        if ctx.allow_listed:  # the model did not run: no score, no explanation
            ctx.decision.risk = RiskAssessment(None, None, allow_listed=True)
        else:
            ctx.decision.risk = RiskAssessment(recommendation.score, recommendation.level.value,
                                               recommendation.model_version, recommendation.explanation)
        if strategy is RiskStrategy.PLATFORM_MANAGED:
            _apply(ctx, recommendation, by=DecidedBy.PLATFORM)
        else:
            self._ask_retailer(ctx, recommendation=recommendation)

    def recommendation(self, ctx: EntryContext) -> RiskRecommendation:
        """The platform's view of this entry: the model's score under the store's policy.

        An allow-listed entry skips the model only: the hard facts (the balance) still decide.
        """
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
                                           party_size=ctx.event.party_size, local_hour=local_hour(ctx),
                                           store_country=ctx.store.country, today=ctx.now.date())
        # A CustomerFraud label blocks through its FEEDBACK list item, checked before this step (DESIGN 14:
        # deleting the item lifts the block); the model still weighs the label as a feature.
        facts = HardFacts(outstanding_balance=balance,
                          instrument_blocked=bool(ctx.instrument and ctx.instrument.blocked))
        if ctx.allow_listed:
            return recommend(probability=0.0, tolerance=ctx.store.risk_tolerance,
                             authorized_amount=ctx.store.authorized_amount, facts=facts)
        recommendation = self._scorer().recommend(features, tolerance=ctx.store.risk_tolerance,
                                                  authorized_amount=ctx.store.authorized_amount, facts=facts)
        if self._shadow is not None:
            ctx.decision.shadow = self._shadow_assessment(ctx, features, facts)
        return recommendation

    def _shadow_assessment(self, ctx: EntryContext, features: RiskFeatures, facts: HardFacts) -> ShadowAssessment | None:
        """The shadow model's score of the same entry (DESIGN 14): never decides, never fails the decision.

        Why in line and not after the answer: it is one more walk of the compiled trees (tens of
        microseconds, the model is already loaded by the periodic check), and done here it is stored
        in the decision's own row, with no second write per decision.
        """
        try:
            scorer = self._shadow()
            if scorer is None:
                return None
            seen = scorer.recommend(features, tolerance=ctx.store.risk_tolerance,
                                    authorized_amount=ctx.store.authorized_amount, facts=facts)
            return ShadowAssessment(str(scorer.version), seen.score, seen.level.value)
        except Exception as exc:  # noqa: BLE001 - a failing candidate is skipped, the decision goes on
            log.warning("shadow_score_skipped", store_id=ctx.store.store_id, error=f"{type(exc).__name__}: {exc}")
            return None

    def _ask_retailer(self, ctx: EntryContext, *, recommendation: RiskRecommendation | None) -> None:
        assert ctx.card is not None and ctx.instrument_id is not None and ctx.trip_id is not None
        event = ctx.event
        gate_event = GateAuthEvent(id=auth_event_id(ctx.gate.gate_pk, event.event_id), type=event.channel,
                                   interaction_type=event.interaction_type, timestamp=event.timestamp,
                                   data=ctx.card.display())
        started = time.perf_counter()
        try:
            answer = self._connector.authorize_shopper(
                ctx.store, instrument_id=ctx.instrument_id, authorized_amount=ctx.store.authorized_amount,
                trip_id=ctx.trip_id, gate_event=gate_event,
                recommendation=recommendation.as_authorization() if recommendation else None)
        except ConnectorFailed as exc:
            ctx.called(SHOPPER_AUTHORIZATION, exc.kind.value, started, status=exc.status)
            self._fallback(ctx, recommendation, exc)
            return
        ctx.called(SHOPPER_AUTHORIZATION, OK, started, status=200)
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
        if ctx.owes_retailer:
            d.deny(ReasonCode.OUTSTANDING_BALANCE)
        elif ctx.instrument is not None and ctx.instrument.blocked:
            d.deny(ReasonCode.INSTRUMENT_BLOCKED)
        else:
            d.deny(ReasonCode.HIGH_RISK)
        return
    if recommendation.adjusted_amount is not None:
        ctx.amount = recommendation.adjusted_amount


def local_hour(ctx: EntryContext) -> int:
    """The store's local hour at this entry (the model's ``local_hour``, the rules' ``localHour``)."""
    try:
        return ctx.now.astimezone(ZoneInfo(ctx.store.timezone)).hour
    except (KeyError, ValueError, OSError):  # a store saved before time zones were checked ("America", a folder)
        return ctx.now.hour


