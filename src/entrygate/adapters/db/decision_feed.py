"""The decisions feed in SQL (the ``DecisionFeed`` port): every decision once, in commit order.

A sequence is not enough on PostgreSQL: a transaction that took decision id 41 may commit after
the one that took 42, so a reader that saw 42 and moved its cursor past it would never see 41.
Each decision therefore carries the id of the transaction that wrote it (``feed_txid``, by the
column's default ``pg_current_xact_id()``, migration 0010), and the feed answers only rows whose
transaction is below ``pg_snapshot_xmin(pg_current_snapshot())``: every transaction below that
horizon has ended, so nothing can still appear below it. Pages follow ``(feed_txid,
decision_id)``, the feed's order: two transactions that were in flight together come in the order
of their ids, which the horizon makes final before either is shown. The horizon waits for the
oldest transaction that is writing anything in the cluster (read-only ones take no id), so a long
writing transaction elsewhere delays the feed, never skips it.

SQLite has one writer at a time: every write transaction holds the database's write lock from its
``BEGIN IMMEDIATE`` (or, for one begun to read, its first write) to its commit, and decision ids
are the table's rowid, allocated above the largest one while that lock is held. So ids are given
out in commit order and a committed decision never has a lower id than one already visible;
``feed_txid`` is 0 there and the feed follows ``decision_id``, group commit included (a batch's
decisions get ascending ids and commit together).

Both read through the index ``(store_id, feed_txid, decision_id)``.
"""
from __future__ import annotations

from sqlalchemy import Engine, and_, bindparam, literal_column, select, tuple_

from entrygate.adapters.db import tables as t
from entrygate.adapters.db.dashboard_queries import read_connection
from entrygate.adapters.db.repositories import decision_record
from entrygate.services.ports.feed import FeedEntry, FeedPosition

d = t.decisions.c

_HORIZON = literal_column("pg_snapshot_xmin(pg_current_snapshot())::text::bigint")

_POSTGRES_PAGE = (select(t.decisions)
                  .where(and_(d.store_id == bindparam("store"),
                              tuple_(d.feed_txid, d.decision_id) > tuple_(bindparam("txid"), bindparam("after")),
                              d.feed_txid < _HORIZON))
                  .order_by(d.feed_txid, d.decision_id).limit(bindparam("limit")))
_SQLITE_PAGE = (select(t.decisions)
                .where(and_(d.store_id == bindparam("store"), d.feed_txid == 0, d.decision_id > bindparam("after")))
                .order_by(d.feed_txid, d.decision_id).limit(bindparam("limit")))


class SqlDecisionFeed:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._page = _SQLITE_PAGE if engine.dialect.name == "sqlite" else _POSTGRES_PAGE

    def page(self, store_id: str, *, after: FeedPosition, limit: int) -> list[FeedEntry]:
        with read_connection(self._engine, "decision feed") as conn:
            rows = conn.execute(self._page, {"store": store_id, "txid": after.txid, "after": after.decision_id,
                                             "limit": limit}).all()
        return [FeedEntry(FeedPosition(int(r.feed_txid), int(r.decision_id)), decision_record(r)) for r in rows]

