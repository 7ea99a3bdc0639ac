"""The storage the payments use cases need, as ports; ``adapters/memory/payments.py`` holds them in memory.

The processor is ``services.ports.processor.PaymentProcessor``. Storage is one unit of work with
three parts: the trips it reads and closes, the trips' holds with the intents written before
each processor call (and the holds denied taps obtained), and the stores' trip clocks.

Every write here that another process could race is conditional and says whether it changed
anything, so two workers on one database never close a trip twice or act on a hold twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from entrygate.domain.channels import TripStatus
from entrygate.domain.holds import Hold, HoldSummary, PaymentOutcome, Plan, ProcessorStep
from entrygate.domain.trips import ClosedBy, TripPolicy
from entrygate.services.ports.events import EventOutbox


@dataclass(frozen=True, slots=True)
class TripState:
    """What the payments use cases read of a trip; ``retailer_id`` is the owner of its store."""

    trip_id: str
    store_id: str
    retailer_id: str
    status: TripStatus
    currency: str
    entered_at: datetime
    preauth_id: str | None = None
    authorized_amount: Decimal | None = None
    closed_at: datetime | None = None
    closed_by: ClosedBy | None = None
    total_amount: Decimal | None = None
    settled_amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class HoldAnswer:
    """The answer to an operation on a hold: the ``preauthorization`` as it now stands."""

    trip_id: str
    preauthorization: HoldSummary
    outcome: PaymentOutcome | None       # what the trip's payment now comes to; None: unchanged
    declined: ProcessorStep | None = None  # the step the processor declined (a raise, a capture)
    replayed: bool = False               # True when this is the stored answer to a repeated key


@dataclass(frozen=True, slots=True)
class HoldIntent:
    """An operation on a hold, written down before the processor is called and completed after.

    ``scope`` and ``idempotency_key`` (unique together) are the caller's; ``processor_key`` is
    derived from the trip, the scope and the key, and is what every attempt sends the processor,
    so a retry after a crash can never move money twice. While ``answer`` is ``None`` the intent
    is pending: only its caller's key, or anyone once ``lease_until`` has passed, may finish it.
    """

    operation_id: str
    trip_id: str
    scope: str
    idempotency_key: str
    request_hash: str
    plan: Plan
    processor_key: str
    created_at: datetime
    lease_until: datetime
    answer: HoldAnswer | None = None
    refusal: str | None = None  # the processor's refusal, replayed as a conflict
    completed_at: datetime | None = None

    @property
    def pending(self) -> bool:
        return self.answer is None


@dataclass(frozen=True, slots=True)
class StoredHold:
    """A trip's hold as stored, with the version that conditional writes check and its pending intent."""

    trip_id: str
    hold: Hold
    version: int
    pending: HoldIntent | None = None


@dataclass(frozen=True, slots=True)
class OrphanHold:
    """A hold a denied tap obtained (it lost the HARD anti-passback race) that is not released yet."""

    gate_pk: str
    event_id: str
    store_id: str
    preauth_id: str
    decided_at: datetime

    @property
    def release_key(self) -> str:
        return orphan_release_key(self.gate_pk, self.event_id)


def orphan_release_key(gate_pk: str, event_id: str) -> str:
    """The processor idempotency key of a denied tap's release: the gate's and the sweeper's alike."""
    return f"{gate_pk}:{event_id}:release"


class TripLedger(Protocol):
    def get_state(self, trip_id: str) -> TripState | None: ...

    def close(self, trip_id: str, *, at: datetime, closed_by: ClosedBy, gate_id: str | None = None) -> bool:
        """Close the trip if it is open (a conditional write); True when this call closed it."""
        ...

    def list_overdue(self, store_id: str, *, entered_before: datetime, limit: int) -> list[str]:
        """Open trips of the store entered at or before ``entered_before``, oldest first (then by id)."""
        ...

    def report_payment(self, trip_id: str, *, total: Decimal, settled: Decimal, status_time: datetime,
                       at: datetime) -> None:
        """Record the trip's payment exactly as ``POST /v1/feedback/payment-status`` does."""
        ...


class HoldRepository(Protocol):
    def get(self, trip_id: str) -> StoredHold | None:
        """The trip's stored hold with its pending intent; None when no operation has touched it yet."""
        ...

    def get_intent(self, scope: str, idempotency_key: str) -> HoldIntent | None: ...

    def save_intent(self, intent: HoldIntent, *, hold: Hold, expected_version: int) -> bool:
        """Store a pending intent and mark the hold busy with it; False, writing nothing, when the hold
        moved past ``expected_version``, another intent is pending on it, or the key is taken.

        ``expected_version`` 0 means the hold is not stored yet: it is stored now as ``hold``.
        """
        ...

    def claim_intent(self, operation_id: str, *, now: datetime, lease_until: datetime) -> bool:
        """Take over a pending intent whose lease has run out; False when it is finished or still leased."""
        ...

    def complete_intent(self, operation_id: str, *, hold: Hold, answer: HoldAnswer, refusal: str | None,
                        at: datetime) -> bool:
        """Store the hold after the intent and its answer, and free the hold (version + 1);
        False, writing nothing, when the intent is no longer the hold's pending one."""
        ...

    def list_to_release(self, store_id: str, *, closed_before: datetime, now: datetime, limit: int,
                        after: str | None = None) -> list[str]:
        """Trips of the store closed at or before ``closed_before`` whose hold is still HELD or FAILED
        (the processor keeps a hold whose capture it declined; a trip with a preauth id and no
        stored hold counts as HELD), with no intent pending under a lease alive at ``now``;
        by trip id, from the first id above ``after``, so a caller can page past holds it could
        not release."""
        ...

    def list_orphans(self, *, decided_before: datetime, limit: int,
                     after: OrphanHold | None = None) -> list[OrphanHold]:
        """Denied decisions decided at or before ``decided_before`` whose hold is not released yet, by
        (decided_at, gate_pk, event_id), from the first one past ``after``."""
        ...

    def mark_orphan_released(self, gate_pk: str, event_id: str, *, at: datetime) -> bool:
        """Note that the decision's hold is released (a conditional write); True when this call noted it."""
        ...


class TripPolicyReader(Protocol):
    def list(self) -> list[TripPolicy]:
        """Every store's ``maxTripMinutes`` and ``preauthReleaseHours``."""
        ...


class PaymentsUnitOfWork(Protocol):
    """A transaction: commits only on ``commit()``, rolls back on leaving the block otherwise."""

    trips: TripLedger
    holds: HoldRepository
    trip_policies: TripPolicyReader
    events: EventOutbox  # the outbox: events commit with the change they report (DESIGN 13)

    def __enter__(self) -> PaymentsUnitOfWork: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...


class PaymentsUnitOfWorkFactory(Protocol):
    def __call__(self, *, write: bool = False) -> PaymentsUnitOfWork: ...
