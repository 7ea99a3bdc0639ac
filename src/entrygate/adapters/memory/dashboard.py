"""The console's dashboard and live queries over the in-memory store (``DashboardQueries``).

Decisions and exits are numbered in the order they were stored, as the database's identity
columns number them; percentiles are nearest-rank, as in ``adapters/db/dashboard_queries.py``.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from entrygate.adapters.memory.payments import MemoryPayments
from entrygate.adapters.memory.storage import MemoryStore
from entrygate.domain.decision import ExitResult
from entrygate.domain.holds import HoldStatus
from entrygate.domain.records import DecisionRecord, Trip
from entrygate.services.ports.console import BEFORE_IDENTITY, Balance, ConnectorCalls, DecisionRow, ExitRow, LiveFilter

_UNAVAILABLE = "CONNECTOR_UNAVAILABLE"


class MemoryDashboardQueries:
    """Over the in-memory store; the holds come from ``holds``, the payments ports' store (none: no hold stored)."""

    def __init__(self, memory: MemoryStore, holds: MemoryPayments | None = None) -> None:
        self._memory = memory
        self._holds = holds

    def _decisions(self) -> list[tuple[int, DecisionRecord]]:
        with self._memory.lock:
            return list(enumerate(self._memory.data.decisions.values(), start=1))

    def _window(self, store_id: str, since: datetime) -> list[DecisionRecord]:
        return [r for _, r in self._decisions() if r.store_id == store_id and r.decided_at >= since]

    def decisions_per_minute(self, store_id: str, *, since: datetime) -> list[tuple[datetime, str, int]]:
        counts: dict[tuple[datetime, str], int] = {}
        for r in self._window(store_id, since):
            key = (_utc(r.decided_at).replace(second=0, microsecond=0), r.outcome)
            counts[key] = counts.get(key, 0) + 1
        return [(minute, outcome, n) for (minute, outcome), n in counts.items()]

    def reason_counts(self, store_id: str, *, since: datetime, outcome: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self._window(store_id, since):
            if r.outcome == outcome:
                for code in r.reasons:
                    counts[code] = counts.get(code, 0) + 1
        return counts

    def risk_histogram(self, store_id: str, *, since: datetime, bucket: int) -> list[tuple[int, int]]:
        counts: dict[int, int] = {}
        for r in self._window(store_id, since):
            if r.risk_score is not None:
                start = r.risk_score // bucket * bucket
                counts[start] = counts.get(start, 0) + 1
        return list(counts.items())

    def latency_percentiles(self, store_id: str, *, since: datetime,
                            percentiles: tuple[int, ...]) -> tuple[int, dict[int, float], float | None]:
        values = sorted(float(r.latency_ms) for r in self._window(store_id, since))
        if not values:
            return 0, {}, None
        n = len(values)
        return n, {p: values[max(1, math.ceil(p / 100 * n)) - 1] for p in percentiles}, values[-1]

    def connector_calls(self, store_id: str, *, since: datetime) -> list[ConnectorCalls]:
        identity = authorization = identity_failed = authorization_failed = 0
        for r in self._window(store_id, since):
            unavailable = _UNAVAILABLE in r.reasons
            if r.channel in ("QR_CODE", "BADGE") and not any(c in r.reasons for c in BEFORE_IDENTITY):
                identity += 1
                identity_failed += unavailable
            if r.channel in ("CREDIT_CARD", "PALM") and (r.decided_by in ("RETAILER", "FALLBACK") or unavailable):
                authorization += 1
                authorization_failed += r.decided_by == "FALLBACK" or unavailable
        return [ConnectorCalls("identity", identity, identity_failed),
                ConnectorCalls("shopperAuthorization", authorization, authorization_failed)]

    def live(self, store_id: str, *, filters: LiveFilter, after_id: int | None, recent_since: datetime | None,
             limit: int) -> list[DecisionRow]:
        found = []
        for decision_id, r in reversed(self._decisions()):
            if r.store_id != store_id or (filters.gate_id and r.gate_id != filters.gate_id) \
                    or (filters.channel and r.channel != filters.channel) \
                    or (filters.outcome and r.outcome != filters.outcome):
                continue
            if after_id is not None and decision_id <= after_id \
                    and (recent_since is None or r.decided_at < recent_since):
                continue
            found.append(self._row(decision_id, r))
        return found[:limit]

    def decision_by_event(self, store_id: str, event_id: str) -> DecisionRow | None:
        return next((self._row(i, r) for i, r in reversed(self._decisions())
                     if r.store_id == store_id and r.event_id == event_id), None)

    def trip_decisions(self, trip_id: str) -> list[DecisionRow]:
        return [self._row(i, r) for i, r in self._decisions() if r.trip_id == trip_id]

    def trip_exits(self, trip_id: str) -> list[ExitRow]:
        with self._memory.lock:
            exits = list(self._memory.data.exits.values())
        return [ExitRow(e.event_id, _utc(e.decided_at), e.result, ExitResult(e.result).message)
                for e in exits if e.trip_id == trip_id]

    def outstanding_balances(self, store_id: str, *, limit: int) -> list[Balance]:
        with self._memory.lock:
            trips = list(self._memory.data.trips.values())
            instruments = dict(self._memory.data.instruments)
            owners = {s.store_id: s.retailer_id for s in self._memory.data.stores.values()}
        retailer_id = owners.get(store_id)
        groups: dict[tuple[str, str], list[Trip]] = {}
        for t in trips:
            # The gate's rule: every store of the retailer, both amounts reported, the total above the settled.
            if retailer_id is None or owners.get(t.store_id) != retailer_id or t.unpaid <= 0:
                continue
            groups.setdefault((t.instrument_id or t.visitor_id, t.currency), []).append(t)
        out = []
        for (who, currency), group in groups.items():
            card = instruments.get(who)
            reported = [t.payment_status_time for t in group if t.payment_status_time is not None]
            out.append(Balance(who, min(t.visitor_id for t in group), card.brand if card else None,
                               card.last4 if card else None, currency, sum((t.unpaid for t in group), Decimal(0)),
                               len(group), _utc(max(reported)) if reported else None,
                               at_store=sum((t.unpaid for t in group if t.store_id == store_id), Decimal(0))))
        return sorted(out, key=lambda b: (-b.amount, b.instrument_id))[:limit]

    def _row(self, decision_id: int, r: DecisionRecord) -> DecisionRow:
        with self._memory.lock:
            seen = self._memory.data.instruments.get(r.instrument_id) if r.instrument_id else None
        return decision_row(decision_id, r, brand=seen.brand if seen else None, last4=seen.last4 if seen else None)

    def hold_statuses(self, trip_ids: Sequence[str]) -> dict[str, HoldStatus]:
        if self._holds is None:
            return {}
        with self._holds.lock:
            rows = dict(self._holds.data.holds)
        return {trip_id: rows[trip_id].hold.status for trip_id in trip_ids if trip_id in rows}

def decision_row(decision_id: int, r: DecisionRecord, *, brand: str | None = None,
                 last4: str | None = None) -> DecisionRow:
    """A stored decision as the console shows it (``adapters/db/dashboard_queries.decision_row``)."""
    return DecisionRow(
        decision_id=decision_id, event_id=r.event_id, decided_at=_utc(r.decided_at), gate_id=r.gate_id,
        channel=r.channel, outcome=r.outcome, reasons=tuple(r.reasons), decided_by=r.decided_by,
        visitor_id=r.visitor_id, visitor_type=r.visitor_type, trip_id=r.trip_id, party_size=r.party_size,
        risk_score=r.risk_score, risk_level=r.risk_level, latency_ms=float(r.latency_ms),
        authorized_amount=r.authorized_amount, currency=r.currency, brand=brand, last4=last4)


def _utc(at: datetime) -> datetime:
    return at.astimezone(UTC)
