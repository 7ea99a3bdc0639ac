"""Storage adapters when their connection dies: every fault is StorageError, however late it shows
(in the body, at commit, or only in the rollback that ends a unit of work), no connection is left
checked out, and the next unit of work just works."""
from __future__ import annotations

import socket
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from entrygate.adapters.db.dashboard_queries import SqlDashboardQueries
from entrygate.adapters.db.engine import make_engine
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.services.console.dashboard import LiveFilter
from entrygate.services.ports.storage import StorageError
from support.databases import fresh_database
from support.outage import Sabotage, sever_conn


@pytest.fixture
def uow(db_url):
    engine = make_engine(db_url, pool_size=2)
    yield SqlUnitOfWorkFactory(engine)
    engine.dispose()


def next_write_works(uow: SqlUnitOfWorkFactory) -> None:
    """A fresh writer gets in (the SQLite write lock was released) and reaches the database."""
    def write() -> int:
        with uow(write=True) as u:
            one = u.conn.execute(text("SELECT 1")).scalar_one()
            u.commit()
        return one

    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(write).result(timeout=10) == 1
    assert uow.engine.pool.checkedout() == 0, "a connection was never handed back"


@pytest.mark.parametrize("write", [False, True])
def test_a_connection_that_dies_in_the_body_or_at_commit_is_a_storage_error(uow, write):
    for moment in ("body", "commit"):
        with pytest.raises(StorageError):
            with uow(write=write) as u:
                u.conn.execute(text("SELECT 1"))
                sever_conn(u.conn)
                if moment == "body":
                    u.conn.execute(text("SELECT 1"))
                u.commit()
        next_write_works(uow)


@pytest.mark.parametrize("write", [False, True])
def test_a_connection_that_dies_after_the_last_read_leaves_the_reads_standing(uow, write):
    """Only the rollback that ends the unit of work meets the dead connection: what was read
    stands, nothing uncommitted is lost that ending would not have dropped anyway."""
    with uow(write=write) as u:
        got = u.conn.execute(text("SELECT 41 + 1")).scalar_one()
        sever_conn(u.conn)
    assert got == 42
    next_write_works(uow)


def test_a_body_error_is_not_masked_by_a_dead_connection(uow):
    with pytest.raises(LookupError):
        with uow(write=True) as u:
            u.conn.execute(text("SELECT 1"))
            sever_conn(u.conn)
            raise LookupError("the caller's own error")
    next_write_works(uow)


def test_a_locked_sqlite_file_is_a_storage_error_and_holds_no_connection(tmp_path):
    url = fresh_database("sqlite", tmp_path, name="locked")
    engine = make_engine(url, pool_size=2, busy_timeout_s=0.2)
    uow = SqlUnitOfWorkFactory(engine)
    holder = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process's writer, holding the lock
        started = time.monotonic()
        with pytest.raises(StorageError):
            with uow(write=True):
                pass
        assert time.monotonic() - started < 1.0
        assert engine.pool.checkedout() == 0
        holder.execute("ROLLBACK")
        next_write_works(uow)
    finally:
        holder.close()
        engine.dispose()


def test_an_unresponsive_postgres_is_a_storage_error_within_the_connect_timeout():
    """A server that accepts the connection and never answers (a hung host, a black hole)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/none", pool_size=1)
        uow = SqlUnitOfWorkFactory(engine)
        outcome: list[BaseException] = []

        def enter() -> None:
            try:
                with uow():
                    pass
            except BaseException as exc:  # noqa: BLE001 - reported below
                outcome.append(exc)

        started = time.monotonic()
        worker = threading.Thread(target=enter, daemon=True)
        worker.start()
        worker.join(timeout=6)
        elapsed = time.monotonic() - started
        assert not worker.is_alive(), "the connection attempt was still waiting after 6 s"
        assert len(outcome) == 1 and isinstance(outcome[0], StorageError), outcome
        assert elapsed < 4, f"gave up after {elapsed:.1f} s"
        engine.dispose()


def test_a_dashboard_query_whose_connection_dies_is_a_storage_error(uow):
    queries = SqlDashboardQueries(uow.engine)
    sabotage = Sabotage(uow.engine, "before_cursor_execute")
    sabotage.arm()
    with pytest.raises(StorageError):
        queries.live("store-x", filters=LiveFilter(), after_id=None, recent_since=None, limit=10)
    assert sabotage.fired.is_set()
    assert queries.live("store-x", filters=LiveFilter(), after_id=None, recent_since=None, limit=10) == []
    next_write_works(uow)
