"""Settling a trip through its pre-authorization (DESIGN 10): capture, cancel, adjust, refund.

Each operation is idempotent on the caller's ``Idempotency-Key``: the same key and body give the
first answer again and do nothing more; the same key with another body is a conflict.

Money moves at the processor, outside any transaction, so every operation runs in three steps:
an intent (the plan and the processor idempotency key) is committed first, the processor is
called, and the result is committed in a second transaction. A crash or a timeout in between
leaves a pending intent; the next call with the same key re-sends the same processor keys, so the
processor answers as before and moves no more money. Anyone else may finish an intent once its
lease has run out: why not at once is that its first caller may still be waiting on the processor.
"""
from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

import structlog

from entrygate.domain.channels import TripStatus
from entrygate.domain.holds import (
    Hold,
    HoldConflict,
    HoldError,
    HoldInvalid,
    HoldOperation,
    HoldRefusal,
    PaymentOutcome,
    Plan,
    ProcessorStep,
    Transition,
    apply_adjust,
    apply_cancel,
    apply_capture,
    apply_refund,
    apply_refused,
    apply_release,
    capture_amount,
    check_amount,
    plan_adjust,
    plan_cancel,
    plan_capture,
    plan_refund,
    plan_release,
)
from entrygate.domain.keys import KeyKind
from entrygate.domain.money import Money
from entrygate.services.auth import Principal
from entrygate.services.errors import Conflict, Forbidden, InvalidRequest, NotFound, Unavailable
from entrygate.services.events.recorder import EventRecorder, no_events
from entrygate.services.ports.clock import Clock
from entrygate.services.ports.payments import (
    HoldAnswer,
    HoldIntent,
    PaymentsUnitOfWork,
    PaymentsUnitOfWorkFactory,
    StoredHold,
    TripState,
)
from entrygate.services.ports.processor import (
    PaymentProcessor,
    ProcessorConfigError,
    ProcessorError,
    ProcessorUnavailable,
    UnknownHold,
)
from entrygate.services.ports.storage import StorageError

log = structlog.get_logger("entrygate.payments")

PLATFORM_SCOPE = "platform"
MAX_KEY_LENGTH = 255
# Long enough for a processor call to finish (their deadlines are seconds), short enough that a
# hold left by a crashed worker is free again within the minute.
DEFAULT_LEASE = timedelta(seconds=60)
_ATTEMPTS = 3  # a write lost to a concurrent one is retried against what that one left


class PreauthorizationConflict(Conflict):
    """A 409 about a hold; ``reason`` is a ``HoldRefusal`` value."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class HoldService:
    def __init__(self, uow: PaymentsUnitOfWorkFactory, processor: PaymentProcessor, clock: Clock, *,
                 lease: timedelta = DEFAULT_LEASE, events: EventRecorder | None = None) -> None:
        self._uow = uow
        self._events = events or no_events()
        self._processor = processor
        self._clock = clock
        self._lease = lease

    def get(self, principal: Principal, trip_id: str) -> Hold | None:
        """The trip's hold as it stands; None for a trip without a pre-authorization."""
        with self._uow() as uow:
            trip = _trip_of(uow, principal, trip_id)
            stored = uow.holds.get(trip_id)
        if stored is not None:
            return stored.hold
        return _opened(trip)

    def capture(self, principal: Principal, trip_id: str, *, amount: Money | None,
                idempotency_key: str | None) -> HoldAnswer:
        """Charge the shopper ``amount``, on an open or a closed trip."""
        return self._operate(principal, trip_id, HoldOperation.CAPTURE, amount, idempotency_key,
                             lambda hold, trip, now: plan_capture(hold, amount))

    def cancel(self, principal: Principal, trip_id: str, *, idempotency_key: str | None) -> HoldAnswer:
        """Release the hold: an empty basket; the trip's total and settled amounts become zero."""
        return self._operate(principal, trip_id, HoldOperation.CANCEL, None, idempotency_key,
                             lambda hold, trip, now: plan_cancel(hold))

    def adjust(self, principal: Principal, trip_id: str, *, amount: Money | None,
               idempotency_key: str | None) -> HoldAnswer:
        """Change the hold, up or down, while the trip is open."""
        def planner(hold: Hold, trip: TripState, now: datetime) -> Plan:
            return plan_adjust(hold, amount, trip_open=trip.status is TripStatus.OPEN)
        return self._operate(principal, trip_id, HoldOperation.ADJUST, amount, idempotency_key, planner)

    def refund(self, principal: Principal, trip_id: str, *, amount: Money | None,
               idempotency_key: str | None) -> HoldAnswer:
        """Give back part or all of the capture, within 30 days of it."""
        return self._operate(principal, trip_id, HoldOperation.REFUND, amount, idempotency_key,
                             lambda hold, trip, now: plan_refund(hold, amount, at=now))

    def release_unsettled(self, trip_id: str) -> bool:
        """The platform's release of a hold nobody settled (the release sweep); True when this call released it."""
        key = f"release:{trip_id}"
        for _ in range(_ATTEMPTS):
            with self._uow() as uow:
                trip = uow.trips.get_state(trip_id)
                stored = _stored(uow, trip) if trip is not None else None
                intent = uow.holds.get_intent(PLATFORM_SCOPE, key)
            if trip is None or stored is None:
                return False
            if intent is not None:
                # A sweeper's release left pending: another sweeper finishes it once its lease is out.
                resumed = self._resume(intent) if intent.pending else None
                return resumed is not None and resumed.refusal is None
            if stored.pending is not None:
                if self._resume(stored.pending) is None:
                    return False
                continue
            plan = plan_release(stored.hold)
            if plan is None:
                return False
            intent = self._intent(trip_id, PLATFORM_SCOPE, key, _fingerprint(HoldOperation.RELEASE, trip_id, None),
                                  plan)
            if self._save(intent, stored):
                done = self._finish(intent)
                return done.refusal is None
        return False

    def _operate(self, principal: Principal, trip_id: str, operation: HoldOperation, amount: Money | None,
                 idempotency_key: str | None, planner: Callable[[Hold, TripState, datetime], Plan]) -> HoldAnswer:
        key = _check_key(idempotency_key)
        scope = _scope(principal)
        for _ in range(_ATTEMPTS):
            now = self._clock.now()
            with self._uow() as uow:
                trip = _trip_of(uow, principal, trip_id)
                stored = _stored(uow, trip)
                intent = uow.holds.get_intent(scope, key)
            if stored is None:
                raise NotFound(f"trip {trip_id} has no pre-authorization")
            if operation is not HoldOperation.CANCEL:
                _valid(lambda currency=stored.hold.currency: check_amount(amount, currency))
            request_hash = _fingerprint(operation, trip_id, amount)
            if intent is not None:
                if intent.request_hash != request_hash:
                    raise Conflict("Idempotency-Key: this key was already used for another request",
                                   fields=["Idempotency-Key"])
                if not intent.pending:
                    return _answer(_replayed(intent))
                # The key's own caller may finish its pending intent at once: it is the one retrying.
                return _answer(self._finish(intent))
            if stored.pending is not None:
                if stored.pending.lease_until > now or self._resume(stored.pending) is None:
                    raise _conflict(HoldConflict(HoldRefusal.IN_PROGRESS))
                continue
            try:
                plan = planner(stored.hold, trip, now)
            except HoldError as exc:
                raise _service_error(exc) from None
            intent = self._intent(trip_id, scope, key, request_hash, plan)
            if self._save(intent, stored):
                return _answer(self._finish(intent))
        raise _conflict(HoldConflict(HoldRefusal.IN_PROGRESS))

    def _intent(self, trip_id: str, scope: str, key: str, request_hash: str, plan: Plan) -> HoldIntent:
        now = self._clock.now()
        return HoldIntent(operation_id=uuid.uuid4().hex, trip_id=trip_id, scope=scope, idempotency_key=key,
                          request_hash=request_hash, plan=plan, processor_key=processor_key(trip_id, scope, key),
                          created_at=now, lease_until=now + self._lease)

    def _save(self, intent: HoldIntent, stored: StoredHold) -> bool:
        try:
            with self._uow(write=True) as uow:
                saved = uow.holds.save_intent(intent, hold=stored.hold, expected_version=stored.version)
                if saved:
                    uow.commit()
        except StorageError as exc:
            raise Unavailable("the operation could not be recorded; nothing was charged") from exc
        return saved

    def _resume(self, intent: HoldIntent) -> HoldIntent | None:
        """Finish another caller's intent whose lease ran out; None when someone else holds it."""
        now = self._clock.now()
        try:
            with self._uow(write=True) as uow:
                claimed = uow.holds.claim_intent(intent.operation_id, now=now, lease_until=now + self._lease)
                if claimed:
                    uow.commit()
        except StorageError as exc:
            raise Unavailable("the pre-authorization could not be read back; try again") from exc
        if not claimed:
            return None
        log.info("hold_intent_resumed", trip_id=intent.trip_id, operation=intent.plan.operation.value)
        return self._finish(intent)

    def _finish(self, intent: HoldIntent) -> HoldIntent:
        """Carry out a pending intent with its own processor keys and store the result; the completed intent."""
        with self._uow() as uow:
            stored = uow.holds.get(intent.trip_id)
            trip = uow.trips.get_state(intent.trip_id)
        if stored is None or trip is None or stored.pending is None \
                or stored.pending.operation_id != intent.operation_id:
            return self._completed(intent)
        transition = self._execute(stored.hold, intent, trip)
        now = self._clock.now()
        answer = HoldAnswer(intent.trip_id, transition.hold.summary(), transition.outcome, transition.declined)
        try:
            with self._uow(write=True) as uow:
                done = uow.holds.complete_intent(intent.operation_id, hold=transition.hold, answer=answer,
                                                 refusal=transition.refusal, at=now)
                if done and transition.outcome is not None:
                    # The same write as POST /v1/feedback/payment-status: one balance, two ways to feed it.
                    uow.trips.report_payment(intent.trip_id, total=transition.outcome.total.amount,
                                             settled=transition.outcome.settled.amount, status_time=now, at=now)
                if done:
                    self._events.hold_updated(uow, trip_id=intent.trip_id, store_id=trip.store_id,
                                              hold=answer.preauthorization)
                    uow.commit()
        except StorageError as exc:
            log.error("hold_result_not_recorded", trip_id=intent.trip_id, operation=intent.plan.operation.value)
            raise Unavailable("the processor answered but the result could not be recorded; "
                              "retry with the same Idempotency-Key") from exc
        if not done:
            return self._completed(intent)
        log.info("hold_operation", trip_id=intent.trip_id, operation=intent.plan.operation.value,
                 status=transition.hold.status.value, declined=transition.declined and transition.declined.value)
        return replace(intent, answer=answer, refusal=transition.refusal, completed_at=now)

    def _completed(self, intent: HoldIntent) -> HoldIntent:
        """The intent as another worker completed it."""
        with self._uow() as uow:
            done = uow.holds.get_intent(intent.scope, intent.idempotency_key)
        if done is None or done.pending:
            raise _conflict(HoldConflict(HoldRefusal.IN_PROGRESS))
        return _replayed(done)

    def _execute(self, hold: Hold, intent: HoldIntent, trip: TripState) -> Transition:
        """Ask the processor what the plan says, each step under its own key derived from the intent's."""
        plan, key, pid = intent.plan, intent.processor_key, hold.preauth_id
        step: ProcessorStep | None = None
        raised: bool | None = None
        at = self._clock.now
        try:
            if plan.raise_to is not None:
                step = ProcessorStep.INCREMENT
                raised = self._processor.increment(preauth_id=pid, new_amount=plan.raise_to,
                                                   idempotency_key=f"{key}:increment").approved
            if plan.operation is HoldOperation.CAPTURE:
                step = ProcessorStep.CAPTURE
                result = self._processor.capture(preauth_id=pid, amount=capture_amount(hold, plan, raised=raised),
                                                 idempotency_key=f"{key}:capture")
                return apply_capture(hold, plan, raised=raised, collected=result.captured if result.approved else None,
                                     at=at())
            if plan.operation is HoldOperation.ADJUST:
                return apply_adjust(hold, plan, raised=raised, at=at())
            if plan.operation is HoldOperation.REFUND:
                assert plan.amount is not None
                step = ProcessorStep.REFUND
                refund = self._processor.refund(preauth_id=pid, amount=plan.amount, idempotency_key=f"{key}:refund")
                return apply_refund(hold, plan, refunded=refund.refunded, at=at(), current=_current(trip))
            if plan.release:
                step = ProcessorStep.RELEASE
                self._release_at_processor(pid, f"{key}:release", intent)
            return (apply_cancel if plan.operation is HoldOperation.CANCEL else apply_release)(hold, plan, at=at())
        except ProcessorUnavailable as exc:
            log.warning("processor_unavailable", trip_id=intent.trip_id, step=step and step.value)
            raise Unavailable("the payment processor did not answer; retry with the same Idempotency-Key") from exc
        except ProcessorConfigError as exc:
            log.error("processor_config_error", trip_id=intent.trip_id, error=str(exc))
            raise Unavailable("the payment processor refused the platform's settings; an operator must act") from exc
        except ProcessorError as exc:
            # The processor answered no: nothing moved at this step, so the intent is finished as it stands.
            assert step is not None
            log.warning("processor_refused", trip_id=intent.trip_id, step=step.value, error=str(exc))
            return apply_refused(hold, plan, step=step, raised=raised, at=at(), refusal=str(exc))

    def _release_at_processor(self, preauth_id: str, key: str, intent: HoldIntent) -> None:
        try:
            self._processor.release(preauth_id=preauth_id, idempotency_key=key)
        except UnknownHold:
            # The processor holds nothing under this id (expired, or never kept): what a release asks for.
            log.warning("release_of_unknown_hold", trip_id=intent.trip_id)


def processor_key(trip_id: str, scope: str, idempotency_key: str) -> str:
    """The processor idempotency key of an operation: derived from the trip and the caller's key."""
    digest = hashlib.sha256(f"{trip_id}\x1f{scope}\x1f{idempotency_key}".encode()).hexdigest()
    return f"eg_{digest[:40]}"


def _fingerprint(operation: HoldOperation, trip_id: str, amount: Money | None) -> str:
    shown = "-" if amount is None else f"{amount.amount.normalize():f} {amount.currency}"
    return hashlib.sha256(f"{operation.value}\x1f{trip_id}\x1f{shown}".encode()).hexdigest()


def _check_key(idempotency_key: str | None) -> str:
    if idempotency_key is None or not idempotency_key.strip():
        raise InvalidRequest("Idempotency-Key: the header is required", fields=["Idempotency-Key"])
    if len(idempotency_key) > MAX_KEY_LENGTH or not idempotency_key.isprintable() or not idempotency_key.isascii():
        raise InvalidRequest(f"Idempotency-Key: at most {MAX_KEY_LENGTH} printable ASCII characters",
                             fields=["Idempotency-Key"])
    return idempotency_key


def _scope(principal: Principal) -> str:
    """Whose keys these are: keys of different callers never meet."""
    return "operator" if principal.is_operator else f"retailer:{principal.retailer_id}"


def _trip_of(uow: PaymentsUnitOfWork, principal: Principal, trip_id: str) -> TripState:
    """The trip, for its retailer or the operator; another retailer's trip is not found."""
    if principal.kind not in (KeyKind.OPERATOR, KeyKind.RETAILER):
        raise Forbidden("only the trip's retailer or the operator may settle a trip")
    trip = uow.trips.get_state(trip_id)
    if trip is None or not principal.may_manage(trip.retailer_id):
        raise NotFound(f"trip {trip_id} not found")
    return trip


def _opened(trip: TripState) -> Hold | None:
    if trip.preauth_id is None or trip.authorized_amount is None:
        return None
    return Hold.opened(trip.preauth_id, Money(trip.authorized_amount, trip.currency))


def _stored(uow: PaymentsUnitOfWork, trip: TripState) -> StoredHold | None:
    """The stored hold, or the hold the trip opened with when nothing has touched it yet (version 0)."""
    stored = uow.holds.get(trip.trip_id)
    if stored is not None:
        return stored
    opened = _opened(trip)
    return StoredHold(trip.trip_id, opened, version=0) if opened is not None else None


def _current(trip: TripState) -> PaymentOutcome | None:
    if trip.total_amount is None or trip.settled_amount is None:
        return None
    return PaymentOutcome(Money(Decimal(trip.total_amount), trip.currency),
                          Money(Decimal(trip.settled_amount), trip.currency))


def _answer(intent: HoldIntent) -> HoldAnswer:
    """The completed intent's answer; a refusal by the processor is replayed as the same conflict."""
    assert intent.answer is not None
    if intent.refusal is not None:
        raise PreauthorizationConflict(HoldRefusal.PROCESSOR_REFUSED.value,
                                       f"{HoldRefusal.PROCESSOR_REFUSED.message} {intent.refusal}")
    return intent.answer


def _replayed(intent: HoldIntent) -> HoldIntent:
    assert intent.answer is not None
    return replace(intent, answer=replace(intent.answer, replayed=True))


def _valid(check: Callable[[], object]) -> None:
    try:
        check()
    except HoldError as exc:
        raise _service_error(exc) from None


def _service_error(exc: HoldError) -> InvalidRequest | PreauthorizationConflict:
    if isinstance(exc, HoldInvalid):
        return InvalidRequest(exc.message, fields=[exc.field])
    return PreauthorizationConflict(exc.reason, exc.message)


def _conflict(exc: HoldConflict) -> PreauthorizationConflict:
    return PreauthorizationConflict(exc.reason, exc.message)
