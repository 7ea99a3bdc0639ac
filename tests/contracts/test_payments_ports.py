"""The payments storage ports: the same assertions on the in-memory fake, SQLite and PostgreSQL.

Every write another worker could race is conditional; these tests race them for real (threads
on one database, each with its own connection) and check that exactly one writer wins.
"""
from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta

import pytest

from entrygate.adapters.clock import FixedClock
from entrygate.adapters.db.payments import SqlPaymentsUnitOfWorkFactory
from entrygate.adapters.memory.payments import MemoryPayments
from entrygate.adapters.memory.storage import MemoryStore
from entrygate.domain.channels import TripStatus
from entrygate.domain.holds import HoldOperation, HoldStatus, PaymentOutcome, Plan, ProcessorStep, apply_capture
from entrygate.domain.trips import ClosedBy, TripPolicy
from entrygate.services.payments.holds import HoldService
from entrygate.services.payments.sweeps import TripSweeper
from entrygate.services.ports.payments import HoldAnswer
from support.contracts import add_decisions, decision, later, shop
from support.payments_storage import NOW, intent, open_backend, opened, trip_state, usd


@pytest.fixture
def ports(engine):  # noqa: ANN001 - the contract tests' engine: None for memory, else an empty database
    backend = open_backend(engine)
    backend.store()
    yield backend
    backend.close()


def at_once(calls: list[Callable[[], object]]) -> list[object]:
    """Run the calls on their own threads, released together; bounded in time."""
    barrier = threading.Barrier(len(calls), timeout=10)

    def run(call: Callable[[], object]) -> object:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return [f.result(timeout=30) for f in [pool.submit(run, c) for c in calls]]


def write(uow, action: Callable[[object], bool]) -> bool:  # noqa: ANN001
    with uow(write=True) as u:
        done = action(u)
        u.commit()
    return done


# -- the trips ---------------------------------------------------------------------------------------

def test_a_trip_reads_back_as_stored_and_an_unknown_one_is_none(ports):
    trip = ports.trip(trip_state(total_amount=None))
    with ports.uow() as u:
        assert u.trips.get_state(trip.trip_id) == trip
        assert u.trips.get_state("trip_nope") is None


def test_a_trip_closes_once_and_keeps_who_closed_it(ports):
    trip = ports.trip(trip_state())
    later = NOW + timedelta(minutes=5)
    assert write(ports.uow, lambda u: u.trips.close(trip.trip_id, at=later, closed_by=ClosedBy.TIMEOUT))
    assert not write(ports.uow, lambda u: u.trips.close(trip.trip_id, at=later + timedelta(minutes=1),
                                                        closed_by=ClosedBy.RETAILER))
    assert not write(ports.uow, lambda u: u.trips.close("trip_nope", at=later, closed_by=ClosedBy.RETAILER))
    with ports.uow() as u:
        state = u.trips.get_state(trip.trip_id)
    assert (state.status, state.closed_at, state.closed_by) == (TripStatus.CLOSED, later, ClosedBy.TIMEOUT)


def test_an_uncommitted_close_leaves_the_trip_open(ports):
    trip = ports.trip(trip_state())
    with ports.uow(write=True) as u:
        assert u.trips.close(trip.trip_id, at=NOW, closed_by=ClosedBy.OPERATOR)
    with ports.uow() as u:
        assert u.trips.get_state(trip.trip_id).status is TripStatus.OPEN


def test_two_workers_closing_one_trip_at_once_close_it_once(ports):
    trips = [ports.trip(trip_state()) for _ in range(5)]
    others = [ports.another_process() for _ in range(4)]
    closers = [ClosedBy.TIMEOUT, ClosedBy.RETAILER, ClosedBy.OPERATOR, ClosedBy.TIMEOUT]
    for trip in trips:
        def close(uow, by: ClosedBy, trip_id: str = trip.trip_id) -> bool:  # noqa: ANN001
            return write(uow, lambda u: u.trips.close(trip_id, at=NOW, closed_by=by))
        won = at_once([lambda uow=uow, by=by: close(uow, by) for uow, by in zip(others, closers)])
        assert won.count(True) == 1


def test_overdue_trips_come_oldest_first_then_by_id_and_only_the_stores_open_ones(ports):
    ports.store("store-2")
    h = timedelta(hours=1)
    due = [ports.trip(trip_state(i, entered_at=NOW - at)) for i, at in
           [("t-c", 4 * h), ("t-b", 5 * h), ("t-a", 4 * h), ("t-d", 3 * h)]]
    ports.trip(trip_state("t-late", entered_at=NOW - h))
    ports.trip(trip_state("t-closed", entered_at=NOW - 6 * h, status=TripStatus.CLOSED, closed_at=NOW - 5 * h))
    ports.trip(trip_state("t-other", store_id="store-2", entered_at=NOW - 6 * h))
    with ports.uow() as u:
        assert u.trips.list_overdue("store-1", entered_before=NOW - 3 * h, limit=10) == ["t-b", "t-a", "t-c", "t-d"]
        assert u.trips.list_overdue("store-1", entered_before=NOW - 3 * h, limit=2) == ["t-b", "t-a"]
        assert u.trips.list_overdue("store-1", entered_before=NOW - 6 * h, limit=10) == []
    assert len(due) == 4


def test_a_payment_report_shows_on_the_trip(ports):
    trip = ports.trip(trip_state())
    with ports.uow(write=True) as u:
        u.trips.report_payment(trip.trip_id, total=usd("18.40").amount, settled=usd(0).amount, status_time=NOW, at=NOW)
        u.commit()
    with ports.uow() as u:
        state = u.trips.get_state(trip.trip_id)
    assert (state.total_amount, state.settled_amount) == (usd("18.40").amount, 0)


def test_trip_policies_are_listed_by_store(ports):
    ports.store("store-0", max_trip_minutes=5, preauth_release_hours=0)
    with ports.uow() as u:
        assert u.trip_policies.list() == [TripPolicy("store-0", 5, 0), TripPolicy("store-1", 180, 24)]


# -- the holds and their intents ---------------------------------------------------------------------

def _answer(trip_id: str, hold) -> HoldAnswer:  # noqa: ANN001
    return HoldAnswer(trip_id, hold.summary(), PaymentOutcome(usd("18.40"), usd("18.40")), ProcessorStep.INCREMENT)


def test_an_intent_marks_the_hold_busy_until_it_is_completed(ports):
    trip = ports.trip(trip_state())
    hold, first = opened(trip), intent(trip.trip_id)
    assert write(ports.uow, lambda u: u.holds.save_intent(first, hold=hold, expected_version=0))
    with ports.uow() as u:
        stored = u.holds.get(trip.trip_id)
        assert (stored.hold, stored.version, stored.pending) == (hold, 0, first)
        assert u.holds.get_intent(first.scope, first.idempotency_key) == first
        assert u.holds.get_intent(first.scope, "other") is None and u.holds.get("trip_nope") is None
    busy = intent(trip.trip_id)
    assert not write(ports.uow, lambda u: u.holds.save_intent(busy, hold=hold, expected_version=0))
    captured = apply_capture(hold, first.plan, raised=None, collected=usd("18.40"), at=NOW).hold
    answer = _answer(trip.trip_id, captured)
    assert write(ports.uow, lambda u: u.holds.complete_intent(first.operation_id, hold=captured, answer=answer,
                                                              refusal=None, at=NOW))
    assert not write(ports.uow, lambda u: u.holds.complete_intent(first.operation_id, hold=captured, answer=answer,
                                                                  refusal=None, at=NOW))
    with ports.uow() as u:
        stored = u.holds.get(trip.trip_id)
        done = u.holds.get_intent(first.scope, first.idempotency_key)
        assert u.holds.get_intent(busy.scope, busy.idempotency_key) is None
    assert (stored.hold, stored.version, stored.pending) == (captured, 1, None)
    assert stored.hold.history[-1].operation is HoldOperation.CAPTURE
    assert done == replace(first, answer=answer, completed_at=NOW) and not done.pending


def test_a_stale_version_or_a_taken_key_writes_nothing(ports):
    trip, other = ports.trip(trip_state()), ports.trip(trip_state())
    hold, first = opened(trip), intent(trip.trip_id, key="k1")
    assert write(ports.uow, lambda u: u.holds.save_intent(first, hold=hold, expected_version=0))
    assert write(ports.uow, lambda u: u.holds.complete_intent(first.operation_id, hold=hold,
                                                              answer=_answer(trip.trip_id, hold), refusal="no", at=NOW))
    assert not write(ports.uow, lambda u: u.holds.save_intent(intent(trip.trip_id), hold=hold, expected_version=0))
    assert not write(ports.uow, lambda u: u.holds.save_intent(intent(trip.trip_id), hold=hold, expected_version=2))
    assert not write(ports.uow, lambda u: u.holds.save_intent(intent(other.trip_id, key="k1"), hold=opened(other),
                                                              expected_version=0))
    with ports.uow() as u:
        assert u.holds.get(other.trip_id) is None  # the taken key left no hold behind
        assert u.holds.get_intent(first.scope, "k1").refusal == "no"
    # The same unit of work goes on after a refused write: the refusal undid only itself.
    with ports.uow(write=True) as u:
        assert not u.holds.save_intent(intent(other.trip_id, key="k1"), hold=opened(other), expected_version=0)
        assert u.holds.save_intent(intent(other.trip_id, key="k2"), hold=opened(other), expected_version=0)
        assert u.holds.save_intent(intent(trip.trip_id, key="k3"), hold=hold, expected_version=1)
        u.commit()
    with ports.uow() as u:
        assert u.holds.get(other.trip_id).pending.idempotency_key == "k2"
        assert u.holds.get(trip.trip_id).pending.idempotency_key == "k3"


def test_a_plan_without_amounts_and_a_refusal_read_back(ports):
    trip = ports.trip(trip_state())
    hold = opened(trip)
    cancel = intent(trip.trip_id, plan=Plan(HoldOperation.CANCEL, release=True))
    raise_first = intent(trip.trip_id, plan=Plan(HoldOperation.ADJUST, usd(40), raise_to=usd(40)))
    assert write(ports.uow, lambda u: u.holds.save_intent(cancel, hold=hold, expected_version=0))
    answer = HoldAnswer(trip.trip_id, hold.summary(), None, ProcessorStep.RELEASE)
    assert write(ports.uow, lambda u: u.holds.complete_intent(cancel.operation_id, hold=hold, answer=answer,
                                                              refusal="refused", at=NOW))
    assert write(ports.uow, lambda u: u.holds.save_intent(raise_first, hold=hold, expected_version=1))
    with ports.uow() as u:
        assert u.holds.get_intent(cancel.scope, cancel.idempotency_key) == replace(
            cancel, answer=answer, refusal="refused", completed_at=NOW)
        assert u.holds.get(trip.trip_id).pending == raise_first


def test_savers_racing_on_one_hold_leave_one_intent(ports):
    trip = ports.trip(trip_state())
    others = [ports.another_process() for _ in range(4)]
    intents = [intent(trip.trip_id) for _ in others]
    won = at_once([lambda uow=uow, i=i: write(uow, lambda u: u.holds.save_intent(i, hold=opened(trip),
                                                                                 expected_version=0))
                   for uow, i in zip(others, intents)])
    assert won.count(True) == 1
    with ports.uow() as u:
        assert u.holds.get(trip.trip_id).pending == intents[won.index(True)]


def test_a_lapsed_lease_is_claimed_once_and_a_live_or_finished_one_never(ports):
    trip = ports.trip(trip_state())
    hold, pending = opened(trip), intent(trip.trip_id, lease_until=NOW)
    assert write(ports.uow, lambda u: u.holds.save_intent(pending, hold=hold, expected_version=0))
    early = NOW - timedelta(seconds=1)
    assert not write(ports.uow, lambda u: u.holds.claim_intent(pending.operation_id, now=early, lease_until=NOW))
    others = [ports.another_process() for _ in range(3)]
    lease = NOW + timedelta(minutes=1)
    won = at_once([lambda uow=uow: write(uow, lambda u: u.holds.claim_intent(pending.operation_id, now=NOW,
                                                                             lease_until=lease))
                   for uow in others])
    assert won.count(True) == 1
    with ports.uow() as u:
        assert u.holds.get(trip.trip_id).pending.lease_until == lease
    assert not write(ports.uow, lambda u: u.holds.claim_intent(pending.operation_id, now=NOW, lease_until=lease))
    assert write(ports.uow, lambda u: u.holds.complete_intent(pending.operation_id, hold=hold,
                                                              answer=_answer(trip.trip_id, hold), refusal=None, at=NOW))
    late = lease + timedelta(hours=1)
    assert not write(ports.uow, lambda u: u.holds.claim_intent(pending.operation_id, now=late, lease_until=late))
    assert not write(ports.uow, lambda u: u.holds.claim_intent("op_nope", now=late, lease_until=late))


def test_completers_racing_on_one_intent_complete_it_once(ports):
    trip = ports.trip(trip_state())
    hold, pending = opened(trip), intent(trip.trip_id)
    assert write(ports.uow, lambda u: u.holds.save_intent(pending, hold=hold, expected_version=0))
    others = [ports.another_process() for _ in range(3)]
    won = at_once([lambda uow=uow: write(uow, lambda u: u.holds.complete_intent(
        pending.operation_id, hold=hold, answer=_answer(trip.trip_id, hold), refusal=None, at=NOW)) for uow in others])
    assert won.count(True) == 1
    with ports.uow() as u:
        assert u.holds.get(trip.trip_id).version == 1


def _release_world(ports):  # noqa: ANN001, ANN202
    """Closed trips in every state a release sweep meets; returns the ids it must list, in order."""
    h = timedelta(hours=1)
    closed = dict(status=TripStatus.CLOSED, entered_at=NOW - 30 * h, closed_at=NOW - 25 * h)
    for trip_id in ["r-01", "r-02", "r-03", "r-04", "r-05", "r-06", "r-07"]:
        ports.trip(trip_state(trip_id, **closed))
    ports.trip(trip_state("r-00-recent", status=TripStatus.CLOSED, entered_at=NOW - 2 * h, closed_at=NOW - h))
    ports.trip(trip_state("r-00-open", entered_at=NOW - 30 * h))
    ports.trip(trip_state("r-00-no-preauth", preauthorized=False, **closed))
    ports.store("store-2")
    ports.trip(trip_state("r-00-other-store", store_id="store-2", **closed))

    def settle(trip_id: str, status: HoldStatus | None, *, lease_until=None) -> None:  # noqa: ANN001
        with ports.uow() as u:
            trip = u.trips.get_state(trip_id)
        hold, pending = opened(trip), intent(trip_id, lease_until=lease_until or NOW)
        assert write(ports.uow, lambda u: u.holds.save_intent(pending, hold=hold, expected_version=0))
        if status is not None:
            after = replace(hold, status=status)
            assert write(ports.uow, lambda u: u.holds.complete_intent(
                pending.operation_id, hold=after, answer=_answer(trip_id, after), refusal=None, at=NOW))

    settle("r-02", HoldStatus.HELD)  # adjusted, still held
    settle("r-03", HoldStatus.FAILED)  # the processor declined the capture and keeps the hold
    settle("r-04", HoldStatus.CAPTURED)
    settle("r-05", HoldStatus.RELEASED)
    settle("r-06", None, lease_until=NOW + h)  # an operation in flight
    settle("r-07", None, lease_until=NOW - h)  # left by a crashed worker
    return ["r-01", "r-02", "r-03", "r-07"]


def test_holds_to_release_are_the_unsettled_ones_of_trips_closed_long_enough(ports):
    expected = _release_world(ports)
    with ports.uow() as u:
        listed = u.holds.list_to_release("store-1", closed_before=NOW - timedelta(hours=24), now=NOW, limit=50)
        assert listed == expected
        assert u.holds.list_to_release("store-1", closed_before=NOW - timedelta(hours=26), now=NOW, limit=50) == []
        # Past the in-flight operation's lease it is listed too.
        later = u.holds.list_to_release("store-1", closed_before=NOW, now=NOW + timedelta(hours=2), limit=50)
    assert later == sorted([*expected, "r-00-recent", "r-06"])


def test_holds_to_release_page_by_trip_id(ports):
    expected = _release_world(ports)
    pages, after = [], None
    with ports.uow() as u:
        while True:
            page = u.holds.list_to_release("store-1", closed_before=NOW - timedelta(hours=24), now=NOW, limit=3,
                                           after=after)
            pages.append(page)
            if len(page) < 3:
                break
            after = page[-1]
    assert pages == [expected[:3], expected[3:]]


# -- two sweepers over one database ------------------------------------------------------------------

class ReleaseLog:
    """A processor that only releases, and writes each release down (from any thread)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.released: list[str] = []

    def release(self, *, preauth_id: str, idempotency_key: str) -> None:
        with self.lock:
            self.released.append(preauth_id)


class _MeetingTrips:
    def __init__(self, trips, meet: Callable[[], None]) -> None:  # noqa: ANN001
        self._trips, self._meet = trips, meet

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self._trips, name)

    def list_overdue(self, *args, **kwargs) -> list[str]:  # noqa: ANN002, ANN003
        due = self._trips.list_overdue(*args, **kwargs)
        self._meet()
        return due


class _MeetingUnit:
    def __init__(self, unit, meet: Callable[[], None]) -> None:  # noqa: ANN001
        self._unit, self._meet = unit, meet

    def __enter__(self) -> _MeetingUnit:
        u = self._unit.__enter__()
        self.trips, self.holds, self.trip_policies = _MeetingTrips(u.trips, self._meet), u.holds, u.trip_policies
        return self

    def __exit__(self, *exc: object) -> None:
        self._unit.__exit__(*exc)

    def commit(self) -> None:
        self._unit.commit()


class MeetingUow:
    """A sweeper's storage whose first read of the overdue trips waits for the other sweeper's:
    both then hold the same list and close the same trips."""

    def __init__(self, inner, barrier: threading.Barrier) -> None:  # noqa: ANN001
        self._inner, self._barrier, self._met = inner, barrier, False

    def _meet(self) -> None:
        if not self._met:
            self._met = True
            self._barrier.wait()

    def __call__(self, *, write: bool = False) -> _MeetingUnit:
        return _MeetingUnit(self._inner(write=write), self._meet)


def test_two_sweepers_close_every_overdue_trip_once_and_release_each_hold_once(ports):
    ports.store(max_trip_minutes=60, preauth_release_hours=0)
    trips = [ports.trip(trip_state(f"s-{i:03d}", entered_at=NOW - timedelta(minutes=61 + i % 7))) for i in range(60)]
    ports.trip(trip_state("s-fresh", entered_at=NOW - timedelta(minutes=30)))
    clock, processor = FixedClock(NOW), ReleaseLog()
    barrier = threading.Barrier(2, timeout=10)
    sweepers = []
    for _ in range(2):
        uow = MeetingUow(ports.another_process(), barrier)
        sweepers.append(TripSweeper(uow, HoldService(uow, processor, clock), clock, batch_size=25))
    reports = at_once([s.sweep for s in sweepers])
    assert sum(r.closed for r in reports) == len(trips)
    assert sum(r.released for r in reports) == len(trips) and sum(r.deferred for r in reports) == 0
    assert Counter(processor.released) == Counter(t.preauth_id for t in trips)
    with ports.uow() as u:
        states = [u.trips.get_state(t.trip_id) for t in trips]
        assert u.trips.get_state("s-fresh").status is TripStatus.OPEN
        assert all(u.holds.get(t.trip_id).hold.status is HoldStatus.RELEASED for t in trips)
    assert {(s.status, s.closed_by, s.closed_at) for s in states} == {(TripStatus.CLOSED, ClosedBy.TIMEOUT, NOW)}


# -- the holds of denied taps ------------------------------------------------------------------------

def test_denied_holds_are_listed_in_order_by_page_until_noted_released_once(storage):
    where = shop(storage)
    payments = MemoryPayments(storage) if isinstance(storage, MemoryStore) else SqlPaymentsUnitOfWorkFactory(storage)
    deny = dict(outcome="DENY", reasons=["ALREADY_INSIDE"], authorized_amount=None, currency=None)
    held = [decision(where, preauth_id=f"pa_{i}", decided_at=later(2 - i), **deny) for i in range(3)]
    add_decisions(storage, *held, decision(where, preauth_id="pa_young", decided_at=later(90), **deny),
                  decision(where, preauth_id="pa_open", decided_at=later(1)), decision(where, **deny))
    with payments() as u:
        first = u.holds.list_orphans(decided_before=later(60), limit=2)
        rest = u.holds.list_orphans(decided_before=later(60), limit=2, after=first[-1])
    assert [o.preauth_id for o in first + rest] == ["pa_2", "pa_1", "pa_0"]
    assert first[0].release_key == f"{where.gate.gate_pk}:{held[2].event_id}:release"
    note = lambda u: u.holds.mark_orphan_released(where.gate.gate_pk, held[1].event_id, at=later(61))  # noqa: E731
    assert write(payments, note) and not write(payments, note)
    with payments() as u:
        assert [o.preauth_id for o in u.holds.list_orphans(decided_before=later(60), limit=9)] == ["pa_2", "pa_0"]
