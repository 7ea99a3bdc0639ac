"""Two changes to one store at once both stick: the read, diff and write of each are one locked transaction."""
from __future__ import annotations

import threading

from entrygate.adapters.clock import FixedClock
from entrygate.adapters.db.engine import make_engine
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.services.admin.service import AdminService
from entrygate.services.admin.store_changes import StoreChange
from entrygate.services.catalog import Catalog
from support.factories import NOW, OPERATOR, PlainPasswords, store_config


class PausingAfterRead(SqlUnitOfWorkFactory):
    """Write units of work whose store read waits (briefly) until the other change has read too.

    Without a row lock both changes read the same store and the later write undoes the earlier
    one. With the lock the second read cannot happen until the first change commits, so the first
    waits out its short pause alone and the second reads the store as the first left it.
    """

    def __init__(self, engine, barrier: threading.Barrier) -> None:  # noqa: ANN001
        super().__init__(engine)
        self.barrier = barrier
        self.armed = False

    def __call__(self, *, write: bool = False):  # noqa: ANN204
        uow = super().__call__(write=write)
        return _Pausing(uow, self.barrier) if write and self.armed else uow


class _Pausing:
    """A unit of work whose ``stores.get`` waits at the barrier after reading."""

    def __init__(self, inner, barrier: threading.Barrier) -> None:  # noqa: ANN001
        self._inner, self._barrier = inner, barrier

    def __enter__(self):  # noqa: ANN204
        u = self._inner.__enter__()
        get, barrier = u.stores.get, self._barrier

        def get_then_wait(store_id: str, **kwargs):  # noqa: ANN003, ANN202
            store = get(store_id, **kwargs)
            try:
                barrier.wait(timeout=0.5)
            except threading.BrokenBarrierError:
                pass
            return store
        u.stores.get = get_then_wait
        return u

    def __exit__(self, *exc):  # noqa: ANN002, ANN204
        return self._inner.__exit__(*exc)


def test_two_changes_at_once_to_one_store_both_stick(db_url):
    engine = make_engine(db_url)
    try:
        barrier = threading.Barrier(2)
        uow = PausingAfterRead(engine, barrier)
        admin = AdminService(uow, FixedClock(NOW), Catalog(uow, ttl_s=0), PlainPasswords())
        retailer = admin.create_retailer(OPERATOR, name="R")
        store = admin.create_store(OPERATOR, store_config(retailer.id))
        uow.armed = True
        changes = [StoreChange(name="Renamed"), StoreChange(max_party_size=7)]
        errors: list[BaseException] = []

        def change(c: StoreChange) -> None:
            try:
                admin.update_store(OPERATOR, store.store_id, c)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
        threads = [threading.Thread(target=change, args=(c,)) for c in changes]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=20)
        assert not errors
        uow.armed = False
        after = admin.get_store(OPERATOR, store.store_id)
        assert (after.name, after.max_party_size) == ("Renamed", 7)
    finally:
        engine.dispose()
