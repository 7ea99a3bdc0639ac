"""``HoldSummaries`` on the database: a page of trips' holds in one query per 500 ids, not one per trip."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from entrygate.adapters.db import tables as t
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.domain.holds import HoldStatus, HoldSummary
from entrygate.domain.money import Money

_holds = t.preauthorizations.c
_CHUNK = 500  # ids per IN list: well within either database's limit on bound parameters
_COLUMNS = select(_holds.trip_id, _holds.preauth_id, _holds.currency, _holds.status, _holds.held_amount,
                  _holds.captured_amount, _holds.refunded_amount)


class SqlHoldSummaries:
    def __init__(self, units: SqlUnitOfWorkFactory) -> None:
        self.units = units

    def of(self, trip_ids: Sequence[str]) -> dict[str, HoldSummary]:
        ids = list(dict.fromkeys(trip_ids))
        out: dict[str, HoldSummary] = {}
        if not ids:
            return out
        with self.units() as unit:  # one read transaction: every hold as of the same moment
            for start in range(0, len(ids), _CHUNK):
                rows = unit.conn.execute(_COLUMNS.where(_holds.trip_id.in_(ids[start:start + _CHUNK])))
                for row in rows:
                    cur = row.currency
                    out[row.trip_id] = HoldSummary(row.preauth_id, HoldStatus(row.status),
                                                   Money(row.held_amount, cur), Money(row.captured_amount, cur),
                                                   Money(row.refunded_amount, cur))
        return out
