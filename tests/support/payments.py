"""Factories for the payments use cases: trips with real sandbox holds, on the in-memory ports."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from entrygate.adapters.clock import FixedClock
from entrygate.adapters.memory.payments import MemoryPayments
from entrygate.adapters.memory.processor import ScriptedProcessor
from entrygate.domain.channels import TripStatus
from entrygate.domain.keys import KeyKind
from entrygate.domain.money import Money
from entrygate.domain.trips import TripPolicy
from entrygate.services.auth import Principal
from entrygate.services.payments.closing import TripClosingService
from entrygate.services.payments.holds import HoldService
from entrygate.services.payments.sweeps import TripSweeper
from entrygate.services.ports.payments import TripState

NOW = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
RETAILER = Principal(KeyKind.RETAILER, retailer_id="ret-1")
OTHER_RETAILER = Principal(KeyKind.RETAILER, retailer_id="ret-2")
OPERATOR = Principal(KeyKind.OPERATOR)
STORE = "store-1"


def money(value: str | int, currency: str = "USD") -> Money:
    return Money(Decimal(str(value)), currency)


class PaymentsWorld:
    """The payments services over one in-memory store and one sandbox, as one database and one processor."""

    def __init__(self, *, max_trip_minutes: int = 180, preauth_release_hours: int = 24) -> None:
        self.memory = MemoryPayments()
        self.clock = FixedClock(NOW)
        self.processor = ScriptedProcessor()
        self.holds = HoldService(self.memory, self.processor, self.clock)
        self.closing = TripClosingService(self.memory, self.clock)
        self.memory.set_policy(TripPolicy(STORE, max_trip_minutes, preauth_release_hours))

    def sweeper(self, uow: Any = None, **kwargs: Any) -> TripSweeper:
        """A sweeper as another process would run it: its own services over the same store."""
        uow = uow or self.memory
        return TripSweeper(uow, HoldService(uow, self.processor, self.clock), self.clock, **kwargs)

    def trip(self, *, token: str = "tok_visa_approve", amount: str | int = 25, currency: str = "USD",
             entered_at: datetime | None = None, status: TripStatus = TripStatus.OPEN,
             closed_at: datetime | None = None, preauthorized: bool = True, trip_id: str | None = None) -> TripState:
        trip_id = trip_id or "trip_" + uuid.uuid4().hex[:12]
        preauth_id = None
        if preauthorized:
            result = self.processor.preauthorize(token=token, amount=money(amount, currency),
                                                 idempotency_key=trip_id)
            assert result.approved
            preauth_id = result.preauth_id
        trip = TripState(trip_id=trip_id, store_id=STORE, retailer_id=RETAILER.retailer_id, status=status,
                         currency=currency, entered_at=entered_at or self.clock.now(), preauth_id=preauth_id,
                         authorized_amount=Decimal(str(amount)) if preauthorized else None, closed_at=closed_at)
        self.memory.add_trip(trip)
        return trip

    def closed_trip(self, *, hours_ago: float, **kwargs: Any) -> TripState:
        at = self.clock.now() - timedelta(hours=hours_ago)
        return self.trip(entered_at=at - timedelta(minutes=10), status=TripStatus.CLOSED, closed_at=at, **kwargs)

    def state(self, trip_id: str) -> TripState:
        with self.memory() as uow:
            state = uow.trips.get_state(trip_id)
        assert state is not None
        return state

    def stored(self, trip_id: str):  # noqa: ANN201 - StoredHold | None
        with self.memory() as uow:
            return uow.holds.get(trip_id)
