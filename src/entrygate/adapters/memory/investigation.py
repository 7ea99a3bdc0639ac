"""The console's investigation queries over the in-memory store (``InvestigationQueries``).

Decisions are numbered in the order they were stored, as ``adapters/memory/dashboard.py`` numbers them.
"""
from __future__ import annotations

from datetime import UTC, datetime

from entrygate.adapters.memory.dashboard import decision_row
from entrygate.adapters.memory.storage import MemoryStore
from entrygate.domain.records import DecisionRecord, Trip
from entrygate.services.ports.console import DecisionRow
from entrygate.services.ports.investigation import DecisionCriteria, DecisionDetail, GateActivity


class MemoryInvestigationQueries:
    def __init__(self, memory: MemoryStore) -> None:
        self._memory = memory

    def _numbered(self, store_id: str) -> list[tuple[int, DecisionRecord]]:
        with self._memory.lock:
            return [(n, r) for n, r in enumerate(self._memory.data.decisions.values(), start=1) if r.store_id == store_id]

    def _row(self, n: int, r: DecisionRecord) -> DecisionRow:
        with self._memory.lock:
            seen = self._memory.data.instruments.get(r.instrument_id) if r.instrument_id else None
        return decision_row(n, r, brand=seen.brand if seen else None, last4=seen.last4 if seen else None)

    def _matches(self, r: DecisionRecord, c: DecisionCriteria) -> bool:
        with self._memory.lock:
            seen = self._memory.data.instruments.get(r.instrument_id) if r.instrument_id else None
        at = r.decided_at.astimezone(UTC)
        return ((not c.visitor_id or c.visitor_id in (r.visitor_id, r.instrument_id))
                and (not c.last4 or (seen is not None and seen.last4 == c.last4))
                and (not c.trip_id or r.trip_id == c.trip_id) and (not c.reason or c.reason in r.reasons)
                and (c.since is None or at >= c.since) and (c.until is None or at < c.until))

    def decision(self, store_id: str, decision_id: int) -> DecisionDetail | None:
        for n, r in self._numbered(store_id):
            if n == decision_id:
                return DecisionDetail(self._row(n, r), r)
        return None

    def search(self, store_id: str, criteria: DecisionCriteria, *, before_id: int | None,
               limit: int) -> list[DecisionRow]:
        found = [self._row(n, r) for n, r in reversed(self._numbered(store_id))
                 if (before_id is None or n < before_id) and self._matches(r, criteria)]
        return found[:limit]

    def decision_page(self, store_id: str, criteria: DecisionCriteria, *, after_id: int, limit: int) -> list[DecisionRow]:
        found = [self._row(n, r) for n, r in self._numbered(store_id) if n > after_id and self._matches(r, criteria)]
        return found[:limit]

    def trip_page(self, store_id: str, *, since: datetime | None, until: datetime | None,
                  after: tuple[datetime, str] | None, limit: int) -> list[Trip]:
        with self._memory.lock:
            trips = [t for t in self._memory.data.trips.values() if t.store_id == store_id]
        picked = sorted((t for t in trips if (since is None or t.entered_at >= since)
                         and (until is None or t.entered_at < until)
                         and (after is None or (t.entered_at, t.trip_id) > after)),
                        key=lambda t: (t.entered_at, t.trip_id))
        return picked[:limit]

    def gate_activity(self, store_id: str, *, since: datetime) -> list[GateActivity]:
        with self._memory.lock:
            gates = sorted(g.gate_id for g in self._memory.data.gates.values() if g.store_id == store_id)
            by_pk = {g.gate_pk: g.gate_id for g in self._memory.data.gates.values() if g.store_id == store_id}
            exits = [(by_pk[e.gate_pk], e.decided_at) for e in self._memory.data.exits.values() if e.gate_pk in by_pk]
        times = [(r.gate_id, r.decided_at) for _, r in self._numbered(store_id)] + exits
        out = []
        for gate_id in gates:
            mine = [at for g, at in times if g == gate_id]
            out.append(GateActivity(gate_id, max(mine) if mine else None, sum(at >= since for at in mine)))
        return out
