"""Read-only SQL behind the console's decision detail, search, exports and gate activity
(the ``InvestigationQueries`` port).

Searches and exports are bounded by a store and, when given, a time range, and read through the
``(store_id, decided_at)`` and ``(store_id, feed_txid, decision_id)`` indexes; an export reads one
keyset page per short transaction, so it never holds a connection, or the rows, for its whole length.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, and_, func, or_, select, tuple_
from sqlalchemy.sql import ColumnElement

from entrygate.adapters.db import tables as t
from entrygate.adapters.db.dashboard_queries import (
    aware,
    count_where,
    decision_row,
    decisions_select,
    has_reason,
    read_connection,
)
from entrygate.adapters.db.repositories import decision_record, trip_record
from entrygate.domain.records import Trip
from entrygate.services.ports.console import DecisionRow
from entrygate.services.ports.investigation import DecisionCriteria, DecisionDetail, GateActivity

d = t.decisions.c
i = t.payment_instruments.c


def _matching(store_id: str, c: DecisionCriteria) -> ColumnElement[bool]:
    where: list[ColumnElement[bool]] = [d.store_id == store_id]
    if c.visitor_id:
        where.append(or_(d.visitor_id == c.visitor_id, d.instrument_id == c.visitor_id))
    if c.last4:
        where.append(i.last4 == c.last4)
    if c.trip_id:
        where.append(d.trip_id == c.trip_id)
    if c.reason:
        where.append(has_reason(c.reason))
    if c.since is not None:
        where.append(d.decided_at >= c.since)
    if c.until is not None:
        where.append(d.decided_at < c.until)
    return and_(*where)


class SqlInvestigationQueries:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _rows(self, stmt) -> list:  # noqa: ANN001
        with read_connection(self._engine, "investigation") as conn:
            return list(conn.execute(stmt))

    def decision(self, store_id: str, decision_id: int) -> DecisionDetail | None:
        stmt = decisions_select().where(and_(d.store_id == store_id, d.decision_id == decision_id))
        rows = self._rows(stmt)
        if not rows:
            return None
        r = rows[0]
        return DecisionDetail(row=decision_row(r), record=decision_record(r))

    def search(self, store_id: str, criteria: DecisionCriteria, *, before_id: int | None,
               limit: int) -> list[DecisionRow]:
        stmt = decisions_select().where(_matching(store_id, criteria))
        if before_id is not None:
            stmt = stmt.where(d.decision_id < before_id)
        return [decision_row(r) for r in self._rows(stmt.order_by(d.decision_id.desc()).limit(limit))]

    def decision_page(self, store_id: str, criteria: DecisionCriteria, *, after_id: int, limit: int) -> list[DecisionRow]:
        stmt = (decisions_select().where(and_(_matching(store_id, criteria), d.decision_id > after_id))
                .order_by(d.decision_id).limit(limit))
        return [decision_row(r) for r in self._rows(stmt)]

    def trip_page(self, store_id: str, *, since: datetime | None, until: datetime | None,
                  after: tuple[datetime, str] | None, limit: int) -> list[Trip]:
        s = t.shopping_trips.c
        stmt = select(t.shopping_trips).where(s.store_id == store_id)
        if since is not None:
            stmt = stmt.where(s.entered_at >= since)
        if until is not None:
            stmt = stmt.where(s.entered_at < until)
        if after is not None:
            stmt = stmt.where(tuple_(s.entered_at, s.trip_id) > tuple_(*after))
        return [trip_record(r) for r in self._rows(stmt.order_by(s.entered_at, s.trip_id).limit(limit))]

    def gate_activity(self, store_id: str, *, since: datetime) -> list[GateActivity]:
        g, e = t.gates.c, t.exits.c
        decided = (select(d.gate_id, func.max(d.decided_at), count_where(d.decided_at >= since))
                   .where(d.store_id == store_id).group_by(d.gate_id))
        exited = (select(g.gate_id, func.max(e.decided_at), count_where(e.decided_at >= since))
                  .select_from(t.exits.join(t.gates, g.gate_pk == e.gate_pk))
                  .where(g.store_id == store_id).group_by(g.gate_id))
        gates = self._rows(select(g.gate_id).where(g.store_id == store_id).order_by(g.gate_id))
        seen: dict[str, tuple[datetime | None, int]] = {}
        for gate_id, last, n in [*self._rows(decided), *self._rows(exited)]:
            before = seen.get(gate_id, (None, 0))
            latest = max((x for x in (before[0], aware(last)) if x is not None), default=None)
            seen[gate_id] = (latest, before[1] + int(n or 0))
        return [GateActivity(gate_id, *seen.get(gate_id, (None, 0))) for (gate_id,) in gates]
