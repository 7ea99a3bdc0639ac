"""The retailer's own data: trips and decisions of its stores."""
from __future__ import annotations

from datetime import datetime

from entrygate.domain.records import DecisionRecord, Trip
from entrygate.services.auth import Principal, store_in_scope
from entrygate.services.errors import NotFound
from entrygate.services.ports.storage import UnitOfWorkFactory

MAX_PAGE = 1000


class QueryService:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    def _store_scope(self, principal: Principal, store_id: str) -> None:
        store_in_scope(self._uow, principal, store_id)  # another retailer's store is answered as unknown

    def trip(self, principal: Principal, trip_id: str) -> Trip:
        with self._uow() as uow:
            trip = uow.trips.get(trip_id)
            store = uow.stores.get(trip.store_id) if trip else None
        if trip is None or store is None or not principal.may_manage(store.retailer_id):
            raise NotFound(f"trip {trip_id} not found")
        return trip

    def trips(self, principal: Principal, store_id: str, *, status: str | None, limit: int) -> list[Trip]:
        self._store_scope(principal, store_id)
        with self._uow() as uow:
            return uow.trips.list(store_id, status=status, limit=min(limit, MAX_PAGE))

    def decisions(self, principal: Principal, store_id: str, *, since: datetime | None,
                  limit: int) -> list[DecisionRecord]:
        self._store_scope(principal, store_id)
        with self._uow() as uow:
            return uow.decisions.list(store_id, since=since, limit=min(limit, MAX_PAGE))

