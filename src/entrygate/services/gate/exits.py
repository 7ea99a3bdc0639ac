"""Record an exit: the use case behind ``POST /v1/gates/{gateId}/exits``.

People must always be let out, so an exit answers 200 whenever the request is well formed; the
answer says what became of the trip: ``CLOSED`` now, ``ALREADY_CLOSED`` (a repeated exit is a
no-op that says so), or ``NO_OPEN_TRIP`` for a credential with no visit in progress.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from entrygate.domain.channels import Channel
from entrygate.domain.decision import EntryEvent, ExitOutcome, ExitResult
from entrygate.domain.records import ExitRecord
from entrygate.services.auth import Principal
from entrygate.services.catalog import Catalog
from entrygate.services.errors import NotFound, Unavailable
from entrygate.services.events.recorder import EventRecorder, no_events
from entrygate.services.gate.context import ChannelHandler, Presentation
from entrygate.services.gate.gates import GateAtStore, resolve_gate
from entrygate.services.gate.idempotency import EventRecords
from entrygate.services.ports.clock import Clock
from entrygate.services.ports.storage import DuplicateEvent, StorageError, UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class ExitEvent:
    event_id: str
    timestamp: datetime
    request_hash: str
    trip_id: str | None = None
    entry: EntryEvent | None = None  # a credential presented at the exit, parsed like an entry


class ExitService:
    def __init__(self, *, uow: UnitOfWorkFactory, catalog: Catalog, clock: Clock,
                 handlers: Mapping[Channel, ChannelHandler], events: EventRecorder | None = None) -> None:
        self._uow = uow
        self._events = events or no_events()
        self._catalog = catalog
        self._clock = clock
        self.handlers = handlers
        # Why this message for a failed lookup: it is what any storage fault answers (api/errors.py).
        self._exits = EventRecords(uow, lambda u: u.exits,
                                   unavailable="the database is unavailable; nothing was changed",
                                   unrecorded="the exit could not be recorded")

    def exit(self, principal: Principal, gate_id: str, event: ExitEvent) -> ExitOutcome:
        at = resolve_gate(self._catalog, self._uow, principal, gate_id)
        stored = self._exits.replay(at.gate.gate_pk, event.event_id, event.request_hash)
        if stored is not None:
            return ExitOutcome.of(stored)
        now = self._clock.now()
        trip_id = event.trip_id or self._trip_for_credential(at, event, now)
        result = ExitResult.NO_OPEN_TRIP
        try:
            with self._uow(write=True) as uow:
                if trip_id is not None:
                    trip = uow.trips.get(trip_id)
                    if trip is None or trip.store_id != at.store.store_id:
                        raise NotFound(f"trip {trip_id} not found at store {at.store.store_id}")
                    closed = uow.trips.close(trip_id, at=now, gate_id=at.gate.gate_id)
                    result = ExitResult.CLOSED if closed else ExitResult.ALREADY_CLOSED
                    if closed:
                        self._events.trip_closed(uow, trip_id=trip_id, store_id=at.store.store_id)
                record = ExitRecord(at.gate.gate_pk, event.event_id, event.request_hash, trip_id, result.value, now)
                uow.exits.add(record)
                uow.commit()
        except DuplicateEvent:
            return ExitOutcome.of(self._exits.winner(at.gate.gate_pk, event.event_id, event.request_hash))
        except StorageError as exc:
            raise Unavailable("the exit could not be recorded") from exc
        return ExitOutcome.of(record)

    def _trip_for_credential(self, at: GateAtStore, event: ExitEvent, now: datetime) -> str | None:
        """The open trip at this store of whom the credential shown at the exit names, if any."""
        assert event.entry is not None
        handler = self.handlers.get(event.entry.channel)
        if handler is None:
            return None
        shown = Presentation(store=at.store, gate=at.gate, event=event.entry, now=now)
        handler.identify(shown)
        if shown.visitor_id is None:
            return None
        with self._uow() as uow:
            trip = uow.trips.find_open(visitor_id=shown.visitor_id, store_id=at.store.store_id)
        return trip.trip_id if trip else None
