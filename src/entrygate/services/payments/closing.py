"""Closing a trip by hand: ``POST /v1/trips/{shoppingTripId}/close`` (the trip's retailer or the operator)."""
from __future__ import annotations

from dataclasses import dataclass

import structlog

from entrygate.domain.channels import TripStatus
from entrygate.domain.keys import KeyKind
from entrygate.domain.trips import ClosedBy, CloseResult
from entrygate.services.auth import Principal
from entrygate.services.errors import Forbidden, NotFound, Unavailable
from entrygate.services.events.recorder import EventRecorder, no_events
from entrygate.services.ports.clock import Clock
from entrygate.services.ports.payments import PaymentsUnitOfWorkFactory
from entrygate.services.ports.storage import StorageError

log = structlog.get_logger("entrygate.payments")


@dataclass(frozen=True, slots=True)
class TripClosed:
    """``{"shoppingTripId", "result", "closedBy"}``; ``closed_by`` is None only for a trip closed before it was kept."""

    trip_id: str
    result: CloseResult
    closed_by: ClosedBy | None


class TripClosingService:
    def __init__(self, uow: PaymentsUnitOfWorkFactory, clock: Clock, *, events: EventRecorder | None = None) -> None:
        self._uow = uow
        self._clock = clock
        self._events = events or no_events()

    def close_trip(self, principal: Principal, trip_id: str) -> TripClosed:
        """Close an open trip; a closed one answers ``ALREADY_CLOSED`` with who closed it, as for exits."""
        if principal.kind not in (KeyKind.OPERATOR, KeyKind.RETAILER):
            raise Forbidden("only the trip's retailer or the operator may close a trip")
        closed_by = ClosedBy.OPERATOR if principal.is_operator else ClosedBy.RETAILER
        try:
            with self._uow(write=True) as uow:
                trip = uow.trips.get_state(trip_id)
                if trip is None or not principal.may_manage(trip.retailer_id):
                    raise NotFound(f"trip {trip_id} not found")
                # The close is conditional, so a sweep or an exit that got there first wins and is reported.
                closed = trip.status is TripStatus.OPEN and uow.trips.close(trip_id, at=self._clock.now(),
                                                                             closed_by=closed_by)
                if closed:
                    self._events.trip_closed(uow, trip_id=trip_id, store_id=trip.store_id)
                    uow.commit()
                else:
                    trip = uow.trips.get_state(trip_id) or trip
        except StorageError as exc:
            raise Unavailable("the trip could not be closed") from exc
        if closed:
            log.info("trip_closed", trip_id=trip_id, closed_by=closed_by.value)
            return TripClosed(trip_id, CloseResult.CLOSED, closed_by)
        return TripClosed(trip_id, CloseResult.ALREADY_CLOSED, trip.closed_by)
