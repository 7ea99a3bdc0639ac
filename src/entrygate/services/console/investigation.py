"""Investigating decisions in the console: one decision in full, searches, CSV exports, silent gates.

Read-only; every method first checks that the store belongs to the caller (another retailer's store
is answered as unknown, as the dashboard does). Exports are generators over keyset pages of
``export_page`` rows, each page read in its own short transaction: an export of a month of a busy
store holds one page in memory at a time, and no transaction stays open while the browser reads.

A gate is *silent* when it has stopped sending: it made at least one decision (an exit gate: an
exit) in the last ``TRAFFIC_WINDOW`` (60 minutes) and none in the last ``SILENT_AFTER`` (10
minutes). A gate with nothing in the last hour is *idle* (a quiet lane, or a closed store); one with
something in the last 10 minutes is *sending*.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from entrygate.domain.records import Trip
from entrygate.services.auth import Principal, store_in_scope
from entrygate.services.errors import NotFound
from entrygate.services.ports.clock import Clock
from entrygate.services.ports.console import DecisionRow
from entrygate.services.ports.investigation import DecisionCriteria, DecisionDetail, InvestigationQueries
from entrygate.services.ports.storage import UnitOfWorkFactory

SEARCH_PAGE = 100
EXPORT_PAGE = 500
SILENT_AFTER = timedelta(minutes=10)
TRAFFIC_WINDOW = timedelta(minutes=60)


class GateState(str, Enum):
    SENDING = "sending"
    SILENT = "silent"
    IDLE = "idle"


@dataclass(frozen=True, slots=True)
class GateStatus:
    gate_id: str
    state: GateState
    last_at: datetime | None
    in_window: int  # decisions (or exits) in the last TRAFFIC_WINDOW


def gate_state(last_at: datetime | None, *, now: datetime) -> GateState:
    """Sending, silent or idle, as the module's docstring defines them."""
    if last_at is None or last_at < now - TRAFFIC_WINDOW:
        return GateState.IDLE
    return GateState.SENDING if last_at >= now - SILENT_AFTER else GateState.SILENT


class InvestigationService:
    def __init__(self, *, uow: UnitOfWorkFactory, queries: InvestigationQueries, clock: Clock,
                 export_page: int = EXPORT_PAGE) -> None:
        self._uow = uow
        self._queries = queries
        self._clock = clock
        self._export_page = export_page

    def _store(self, principal: Principal, store_id: str) -> None:
        store_in_scope(self._uow, principal, store_id)

    def decision(self, principal: Principal, store_id: str, decision_id: int) -> DecisionDetail:
        self._store(principal, store_id)
        found = self._queries.decision(store_id, decision_id)
        if found is None:
            raise NotFound(f"decision {decision_id} not found")
        return found

    def search(self, principal: Principal, store_id: str, criteria: DecisionCriteria, *,
               before_id: int | None = None, limit: int = SEARCH_PAGE) -> list[DecisionRow]:
        """Matching decisions, newest first; ``before_id`` pages back."""
        self._store(principal, store_id)
        return self._queries.search(store_id, criteria, before_id=before_id, limit=limit)

    def export_decisions(self, principal: Principal, store_id: str, criteria: DecisionCriteria) -> Iterator[DecisionRow]:
        """Every matching decision, oldest first, read a page at a time as the caller consumes them."""
        self._store(principal, store_id)  # now, so that a refusal comes before the first byte

        def rows() -> Iterator[DecisionRow]:
            after = 0
            while page := self._queries.decision_page(store_id, criteria, after_id=after, limit=self._export_page):
                yield from page
                after = page[-1].decision_id

        return rows()

    def export_trips(self, principal: Principal, store_id: str, *, since: datetime | None,
                     until: datetime | None) -> Iterator[Trip]:
        """The store's trips entered in ``[since, until)``, oldest first, a page at a time."""
        self._store(principal, store_id)

        def trips() -> Iterator[Trip]:
            after: tuple[datetime, str] | None = None
            while page := self._queries.trip_page(store_id, since=since, until=until, after=after,
                                                  limit=self._export_page):
                yield from page
                after = (page[-1].entered_at, page[-1].trip_id)

        return trips()

    def gate_statuses(self, principal: Principal, store_id: str) -> list[GateStatus]:
        self._store(principal, store_id)
        now = self._clock.now()
        return [GateStatus(a.gate_id, gate_state(a.last_at, now=now), a.last_at, a.recent)
                for a in self._queries.gate_activity(store_id, since=now - TRAFFIC_WINDOW)]
