"""Admit an entry: the use case behind ``POST /v1/gates/{gateId}/entries``.

The order of the checks is the order a person would give the reasons in: is this gate and this
way of entering open at all, is the credential good, is the visitor already inside, is the risk
acceptable, and only then does money move (pre-authorization). Nothing before the final write
holds a database transaction, so a slow processor or retailer never blocks other gates.

The decision is written before the gate hears it. If the write fails the gate gets 503, never a
decision that is not on record. Two requests with one event id race to the unique constraint on
(gate, event id): the loser answers with the winner's stored decision.

The use case answers with a typed ``GateDecision`` built from the record it stored, so a first
answer and a replay (``idempotency``) are one and the same; the API renders it (``wire.decisions``).

HARD anti-passback is read early (a visitor already inside is denied before any hold), but that
read cannot see a tap at another gate in the same moment. The database settles that race: one
open trip per visitor and store under HARD. The tap that loses is stored, and answered, as DENY
``ALREADY_INSIDE``, and the hold it obtained is released (see ``decision_log``) and noted
released on its decision; a hold whose release failed is left to the orphan sweep
(``services.payments.sweeps``), which finds it by that note's absence.
"""
from __future__ import annotations

import time
from collections.abc import Mapping

import structlog

from entrygate.domain.cards import new_id
from entrygate.domain.channels import AntiPassback, Channel, GateDirection, TripStatus, VisitorType
from entrygate.domain.decision import Decision, EntryEvent, GateDecision, RiskAssessment, Visitor
from entrygate.domain.decision_trace import OK, PROCESSOR, REFUSED, REJECTED, UNAVAILABLE, gate_request_summary
from entrygate.domain.reasons import ReasonCode
from entrygate.domain.records import DecisionRecord, Trip
from entrygate.domain.risk_ops import Review
from entrygate.services.auth import Principal
from entrygate.services.catalog import Catalog
from entrygate.services.errors import Conflict, Unavailable
from entrygate.services.gate.context import ChannelHandler, EntryContext, NoRiskAssessment, RiskAssessor
from entrygate.services.gate.decision_log import DirectDecisionLog
from entrygate.services.gate.gates import GateAtStore, resolve_gate
from entrygate.services.gate.idempotency import EventRecords
from entrygate.services.gate.risk_ops_step import RulesStep, apply_lists, read_list_items
from entrygate.services.ports.clock import Clock
from entrygate.services.ports.decisions import DecisionLog, DecisionWrite
from entrygate.services.ports.observer import DecisionObserver, NullObserver
from entrygate.services.ports.payments import PaymentsUnitOfWorkFactory, orphan_release_key
from entrygate.services.ports.processor import PaymentProcessor, ProcessorError, ProcessorUnavailable
from entrygate.services.ports.storage import DuplicateEvent, StorageError, UnitOfWork, UnitOfWorkFactory

log = structlog.get_logger("entrygate.entries")

_DECLINE_REASONS = {
    "expired_card": ReasonCode.CARD_EXPIRED,
    "invalid": ReasonCode.INVALID_CREDENTIAL,
}


class EntryService:
    def __init__(self, *, uow: UnitOfWorkFactory, catalog: Catalog, clock: Clock, processor: PaymentProcessor,
                 handlers: Mapping[Channel, ChannelHandler], risk: RiskAssessor | None = None,
                 observer: DecisionObserver | None = None, decision_log: DecisionLog | None = None,
                 payments: PaymentsUnitOfWorkFactory | None = None, rules: RulesStep | None = None) -> None:
        """``payments`` notes a race loser's released hold; without it the orphan sweep releases it again.
        ``rules`` applies the store's rules (DESIGN 14); without it no rules run."""
        self._uow = uow
        self._rules = rules
        self._payments = payments
        self._log = decision_log or DirectDecisionLog(uow)
        self._catalog = catalog
        self._clock = clock
        self._processor = processor
        self.handlers = dict(handlers)
        self.risk = risk or NoRiskAssessment()
        self._observer = observer or NullObserver()
        self._decisions = EventRecords(uow, lambda u: u.decisions,
                                       unavailable="the decision store is unavailable; no decision was made",
                                       unrecorded="the decision could not be recorded; no decision was made")

    def admit(self, principal: Principal, gate_id: str, event: EntryEvent) -> GateDecision:
        started = time.perf_counter()
        at = self._gate(principal, gate_id)
        stored = self._decisions.replay(at.gate.gate_pk, event.event_id, event.request_hash)
        if stored is not None:
            return GateDecision.of(stored)
        ctx = EntryContext(store=at.store, gate=at.gate, event=event, now=self._clock.now(),
                           amount=at.store.authorized_amount, trip_id=new_id("trip"))
        self._decide(ctx)
        latency_ms = round((time.perf_counter() - started) * 1000, 3)
        return self._record(ctx, latency_ms)

    # -- the pipeline -------------------------------------------------------------------------

    def _decide(self, ctx: EntryContext) -> None:
        d = ctx.decision
        if not ctx.gate.enabled:
            d.deny(ReasonCode.GATE_DISABLED)
            return
        if not ctx.store.accepts(ctx.event.channel):
            d.deny(ReasonCode.ENTRY_METHOD_DISABLED)
            return
        if ctx.event.party_size > ctx.store.max_party_size:
            d.deny(ReasonCode.PARTY_TOO_LARGE)
            return
        handler = self.handlers.get(ctx.event.channel)
        if handler is None:
            d.deny(ReasonCode.ENTRY_METHOD_DISABLED)
            return
        handler.identify(ctx)
        if not _identified(ctx):
            return
        if ctx.event.channel.card_backed:
            self._card_backed(ctx)
        elif d.visitor is not None:
            shopper = d.visitor.type is VisitorType.SHOPPER
            with self._uow() as uow:  # one read for the lists and, when asked, the visitor's open trip
                items = read_list_items(uow, ctx, visitor_id=d.visitor.id)
                open_trip = self._open_trip(uow, ctx, d.visitor.id) if shopper else None
            if apply_lists(ctx, items, visitor_id=d.visitor.id):
                self._passback_allows(ctx, open_trip)

    def _card_backed(self, ctx: EntryContext) -> None:
        d, card = ctx.decision, ctx.card
        assert card is not None and ctx.instrument_id is not None
        d.visitor = Visitor(ctx.instrument_id, VisitorType.SHOPPER)
        d.instrument_id = ctx.instrument_id
        with self._uow() as uow:  # one read for the instrument, its list items and, when asked, its open trip
            ctx.instrument = uow.instruments.get(ctx.instrument_id)
            items = read_list_items(uow, ctx, visitor_id=ctx.instrument_id)
            open_trip = self._open_trip(uow, ctx, ctx.instrument_id)
        if ctx.instrument is not None and ctx.instrument.blocked:
            d.deny(ReasonCode.INSTRUMENT_BLOCKED)
            return
        if not apply_lists(ctx, items, visitor_id=ctx.instrument_id):
            return
        if card.expired_on(ctx.now.date()):
            d.deny(ReasonCode.CARD_EXPIRED)
            return
        if not self._passback_allows(ctx, open_trip):
            return
        self.risk.assess(ctx)
        if ctx.allow_listed and d.risk is None:
            d.risk = RiskAssessment(None, None, allow_listed=True)
        if not d.opened:
            return
        if self._rules is not None:
            self._rules.apply(ctx)
            if not d.opened:
                return
        self._preauthorize(ctx)

    @staticmethod
    def _open_trip(uow: UnitOfWork, ctx: EntryContext, visitor_id: str) -> Trip | None:
        """The visitor's open trip at this store, read only when the store checks anti-passback."""
        if ctx.store.anti_passback is AntiPassback.NONE:
            return None
        return uow.trips.find_open(visitor_id=visitor_id, store_id=ctx.store.store_id)

    @staticmethod
    def _passback_allows(ctx: EntryContext, open_trip: Trip | None) -> bool:
        if open_trip is None:
            return True
        if ctx.store.anti_passback is AntiPassback.HARD:
            ctx.decision.deny(ReasonCode.ALREADY_INSIDE)
            return False
        ctx.decision.passback_violation = True
        return True

    def _preauthorize(self, ctx: EntryContext) -> None:
        d, card, amount = ctx.decision, ctx.card, ctx.amount
        assert card is not None and amount is not None
        started = time.perf_counter()
        try:
            result = self._processor.preauthorize(token=card.payment_token, amount=amount,
                                                  idempotency_key=f"{ctx.gate.gate_pk}:{ctx.event.event_id}")
        except ProcessorUnavailable:
            ctx.called(PROCESSOR, UNAVAILABLE, started)
            # Fail closed: without an approved pre-authorization there is no way to collect payment.
            d.deny(ReasonCode.PREAUTH_DECLINED)
            return
        except ProcessorError as exc:
            ctx.called(PROCESSOR, REFUSED, started)
            # Refused rather than declined (a key it no longer takes, an amount it cannot hold): fail
            # closed as well, and loudly, since every tap at the store meets the same refusal.
            log.error("preauth_refused", store_id=ctx.store.store_id, gate_id=ctx.gate.gate_id,
                      event_id=ctx.event.event_id, error=f"{type(exc).__name__}: {exc}")
            d.deny(ReasonCode.PREAUTH_DECLINED)
            return
        ctx.called(PROCESSOR, OK if result.approved else REJECTED, started)
        if not result.approved:
            d.deny(_DECLINE_REASONS.get(result.decline_code or "", ReasonCode.PREAUTH_DECLINED))
            d.block_instrument = result.block_instrument
            return
        d.preauth_id = result.preauth_id
        d.authorized_amount = amount
        if amount != ctx.store.authorized_amount:
            d.note(ReasonCode.PREAUTH_ADJUSTED)

    # -- idempotency and persistence -------------------------------------------------------------

    def _gate(self, principal: Principal, gate_id: str) -> GateAtStore:
        at = resolve_gate(self._catalog, self._uow, principal, gate_id)
        if at.gate.direction is not GateDirection.ENTRY:
            raise Conflict(f"gate {gate_id} is an exit gate; send entries to an entry gate")
        return at

    def _record(self, ctx: EntryContext, latency_ms: float) -> GateDecision:
        d, store, event = ctx.decision, ctx.store, ctx.event
        opens_trip = d.opened and (d.visitor is None or d.visitor.type is VisitorType.SHOPPER)
        if opens_trip:
            d.trip_id = ctx.trip_id
        record = _decision_record(ctx, d, latency_ms)
        trip = _trip(ctx) if opens_trip and d.trip_id else None
        denied = _passback_denial(d) if trip is not None and trip.passback_key is not None else None
        review = _review(ctx) if d.review and d.opened else None
        try:
            stored = self._log.write(DecisionWrite(
                record=record, instrument_id=ctx.instrument_id, card=ctx.card, block_instrument=d.block_instrument,
                trip=trip, passback_denial=_decision_record(ctx, denied, latency_ms) if denied else None,
                review=review))
        except DuplicateEvent:
            # The same event, decided by another request: its hold is this one's too (one idempotency key).
            return GateDecision.of(self._decisions.winner(ctx.gate.gate_pk, event.event_id, event.request_hash))
        except StorageError as exc:
            log.error("decision_not_recorded", store_id=store.store_id, gate_id=ctx.gate.gate_id,
                      event_id=event.event_id, error=str(exc))
            raise Unavailable("the decision could not be recorded; no decision was made") from exc
        if denied is not None and stored.outcome != record.outcome:
            d = denied  # another gate opened this visitor's trip first
            if d.preauth_id is not None:
                self._release(ctx, d.preauth_id)
        self._observer.decided(store_id=store.store_id, gate_id=ctx.gate.gate_id, channel=event.channel.value,
                               outcome=d.outcome.value, reasons=[r.value for r in d.reasons],
                               decided_by=d.decided_by.value, latency_ms=latency_ms,
                               risk_score=d.risk.score if d.risk else None)
        log.info("decision", store_id=store.store_id, gate_id=ctx.gate.gate_id, event_id=event.event_id,
                 channel=event.channel.value, outcome=d.outcome.value, reasons=[r.value for r in d.reasons],
                 decided_by=d.decided_by.value, latency_ms=latency_ms, trip_id=d.trip_id,
                 passback_violation=d.passback_violation or None)
        return GateDecision.of(stored)

    def _release(self, ctx: EntryContext, preauth_id: str) -> None:
        """Let go of the hold a denied tap obtained.

        The denial is stored with the hold's id before this call, so a release that fails here (or
        a process that dies first) leaves the hold on record to be released later; the gate's
        answer, already on record, never waits on a failed release to become a 503.
        """
        try:
            self._processor.release(preauth_id=preauth_id,
                                    idempotency_key=orphan_release_key(ctx.gate.gate_pk, ctx.event.event_id))
        except Exception as exc:  # noqa: BLE001 - any processor failure: the hold stays on record
            log.error("preauth_not_released", store_id=ctx.store.store_id, gate_id=ctx.gate.gate_id,
                      event_id=ctx.event.event_id, preauth_id=preauth_id, error=f"{type(exc).__name__}: {exc}")
            return
        self._note_released(ctx)
        log.info("preauth_released", store_id=ctx.store.store_id, gate_id=ctx.gate.gate_id,
                 event_id=ctx.event.event_id, preauth_id=preauth_id, reason=ReasonCode.ALREADY_INSIDE.value)

    def _note_released(self, ctx: EntryContext) -> None:
        """Note the denial's hold released (one conditional write, paid by race losers alone)."""
        if self._payments is None:
            return
        try:
            with self._payments(write=True) as uow:
                uow.holds.mark_orphan_released(ctx.gate.gate_pk, ctx.event.event_id, at=self._clock.now())
                uow.commit()
        except StorageError as exc:  # the sweep releases it again under the same key: a no-op
            log.warning("preauth_release_unrecorded", store_id=ctx.store.store_id, gate_id=ctx.gate.gate_id,
                        event_id=ctx.event.event_id, error=str(exc))


def _decision_record(ctx: EntryContext, d: Decision, latency_ms: float) -> DecisionRecord:
    event, amount = ctx.event, d.authorized_amount
    return DecisionRecord(
        gate_pk=ctx.gate.gate_pk, gate_id=ctx.gate.gate_id, store_id=ctx.store.store_id, event_id=event.event_id,
        request_hash=event.request_hash, channel=event.channel.value, outcome=d.outcome.value,
        reasons=[r.value for r in d.reasons], decided_by=d.decided_by.value,
        visitor_id=d.visitor.id if d.visitor else None, visitor_type=d.visitor.type.value if d.visitor else None,
        instrument_id=d.instrument_id, trip_id=d.trip_id, party_size=event.party_size,
        risk_score=d.risk.score if d.risk else None, risk_level=d.risk.level if d.risk else None,
        authorized_amount=amount.amount if amount else None, currency=amount.currency if amount else None,
        latency_ms=latency_ms, event_time=event.timestamp,
        decided_at=ctx.now, preauth_id=d.preauth_id, model_version=d.risk.model_version if d.risk else None,
        risk_detail=d.detail().to_json(), policy_denied=d.policy_denied,
        shadow_model_version=d.shadow.model_version if d.shadow else None,
        shadow_score=d.shadow.score if d.shadow else None, shadow_level=d.shadow.level if d.shadow else None,
        gate_request=gate_request_summary(event_id=event.event_id, timestamp=event.timestamp,
                                          channel=event.channel.value, interaction_type=event.interaction_type,
                                          party_size=event.party_size, credential=event.credential),
        connector_calls=tuple(ctx.calls))


def _review(ctx: EntryContext) -> Review:
    """The review-queue entry of a decision a REVIEW rule let in."""
    d = ctx.decision
    return Review(review_id=new_id("rev"), store_id=ctx.store.store_id, gate_pk=ctx.gate.gate_pk,
                  event_id=ctx.event.event_id, trip_id=d.trip_id, visitor_id=d.visitor.id if d.visitor else None,
                  instrument_id=d.instrument_id, rule=d.rule or "", created_at=ctx.now)


def _trip(ctx: EntryContext) -> Trip:
    d, store, amount = ctx.decision, ctx.store, ctx.decision.authorized_amount
    assert d.trip_id is not None
    # Under HARD anti-passback the trip carries its visitor as the key the database keeps unique among
    # the store's open trips (group entry included: one credential, one trip, one key).
    visitor_id = d.visitor.id if d.visitor else None
    return Trip(trip_id=d.trip_id, store_id=store.store_id, entry_gate_id=ctx.gate.gate_id,
                channel=ctx.event.channel.value, visitor_id=visitor_id or "",
                instrument_id=d.instrument_id, party_size=ctx.event.party_size, status=TripStatus.OPEN,
                entered_at=ctx.now, currency=store.currency, authorized_amount=amount.amount if amount else None,
                preauth_id=d.preauth_id, passback_violation=d.passback_violation,
                passback_key=visitor_id if store.anti_passback is AntiPassback.HARD else None)


def _passback_denial(d: Decision) -> Decision:
    """The decision of a tap whose visitor got in at another gate first: no trip, no amount held.

    It keeps the hold's id (``preauth_id``) so that the stored denial says which hold to release.
    """
    denied = Decision(visitor=d.visitor, risk=d.risk, shadow=d.shadow, instrument_id=d.instrument_id, preauth_id=d.preauth_id)
    return denied.deny(ReasonCode.ALREADY_INSIDE)


def _identified(ctx: EntryContext) -> bool:
    """Carry what the channel's handler found into the decision; true when the credential names someone."""
    d = ctx.decision
    if ctx.decided_by is not None:
        d.decided_by = ctx.decided_by
    for code in ctx.refusals:
        d.deny(code)
    if ctx.visitor is not None:
        d.visitor = ctx.visitor
    return d.opened
