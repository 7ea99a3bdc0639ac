"""Read-only SQL behind the console's live view and dashboard (the ``DashboardQueries`` port).

Every query is bounded by a store and a time window, and uses the ``(store_id, decided_at)``
index. The statements run unchanged on SQLite and PostgreSQL except minute truncation, which each
dialect spells its own way. Percentiles are nearest-rank (the smallest value with at least p% of
values at or below it), computed with ORDER BY/OFFSET, since SQLite has no percentile function.
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, String, and_, case, cast, func, literal_column, or_, select
from sqlalchemy.sql import ColumnElement

from entrygate.adapters.db import tables as t
from entrygate.adapters.db.faults import STORAGE_FAULTS, describe, end_quietly
from entrygate.domain.decision import ExitResult
from entrygate.domain.holds import HoldStatus
from entrygate.services.ports.console import BEFORE_IDENTITY, Balance, ConnectorCalls, DecisionRow, ExitRow, LiveFilter
from entrygate.services.ports.storage import StorageError

d = t.decisions.c
i = t.payment_instruments.c
# Decisions with their instrument's brand and last 4 (an outer join: QR and badge entries have none).
DECISIONS_WITH_CARD = t.decisions.outerjoin(t.payment_instruments, d.instrument_id == i.instrument_id)


def decisions_select():  # noqa: ANN201 - a Select
    """``SELECT`` decisions with the brand and last 4 of their instrument, for ``decision_row``."""
    return select(t.decisions, i.brand, i.last4).select_from(DECISIONS_WITH_CARD)


def has_reason(code: str) -> ColumnElement[bool]:
    """Whether a decision's JSON list of reason codes holds ``code`` (no code contains another)."""
    return cast(d.reasons, String).like(f'%"{code}"%')


def count_where(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


@contextmanager
def read_connection(engine: Engine, what: str) -> Iterator[Connection]:
    """A connection for one read; a storage fault is ``StorageError`` (the API's and the console's 503)."""
    try:
        conn = engine.connect()
    except STORAGE_FAULTS as exc:
        raise StorageError(f"{what}: {describe(exc)}") from exc
    try:
        yield conn
    except STORAGE_FAULTS as exc:
        raise StorageError(f"{what}: {describe(exc)}") from exc
    finally:
        end_quietly(conn)


class SqlDashboardQueries:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sqlite = engine.dialect.name == "sqlite"

    def _read(self):  # noqa: ANN202 - a context manager of Connection
        return read_connection(self._engine, "dashboard")

    def _rows(self, stmt) -> list[Any]:  # noqa: ANN001
        with self._read() as conn:
            return list(conn.execute(stmt))

    def _minute(self) -> ColumnElement[Any]:
        if self._sqlite:
            return func.strftime("%Y-%m-%d %H:%M", d.decided_at)
        return func.date_trunc("minute", d.decided_at)

    def _in_window(self, store_id: str, since: datetime) -> ColumnElement[bool]:
        return and_(d.store_id == store_id, d.decided_at >= since)

    def decisions_per_minute(self, store_id: str, *, since: datetime) -> list[tuple[datetime, str, int]]:
        minute = self._minute().label("minute")
        rows = self._rows(select(minute, d.outcome, func.count()).where(self._in_window(store_id, since))
                          .group_by(minute, d.outcome))
        return [(_as_minute(m), outcome, int(n)) for m, outcome, n in rows]

    def reason_counts(self, store_id: str, *, since: datetime, outcome: str) -> dict[str, int]:
        # Few distinct reason lists exist, so group by the list and split it here: portable, and
        # cheaper than unnesting JSON row by row.
        as_text = cast(d.reasons, String).label("reasons")
        rows = self._rows(select(as_text, func.count())
                          .where(and_(self._in_window(store_id, since), d.outcome == outcome)).group_by(as_text))
        counts: dict[str, int] = {}
        for reasons, n in rows:
            for code in _json_list(reasons):
                counts[code] = counts.get(code, 0) + int(n)
        return counts

    def risk_histogram(self, store_id: str, *, since: datetime, bucket: int) -> list[tuple[int, int]]:
        start = ((d.risk_score // bucket) * bucket).label("start")
        rows = self._rows(select(start, func.count()).where(and_(self._in_window(store_id, since),
                                                                 d.risk_score.is_not(None)))
                          .group_by(start))
        return [(int(s), int(n)) for s, n in rows]

    def latency_percentiles(self, store_id: str, *, since: datetime,
                            percentiles: tuple[int, ...]) -> tuple[int, dict[int, float], float | None]:
        where = self._in_window(store_id, since)
        with self._read() as conn:
            n, top = conn.execute(select(func.count(), func.max(d.latency_ms)).where(where)).one()
            out: dict[int, float] = {}
            if not n:
                return 0, out, None
            for p in percentiles:
                rank = max(1, math.ceil(p / 100 * n))
                value = conn.execute(select(d.latency_ms).where(where).order_by(d.latency_ms)
                                     .offset(rank - 1).limit(1)).scalar_one()
                out[p] = float(value)
        return int(n), out, float(top)

    def connector_calls(self, store_id: str, *, since: datetime) -> list[ConnectorCalls]:
        unavailable = has_reason("CONNECTOR_UNAVAILABLE")
        identity = and_(d.channel.in_(("QR_CODE", "BADGE")), *[~has_reason(c) for c in BEFORE_IDENTITY])
        authorization = and_(d.channel.in_(("CREDIT_CARD", "PALM")),
                             or_(d.decided_by.in_(("RETAILER", "FALLBACK")), unavailable))
        row = self._rows(select(count_where(identity), count_where(and_(identity, unavailable)), count_where(authorization),
                                count_where(and_(authorization, or_(d.decided_by == "FALLBACK", unavailable))))
                         .where(self._in_window(store_id, since)))[0]
        return [ConnectorCalls("identity", int(row[0]), int(row[1])),
                ConnectorCalls("shopperAuthorization", int(row[2]), int(row[3]))]

    def live(self, store_id: str, *, filters: LiveFilter, after_id: int | None, recent_since: datetime | None,
             limit: int) -> list[DecisionRow]:
        stmt = decisions_select().where(d.store_id == store_id)
        if filters.gate_id:
            stmt = stmt.where(d.gate_id == filters.gate_id)
        if filters.channel:
            stmt = stmt.where(d.channel == filters.channel)
        if filters.outcome:
            stmt = stmt.where(d.outcome == filters.outcome)
        if after_id is not None:
            newer = d.decision_id > after_id
            stmt = stmt.where(or_(newer, d.decided_at >= recent_since) if recent_since is not None else newer)
        stmt = stmt.order_by(d.decision_id.desc()).limit(limit)
        return [_row(r) for r in self._rows(stmt)]

    def decision_by_event(self, store_id: str, event_id: str) -> DecisionRow | None:
        rows = self._rows(decisions_select().where(and_(d.store_id == store_id, d.event_id == event_id))
                          .order_by(d.decision_id.desc()).limit(1))
        return _row(rows[0]) if rows else None

    def trip_decisions(self, trip_id: str) -> list[DecisionRow]:
        return [_row(r) for r in self._rows(decisions_select().where(d.trip_id == trip_id)
                                            .order_by(d.decision_id))]

    def trip_exits(self, trip_id: str) -> list[ExitRow]:
        e = t.exits.c
        rows = self._rows(select(t.exits).where(e.trip_id == trip_id).order_by(e.exit_id))
        return [ExitRow(r.event_id, r.decided_at, r.result, ExitResult(r.result).message) for r in rows]

    def outstanding_balances(self, store_id: str, *, limit: int) -> list[Balance]:
        s, i, st = t.shopping_trips.c, t.payment_instruments.c, t.stores.c
        unpaid = s.total_amount - s.settled_amount
        owed = func.sum(unpaid).label("owed")
        here = func.sum(case((s.store_id == store_id, unpaid), else_=0))
        who = func.coalesce(s.instrument_id, s.visitor_id)
        owner = select(st.retailer_id).where(st.store_id == store_id).scalar_subquery()
        # The gate's rule (repositories._OUTSTANDING): the trips of every store of the store's retailer,
        # with both amounts reported and the total above the settled.
        stmt = (select(who.label("instrument_id"), func.min(s.visitor_id), func.min(i.brand), func.min(i.last4),
                       s.currency, owed, func.count(), func.max(s.payment_status_time), here)
                .select_from(t.shopping_trips.join(t.stores, st.store_id == s.store_id)
                             .outerjoin(t.payment_instruments, s.instrument_id == i.instrument_id))
                .where(and_(st.retailer_id == owner, s.total_amount.is_not(None), s.settled_amount.is_not(None),
                            s.total_amount > s.settled_amount))
                .group_by(who, s.currency).order_by(literal_column("owed").desc(), who).limit(limit))
        return [Balance(str(r[0]), str(r[1]), r[2], r[3], r[4], Decimal(str(r[5])), int(r[6]), aware(r[7]),
                        at_store=Decimal(str(r[8] or 0))) for r in self._rows(stmt)]

    def hold_statuses(self, trip_ids: Sequence[str]) -> dict[str, HoldStatus]:
        if not trip_ids:
            return {}
        h = t.preauthorizations.c
        rows = self._rows(select(h.trip_id, h.status).where(h.trip_id.in_(list(trip_ids))))
        return {trip_id: HoldStatus(status) for trip_id, status in rows}

def decision_row(r) -> DecisionRow:  # noqa: ANN001
    """A row of ``decisions_select()`` as the console shows it."""
    return DecisionRow(
        decision_id=int(r.decision_id), event_id=r.event_id, decided_at=r.decided_at, gate_id=r.gate_id,
        channel=r.channel, outcome=r.outcome, reasons=tuple(_json_list(r.reasons)), decided_by=r.decided_by,
        visitor_id=r.visitor_id, visitor_type=r.visitor_type, trip_id=r.trip_id, party_size=int(r.party_size),
        risk_score=r.risk_score, risk_level=r.risk_level, latency_ms=float(r.latency_ms),
        authorized_amount=r.authorized_amount, currency=r.currency, brand=r.brand, last4=r.last4)


_row = decision_row


def _json_list(value: Any) -> list[str]:
    if isinstance(value, str):
        value = json.loads(value)
    return [str(v) for v in value or []]


def _as_minute(value: Any) -> datetime:
    if isinstance(value, str):
        return datetime.strptime(value, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def aware(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
