"""Seeding the storage ports the same way on every backend, for the contract tests (``tests/contracts``).

Everything goes through the ports themselves, so what one test seeds on the in-memory store it
seeds on SQLite and PostgreSQL too; ids are random, so tests share a database without meeting.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from entrygate.domain.cards import CardCredential
from entrygate.domain.channels import GateDirection, TripStatus
from entrygate.domain.records import ApiKeyRecord, DecisionRecord, ExitRecord, Gate, Retailer, RetailerUser, Trip
from entrygate.domain.store import StoreConfig
from entrygate.services.ports.storage import UnitOfWorkFactory
from support.factories import card, store_config

T0 = datetime(2026, 11, 27, 18, 0, 5, tzinfo=UTC)


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


def _key(owner: str) -> ApiKeyRecord:
    return ApiKeyRecord(uuid.uuid4().hex, "h" * 64, owner)


@dataclass(frozen=True)
class Shop:
    """A retailer with one store, an entry gate ``lane-1`` and an exit gate ``exit-1``."""

    retailer_id: str
    store: StoreConfig
    gate: Gate
    exit_gate: Gate

    @property
    def store_id(self) -> str:
        return self.store.store_id


def retailer(uow: UnitOfWorkFactory) -> str:
    retailer_id = new_id("ret")
    with uow(write=True) as u:
        u.retailers.add(Retailer(retailer_id, "R", T0), _key(retailer_id))
        u.commit()
    return retailer_id


def user(uow: UnitOfWorkFactory, retailer_id: str) -> RetailerUser:
    """A console user of the retailer (the sessions table refers to it)."""
    who = RetailerUser(new_id("usr"), retailer_id, f"{uuid.uuid4().hex[:10]}@example.com", "plain:x")
    with uow(write=True) as u:
        u.retailers.add_user(who, at=T0)
        u.commit()
    return who


def shop(uow: UnitOfWorkFactory, *, retailer_id: str | None = None, **store_over: Any) -> Shop:
    retailer_id = retailer_id or retailer(uow)
    config = store_config(retailer_id, store_id=new_id("store"), **store_over)
    gates = [Gate(new_id("gpk"), gate_id, config.store_id, direction, True, T0)
             for gate_id, direction in (("lane-1", GateDirection.ENTRY), ("exit-1", GateDirection.EXIT))]
    with uow(write=True) as u:
        u.stores.add(config, at=T0)
        for gate in gates:
            u.gates.add(gate, _key(gate.gate_pk))
        u.commit()
    return Shop(retailer_id, config, *gates)


def instrument(uow: UnitOfWorkFactory, c: CardCredential | None = None, *, at: datetime = T0) -> str:
    """A payment instrument seen once; its id."""
    instrument_id = new_id("ins")
    with uow(write=True) as u:
        u.instruments.record_seen(instrument_id, c or card(), at=at)
        u.commit()
    return instrument_id


def trip(where: Shop, **over: Any) -> Trip:
    values: dict[str, Any] = dict(
        trip_id=new_id("trip"), store_id=where.store_id, entry_gate_id="lane-1", channel="CREDIT_CARD",
        visitor_id=new_id("v"), instrument_id=None, party_size=1, status=TripStatus.OPEN, entered_at=T0,
        currency="USD", authorized_amount=Decimal("25"))
    values.update(over)
    return Trip(**values)


def add_trips(uow: UnitOfWorkFactory, *trips: Trip) -> None:
    with uow(write=True) as u:
        for t in trips:
            u.trips.add(t)
        u.commit()


def decision(where: Shop, **over: Any) -> DecisionRecord:
    values: dict[str, Any] = dict(
        gate_pk=where.gate.gate_pk, gate_id="lane-1", store_id=where.store_id, event_id=str(uuid.uuid4()),
        request_hash="h", channel="CREDIT_CARD", outcome="OPEN", reasons=[], decided_by="PLATFORM",
        visitor_id="v", visitor_type="SHOPPER", instrument_id=None, trip_id=None, party_size=1, risk_score=None,
        risk_level=None, authorized_amount=Decimal("25"), currency="USD", latency_ms=1.5, event_time=T0,
        decided_at=T0)
    values.update(over)
    return DecisionRecord(**values)


def add_decisions(uow: UnitOfWorkFactory, *records: DecisionRecord) -> None:
    with uow(write=True) as u:
        for r in records:
            u.decisions.add(r)
        u.commit()


def exit_record(where: Shop, **over: Any) -> ExitRecord:
    values: dict[str, Any] = dict(gate_pk=where.exit_gate.gate_pk, event_id=str(uuid.uuid4()), request_hash="h",
                                  trip_id=None, result="NO_OPEN_TRIP", decided_at=T0)
    values.update(over)
    return ExitRecord(**values)


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)
