"""Factories for the payments use cases: trips with real sandbox holds, on the in-memory ports."""
from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable

from entrygate.adapters.memory.payments import MemoryPayments
from entrygate.adapters.processors.sandbox import SandboxProcessor
from entrygate.domain.channels import TripStatus
from entrygate.domain.keys import KeyKind
from entrygate.domain.money import Money
from entrygate.domain.trips import TripPolicy
from entrygate.services.auth import Principal
from entrygate.adapters.clock import FixedClock
from entrygate.services.payments.closing import TripClosingService
from entrygate.services.payments.holds import HoldService
from entrygate.services.ports.payments import TripState
from entrygate.services.payments.sweeps import TripSweeper
from entrygate.services.ports.processor import HoldStateError, ProcessorUnavailable

NOW = datetime(2026, 11, 27, 18, 0, tzinfo=timezone.utc)
RETAILER = Principal(KeyKind.RETAILER, retailer_id="ret-1")
OTHER_RETAILER = Principal(KeyKind.RETAILER, retailer_id="ret-2")
OPERATOR = Principal(KeyKind.OPERATOR)
STORE = "store-1"


class SpyProcessor:
    """The sandbox, with every call written down and faults put in on purpose.

    ``down``: methods that fail before reaching the processor. ``lose_answer``: methods whose
    next call is done by the processor but whose answer is lost, as in a timeout. ``refuse``:
    methods the processor refuses. ``during``: a hook run inside the next call of a method, after
    the processor acted, while the caller waits (no transaction is open then).
    """

    def __init__(self, inner: SandboxProcessor | None = None) -> None:
        self.inner = inner or SandboxProcessor(timeout_s=0.01)
        self.calls: list[tuple[str, str]] = []
        self.down: set[str] = set()
        self.lose_answer: set[str] = set()
        self.refuse: set[str] = set()
        self.during: dict[str, Callable[[], None]] = {}

    def keys(self, method: str) -> Counter[str]:
        return Counter(key for m, key in self.calls if m == method)

    def _call(self, method: str, key: str, act: Callable[[], Any]) -> Any:
        self.calls.append((method, key))
        if method in self.down:
            raise ProcessorUnavailable("simulated: no answer")
        if method in self.refuse:
            raise HoldStateError("simulated: the processor refuses")
        result = act()
        hook = self.during.pop(method, None)
        if hook is not None:
            hook()
        if method in self.lose_answer:
            self.lose_answer.discard(method)
            raise ProcessorUnavailable("simulated: the answer was lost")
        return result

    def preauthorize(self, *, token: str, amount: Money, idempotency_key: str):  # noqa: ANN201
        return self.inner.preauthorize(token=token, amount=amount, idempotency_key=idempotency_key)

    def increment(self, *, preauth_id: str, new_amount: Money, idempotency_key: str):  # noqa: ANN201
        return self._call("increment", idempotency_key, lambda: self.inner.increment(
            preauth_id=preauth_id, new_amount=new_amount, idempotency_key=idempotency_key))

    def capture(self, *, preauth_id: str, amount: Money, idempotency_key: str):  # noqa: ANN201
        return self._call("capture", idempotency_key, lambda: self.inner.capture(
            preauth_id=preauth_id, amount=amount, idempotency_key=idempotency_key))

    def release(self, *, preauth_id: str, idempotency_key: str) -> None:
        return self._call("release", idempotency_key, lambda: self.inner.release(
            preauth_id=preauth_id, idempotency_key=idempotency_key))

    def refund(self, *, preauth_id: str, amount: Money, idempotency_key: str):  # noqa: ANN201
        return self._call("refund", idempotency_key, lambda: self.inner.refund(
            preauth_id=preauth_id, amount=amount, idempotency_key=idempotency_key))


def money(value: str | int, currency: str = "USD") -> Money:
    return Money(Decimal(str(value)), currency)


class PaymentsWorld:
    """The payments services over one in-memory store and one sandbox, as one database and one processor."""

    def __init__(self, *, max_trip_minutes: int = 180, preauth_release_hours: int = 24) -> None:
        self.memory = MemoryPayments()
        self.clock = FixedClock(NOW)
        self.processor = SpyProcessor()
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
