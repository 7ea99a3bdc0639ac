"""In-memory implementations of the storage ports, for service tests and simulations.

One ``MemoryStore`` holds the data; each unit of work works on a copy and, on commit, writes
back what it changed, so an uncommitted unit of work leaves nothing behind, as a database
transaction would. Units of work opened with ``write=True`` run one at a time, as SQLite's
writers do, so a write that reads first (close a trip if open, keep the newer payment report)
sees the data as it is. The unique rules of the database hold here too: one decision or exit per
gate and event id, and under HARD anti-passback one open trip per visitor and store.
"""
from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from entrygate.adapters.memory.audit import MemoryAudit
from entrygate.adapters.memory.events import MemoryEventOutbox
from entrygate.adapters.memory.risk_ops import MemoryLists, MemoryReviews, MemoryRules
from entrygate.adapters.memory.users import MemoryUsers
from entrygate.domain.audit import AuditEntry
from entrygate.domain.cards import CardCredential
from entrygate.domain.channels import TripStatus
from entrygate.domain.records import (
    ApiKeyRecord,
    DecisionRecord,
    ExitRecord,
    Gate,
    PaymentInstrument,
    Retailer,
    RetailerUser,
    Trip,
)
from entrygate.domain.risk_ops import ListItem, Review
from entrygate.domain.store import StoreConfig
from entrygate.domain.trips import ClosedBy
from entrygate.services.ports.events import NewEvent
from entrygate.services.ports.risk_ops import StoredRules
from entrygate.services.ports.storage import AlreadyExists, DuplicateEvent, StorageError, TripAlreadyOpen


@dataclass
class _Data:
    operator_keys: dict[str, ApiKeyRecord] = field(default_factory=dict)
    retailer_keys: dict[str, ApiKeyRecord] = field(default_factory=dict)
    gate_keys: dict[str, ApiKeyRecord] = field(default_factory=dict)
    retailers: dict[str, Retailer] = field(default_factory=dict)
    users: dict[str, RetailerUser] = field(default_factory=dict)
    stores: dict[str, StoreConfig] = field(default_factory=dict)
    gates: dict[str, Gate] = field(default_factory=dict)
    instruments: dict[str, PaymentInstrument] = field(default_factory=dict)
    trips: dict[str, Trip] = field(default_factory=dict)
    decisions: dict[tuple[str, str], DecisionRecord] = field(default_factory=dict)
    exits: dict[tuple[str, str], ExitRecord] = field(default_factory=dict)
    labels: dict[str, tuple[str, str]] = field(default_factory=dict)  # label id -> (instrument id, risk)
    audit: dict[int, AuditEntry] = field(default_factory=dict)
    list_items: dict[str, ListItem] = field(default_factory=dict)  # risk operations (DESIGN 14)
    store_rules: dict[str, StoredRules] = field(default_factory=dict)
    reviews: dict[str, Review] = field(default_factory=dict)
    events: dict[str, NewEvent] = field(default_factory=dict)  # the outbox, by event id


class MemoryStore:
    def __init__(self) -> None:
        self.data = _Data()
        self.lock = threading.Lock()  # guards ``data`` while it is copied or written back
        self.write_lock = threading.Lock()  # held by a write unit of work from start to end
        self.fail_writes = False  # set by tests: every commit fails, as a full disk would

    def __call__(self, *, write: bool = False) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self, write=write)


class _Keys:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def add_operator(self, record: ApiKeyRecord, *, at: datetime) -> None:
        self.d.operator_keys[record.key_id] = record

    def get_operator(self, key_id: str) -> ApiKeyRecord | None:
        return self.d.operator_keys.get(key_id)

    def get_retailer_key(self, key_id: str) -> ApiKeyRecord | None:
        return self.d.retailer_keys.get(key_id)

    def get_gate_key(self, key_id: str) -> ApiKeyRecord | None:
        return self.d.gate_keys.get(key_id)


class _Retailers:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def add(self, retailer: Retailer, key: ApiKeyRecord) -> None:
        if retailer.retailer_id in self.d.retailers:
            raise AlreadyExists(retailer.retailer_id)
        self.d.retailers[retailer.retailer_id] = retailer
        self.d.retailer_keys[key.key_id] = key

    def get(self, retailer_id: str) -> Retailer | None:
        return self.d.retailers.get(retailer_id)

    def list(self) -> list[Retailer]:
        return list(self.d.retailers.values())

    def add_user(self, user: RetailerUser, *, at: datetime) -> None:
        if user.email in self.d.users:
            raise AlreadyExists(user.email)
        self.d.users[user.email] = replace(user, created_at=user.created_at or at)

    def get_user_by_email(self, email: str) -> RetailerUser | None:
        return self.d.users.get(email)


class _Stores:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def add(self, config: StoreConfig, *, at: datetime) -> None:
        if config.store_id in self.d.stores:
            raise AlreadyExists(config.store_id)
        self.d.stores[config.store_id] = config

    def get(self, store_id: str, *, for_change: bool = False) -> StoreConfig | None:
        return self.d.stores.get(store_id)  # one write unit of work at a time here: nothing to hold off

    def update(self, config: StoreConfig, *, at: datetime) -> None:
        self.d.stores[config.store_id] = config

    def list(self, *, retailer_id: str | None = None) -> list[StoreConfig]:
        return [s for s in self.d.stores.values() if retailer_id is None or s.retailer_id == retailer_id]


class _Gates:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def add(self, gate: Gate, key: ApiKeyRecord) -> None:
        if self.find(gate.store_id, gate.gate_id):
            raise AlreadyExists(gate.gate_id)
        self.d.gates[gate.gate_pk] = gate
        self.d.gate_keys[key.key_id] = key

    def get(self, gate_pk: str) -> Gate | None:
        return self.d.gates.get(gate_pk)

    def find(self, store_id: str, gate_id: str) -> Gate | None:
        return next((g for g in self.d.gates.values() if g.store_id == store_id and g.gate_id == gate_id), None)

    def exists(self, gate_id: str) -> bool:
        return any(g.gate_id == gate_id for g in self.d.gates.values())

    def list(self, store_id: str) -> list[Gate]:
        return sorted((g for g in self.d.gates.values() if g.store_id == store_id), key=lambda g: g.gate_id)

    def set_enabled(self, gate_pk: str, enabled: bool) -> None:
        self.d.gates[gate_pk] = replace(self.d.gates[gate_pk], enabled=enabled)


class _Instruments:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def get(self, instrument_id: str) -> PaymentInstrument | None:
        return self.d.instruments.get(instrument_id)

    def record_seen(self, instrument_id: str, card: CardCredential, *, at: datetime) -> None:
        old = self.d.instruments.get(instrument_id)
        self.d.instruments[instrument_id] = PaymentInstrument(
            instrument_id, card.brand, card.last4, card.exp_month, card.exp_year, card.funding, card.issuer_country,
            old.blocked if old else False, old.blocked_reason if old else None, old.first_seen_at if old else at, at)

    def block(self, instrument_id: str, *, reason: str) -> None:
        seen = self.d.instruments.get(instrument_id)
        if seen is not None:  # a card never seen has no row to block, as in the database
            self.d.instruments[instrument_id] = replace(seen, blocked=True, blocked_reason=reason)


class _Trips:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def add(self, trip: Trip) -> None:
        if trip.trip_id in self.d.trips:
            raise AlreadyExists(trip.trip_id)
        if _open_with_key(self.d.trips, trip) is not None:
            raise TripAlreadyOpen(f"visitor already inside store {trip.store_id}")
        self.d.trips[trip.trip_id] = trip

    def get(self, trip_id: str) -> Trip | None:
        return self.d.trips.get(trip_id)

    def find_open(self, *, visitor_id: str, store_id: str) -> Trip | None:
        found = [t for t in self.d.trips.values() if t.visitor_id == visitor_id and t.store_id == store_id
                 and t.status is TripStatus.OPEN]
        return max(found, key=lambda t: t.entered_at, default=None)

    def close(self, trip_id: str, *, at: datetime, gate_id: str) -> bool:
        trip = self.d.trips.get(trip_id)
        if trip is None or trip.status is not TripStatus.OPEN:
            return False
        self.d.trips[trip_id] = replace(trip, status=TripStatus.CLOSED, exited_at=at, exit_gate_id=gate_id,
                                        closed_by=ClosedBy.EXIT_GATE)
        return True

    def list(self, store_id: str, *, status: str | None = None, limit: int = 100) -> list[Trip]:
        found = [t for t in self.d.trips.values()
                 if t.store_id == store_id and (status is None or t.status.value == status)]
        return sorted(found, key=lambda t: t.entered_at, reverse=True)[:limit]

    def report_payment(self, trip_id: str, *, total: Decimal, settled: Decimal, status_time: datetime,
                       at: datetime) -> bool:
        trip = self.d.trips.get(trip_id)
        if trip is None or (trip.payment_status_time is not None and trip.payment_status_time > status_time):
            return False
        self.d.trips[trip_id] = replace(trip, total_amount=total, settled_amount=settled,
                                        payment_status_time=status_time)
        return True

    def outstanding_balance(self, instrument_id: str, *, retailer_id: str) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for t in self.d.trips.values():
            store = self.d.stores.get(t.store_id)
            if t.instrument_id == instrument_id and t.unpaid > 0 and store and store.retailer_id == retailer_id:
                out[t.currency] = out.get(t.currency, Decimal(0)) + t.unpaid
        return out


def _open_with_key(trips: dict[str, Trip], trip: Trip) -> Trip | None:
    """Another open trip of this store with this trip's passback key: what the partial unique index forbids."""
    if trip.passback_key is None or trip.status is not TripStatus.OPEN:
        return None
    return next((other for other in trips.values() if other.trip_id != trip.trip_id
                 and other.status is TripStatus.OPEN and other.passback_key == trip.passback_key
                 and other.store_id == trip.store_id), None)


class _Decisions:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def get_by_event(self, gate_pk: str, event_id: str) -> DecisionRecord | None:
        return self.d.decisions.get((gate_pk, event_id))

    def add(self, record: DecisionRecord) -> None:
        key = (record.gate_pk, record.event_id)
        if key in self.d.decisions:
            raise DuplicateEvent(record.event_id)
        self.d.decisions[key] = record

    def list(self, store_id: str, *, since: datetime | None = None, limit: int = 100) -> list[DecisionRecord]:
        # Ties in time go by the order stored, as the database's decision ids order them.
        found = [(r.decided_at, i, r) for i, r in enumerate(self.d.decisions.values())
                 if r.store_id == store_id and (since is None or r.decided_at > since)]
        return [r for _, _, r in sorted(found, key=lambda f: f[:2], reverse=since is None)][:limit]


class _Exits:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def get_by_event(self, gate_pk: str, event_id: str) -> ExitRecord | None:
        return self.d.exits.get((gate_pk, event_id))

    def add(self, record: ExitRecord) -> None:
        key = (record.gate_pk, record.event_id)
        if key in self.d.exits:
            raise DuplicateEvent(record.event_id)
        self.d.exits[key] = record


class _Labels:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def add(self, *, instrument_id: str, store_id: str, trip_id: str, risk: str, note: str | None,
            at: datetime) -> None:
        self.d.labels[uuid.uuid4().hex] = (instrument_id, risk)

    def counts(self, instrument_id: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for inst, risk in self.d.labels.values():
            if inst == instrument_id:
                out[risk] = out.get(risk, 0) + 1
        return out


class _History:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def of(self, instrument_id: str, *, now: datetime):  # noqa: ANN201 - InstrumentHistory
        from datetime import timedelta

        from entrygate.adapters.db.history import DECLINE_CODES
        from entrygate.risk.features import InstrumentHistory

        def declined(r: DecisionRecord) -> bool:
            return any(code in r.reasons for code in DECLINE_CODES)

        mine = [r for r in self.d.decisions.values() if r.instrument_id == instrument_id and not r.policy_denied]
        hour, day = now - timedelta(hours=1), now - timedelta(days=1)
        trips = [t for t in self.d.trips.values() if t.instrument_id == instrument_id]
        labels = [risk for inst, risk in self.d.labels.values() if inst == instrument_id]
        seen = self.d.instruments.get(instrument_id)
        return InstrumentHistory(
            entries_1h=sum(r.decided_at > hour for r in mine), entries_24h=sum(r.decided_at > day for r in mine),
            entries_total=len(mine), distinct_stores_24h=len({r.store_id for r in mine if r.decided_at > day}),
            declines_24h=sum(declined(r) and r.decided_at > day for r in mine),
            declines_total=sum(declined(r) for r in mine), trips_total=len(trips),
            unpaid_trips=sum(t.unpaid > 0 for t in trips), outstanding_balance=float(sum(t.unpaid for t in trips)),
            fraud_labels=labels.count("CustomerFraud"), bad_debt_labels=labels.count("BadDebt"),
            invalid_card_labels=labels.count("InvalidCard"),
            days_since_first_seen=(now - seen.first_seen_at).total_seconds() / 86400 if seen else 0.0)


class MemoryUnitOfWork:
    def __init__(self, store: MemoryStore, *, write: bool = False) -> None:
        self._store = store
        self._write = write

    def __enter__(self) -> MemoryUnitOfWork:
        if self._write:
            self._store.write_lock.acquire()
        self._holding = self._write
        with self._store.lock:
            self._base = {name: dict(getattr(self._store.data, name)) for name in _Data.__dataclass_fields__}
        self._data = _Data(**{name: dict(table) for name, table in self._base.items()})
        d = self._data
        self.keys, self.retailers, self.stores, self.gates = _Keys(d), _Retailers(d), _Stores(d), _Gates(d)
        self.instruments, self.trips, self.decisions, self.exits = _Instruments(d), _Trips(d), _Decisions(d), _Exits(d)
        self.labels = _Labels(d)
        self.history = _History(d)
        self.audit, self.users = MemoryAudit(d.audit), MemoryUsers(d.users)
        self.risk_lists, self.rules, self.reviews = MemoryLists(d.list_items), MemoryRules(d.store_rules), \
            MemoryReviews(d.reviews)
        self.events = MemoryEventOutbox(d.events, d.trips.get)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._holding:
            self._holding = False
            self._store.write_lock.release()

    def commit(self) -> None:
        if self._store.fail_writes:
            raise StorageError("simulated write failure")
        with self._store.lock:
            # Only what this unit of work changed is written back, row by row; the unique rules are
            # checked again against what others committed meanwhile (a read-only unit of work may write).
            changes = {name: {k: v for k, v in getattr(self._data, name).items() if self._base[name].get(k) is not v}
                       for name in _Data.__dataclass_fields__}
            for name in ("decisions", "exits"):
                theirs = getattr(self._store.data, name)
                clash = [k for k in changes[name] if k in theirs and theirs[k] is not self._base[name].get(k)]
                if clash:
                    raise DuplicateEvent(str(clash[0]))
            keyed = [trip for trip in changes["trips"].values() if trip.passback_key is not None]
            merged = {**self._store.data.trips, **changes["trips"]} if keyed else {}
            for trip in keyed:
                if _open_with_key(merged, trip) is not None:
                    raise TripAlreadyOpen(f"visitor already inside store {trip.store_id}")
            for name, changed in changes.items():
                getattr(self._store.data, name).update(changed)
                for gone in self._base[name].keys() - getattr(self._data, name).keys():
                    getattr(self._store.data, name).pop(gone, None)  # removed in this unit of work
        self._base = {name: dict(getattr(self._data, name)) for name in _Data.__dataclass_fields__}
