"""What the console shows about a store's traffic: live decisions, trips, balances, the dashboard.

Read-only. Every method first checks that the store belongs to the caller; another retailer's
store is answered like an unknown one, as the retailer API does (``services/trips/queries.py``).
The numbers come from the recorded decisions, so every process behind a load balancer shows the
same dashboard.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from entrygate.domain.holds import HoldStatus
from entrygate.domain.reasons import ReasonCode
from entrygate.domain.records import Trip
from entrygate.domain.store import StoreConfig
from entrygate.services.auth import Principal, store_in_scope
from entrygate.services.ports.clock import Clock
from entrygate.services.ports.console import Balance, ConnectorCalls, DashboardQueries, DecisionRow, ExitRow, LiveFilter
from entrygate.services.ports.storage import UnitOfWorkFactory

LIVE_PAGE = 100
# Decisions are stamped when they start and committed when they end, so one that took long can
# commit after a later one; the live view re-reads this much recent history on every poll and the
# browser skips rows it already shows.
LIVE_OVERLAP = timedelta(seconds=15)
WINDOWS_MINUTES = (15, 60, 360, 1440)
PERCENTILES = (50, 90, 95, 99)
RISK_BUCKET = 10


@dataclass(frozen=True, slots=True)
class MinuteCount:
    minute: datetime
    opened: int
    denied: int


@dataclass
class Dashboard:
    store: StoreConfig
    window_minutes: int
    since: datetime
    until: datetime
    per_minute: list[MinuteCount]
    denial_reasons: list[tuple[str, str, int]]  # code, message, count
    risk_buckets: list[tuple[int, int]]          # bucket start (0, 10, ... 90), count
    latency: dict[int, float]                    # percentile -> ms
    latency_max: float | None
    decisions: int
    connectors: list[ConnectorCalls] = field(default_factory=list)

    @property
    def opened(self) -> int:
        return sum(m.opened for m in self.per_minute)

    @property
    def denied(self) -> int:
        return sum(m.denied for m in self.per_minute)


class DashboardService:
    def __init__(self, *, uow: UnitOfWorkFactory, queries: DashboardQueries, clock: Clock) -> None:
        self._uow = uow
        self._queries = queries
        self._clock = clock

    def _store(self, principal: Principal, store_id: str) -> StoreConfig:
        return store_in_scope(self._uow, principal, store_id)

    def live(self, principal: Principal, store_id: str, *, filters: LiveFilter,
             after_id: int | None = None) -> list[DecisionRow]:
        """The newest decisions first; with ``after_id``, those since then (and a short overlap)."""
        self._store(principal, store_id)
        recent = self._clock.now() - LIVE_OVERLAP if after_id is not None else None
        return self._queries.live(store_id, filters=filters, after_id=after_id, recent_since=recent,
                                  limit=LIVE_PAGE)

    def decision(self, principal: Principal, store_id: str, event_id: str) -> DecisionRow | None:
        self._store(principal, store_id)
        return self._queries.decision_by_event(store_id, event_id)

    def trip_history(self, principal: Principal, trip: Trip) -> tuple[list[DecisionRow], list[ExitRow]]:
        """A trip's entry decisions and exits (the trip itself comes from ``QueryService.trip``)."""
        self._store(principal, trip.store_id)
        return self._queries.trip_decisions(trip.trip_id), self._queries.trip_exits(trip.trip_id)

    def balances(self, principal: Principal, store_id: str, *, limit: int = 200) -> list[Balance]:
        """What shoppers owe the store's retailer, over all its stores: the balance its gates deny on."""
        self._store(principal, store_id)
        return self._queries.outstanding_balances(store_id, limit=limit)

    def hold_statuses(self, principal: Principal, store_id: str, trips: Sequence[Trip]) -> dict[str, HoldStatus]:
        """The hold status of each of the store's ``trips`` that has a pre-authorization."""
        self._store(principal, store_id)
        held = [t for t in trips if t.store_id == store_id and t.preauth_id and t.authorized_amount is not None]
        stored = self._queries.hold_statuses([t.trip_id for t in held])
        # A hold no operation has touched yet is the one the trip opened with (HoldService.get does the same).
        return {t.trip_id: stored.get(t.trip_id, HoldStatus.HELD) for t in held}

    def dashboard(self, principal: Principal, store_id: str, *, window_minutes: int = 60) -> Dashboard:
        store = self._store(principal, store_id)
        if window_minutes not in WINDOWS_MINUTES:
            window_minutes = 60
        until = self._clock.now().astimezone(UTC)
        # Whole minutes, so the first bar is not a partial one.
        since = (until - timedelta(minutes=window_minutes - 1)).replace(second=0, microsecond=0)
        q = self._queries
        count, latency, latency_max = q.latency_percentiles(store_id, since=since, percentiles=PERCENTILES)
        reasons = q.reason_counts(store_id, since=since, outcome="DENY")
        return Dashboard(
            store=store, window_minutes=window_minutes, since=since, until=until,
            per_minute=_fill_minutes(q.decisions_per_minute(store_id, since=since), since, until,
                                     step=_step_minutes(window_minutes)),
            denial_reasons=[(code, _message(code), n)
                            for code, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))],
            risk_buckets=_fill_buckets(q.risk_histogram(store_id, since=since, bucket=RISK_BUCKET)),
            latency=latency, latency_max=latency_max, decisions=count,
            connectors=q.connector_calls(store_id, since=since))


def _message(code: str) -> str:
    try:
        return ReasonCode(code).message
    except ValueError:
        return code


def _step_minutes(window_minutes: int) -> int:
    """Bars per chart stay around 60: one per minute for an hour, wider for longer windows."""
    return max(1, window_minutes // 60)


def _fill_minutes(rows: list[tuple[datetime, str, int]], since: datetime, until: datetime, *,
                  step: int) -> list[MinuteCount]:
    counts: dict[datetime, list[int]] = {}
    for minute, outcome, n in rows:
        offset = int((minute - since).total_seconds() // 60) // step
        bucket = since + timedelta(minutes=offset * step)
        slot = counts.setdefault(bucket, [0, 0])
        slot[0 if outcome == "OPEN" else 1] += n
    out, at = [], since
    while at <= until:
        opened, denied = counts.get(at, (0, 0))
        out.append(MinuteCount(at, opened, denied))
        at += timedelta(minutes=step)
    return out


def _fill_buckets(rows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    counts = dict.fromkeys(range(0, 100, RISK_BUCKET), 0)
    for start, n in rows:
        key = min(max(int(start), 0), 100 - RISK_BUCKET)  # a score of 100 joins the 90-100 bar
        counts[key - key % RISK_BUCKET] += n
    return sorted(counts.items())

