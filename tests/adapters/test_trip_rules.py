"""The trip repository's write rules, held alike by both databases and the in-memory store.

HARD anti-passback: one open trip per (store, passback key). Closing and payment reports are
conditional writes that say whether they changed the trip.
"""
from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import timedelta
from decimal import Decimal

import pytest

from entrygate.adapters.clock import FixedClock
from entrygate.adapters.db.engine import make_engine
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.adapters.memory.storage import MemoryStore
from entrygate.domain.channels import TripStatus
from entrygate.domain.records import Trip
from entrygate.services.admin.service import AdminService
from entrygate.services.catalog import Catalog
from entrygate.services.ports.storage import TripAlreadyOpen
from support.databases import drop_database, fresh_database
from support.factories import NOW, OPERATOR, PlainPasswords, store_config


@pytest.fixture(scope="module")
def module_db(backend, tmp_path_factory):
    url = fresh_database(backend, tmp_path_factory.mktemp("trip-rules"), name="trips")
    engine = make_engine(url)
    yield SqlUnitOfWorkFactory(engine)
    engine.dispose()
    drop_database(url)


def new_store(uow) -> str:  # noqa: ANN001
    admin = AdminService(uow, FixedClock(NOW), Catalog(uow, ttl_s=0), PlainPasswords())
    retailer = admin.create_retailer(OPERATOR, name="R")
    return admin.create_store(OPERATOR, store_config(retailer.id)).store_id


def trip(store_id: str, visitor: str, *, hard: bool = True) -> Trip:
    return Trip(trip_id="trip_" + uuid.uuid4().hex, store_id=store_id, entry_gate_id="lane-1", channel="QR_CODE",
                visitor_id=visitor, instrument_id=None, party_size=1, status=TripStatus.OPEN, entered_at=NOW,
                currency="USD", passback_key=visitor if hard else None)


def add(uow, t: Trip) -> None:  # noqa: ANN001
    with uow(write=True) as u:
        u.trips.add(t)
        u.commit()


def ids(uow, store_id: str) -> set[str]:  # noqa: ANN001
    with uow() as u:
        return {t.trip_id for t in u.trips.list(store_id, status="OPEN")}


# -- the contract ------------------------------------------------------------------------------


def one_open_trip_per_key_and_the_write_goes_on(uow) -> None:  # noqa: ANN001
    store = new_store(uow)
    first, second, other = trip(store, "v1"), trip(store, "v1"), trip(store, "v2")
    with uow(write=True) as u:
        u.trips.add(first)
        with pytest.raises(TripAlreadyOpen):
            u.trips.add(second)
        u.trips.add(other)  # the transaction is still good for the rest of its writes
        u.commit()
    assert ids(uow, store) == {first.trip_id, other.trip_id}
    with pytest.raises(TripAlreadyOpen):  # and in a later transaction too
        add(uow, trip(store, "v1"))


def other_stores_and_trips_without_a_key_never_clash(uow) -> None:  # noqa: ANN001
    store, elsewhere = new_store(uow), new_store(uow)
    add(uow, trip(store, "v1"))
    add(uow, trip(elsewhere, "v1"))
    soft = [trip(store, "v1", hard=False), trip(store, "v1", hard=False)]
    for t in soft:
        add(uow, t)
    assert len(ids(uow, store)) == 3 and len(ids(uow, elsewhere)) == 1


def a_closed_trip_frees_its_key_and_closes_once(uow) -> None:  # noqa: ANN001
    store = new_store(uow)
    first = trip(store, "v1")
    add(uow, first)
    with uow(write=True) as u:
        assert u.trips.close(first.trip_id, at=NOW, gate_id="exit-1") is True
        assert u.trips.close(first.trip_id, at=NOW, gate_id="exit-2") is False
        u.commit()
    again = trip(store, "v1")
    add(uow, again)
    assert ids(uow, store) == {again.trip_id}
    with uow() as u:
        assert u.trips.get(first.trip_id).exit_gate_id == "exit-1"


def an_older_payment_report_never_replaces_a_newer_one(uow) -> None:  # noqa: ANN001
    store = new_store(uow)
    t = trip(store, "v1")
    add(uow, t)
    newer, older = NOW + timedelta(minutes=10), NOW + timedelta(minutes=5)
    with uow(write=True) as u:
        assert u.trips.report_payment(t.trip_id, total=Decimal(20), settled=Decimal(20), status_time=newer, at=NOW)
        assert not u.trips.report_payment(t.trip_id, total=Decimal(20), settled=Decimal(0), status_time=older, at=NOW)
        u.commit()
    with uow() as u:
        stored = u.trips.get(t.trip_id)
    assert (stored.settled_amount, stored.payment_status_time) == (Decimal(20), newer)
    with uow(write=True) as u:  # the same time again: the later arrival stands, as before
        assert u.trips.report_payment(t.trip_id, total=Decimal(20), settled=Decimal(5), status_time=newer, at=NOW)
        u.commit()


def a_waiting_insert_yields_to_the_one_that_commits(uow) -> None:  # noqa: ANN001
    """Two transactions insert one key; the second, however it waits, is refused once the first commits."""
    store = new_store(uow)
    inserted = threading.Event()
    go = threading.Event()

    def first() -> None:
        with uow(write=True) as u:
            u.trips.add(trip(store, "v1"))
            inserted.set()
            assert go.wait(10)
            u.commit()

    def second() -> str:
        assert inserted.wait(10)
        go.set()  # the first commits while (or before) this one inserts
        try:
            add(uow, trip(store, "v1"))
        except TripAlreadyOpen:
            return "refused"
        return "inserted"

    with ThreadPoolExecutor(2) as pool:
        a, b = pool.submit(first), pool.submit(second)
        a.result(timeout=20)
        assert b.result(timeout=20) == "refused"
    assert len(ids(uow, store)) == 1


CONTRACT = [one_open_trip_per_key_and_the_write_goes_on, other_stores_and_trips_without_a_key_never_clash,
            a_closed_trip_frees_its_key_and_closes_once, an_older_payment_report_never_replaces_a_newer_one,
            a_waiting_insert_yields_to_the_one_that_commits]


@pytest.mark.parametrize("rule", CONTRACT, ids=[r.__name__ for r in CONTRACT])
def test_on_the_database(module_db, rule):
    rule(module_db)


@pytest.mark.parametrize("rule", CONTRACT, ids=[r.__name__ for r in CONTRACT])
def test_in_memory(rule):
    rule(MemoryStore())


# -- what the in-memory store adds to be held to it ---------------------------------------------


def test_in_memory_a_unit_of_work_opened_earlier_cannot_open_a_second_trip():
    memory = MemoryStore()
    store = new_store(memory)
    with memory() as early:  # not a write unit of work: it does not wait for the writer
        add(memory, trip(store, "v1"))
        early.trips.add(trip(store, "v1"))  # its copy predates the other trip
        with pytest.raises(TripAlreadyOpen):
            early.commit()
    assert len(ids(memory, store)) == 1


def test_in_memory_a_stale_unit_of_work_does_not_undo_another_ones_write():
    memory = MemoryStore()
    store = new_store(memory)
    t = trip(store, "v1")
    add(memory, t)
    with memory() as stale:
        with memory(write=True) as u:
            assert u.trips.close(t.trip_id, at=NOW, gate_id="exit-1")
            u.commit()
        stale.trips.add(trip(store, "v2"))  # an unrelated write, committed after the close
        stale.commit()
    with memory() as u:
        assert u.trips.get(t.trip_id).status is TripStatus.CLOSED


def test_in_memory_write_units_of_work_run_one_at_a_time():
    """A second exit's close waits for the first one's unit of work, then finds the trip closed."""
    memory = MemoryStore()
    store = new_store(memory)
    t = trip(store, "v1")
    add(memory, t)
    first_closed, go = threading.Event(), threading.Event()

    def close(*, hold: bool) -> bool:
        with memory(write=True) as u:
            closed = u.trips.close(t.trip_id, at=NOW, gate_id="exit-1")
            if hold:
                first_closed.set()
                assert go.wait(10)
            u.commit()
        return closed

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(close, hold=True)
        assert first_closed.wait(10)
        second = pool.submit(close, hold=False)
        done, _ = wait([second], timeout=0.3)
        go.set()
        assert not done, "a second writer ran while the first was in the middle of its unit of work"
        assert (first.result(10), second.result(10)) == (True, False)


# -- a payment report that read the trip before a newer one was stored ---------------------------


class HeldClock:
    """The clock a report reads just before it writes; for the thread named ``older`` it waits there."""

    def __init__(self) -> None:
        self.reached, self.go = threading.Event(), threading.Event()

    def now(self):  # noqa: ANN201
        if threading.current_thread().name == "older":
            self.reached.set()
            assert self.go.wait(10)
        return NOW


def test_an_older_report_that_read_first_and_wrote_last_does_not_stand(module_db):
    """PostgreSQL: the older report passes its read of the stored time, waits, and writes after the newer
    one committed. (SQLite's writers, and the in-memory store's, run one at a time: no such interleaving.)"""
    if module_db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite runs one writer at a time")
    from entrygate.services.payments.feedback import FeedbackService, PaymentReport

    store = new_store(module_db)
    t = trip(store, "v1", hard=False)
    add(module_db, t)
    clock = HeldClock()
    feedback = FeedbackService(module_db, clock)

    def report(settled: int, minutes: int) -> str:
        return feedback.report_payment(OPERATOR, PaymentReport(store, t.trip_id, Decimal(20), "USD", Decimal(settled),
                                                               "USD", NOW + timedelta(minutes=minutes))).status

    older = threading.Thread(target=report, args=(0, -10), name="older")
    older.start()
    try:
        assert clock.reached.wait(10)
        assert report(20, -5) == "Accepted"  # the newer report, paid in full, commits first
    finally:
        clock.go.set()
        older.join(10)
    with module_db() as u:
        stored = u.trips.get(t.trip_id)
    assert (stored.settled_amount, stored.payment_status_time) == (Decimal(20), NOW + timedelta(minutes=-5))
