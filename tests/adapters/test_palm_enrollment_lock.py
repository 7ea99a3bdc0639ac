"""Palm enrollments serialised by the database, on SQLite and PostgreSQL: two palm services on one
database, each with its own engine as two processes would have, enrolling one palm at once."""
from __future__ import annotations

import concurrent.futures
import threading
import time

import numpy as np
import pytest
from sqlalchemy import func, select, text

from entrygate.adapters.clock import FixedClock
from entrygate.adapters.db import palm_store
from entrygate.adapters.db import tables as t
from entrygate.adapters.db.engine import make_engine
from entrygate.adapters.db.palm_store import SqlPalmStore
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.adapters.palm_index import PalmIndex
from entrygate.adapters.template_crypto import TemplateCipher
from entrygate.domain.keys import KeyKind
from entrygate.domain.palm import encode_signature
from entrygate.services.admin.service import AdminService
from entrygate.services.auth import Principal
from entrygate.services.catalog import Catalog
from entrygate.services.errors import Conflict, Unavailable
from entrygate.services.palm.service import PalmService
from entrygate.simulation.palm_reader import PalmPopulation, read
from support.factories import NOW, OPERATOR, SECRET, PlainPasswords, card
from support.palms import HeldIndex

POP = PalmPopulation(seed=23)
CIPHER_SECRET = "palm-lock-test-secret-" + "x" * 16


class Process:
    """What one entrygate process holds for palms: an engine, its store and its own index."""

    def __init__(self, db_url: str, *, index: PalmIndex | None = None) -> None:
        self.engine = make_engine(db_url, pool_size=4)
        self.store = SqlPalmStore(SqlUnitOfWorkFactory(self.engine))
        self.palm = PalmService(store=self.store, index=PalmIndex(dimension=128) if index is None else index,
                                cipher=lambda: TemplateCipher(CIPHER_SECRET), clock=FixedClock(NOW), secret=SECRET,
                                dimension=128, liveness_threshold=0.8)
        self.palm.load()


@pytest.fixture
def world(db_url):  # noqa: ANN001
    """(the retailer's kiosk, a way to start a process, the database's engine)."""
    engine = make_engine(db_url, pool_size=2)
    uow = SqlUnitOfWorkFactory(engine)
    retailer = AdminService(uow, FixedClock(NOW), Catalog(uow, ttl_s=0), PlainPasswords()).create_retailer(
        OPERATOR, name="R")
    started: list[Process] = []

    def start(**kw) -> Process:  # noqa: ANN003
        started.append(Process(db_url, **kw))
        return started[-1]

    yield Principal(KeyKind.RETAILER, retailer_id=retailer.id), start, engine
    for p in started:
        p.engine.dispose()
    engine.dispose()


def signature(person: int, rng: np.random.Generator) -> str:
    return encode_signature(read(POP.person(person), rng).signature)


def enrolled(engine) -> int:  # noqa: ANN001
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.palm_enrollments)).scalar_one()


def test_an_enrollment_waits_for_one_in_its_check_at_another_process(world, backend):
    kiosk, start, engine = world
    held = HeldIndex()
    a, b = start(index=held), start()
    rng = np.random.default_rng(1)
    held.arm()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        try:
            at_a = pool.submit(a.palm.enroll, kiosk, signature=signature(1, rng), card=card(), consent=True)
            assert held.checking.wait(10)
            at_b = pool.submit(b.palm.enroll, kiosk, signature=signature(1, rng), card=card(), consent=True)
            if backend == "postgres":  # seen from the database: b queues on the enrollment lock
                _until(lambda: _advisory_waiters(engine) == 1, within=10)
            done, _ = concurrent.futures.wait([at_b], timeout=0.3)
            assert not done, "the second enrollment ran its check while the first was in the middle of its own"
        finally:
            held.release.set()
        at_a.result(10)
        with pytest.raises(Conflict):
            at_b.result(10)
    assert enrolled(engine) == 1


def test_the_same_palm_enrolled_by_threads_of_two_processes_at_once_is_enrolled_once(world):
    kiosk, start, engine = world
    a, b = start(), start()
    rng = np.random.default_rng(2)
    services = [a.palm, b.palm, a.palm, b.palm]  # two processes, two requests racing in each
    for person in range(10, 15):
        gate = threading.Barrier(len(services))
        reads = [signature(person, rng) for _ in services]

        def enroll(service: PalmService, sig: str, gate: threading.Barrier = gate) -> str:
            gate.wait(10)
            try:
                return service.enroll(kiosk, signature=sig, card=card(), consent=True)
            except Conflict:
                return "conflict"

        with concurrent.futures.ThreadPoolExecutor(len(services)) as pool:
            outcomes = list(pool.map(enroll, services, reads))
        assert outcomes.count("conflict") == 3, outcomes
    assert enrolled(engine) == 5


def test_the_check_reads_only_what_was_enrolled_after_the_sync_position(world):
    kiosk, start, _ = world
    a, b = start(), start()
    rng = np.random.default_rng(3)
    ids = [a.palm.enroll(kiosk, signature=signature(p, rng), card=card(), consent=True) for p in (20, 21, 22)]
    a.palm.delete(kiosk, ids[1])
    with b.store.enrolling() as tx:
        assert sorted(s.palm_id for s in tx.enrolled_after(0)) == sorted([ids[0], ids[2]])  # the deleted one is gone
        assert [s.palm_id for s in tx.enrolled_after(1)] == [ids[2]]
        assert tx.enrolled_after(4) == []
    b.palm.sync()
    assert b.palm.status()["syncedSeq"] == 4  # after a poll, nothing is left to read under the lock
    with pytest.raises(Conflict):
        b.palm.enroll(kiosk, signature=signature(22, rng), card=card(), consent=True)


def test_an_enrollment_that_waits_too_long_for_the_lock_is_unavailable(world, backend, monkeypatch):
    if backend != "postgres":
        pytest.skip("SQLite's wait is its busy_timeout, the engine's")
    kiosk, start, engine = world
    monkeypatch.setattr(palm_store, "LOCK_TIMEOUT", "200ms")
    a = start()
    with engine.connect() as stuck:  # a writer that holds the palm lock and does not let go
        stuck.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": palm_store.PALM_LOCK_KEY})
        with pytest.raises(Unavailable):
            a.palm.enroll(kiosk, signature=signature(30, np.random.default_rng(4)), card=card(), consent=True)
        stuck.rollback()
    assert enrolled(engine) == 0
    a.palm.enroll(kiosk, signature=signature(30, np.random.default_rng(4)), card=card(), consent=True)
    assert enrolled(engine) == 1


def _advisory_waiters(engine) -> int:  # noqa: ANN001
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
                            ).scalar_one()


def _until(check, *, within: float) -> None:  # noqa: ANN001
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "did not happen in time"
        time.sleep(0.02)
