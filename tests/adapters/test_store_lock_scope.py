"""The store row lock a store change takes is the change's alone, and never holds up the store's gates.

PostgreSQL only: on SQLite a write transaction is BEGIN IMMEDIATE and writers already take turns.
A trip's insert checks its foreign key to the store with a KEY SHARE lock on the store's row, so a
lock stronger than NO KEY UPDATE there would hold every entry of the store until it is released.
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from entrygate.adapters.clock import FixedClock
from entrygate.adapters.db.engine import make_engine
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.services.admin.service import AdminService
from entrygate.services.catalog import Catalog
from support.factories import NOW, OPERATOR, PlainPasswords, store_config


@pytest.fixture
def on_postgres(backend: str, db_url: str) -> Iterator[tuple]:
    if backend != "postgres":
        pytest.skip("a row lock is PostgreSQL's; SQLite's writers take turns anyway")
    engine = make_engine(db_url)
    uow = SqlUnitOfWorkFactory(engine)
    admin = AdminService(uow, FixedClock(NOW), Catalog(uow, ttl_s=0), PlainPasswords())
    store = admin.create_store(OPERATOR, store_config(admin.create_retailer(OPERATOR, name="R").id))
    try:
        yield engine, uow, store.store_id
    finally:
        engine.dispose()


def _can_lock(engine, store_id: str, mode: str) -> bool:  # noqa: ANN001
    """Whether another transaction gets the store's row ``FOR <mode>`` at once (within 300 ms)."""
    with engine.connect() as other, other.begin():
        other.execute(text("SET LOCAL lock_timeout = '300ms'"))
        try:
            other.execute(text(f"SELECT 1 FROM stores WHERE store_id = :s FOR {mode}"), {"s": store_id})
        except OperationalError:  # LockNotAvailable: the row is held
            return False
        return True


def test_a_write_that_only_reads_a_store_leaves_its_row_unlocked(on_postgres):
    engine, uow, store_id = on_postgres
    with uow(write=True) as u:  # as a payment-status report reads the trip's store
        assert u.stores.get(store_id) is not None
        assert _can_lock(engine, store_id, "KEY SHARE"), "a trip's insert would wait on this read"
        assert _can_lock(engine, store_id, "NO KEY UPDATE"), "a store change would wait on this read"


def test_a_store_change_holds_off_another_change_but_not_the_store_s_trip_inserts(on_postgres):
    engine, uow, store_id = on_postgres
    with uow(write=True) as u:
        assert u.stores.get(store_id, for_change=True) is not None
        assert _can_lock(engine, store_id, "KEY SHARE"), "a trip's insert would wait on the change"
        assert not _can_lock(engine, store_id, "NO KEY UPDATE"), "a second change would not wait"
