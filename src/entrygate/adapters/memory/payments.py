"""The payments storage ports in memory, with the conditional writes a database gives.

A writing unit of work holds the store's lock from start to end, as SQLite's write lock does, and
works on a copy that replaces the data on commit; a reading one works on a copy taken at its
start. So two workers racing on one trip see what they would see on a database: the loser's
conditional write finds the winner's and changes nothing.

The denied decisions whose holds the orphan sweep releases live in the gate's ``MemoryStore``
(given as ``gate``); which of those holds are released is kept here, as payments data.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from entrygate.adapters.memory.events import MemoryEventOutbox
from entrygate.adapters.memory.storage import MemoryStore
from entrygate.domain.channels import TripStatus
from entrygate.domain.holds import Hold, HoldStatus
from entrygate.domain.records import DecisionRecord
from entrygate.domain.trips import ClosedBy, TripPolicy
from entrygate.services.ports.events import NewEvent
from entrygate.services.ports.payments import HoldAnswer, HoldIntent, OrphanHold, StoredHold, TripState
from entrygate.services.ports.storage import StorageError


@dataclass(frozen=True, slots=True)
class _HoldRow:
    hold: Hold
    version: int
    pending_id: str | None


@dataclass
class _Data:
    trips: dict[str, TripState] = field(default_factory=dict)
    holds: dict[str, _HoldRow] = field(default_factory=dict)
    intents: dict[str, HoldIntent] = field(default_factory=dict)        # by operation id
    intent_keys: dict[tuple[str, str], str] = field(default_factory=dict)  # (scope, key) -> operation id
    policies: dict[str, TripPolicy] = field(default_factory=dict)
    orphans_released: dict[tuple[str, str], datetime] = field(default_factory=dict)  # (gate_pk, event_id) -> at
    events: dict[str, NewEvent] = field(default_factory=dict)  # the outbox, by event id

    def copy(self) -> _Data:
        return _Data(*(dict(getattr(self, name)) for name in self.__dataclass_fields__))


class MemoryPayments:
    """A ``PaymentsUnitOfWorkFactory`` in memory; ``add_trip`` and ``set_policy`` seed it."""

    def __init__(self, gate: MemoryStore | None = None) -> None:
        self.gate = gate  # the gate's decisions, for the denied taps' holds; None: there are none
        self.data = _Data()
        self.lock = threading.Lock()
        self.fail_completions = 0  # tests: this many ``complete_intent`` calls fail, as a crash would

    def __call__(self, *, write: bool = False) -> MemoryPaymentsUnitOfWork:
        return MemoryPaymentsUnitOfWork(self, write=write)

    def add_trip(self, trip: TripState) -> None:
        with self.lock:
            self.data.trips[trip.trip_id] = trip

    def set_policy(self, policy: TripPolicy) -> None:
        with self.lock:
            self.data.policies[policy.store_id] = policy


class _Trips:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def get_state(self, trip_id: str) -> TripState | None:
        return self.d.trips.get(trip_id)

    def close(self, trip_id: str, *, at: datetime, closed_by: ClosedBy, gate_id: str | None = None) -> bool:
        trip = self.d.trips.get(trip_id)
        if trip is None or trip.status is not TripStatus.OPEN:
            return False
        self.d.trips[trip_id] = replace(trip, status=TripStatus.CLOSED, closed_at=at, closed_by=closed_by)
        return True

    def list_overdue(self, store_id: str, *, entered_before: datetime, limit: int) -> list[str]:
        due = [t for t in self.d.trips.values()
               if t.store_id == store_id and t.status is TripStatus.OPEN and t.entered_at <= entered_before]
        return [t.trip_id for t in sorted(due, key=lambda t: (t.entered_at, t.trip_id))[:limit]]

    def report_payment(self, trip_id: str, *, total: Decimal, settled: Decimal, status_time: datetime,
                       at: datetime) -> None:
        self.d.trips[trip_id] = replace(self.d.trips[trip_id], total_amount=total, settled_amount=settled)


class _Holds:
    def __init__(self, d: _Data, store: MemoryPayments) -> None:
        self.d = d
        self.store = store

    def get(self, trip_id: str) -> StoredHold | None:
        row = self.d.holds.get(trip_id)
        if row is None:
            return None
        pending = self.d.intents.get(row.pending_id) if row.pending_id else None
        return StoredHold(trip_id, row.hold, row.version, pending)

    def get_intent(self, scope: str, idempotency_key: str) -> HoldIntent | None:
        operation_id = self.d.intent_keys.get((scope, idempotency_key))
        return self.d.intents.get(operation_id) if operation_id else None

    def save_intent(self, intent: HoldIntent, *, hold: Hold, expected_version: int) -> bool:
        if (intent.scope, intent.idempotency_key) in self.d.intent_keys:
            return False
        row = self.d.holds.get(intent.trip_id)
        if row is None:
            if expected_version != 0:
                return False
            row = _HoldRow(hold, 0, None)
        if row.version != expected_version or row.pending_id is not None:
            return False
        self.d.holds[intent.trip_id] = replace(row, pending_id=intent.operation_id)
        self.d.intents[intent.operation_id] = intent
        self.d.intent_keys[(intent.scope, intent.idempotency_key)] = intent.operation_id
        return True

    def claim_intent(self, operation_id: str, *, now: datetime, lease_until: datetime) -> bool:
        intent = self.d.intents.get(operation_id)
        if intent is None or not intent.pending or intent.lease_until > now:
            return False
        self.d.intents[operation_id] = replace(intent, lease_until=lease_until)
        return True

    def complete_intent(self, operation_id: str, *, hold: Hold, answer: HoldAnswer, refusal: str | None,
                        at: datetime) -> bool:
        if self.store.fail_completions > 0:
            self.store.fail_completions -= 1
            raise StorageError("simulated crash after the processor answered")
        intent = self.d.intents.get(operation_id)
        row = self.d.holds.get(intent.trip_id) if intent else None
        if intent is None or row is None or row.pending_id != operation_id:
            return False
        self.d.holds[intent.trip_id] = _HoldRow(hold, row.version + 1, None)
        self.d.intents[operation_id] = replace(intent, answer=answer, refusal=refusal, completed_at=at)
        return True

    def list_to_release(self, store_id: str, *, closed_before: datetime, now: datetime, limit: int,
                        after: str | None = None) -> list[str]:
        due = []
        for trip in self.d.trips.values():
            if trip.store_id != store_id or trip.status is not TripStatus.CLOSED or trip.preauth_id is None \
                    or trip.closed_at is None or trip.closed_at > closed_before:
                continue
            if after is not None and trip.trip_id <= after:
                continue
            row = self.d.holds.get(trip.trip_id)
            if row is not None and row.hold.status not in (HoldStatus.HELD, HoldStatus.FAILED):
                continue
            pending = self.d.intents.get(row.pending_id) if row and row.pending_id else None
            if pending is not None and pending.lease_until > now:
                continue
            due.append(trip)
        return sorted(t.trip_id for t in due)[:limit]

    def list_orphans(self, *, decided_before: datetime, limit: int,
                     after: OrphanHold | None = None) -> list[OrphanHold]:
        found = [OrphanHold(r.gate_pk, r.event_id, r.store_id, r.preauth_id, r.decided_at)
                 for r in self._decisions()
                 if r.outcome == "DENY" and r.preauth_id is not None and r.decided_at <= decided_before
                 and (r.gate_pk, r.event_id) not in self.d.orphans_released]
        order = lambda o: (o.decided_at, o.gate_pk, o.event_id)  # noqa: E731
        return sorted((o for o in found if after is None or order(o) > order(after)), key=order)[:limit]

    def mark_orphan_released(self, gate_pk: str, event_id: str, *, at: datetime) -> bool:
        key = (gate_pk, event_id)
        known = any((r.gate_pk, r.event_id) == key and r.preauth_id is not None for r in self._decisions())
        if not known or key in self.d.orphans_released:
            return False
        self.d.orphans_released[key] = at
        return True

    def _decisions(self) -> list[DecisionRecord]:
        gate = self.store.gate
        if gate is None:
            return []
        with gate.lock:
            return list(gate.data.decisions.values())


class _Policies:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def list(self) -> list[TripPolicy]:
        return sorted(self.d.policies.values(), key=lambda p: p.store_id)


class MemoryPaymentsUnitOfWork:
    def __init__(self, store: MemoryPayments, *, write: bool) -> None:
        self._store = store
        self._write = write

    def __enter__(self) -> MemoryPaymentsUnitOfWork:
        if self._write:
            self._store.lock.acquire()
            self._data = self._store.data.copy()
        else:
            with self._store.lock:
                self._data = self._store.data.copy()
        self.trips = _Trips(self._data)
        self.holds = _Holds(self._data, self._store)
        self.trip_policies = _Policies(self._data)
        self.events = MemoryEventOutbox(self._data.events)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._write:
            self._store.lock.release()

    def commit(self) -> None:
        if not self._write:
            raise StorageError("a reading unit of work cannot commit")
        self._store.data = self._data.copy()
