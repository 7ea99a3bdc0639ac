"""``DecisionFeed``: a store's decisions once each, in commit order, from a position on; and on SQL, a
writer that holds its transaction open while others commit makes the feed wait, never skip."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Engine, insert

from entrygate.adapters.db import tables as t
from entrygate.adapters.db.decision_feed import SqlDecisionFeed
from entrygate.adapters.memory.decision_feed import MemoryDecisionFeed
from entrygate.domain.decision_trace import ConnectorCall
from entrygate.services.ports.feed import FeedPosition
from support.contracts import add_decisions, decision, later, shop


@pytest.fixture
def feed(storage, engine):
    return MemoryDecisionFeed(storage) if engine is None else SqlDecisionFeed(engine)


# On PostgreSQL the feed waits for the oldest writing transaction of the whole server, and the test
# server is shared: another database's long transaction may hold it back for a while. A reader
# that waits for what it expects (never past a deadline) reads what any reader would.
CATCH_UP_S = 20


def read_all(feed, store_id: str, *, expect: int, limit: int = 2) -> list[tuple[FeedPosition, str]]:
    out, after = [], FeedPosition.START
    deadline = time.monotonic() + CATCH_UP_S
    while True:
        page = feed.page(store_id, after=after, limit=limit)
        out += [(e.position, e.decision.event_id) for e in page]
        after = page[-1].position if page else after
        if not page:
            if len(out) >= expect or time.monotonic() > deadline:
                return out
            time.sleep(0.05)


def page_of(feed, store_id: str, *, after: FeedPosition, expect: int) -> list:  # noqa: ANN001
    """The first page after ``after`` once it holds ``expect`` decisions (or the deadline passed)."""
    deadline = time.monotonic() + CATCH_UP_S
    while len(page := feed.page(store_id, after=after, limit=100)) < expect and time.monotonic() < deadline:
        time.sleep(0.05)
    return page


def test_the_feed_gives_each_decision_once_in_the_order_committed(storage, feed):
    where, elsewhere = shop(storage), shop(storage)
    # Decided earlier but committed later: the feed follows the commits, not the decision times.
    first = [decision(where, decided_at=later(10)), decision(where, decided_at=later(5))]
    add_decisions(storage, *first)
    add_decisions(storage, decision(elsewhere))
    last = decision(where, decided_at=later(1))
    add_decisions(storage, last)
    seen = read_all(feed, where.store_id, expect=3)
    assert [event for _, event in seen] == [d.event_id for d in (*first, last)]
    positions = [p for p, _ in seen]
    assert positions == sorted(positions) and len(set(positions)) == 3
    assert feed.page(where.store_id, after=positions[-1], limit=10) == []
    assert [e.decision.event_id for e in feed.page(where.store_id, after=positions[0], limit=1)] == [first[1].event_id]


def test_the_feed_carries_the_whole_decision_with_what_the_gate_sent_and_the_calls(storage, feed):
    where = shop(storage)
    d = decision(where, gate_request={"channel": "QR_CODE", "credential": {"scanStart": "EG1.", "scanChars": 40}},
                 connector_calls=(ConnectorCall("identity", "OK", 12.5, 200),))
    add_decisions(storage, d)
    (entry,) = page_of(feed, where.store_id, after=FeedPosition.START, expect=1)
    assert entry.decision == d


def _insert_open(engine: Engine, record) -> tuple:  # noqa: ANN001
    """A writer's transaction with one decision inserted and not committed: (connection, transaction)."""
    conn = engine.connect()
    conn.info["write"] = True  # SQLite: BEGIN IMMEDIATE, as every writer of the platform takes it
    tx = conn.begin()
    values = {name: getattr(record, name) for name in record.__dataclass_fields__}
    values["connector_calls"] = None
    conn.execute(insert(t.decisions), values)
    return conn, tx


def test_a_writer_that_commits_late_is_not_skipped(backend, storage, engine, feed):
    """One writer holds its transaction open while others commit and a reader polls."""
    if engine is None:
        pytest.skip("the in-memory store has no transactions that stay open")
    where = shop(storage)
    before = decision(where)
    add_decisions(storage, before)
    after = read_all(feed, where.store_id, expect=1)[-1][0]
    slow = decision(where)
    conn, tx = _insert_open(engine, slow)
    others = [decision(where) for _ in range(3)]
    committed = threading.Event()

    def write_others() -> None:  # on SQLite these wait for the held write lock; on PostgreSQL they commit at once
        for d in others:
            add_decisions(storage, d)
        committed.set()

    writer = threading.Thread(target=write_others)
    writer.start()
    try:
        if backend == "postgres":
            assert committed.wait(10), "the other writers did not commit"
        seen: list[str] = []
        for _ in range(5):  # the reader polls while the slow writer holds its transaction
            page = feed.page(where.store_id, after=after, limit=100)
            assert page == [], "a decision was handed out while an earlier transaction could still commit"
            time.sleep(0.02)
    finally:
        tx.commit()
        conn.close()
    writer.join(10)
    assert committed.is_set()
    page = page_of(feed, where.store_id, after=after, expect=4)
    seen = [e.decision.event_id for e in page]
    assert seen == [slow.event_id, *(d.event_id for d in others)]
