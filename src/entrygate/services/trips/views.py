"""The trip resource with its pre-authorization (DESIGN 10): the retailer's trips as the API shows them."""
from __future__ import annotations

from dataclasses import dataclass

from entrygate.domain.holds import Hold, HoldSummary
from entrygate.domain.money import Money
from entrygate.domain.records import Trip
from entrygate.services.auth import Principal
from entrygate.services.ports.trips import HoldSummaries
from entrygate.services.trips.queries import QueryService


@dataclass(frozen=True, slots=True)
class TripWithHold:
    """A trip and its hold as it stands; ``hold`` is None for a trip without a pre-authorization."""

    trip: Trip
    hold: HoldSummary | None


class TripViews:
    """Reads trips through ``QueryService`` (its scope rule included) and adds each one's hold."""

    def __init__(self, queries: QueryService, holds: HoldSummaries) -> None:
        self._queries = queries
        self._holds = holds

    def trip(self, principal: Principal, trip_id: str) -> TripWithHold:
        return self._with_holds([self._queries.trip(principal, trip_id)])[0]

    def trips(self, principal: Principal, store_id: str, *, status: str | None, limit: int) -> list[TripWithHold]:
        return self._with_holds(self._queries.trips(principal, store_id, status=status, limit=limit))

    def _with_holds(self, trips: list[Trip]) -> list[TripWithHold]:
        stored = self._holds.of([t.trip_id for t in trips if t.preauth_id is not None])
        return [TripWithHold(trip, stored.get(trip.trip_id) or _as_opened(trip)) for trip in trips]


def _as_opened(trip: Trip) -> HoldSummary | None:
    """A hold no operation has touched yet is the one the gate opened: nothing stored beyond the trip."""
    if trip.preauth_id is None or trip.authorized_amount is None:
        return None
    return Hold.opened(trip.preauth_id, Money(trip.authorized_amount, trip.currency)).summary()
