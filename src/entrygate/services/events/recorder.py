"""Writing events into the outbox, in the transaction of the change each one reports (DESIGN 13).

Every use case that changes something a retailer can subscribe to calls the recorder inside its
own unit of work: the gate's decision write (directly, or in the SQLite group-commit writer's
batch), exits and the trip sweeps' closes, holds' operations, and instrument blocks. The event's
body is rendered there and then, from what that transaction wrote, and never changes after.

Why a cache of subscriptions: most stores have no webhooks, and their gates should pay nothing
for the feature. The recorder asks ``Subscriptions`` (a dict lookup) whether any endpoint of the
store's retailer takes the event type; only then is a body rendered and a row written. The cache
is reloaded every ``ttl_s`` (the delivery worker keeps it fresh in the background), and cleared
in the process that creates or deletes an endpoint, so another process starts recording a new
endpoint's events within ``ttl_s``. Every store is in the cache, with or without webhooks, so a
store it does not know is a new one, and causes a reload at once. The outbox itself checks the subscription again in SQL, so a
stale cache can only cost a skipped insert, never an event for an endpoint that does not want it.
"""
from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

import structlog

from entrygate.domain.events import EventType
from entrygate.domain.holds import Hold, HoldSummary
from entrygate.domain.money import Money
from entrygate.domain.records import DecisionRecord, Trip
from entrygate.services.ports.clock import Clock
from entrygate.services.ports.decisions import DecisionWrite
from entrygate.services.ports.events import EventBodies, EventOutbox, NewEvent

log = structlog.get_logger("entrygate.events")


# How soon a store the cache does not know may cause another load: a new store's first decisions.
_UNKNOWN_STORE_S = 0.1


class HasOutbox(Protocol):
    events: EventOutbox


class Subscriptions:
    """Which event types each store's retailer subscribes to, read from storage at most every ``ttl_s``."""

    def __init__(self, load: Callable[[], dict[str, frozenset[str]]], *, ttl_s: float,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._load = load
        self._ttl = ttl_s
        self._monotonic = monotonic
        self._by_store: dict[str, frozenset[str]] = {}
        self._loaded_at: float | None = None
        self._lock = threading.Lock()

    def types_for(self, store_id: str) -> frozenset[str]:
        loaded = self._loaded_at
        if loaded is None or self._monotonic() - loaded >= self._ttl:
            self.refresh()
        found = self._by_store.get(store_id)
        if found is None and (self._loaded_at is None or self._monotonic() - self._loaded_at >= _UNKNOWN_STORE_S):
            # A store created since the last load (every store is in it, with or without webhooks).
            self.refresh()
            found = self._by_store.get(store_id)
        return found or frozenset()

    def refresh(self) -> None:
        """Reload now; a storage fault keeps what was known and is tried again at the next read.

        Once something is loaded, a caller that finds another thread reloading goes on with what is
        known instead of queueing behind it: the gates' threads never reload one after the other.
        """
        if not self._lock.acquire(blocking=self._loaded_at is None):
            return
        try:
            self._by_store = self._load()
            self._loaded_at = self._monotonic()
        except Exception as exc:  # noqa: BLE001 - a cache: the outbox re-checks in SQL anyway
            log.warning("webhook_subscriptions_not_loaded", error=f"{type(exc).__name__}: {exc}")
        finally:
            self._lock.release()

    def keep_fresh(self) -> None:
        """Reload when half the time to live has passed: the delivery worker calls it, so the gates never wait."""
        loaded = self._loaded_at
        if loaded is None or self._monotonic() - loaded >= self._ttl / 2:
            self.refresh()

    def invalidate(self) -> None:
        self._loaded_at = None


def _when(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def opened_hold(trip: Trip) -> HoldSummary | None:
    """The hold a trip opened with, before any operation touched it."""
    if trip.preauth_id is None or trip.authorized_amount is None:
        return None
    return Hold.opened(trip.preauth_id, Money(trip.authorized_amount, trip.currency)).summary()


class EventRecorder:
    """Renders and stores the events of a change, for the stores whose retailer subscribed to them."""

    def __init__(self, subscriptions: Subscriptions, bodies: EventBodies, clock: Clock, *,
                 new_id: Callable[[], str] = lambda: "evt_" + uuid.uuid4().hex) -> None:
        self.subscriptions = subscriptions
        self._bodies = bodies
        self._clock = clock
        self._new_id = new_id

    def wants(self, store_id: str, event_type: EventType) -> bool:
        return event_type.value in self.subscriptions.types_for(store_id)

    def _record(self, outbox: EventOutbox, event_type: EventType, store_id: str, ordering_key: str | None,
                data: dict[str, Any], at: datetime | None = None) -> None:
        event_id = self._new_id()
        created_at = at or self._clock.now()
        body = {"type": event_type.value, "id": event_id, "createdAt": _when(created_at), "data": data}
        raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        # A storage fault here fails the change's whole transaction, as it should: the two commit together.
        outbox.add(NewEvent(event_id, event_type, store_id, ordering_key, raw, created_at))

    def decision_written(self, uow: HasOutbox, item: DecisionWrite, stored: DecisionRecord) -> None:
        """``decision.created``, and ``trip.opened`` / ``instrument.blocked`` when the decision did that."""
        store_id = stored.store_id
        types = self.subscriptions.types_for(store_id)
        if not types:
            return
        if EventType.DECISION_CREATED.value in types:
            self._record(uow.events, EventType.DECISION_CREATED, store_id, stored.trip_id,
                         self._bodies.decision(stored), stored.decided_at)
        trip = item.trip if item.trip is not None and stored is item.record else None
        if trip is not None and EventType.TRIP_OPENED.value in types:
            self._record(uow.events, EventType.TRIP_OPENED, store_id, trip.trip_id,
                         self._bodies.trip(trip, opened_hold(trip)), stored.decided_at)
        if item.block_instrument and item.instrument_id is not None:
            self.instrument_blocked(uow, instrument_id=item.instrument_id, reason="lost_stolen", store_id=store_id,
                                    trip_id=None)

    def trip_closed(self, uow: HasOutbox, *, trip_id: str, store_id: str) -> None:
        """``trip.closed`` with the trip as this transaction left it; call after the close that won."""
        if not self.wants(store_id, EventType.TRIP_CLOSED):
            return
        trip = uow.events.trip(trip_id)
        if trip is None:
            return
        hold = uow.events.hold(trip_id) or opened_hold(trip)
        self._record(uow.events, EventType.TRIP_CLOSED, store_id, trip_id, self._bodies.trip(trip, hold),
                     trip.exited_at)

    def hold_updated(self, uow: HasOutbox, *, trip_id: str, store_id: str, hold: HoldSummary) -> None:
        """``preauthorization.updated``: the trip's ``preauthorization`` after an operation on it."""
        if self.wants(store_id, EventType.PREAUTHORIZATION_UPDATED):
            self._record(uow.events, EventType.PREAUTHORIZATION_UPDATED, store_id, trip_id,
                         self._bodies.preauthorization(trip_id, hold))

    def instrument_blocked(self, uow: HasOutbox, *, instrument_id: str, reason: str, store_id: str,
                           trip_id: str | None) -> None:
        """``instrument.blocked``: the instrument id and why (``lost_stolen``, ``customer_fraud``)."""
        if self.wants(store_id, EventType.INSTRUMENT_BLOCKED):
            self._record(uow.events, EventType.INSTRUMENT_BLOCKED, store_id, None,
                         {"instrumentId": instrument_id, "reason": reason, "storeId": store_id,
                          "shoppingTripId": trip_id})


class _NoBodies:
    def decision(self, record: DecisionRecord) -> dict[str, Any]:
        raise AssertionError("no events are recorded")

    trip = preauthorization = decision  # type: ignore[assignment]


def no_events() -> EventRecorder:
    """A recorder for which no store has subscribers: the use cases' default outside the platform."""
    class _Never:
        def now(self) -> datetime:
            raise AssertionError("no events are recorded")
    return EventRecorder(Subscriptions(dict, ttl_s=float("inf")), _NoBodies(), _Never())  # type: ignore[arg-type]
