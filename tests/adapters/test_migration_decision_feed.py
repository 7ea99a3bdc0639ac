"""Migration 0010: decisions stored before the feed are in it, first and in the order stored, on both databases."""
from __future__ import annotations

import time

from alembic import command
from sqlalchemy import insert, inspect, table

from entrygate.adapters.db import tables as t
from entrygate.adapters.db.decision_feed import SqlDecisionFeed
from entrygate.adapters.db.engine import alembic_config, make_engine, upgrade
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.services.ports.feed import FeedPosition
from support.contracts import add_decisions, decision, later, shop

NEW_COLUMNS = {"feed_txid", "gate_request", "connector_calls"}


def test_decisions_from_before_the_feed_come_first_and_new_ones_after(db_url):
    command.downgrade(alembic_config(db_url), "0009_webhooks")
    engine = make_engine(db_url, pool_size=2)
    try:
        assert not NEW_COLUMNS & {c["name"] for c in inspect(engine).get_columns("decisions")}
        units = SqlUnitOfWorkFactory(engine)
        where = shop(units)
        old = [decision(where, decided_at=later(-i)) for i in range(3)]  # stored in this order, decided backwards
        present = {c["name"] for c in inspect(engine).get_columns("decisions")}  # later revisions add more
        with engine.begin() as conn:
            for record in old:
                values = {k: v for k, v in vars_of(record).items() if k in present}
                # The table as this revision has it (the model's defaults name columns that come later).
                as_then = table("decisions", *(t.decisions.c[name]._copy() for name in values))
                conn.execute(insert(as_then).values(**values))
        engine.dispose()
        upgrade(db_url)
        assert "ix_decisions_feed" in {i["name"] for i in inspect(engine).get_indexes("decisions")}
        new = decision(where)
        add_decisions(units, new)
        # On PostgreSQL the feed waits for the server's oldest writing transaction (maybe another test's).
        deadline = time.monotonic() + 20
        while len(page := SqlDecisionFeed(engine).page(where.store_id, after=FeedPosition.START, limit=10)) < 4 \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [e.decision.event_id for e in page] == [d.event_id for d in (*old, new)]
        assert [e.position.txid for e in page[:3]] == [0, 0, 0]
        assert page[0].decision.gate_request is None and page[0].decision.connector_calls == ()
    finally:
        engine.dispose()


def vars_of(record) -> dict:  # noqa: ANN001
    return {name: getattr(record, name) for name in record.__dataclass_fields__}
