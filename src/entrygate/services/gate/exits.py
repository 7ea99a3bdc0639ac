"""Record an exit: the use case behind ``POST /v1/gates/{gateId}/exits``.

People must always be let out, so an exit answers 200 whenever the request is well formed; the
answer says what became of the trip: ``CLOSED`` now, ``ALREADY_CLOSED`` (a repeated exit is a
no-op that says so), or ``NO_OPEN_TRIP`` for a credential with no visit in progress.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from entrygate.domain.channels import Channel, TripStatus
from entrygate.domain.decision import EntryEvent
from entrygate.domain.records import ExitRecord
from entrygate.services.auth import Principal
from entrygate.services.catalog import Catalog
from entrygate.services.gate.admit import resolve_gate
from entrygate.services.gate.context import ChannelHandler, EntryContext
from entrygate.services.errors import Conflict, NotFound, Unavailable
from entrygate.services.ports.storage import DuplicateEvent, StorageError, UnitOfWorkFactory
from entrygate.services.ports.clock import Clock

_MESSAGES = {
    "CLOSED": "The trip is closed.",
    "ALREADY_CLOSED": "The trip was already closed; nothing changed.",
    "NO_OPEN_TRIP": "This credential has no open trip at this store.",
}


@dataclass(frozen=True, slots=True)
class ExitEvent:
    event_id: str
    timestamp: datetime
    request_hash: str
    trip_id: str | None = None
    entry: EntryEvent | None = None  # a credential presented at the exit, parsed like an entry


class ExitService:
    def __init__(self, *, uow: UnitOfWorkFactory, catalog: Catalog, clock: Clock,
                 handlers: Mapping[Channel, ChannelHandler]) -> None:
        self._uow = uow
        self._catalog = catalog
        self._clock = clock
        self.handlers = handlers

    def exit(self, principal: Principal, gate_id: str, event: ExitEvent) -> dict[str, Any]:
        gate, store = resolve_gate(self._catalog, self._uow, principal, gate_id)
        with self._uow() as uow:
            stored = uow.exits.get_by_event(gate.gate_pk, event.event_id)
        if stored is not None:
            return _replayed(stored, event)
        now = self._clock.now()
        trip_id = event.trip_id or self._trip_for_credential(store, gate, event, now)
        result = "NO_OPEN_TRIP"
        try:
            with self._uow(write=True) as uow:
                if trip_id is not None:
                    trip = uow.trips.get(trip_id)
                    if trip is None or trip.store_id != store.store_id:
                        raise NotFound(f"trip {trip_id} not found at store {store.store_id}")
                    result = "CLOSED" if uow.trips.close(trip_id, at=now, gate_id=gate.gate_id) else "ALREADY_CLOSED"
                answer = {"eventId": event.event_id, "shoppingTripId": trip_id, "result": result,
                          "message": _MESSAGES[result], "tripStatus": TripStatus.CLOSED.value if trip_id else None}
                uow.exits.add(ExitRecord(gate.gate_pk, event.event_id, event.request_hash, trip_id, answer, now))
                uow.commit()
        except DuplicateEvent:
            with self._uow() as uow:
                stored = uow.exits.get_by_event(gate.gate_pk, event.event_id)
            if stored is None:
                raise Unavailable("the exit could not be recorded") from None
            return _replayed(stored, event)
        except StorageError as exc:
            raise Unavailable("the exit could not be recorded") from exc
        return answer

    def _trip_for_credential(self, store: Any, gate: Any, event: ExitEvent, now: datetime) -> str | None:
        assert event.entry is not None
        handler = self.handlers.get(event.entry.channel)
        if handler is None:
            return None
        ctx = EntryContext(store=store, gate=gate, event=event.entry, now=now)
        handler.identify(ctx)
        visitor_id = ctx.instrument_id or (ctx.decision.visitor.id if ctx.decision.visitor else None)
        if visitor_id is None:
            return None
        with self._uow() as uow:
            trip = uow.trips.find_open(visitor_id=visitor_id, store_id=store.store_id)
        return trip.trip_id if trip else None


def _replayed(stored: ExitRecord, event: ExitEvent) -> dict[str, Any]:
    if stored.request_hash != event.request_hash:
        raise Conflict(f"eventId {event.event_id} was already used for a different request", fields=["eventId"])
    return stored.response
