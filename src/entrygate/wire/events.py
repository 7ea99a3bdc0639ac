"""Events' ``data`` as JSON (DESIGN 13): each resource as the API shows it elsewhere.

``decision.created`` carries the decision as the retailer's decision list shows it,
``trip.opened`` and ``trip.closed`` the trip resource, ``preauthorization.updated`` the trip's
``preauthorization`` with its ``shoppingTripId``. The platform renders these when it stores the
event, in the same transaction as the change, so every attempt sends the same bytes.
"""
from __future__ import annotations

from typing import Any

from entrygate.domain.holds import HoldSummary
from entrygate.domain.records import DecisionRecord, Trip
from entrygate.wire.decisions import decision_view
from entrygate.wire.trips import preauthorization_view, trip_view


class WireEventBodies:
    """``services.ports.events.EventBodies`` through the API's own renderers."""

    def decision(self, record: DecisionRecord) -> dict[str, Any]:
        return decision_view(record)

    def trip(self, trip: Trip, hold: HoldSummary | None) -> dict[str, Any]:
        return trip_view(trip, hold)

    def preauthorization(self, trip_id: str, hold: HoldSummary) -> dict[str, Any]:
        return {"shoppingTripId": trip_id, "preauthorization": preauthorization_view(hold)}
