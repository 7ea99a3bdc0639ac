"""Two admins removing each other at once: one removal wins, the retailer keeps an ADMIN.

Each removal counts the retailer's admins and then deletes, in one transaction. Without the lock
on the retailer both would count two admins (each deletes another row, so nothing else makes them
wait) and both would delete; with it the second count waits for the first removal to commit and
sees one admin left.
"""
from __future__ import annotations

import threading

from entrygate.adapters.clock import FixedClock
from entrygate.adapters.db.engine import make_engine
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.domain.roles import ConsoleRole
from entrygate.services.admin.users import UserAdmin
from entrygate.services.auth import Principal
from entrygate.services.errors import Conflict
from support.contracts import retailer
from support.factories import NOW, OPERATOR, PlainPasswords


class PausingAfterCount(SqlUnitOfWorkFactory):
    """Write units of work whose admin count waits (briefly) until the other removal has counted too."""

    def __init__(self, engine, barrier: threading.Barrier) -> None:  # noqa: ANN001
        super().__init__(engine)
        self.barrier = barrier

    def __call__(self, *, write: bool = False):  # noqa: ANN204
        uow = super().__call__(write=write)
        return _Pausing(uow, self.barrier) if write else uow


class _Pausing:
    def __init__(self, inner, barrier: threading.Barrier) -> None:  # noqa: ANN001
        self._inner, self._barrier = inner, barrier

    def __enter__(self):  # noqa: ANN204
        u = self._inner.__enter__()
        count, barrier = u.users.count_role, self._barrier

        def count_then_wait(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            n = count(*args, **kwargs)
            try:
                barrier.wait(timeout=0.5)
            except threading.BrokenBarrierError:
                pass
            return n
        u.users.count_role = count_then_wait
        return u

    def __exit__(self, *exc):  # noqa: ANN002, ANN204
        return self._inner.__exit__(*exc)


def test_two_admins_removing_each_other_at_once_leave_one(db_url):
    engine = make_engine(db_url)
    try:
        plain = SqlUnitOfWorkFactory(engine)
        users = UserAdmin(plain, FixedClock(NOW), PlainPasswords())
        retailer_id = retailer(plain)
        first, second = (users.create(OPERATOR, retailer_id, email=f"admin{i}@example.com", password="x" * 12,
                                      role=ConsoleRole.ADMIN) for i in (1, 2))
        racing = UserAdmin(PausingAfterCount(engine, threading.Barrier(2)), FixedClock(NOW), PlainPasswords())
        outcomes: list[str] = []

        def remove(user_id: str) -> None:
            try:
                racing.remove(Principal(OPERATOR.kind), retailer_id, user_id)
                outcomes.append("removed")
            except Conflict:
                outcomes.append("refused")
        threads = [threading.Thread(target=remove, args=(u.user_id,)) for u in (first, second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=20)
        assert sorted(outcomes) == ["refused", "removed"]
        left = users.list(OPERATOR, retailer_id)
        assert [u.role for u in left] == [ConsoleRole.ADMIN]
    finally:
        engine.dispose()
