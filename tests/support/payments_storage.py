"""The payments storage ports on each backend (memory, SQLite, PostgreSQL), seeded the same way.

The SQL backends run on the engine of the contract tests' ``engine`` fixture (tests/contracts).

``PaymentsBackend.uow`` is the factory under test; ``another_process()`` gives a second factory
over the same data, as another worker process would have it (its own engine and write lock).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, insert, select, update

from entrygate.adapters.db import tables as t
from entrygate.adapters.db.engine import make_engine
from entrygate.adapters.db.payments import SqlPaymentsUnitOfWorkFactory
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.adapters.memory.payments import MemoryPayments
from entrygate.domain.channels import TripStatus
from entrygate.domain.holds import Hold, HoldOperation, Plan
from entrygate.domain.money import Money
from entrygate.domain.trips import TripPolicy
from entrygate.services.ports.payments import HoldIntent, PaymentsUnitOfWorkFactory, TripState

NOW = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)


@dataclass
class PaymentsBackend:
    name: str
    uow: PaymentsUnitOfWorkFactory
    memory: MemoryPayments | None = None
    engines: list[Engine] = field(default_factory=list)
    stores: set[str] = field(default_factory=set)

    def store(self, store_id: str = "store-1", *, retailer_id: str = "ret-1", max_trip_minutes: int = 180,
              preauth_release_hours: int = 24) -> str:
        """A store of the retailer with its two trip clocks."""
        policy = TripPolicy(store_id, max_trip_minutes, preauth_release_hours)
        if self.memory is not None:
            self.memory.set_policy(policy)
        else:
            config = {"maxTripMinutes": max_trip_minutes, "preauthReleaseHours": preauth_release_hours}
            with self.engines[0].begin() as conn:
                if conn.execute(select(t.retailers.c.retailer_id)
                                .where(t.retailers.c.retailer_id == retailer_id)).first() is None:
                    conn.execute(insert(t.retailers).values(retailer_id=retailer_id, name="R", created_at=NOW))
                if store_id in self.stores:
                    conn.execute(update(t.stores).where(t.stores.c.store_id == store_id).values(config=config))
                else:
                    conn.execute(insert(t.stores).values(store_id=store_id, retailer_id=retailer_id, name="S",
                                                         config=config, created_at=NOW, updated_at=NOW))
        self.stores.add(store_id)
        return store_id

    def trip(self, state: TripState) -> TripState:
        if state.store_id not in self.stores:
            self.store(state.store_id, retailer_id=state.retailer_id)
        if self.memory is not None:
            self.memory.add_trip(state)
            return state
        with self.engines[0].begin() as conn:
            conn.execute(insert(t.shopping_trips).values(
                trip_id=state.trip_id, store_id=state.store_id, entry_gate_id="lane-1", channel="CREDIT_CARD",
                visitor_id="v-" + state.trip_id, party_size=1, status=state.status.value, entered_at=state.entered_at,
                exited_at=state.closed_at, closed_by=state.closed_by.value if state.closed_by else None,
                currency=state.currency, preauth_id=state.preauth_id, authorized_amount=state.authorized_amount,
                total_amount=state.total_amount, settled_amount=state.settled_amount))
        return state

    def another_process(self) -> PaymentsUnitOfWorkFactory:
        if self.memory is not None:
            return self.memory
        engine = make_engine(self.engines[0].url.render_as_string(hide_password=False), pool_size=4)
        self.engines.append(engine)
        return SqlPaymentsUnitOfWorkFactory(SqlUnitOfWorkFactory(engine))

    def close(self) -> None:
        """Let go of the engines ``another_process`` made; the first one is the caller's."""
        for engine in self.engines[1:]:
            engine.dispose()


def open_backend(engine: Engine | None) -> PaymentsBackend:
    """The payments ports in memory (``engine`` None) or on the database behind ``engine``, assumed empty."""
    if engine is None:
        memory = MemoryPayments()
        return PaymentsBackend("memory", memory, memory=memory)
    return PaymentsBackend(engine.dialect.name, SqlPaymentsUnitOfWorkFactory(SqlUnitOfWorkFactory(engine)),
                           engines=[engine])


def usd(value: Any) -> Money:
    return Money(Decimal(str(value)), "USD")


def trip_state(trip_id: str | None = None, *, store_id: str = "store-1", retailer_id: str = "ret-1",
               status: TripStatus = TripStatus.OPEN, entered_at: datetime = NOW, closed_at: datetime | None = None,
               preauthorized: bool = True, **over: Any) -> TripState:
    trip_id = trip_id or "trip_" + uuid.uuid4().hex[:12]
    return TripState(trip_id=trip_id, store_id=store_id, retailer_id=retailer_id, status=status, currency="USD",
                     entered_at=entered_at, preauth_id="pa_" + trip_id if preauthorized else None,
                     authorized_amount=Decimal(25) if preauthorized else None, closed_at=closed_at, **over)


def opened(trip: TripState) -> Hold:
    assert trip.preauth_id is not None
    return Hold.opened(trip.preauth_id, usd(25))


def intent(trip_id: str, *, key: str | None = None, scope: str = "retailer:ret-1", lease_until: datetime = NOW,
           plan: Plan | None = None) -> HoldIntent:
    key = key or uuid.uuid4().hex
    return HoldIntent(operation_id=uuid.uuid4().hex, trip_id=trip_id, scope=scope, idempotency_key=key,
                      request_hash="h-" + key, plan=plan or Plan(HoldOperation.CAPTURE, usd("18.40")),
                      processor_key="eg_" + key, created_at=NOW, lease_until=lease_until)
