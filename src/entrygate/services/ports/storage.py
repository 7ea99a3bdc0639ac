"""Storage ports: the unit of work and its repositories. SQL in ``adapters/db``, in memory in ``adapters/memory``."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Protocol

from entrygate.domain.cards import CardCredential
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
from entrygate.domain.store import StoreConfig
from entrygate.risk.features import InstrumentHistory
from entrygate.services.ports.audit import AuditRepository
from entrygate.services.ports.events import EventOutbox
from entrygate.services.ports.risk_ops import ListRepository, ReviewRepository, RuleRepository
from entrygate.services.ports.users import UserRepository


class StorageError(Exception):
    """The database could not do what was asked; the caller must not pretend it did."""


class DuplicateEvent(StorageError):
    """A decision or exit for this gate and event id is already stored."""


class AlreadyExists(StorageError):
    """A record with this identifier exists already."""


class TripAlreadyOpen(StorageError):
    """The visitor already has an open trip at this store, and the store's HARD anti-passback allows one."""


class KeyRepository(Protocol):
    def add_operator(self, record: ApiKeyRecord, *, at: datetime) -> None: ...
    def get_operator(self, key_id: str) -> ApiKeyRecord | None: ...
    def get_retailer_key(self, key_id: str) -> ApiKeyRecord | None: ...
    def get_gate_key(self, key_id: str) -> ApiKeyRecord | None: ...


class RetailerRepository(Protocol):
    def add(self, retailer: Retailer, key: ApiKeyRecord) -> None: ...
    def get(self, retailer_id: str) -> Retailer | None: ...
    def list(self) -> list[Retailer]: ...
    def add_user(self, user: RetailerUser, *, at: datetime) -> None: ...
    def get_user_by_email(self, email: str) -> RetailerUser | None: ...


class StoreRepository(Protocol):
    def add(self, config: StoreConfig, *, at: datetime) -> None: ...
    def get(self, store_id: str, *, for_change: bool = False) -> StoreConfig | None:
        """The store; ``for_change`` (in a write unit of work) also holds off other changes to it until commit."""
        ...

    def update(self, config: StoreConfig, *, at: datetime) -> None: ...
    def list(self, *, retailer_id: str | None = None) -> list[StoreConfig]: ...


class GateRepository(Protocol):
    def add(self, gate: Gate, key: ApiKeyRecord) -> None: ...
    def get(self, gate_pk: str) -> Gate | None: ...
    def find(self, store_id: str, gate_id: str) -> Gate | None: ...
    def exists(self, gate_id: str) -> bool: ...
    def list(self, store_id: str) -> list[Gate]: ...
    def set_enabled(self, gate_pk: str, enabled: bool) -> None: ...


class InstrumentRepository(Protocol):
    def get(self, instrument_id: str) -> PaymentInstrument | None: ...
    def record_seen(self, instrument_id: str, card: CardCredential, *, at: datetime) -> None: ...
    def block(self, instrument_id: str, *, reason: str) -> None: ...


class TripRepository(Protocol):
    def add(self, trip: Trip) -> None:
        """Raises ``TripAlreadyOpen`` when ``trip.passback_key`` is set and an open trip of this store has it."""
        ...

    def get(self, trip_id: str) -> Trip | None: ...
    def find_open(self, *, visitor_id: str, store_id: str) -> Trip | None: ...
    def close(self, trip_id: str, *, at: datetime, gate_id: str) -> bool:
        """Close the trip if it is open, in one conditional write: true when this call closed it."""
        ...

    def list(self, store_id: str, *, status: str | None = None, limit: int = 100) -> list[Trip]: ...
    def report_payment(self, trip_id: str, *, total: Decimal, settled: Decimal, status_time: datetime,
                       at: datetime) -> bool:
        """Record the report unless one with a later status time is stored (one conditional write).

        True when recorded; false when a newer report stands.
        """
        ...

    def outstanding_balance(self, instrument_id: str, *, retailer_id: str) -> dict[str, Decimal]:
        """What the instrument's trips at this retailer's stores left unpaid, by currency (DESIGN 10:
        a debt at one retailer never stops the shopper at another)."""
        ...


class DecisionRepository(Protocol):
    def get_by_event(self, gate_pk: str, event_id: str) -> DecisionRecord | None: ...
    def add(self, record: DecisionRecord) -> None: ...
    def list(self, store_id: str, *, since: datetime | None = None, limit: int = 100) -> list[DecisionRecord]: ...


class ExitRepository(Protocol):
    def get_by_event(self, gate_pk: str, event_id: str) -> ExitRecord | None: ...
    def add(self, record: ExitRecord) -> None: ...


class LabelRepository(Protocol):
    def add(self, *, instrument_id: str, store_id: str, trip_id: str, risk: str, note: str | None,
            at: datetime) -> None: ...
    def counts(self, instrument_id: str) -> dict[str, int]: ...


class HistoryReader(Protocol):
    """An instrument's history as the risk model reads it."""

    def of(self, instrument_id: str, *, now: datetime) -> InstrumentHistory: ...


class UnitOfWork(Protocol):
    """A transaction: commits only on ``commit()``, rolls back on leaving the block otherwise."""

    keys: KeyRepository
    retailers: RetailerRepository
    stores: StoreRepository
    gates: GateRepository
    instruments: InstrumentRepository
    trips: TripRepository
    decisions: DecisionRepository
    exits: ExitRepository
    labels: LabelRepository
    history: HistoryReader
    audit: AuditRepository  # written in the unit of work of the change it records (services/admin/audit.py)
    users: UserRepository
    risk_lists: ListRepository  # DESIGN 14: allow and block lists, store rules, the review queue
    rules: RuleRepository
    reviews: ReviewRepository
    events: EventOutbox  # the outbox: events commit with the change they report (DESIGN 13)

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, write: bool = False) -> UnitOfWork: ...


