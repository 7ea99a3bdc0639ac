"""The outbox in memory (``services/ports/events.EventOutbox``), for service tests and simulations.

The in-memory stores keep no webhook endpoints, so every event counts as having one delivery;
events live in a table of the unit of work's data and are kept only when it commits, as in the
database. ``trip`` reads the unit of work's own trips (the payments fake keeps none).
"""
from __future__ import annotations

from collections.abc import Callable

from entrygate.domain.holds import HoldSummary
from entrygate.domain.records import Trip
from entrygate.services.ports.events import NewEvent


class MemoryEventOutbox:
    def __init__(self, events: dict[str, NewEvent], trips: Callable[[str], Trip | None] = lambda trip_id: None) -> None:
        self.events = events
        self._trips = trips

    def add(self, event: NewEvent) -> int:
        self.events[event.event_id] = event
        return 1

    def trip(self, trip_id: str) -> Trip | None:
        return self._trips(trip_id)

    def hold(self, trip_id: str) -> HoldSummary | None:
        return None
