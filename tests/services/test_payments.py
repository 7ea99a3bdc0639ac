"""The payments use cases on in-memory ports and the sandbox processor: no database, no HTTP."""
from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest

from entrygate.domain.channels import TripStatus
from entrygate.domain.holds import HoldRefusal, HoldStatus, PaymentOutcome, ProcessorStep
from entrygate.domain.keys import KeyKind
from entrygate.domain.trips import ClosedBy, CloseResult
from entrygate.services.auth import Principal
from entrygate.services.errors import Conflict, Forbidden, InvalidRequest, NotFound, Unavailable
from entrygate.services.payments.holds import DEFAULT_LEASE, PreauthorizationConflict, processor_key
from support.payments import NOW, OPERATOR, OTHER_RETAILER, RETAILER, PaymentsWorld, money


def payment(w: PaymentsWorld, trip_id: str) -> tuple[Decimal | None, Decimal | None]:
    state = w.state(trip_id)
    return state.total_amount, state.settled_amount


def refusal(exc_info: pytest.ExceptionInfo) -> str:
    assert isinstance(exc_info.value, PreauthorizationConflict)
    return exc_info.value.reason


# -- the operations, end to end on the sandbox -----------------------------------------------------

def test_a_capture_within_the_hold_settles_the_trip_as_a_payment_report_would():
    w = PaymentsWorld()
    trip = w.trip(amount=25)
    answer = w.holds.capture(RETAILER, trip.trip_id, amount=money("18.40"), idempotency_key="k1")
    assert answer.preauthorization.status is HoldStatus.CAPTURED
    assert answer.preauthorization.captured == money("18.40") and answer.preauthorization.held == money(25)
    assert answer.outcome == PaymentOutcome(money("18.40"), money("18.40")) and not answer.replayed
    assert payment(w, trip.trip_id) == (Decimal("18.40"), Decimal("18.40"))
    assert [m for m, _ in w.processor.calls] == ["capture"]
    assert w.state(trip.trip_id).status is TripStatus.OPEN  # the trip stays as it is


def test_a_capture_above_the_hold_raises_it_first():
    w = PaymentsWorld()
    trip = w.trip(amount=25)
    answer = w.holds.capture(RETAILER, trip.trip_id, amount=money(30), idempotency_key="k1")
    assert [m for m, _ in w.processor.calls] == ["increment", "capture"]
    assert answer.preauthorization.held == answer.preauthorization.captured == money(30)
    assert payment(w, trip.trip_id) == (Decimal(30), Decimal(30))


def test_a_declined_raise_captures_the_hold_and_leaves_the_rest_unpaid():
    w = PaymentsWorld()
    trip = w.trip(token="tok_no_increment", amount=25)
    answer = w.holds.capture(RETAILER, trip.trip_id, amount=money(30), idempotency_key="k1")
    assert answer.preauthorization.status is HoldStatus.CAPTURED and answer.preauthorization.captured == money(25)
    assert answer.declined is ProcessorStep.INCREMENT
    assert payment(w, trip.trip_id) == (Decimal(30), Decimal(25))


def test_a_declined_capture_fails_with_all_unpaid_and_may_be_cancelled_later():
    w = PaymentsWorld()
    trip = w.trip(token="tok_capture_decline", amount=25)
    answer = w.holds.capture(RETAILER, trip.trip_id, amount=money(20), idempotency_key="k1")
    assert answer.preauthorization.status is HoldStatus.FAILED and answer.preauthorization.captured == money(0)
    assert payment(w, trip.trip_id) == (Decimal(20), Decimal(0))
    again = w.holds.capture(RETAILER, trip.trip_id, amount=money(20), idempotency_key="k2")
    assert again.preauthorization.status is HoldStatus.FAILED
    cancelled = w.holds.cancel(RETAILER, trip.trip_id, idempotency_key="k3")
    assert cancelled.preauthorization.status is HoldStatus.RELEASED
    assert payment(w, trip.trip_id) == (Decimal(0), Decimal(0))


def test_a_cancel_releases_the_hold_and_zeroes_the_trip_which_stays_open():
    w = PaymentsWorld()
    trip = w.trip()
    answer = w.holds.cancel(RETAILER, trip.trip_id, idempotency_key="k1")
    assert answer.preauthorization.status is HoldStatus.RELEASED
    assert payment(w, trip.trip_id) == (Decimal(0), Decimal(0))
    assert w.state(trip.trip_id).status is TripStatus.OPEN
    assert [m for m, _ in w.processor.calls] == ["release"]
    with pytest.raises(PreauthorizationConflict) as caught:
        w.holds.capture(RETAILER, trip.trip_id, amount=money(5), idempotency_key="k2")
    assert refusal(caught) == HoldRefusal.RELEASED.value


def test_adjust_moves_the_hold_while_the_trip_is_open_only():
    w = PaymentsWorld()
    trip = w.trip(amount=25)
    up = w.holds.adjust(RETAILER, trip.trip_id, amount=money(40), idempotency_key="k1")
    down = w.holds.adjust(RETAILER, trip.trip_id, amount=money(10), idempotency_key="k2")
    assert up.preauthorization.held == money(40) and down.preauthorization.held == money(10)
    assert [m for m, _ in w.processor.calls] == ["increment"]  # lowering frees nothing at the processor
    assert payment(w, trip.trip_id) == (None, None)  # an adjust settles nothing
    assert w.closing.close_trip(RETAILER, trip.trip_id).result is CloseResult.CLOSED
    with pytest.raises(PreauthorizationConflict) as caught:
        w.holds.adjust(RETAILER, trip.trip_id, amount=money(20), idempotency_key="k3")
    assert refusal(caught) == HoldRefusal.TRIP_CLOSED.value
    captured = w.holds.capture(RETAILER, trip.trip_id, amount=money(35), idempotency_key="k4")
    assert captured.preauthorization.captured == money(35)  # within the 40 the processor still holds


def test_refunds_after_the_capture_lower_total_and_settled_up_to_the_capture():
    w = PaymentsWorld()
    trip = w.trip()
    with pytest.raises(PreauthorizationConflict) as caught:
        w.holds.refund(RETAILER, trip.trip_id, amount=money(5), idempotency_key="k0")
    assert refusal(caught) == HoldRefusal.NOT_CAPTURED.value
    w.holds.capture(RETAILER, trip.trip_id, amount=money(20), idempotency_key="k1")
    answer = w.holds.refund(RETAILER, trip.trip_id, amount=money(15), idempotency_key="k2")
    assert answer.preauthorization.refunded == money(15) and answer.preauthorization.status is HoldStatus.CAPTURED
    assert payment(w, trip.trip_id) == (Decimal(5), Decimal(5))
    with pytest.raises(PreauthorizationConflict) as caught:
        w.holds.refund(RETAILER, trip.trip_id, amount=money(6), idempotency_key="k3")
    assert refusal(caught) == HoldRefusal.REFUND_ABOVE_CAPTURE.value
    w.clock.advance(days=31)
    with pytest.raises(PreauthorizationConflict) as caught:
        w.holds.refund(RETAILER, trip.trip_id, amount=money(1), idempotency_key="k4")
    assert refusal(caught) == HoldRefusal.REFUND_WINDOW_CLOSED.value
    assert w.processor.keys("refund").total() == 1


def test_the_hold_keeps_its_history():
    w = PaymentsWorld()
    trip = w.trip()
    w.holds.adjust(RETAILER, trip.trip_id, amount=money(30), idempotency_key="k1")
    w.holds.capture(RETAILER, trip.trip_id, amount=money(28), idempotency_key="k2")
    hold = w.holds.get(RETAILER, trip.trip_id)
    assert [(e.operation.value, e.status.value) for e in hold.history] == [("ADJUST", "HELD"), ("CAPTURE", "CAPTURED")]
    assert w.holds.get(RETAILER, w.trip(preauthorized=False).trip_id) is None


# -- bad input and scope ---------------------------------------------------------------------------

@pytest.mark.parametrize("amount, field", [
    (None, "amount"), (money(-1), "amount.value"), (money(0), "amount.value"),
    (money(5, "EUR"), "amount.currencyCode"), (money("0.001"), "amount.value"),
])
def test_bad_amounts_are_refused_naming_the_field_and_nothing_is_sent(amount, field):
    w = PaymentsWorld()
    trip = w.trip()
    with pytest.raises(InvalidRequest) as caught:
        w.holds.capture(RETAILER, trip.trip_id, amount=amount, idempotency_key="k1")
    assert caught.value.fields == [field]
    assert w.processor.calls == [] and w.stored(trip.trip_id) is None


@pytest.mark.parametrize("value, currency, accepted", [("1.5", "JPY", False), ("1500", "JPY", True),
                                                       ("1.234", "KWD", True)])
def test_amounts_follow_the_currencys_minor_units(value, currency, accepted):
    w = PaymentsWorld()
    trip = w.trip(amount=5000, currency=currency)
    if accepted:
        answer = w.holds.capture(RETAILER, trip.trip_id, amount=money(value, currency), idempotency_key="k1")
        assert answer.preauthorization.captured == money(value, currency)
        return
    with pytest.raises(InvalidRequest) as caught:
        w.holds.capture(RETAILER, trip.trip_id, amount=money(value, currency), idempotency_key="k1")
    assert caught.value.fields == ["amount.value"]


@pytest.mark.parametrize("key", [None, "", "  ", "x" * 256, "caf\u00e9"])
def test_the_idempotency_key_is_required(key):
    w = PaymentsWorld()
    with pytest.raises(InvalidRequest) as caught:
        w.holds.cancel(RETAILER, w.trip().trip_id, idempotency_key=key)
    assert caught.value.fields == ["Idempotency-Key"]


def test_only_the_trips_retailer_or_the_operator_may_settle_it():
    w = PaymentsWorld()
    trip = w.trip()
    with pytest.raises(NotFound):
        w.holds.cancel(OTHER_RETAILER, trip.trip_id, idempotency_key="k1")
    with pytest.raises(Forbidden):
        w.holds.cancel(Principal(KeyKind.GATE, gate_pk="g1"), trip.trip_id, idempotency_key="k1")
    with pytest.raises(NotFound):
        w.holds.cancel(RETAILER, "trip_unknown", idempotency_key="k1")
    with pytest.raises(NotFound):
        w.holds.cancel(RETAILER, w.trip(preauthorized=False).trip_id, idempotency_key="k1")
    assert w.holds.cancel(OPERATOR, trip.trip_id, idempotency_key="k1").preauthorization.status is HoldStatus.RELEASED


# -- idempotency ------------------------------------------------------------------------------------

def test_the_same_key_and_body_answer_the_same_and_do_nothing_more():
    w = PaymentsWorld()
    trip = w.trip()
    first = w.holds.capture(RETAILER, trip.trip_id, amount=money("18.4"), idempotency_key="k1")
    again = w.holds.capture(RETAILER, trip.trip_id, amount=money("18.40"), idempotency_key="k1")
    assert again.replayed and again.preauthorization == first.preauthorization and again.outcome == first.outcome
    assert len(w.processor.calls) == 1
    assert len(w.stored(trip.trip_id).hold.history) == 1


@pytest.mark.parametrize("other", ["amount", "operation", "trip"])
def test_the_same_key_with_another_body_conflicts(other):
    w = PaymentsWorld()
    trip = w.trip()
    w.holds.capture(RETAILER, trip.trip_id, amount=money(10), idempotency_key="k1")
    with pytest.raises(Conflict) as caught:
        if other == "amount":
            w.holds.capture(RETAILER, trip.trip_id, amount=money(11), idempotency_key="k1")
        elif other == "operation":
            w.holds.refund(RETAILER, trip.trip_id, amount=money(10), idempotency_key="k1")
        else:
            w.holds.capture(RETAILER, w.trip().trip_id, amount=money(10), idempotency_key="k1")
    assert caught.value.fields == ["Idempotency-Key"]
    assert len(w.processor.calls) == 1


def test_keys_of_different_callers_never_meet():
    w = PaymentsWorld()
    trip = w.trip()
    w.holds.adjust(RETAILER, trip.trip_id, amount=money(30), idempotency_key="same")
    answer = w.holds.adjust(OPERATOR, trip.trip_id, amount=money(35), idempotency_key="same")
    assert answer.preauthorization.held == money(35) and not answer.replayed
    assert processor_key(trip.trip_id, "operator", "same") != processor_key(trip.trip_id, "retailer:ret-1", "same")


def test_a_refusal_by_the_processor_is_answered_again_for_the_same_key():
    w = PaymentsWorld()
    trip = w.trip()
    w.holds.capture(RETAILER, trip.trip_id, amount=money(20), idempotency_key="k1")
    w.processor.refuse.add("refund")
    with pytest.raises(PreauthorizationConflict) as caught:
        w.holds.refund(RETAILER, trip.trip_id, amount=money(5), idempotency_key="k2")
    assert refusal(caught) == HoldRefusal.PROCESSOR_REFUSED.value
    w.processor.refuse.clear()
    with pytest.raises(PreauthorizationConflict):
        w.holds.refund(RETAILER, trip.trip_id, amount=money(5), idempotency_key="k2")
    assert w.processor.keys("refund").total() == 1
    # The refusal finished the operation: the hold is free for the next one.
    assert w.holds.refund(RETAILER, trip.trip_id, amount=money(5), idempotency_key="k3").preauthorization.refunded \
        == money(5)


# -- crash safety -----------------------------------------------------------------------------------

def test_a_crash_after_the_processor_answered_is_finished_by_the_retry_without_a_second_capture():
    w = PaymentsWorld()
    trip = w.trip(amount=25)
    w.memory.fail_completions = 1
    with pytest.raises(Unavailable):
        w.holds.capture(RETAILER, trip.trip_id, amount=money(30), idempotency_key="k1")
    stored = w.stored(trip.trip_id)
    assert stored.hold.status is HoldStatus.HELD and stored.pending is not None  # the intent survived the crash
    assert payment(w, trip.trip_id) == (None, None)
    answer = w.holds.capture(RETAILER, trip.trip_id, amount=money(30), idempotency_key="k1")
    assert answer.preauthorization.status is HoldStatus.CAPTURED and answer.preauthorization.captured == money(30)
    # Both attempts sent the processor the same keys; the sandbox answered the second from the first.
    assert w.processor.keys("capture") == {f"{stored.pending.processor_key}:capture": 2}
    assert w.processor.keys("increment") == {f"{stored.pending.processor_key}:increment": 2}
    assert payment(w, trip.trip_id) == (Decimal(30), Decimal(30))
    assert w.stored(trip.trip_id).pending is None and len(w.stored(trip.trip_id).hold.history) == 1
    with pytest.raises(PreauthorizationConflict) as caught:
        w.holds.capture(RETAILER, trip.trip_id, amount=money(30), idempotency_key="k2")
    assert refusal(caught) == HoldRefusal.ALREADY_CAPTURED.value


def test_a_capture_whose_answer_was_lost_is_finished_by_the_retry():
    w = PaymentsWorld()
    trip = w.trip()
    w.processor.lose_answer.add("capture")
    with pytest.raises(Unavailable):
        w.holds.capture(RETAILER, trip.trip_id, amount=money(20), idempotency_key="k1")
    answer = w.holds.capture(RETAILER, trip.trip_id, amount=money(20), idempotency_key="k1")
    assert answer.preauthorization.captured == money(20)
    assert list(w.processor.keys("capture").values()) == [2]


def test_a_pending_intent_blocks_other_keys_until_its_lease_runs_out_then_anyone_finishes_it():
    w = PaymentsWorld()
    trip = w.trip()
    w.processor.down.add("capture")
    with pytest.raises(Unavailable):
        w.holds.capture(RETAILER, trip.trip_id, amount=money(20), idempotency_key="k1")
    w.processor.down.clear()
    with pytest.raises(PreauthorizationConflict) as caught:
        w.holds.cancel(RETAILER, trip.trip_id, idempotency_key="k2")
    assert refusal(caught) == HoldRefusal.IN_PROGRESS.value
    w.clock.advance(seconds=DEFAULT_LEASE.total_seconds() + 1)
    # The cancel first finishes the capture left pending, then finds the hold captured.
    with pytest.raises(PreauthorizationConflict) as caught:
        w.holds.cancel(RETAILER, trip.trip_id, idempotency_key="k2")
    assert refusal(caught) == HoldRefusal.ALREADY_CAPTURED.value
    replay = w.holds.capture(RETAILER, trip.trip_id, amount=money(20), idempotency_key="k1")
    assert replay.replayed and replay.preauthorization.captured == money(20)
    assert w.processor.keys("release").total() == 0 and len(w.processor.keys("capture")) == 1


def test_two_callers_with_one_key_at_once_get_one_capture_and_one_answer():
    w = PaymentsWorld()
    trip = w.trip()
    answers: list = []
    # The second request arrives while the first waits on the processor.
    w.processor.during["capture"] = lambda: answers.append(
        w.holds.capture(RETAILER, trip.trip_id, amount=money(20), idempotency_key="k1"))
    answers.append(w.holds.capture(RETAILER, trip.trip_id, amount=money(20), idempotency_key="k1"))
    assert [a.preauthorization for a in answers] == [answers[0].preauthorization] * 2
    assert len(w.processor.keys("capture")) == 1 and len(w.stored(trip.trip_id).hold.history) == 1


# -- closing trips ----------------------------------------------------------------------------------

def test_a_retailer_or_the_operator_closes_a_trip_once():
    w = PaymentsWorld()
    trip = w.trip()
    assert w.closing.close_trip(RETAILER, trip.trip_id) == (
        type(w.closing.close_trip(OPERATOR, w.trip().trip_id))(trip.trip_id, CloseResult.CLOSED, ClosedBy.RETAILER))
    again = w.closing.close_trip(OPERATOR, trip.trip_id)
    assert (again.result, again.closed_by) == (CloseResult.ALREADY_CLOSED, ClosedBy.RETAILER)
    other = w.trip()
    assert w.closing.close_trip(OPERATOR, other.trip_id).closed_by is ClosedBy.OPERATOR
    with pytest.raises(NotFound):
        w.closing.close_trip(OTHER_RETAILER, w.trip().trip_id)
    with pytest.raises(Forbidden):
        w.closing.close_trip(Principal(KeyKind.GATE, gate_pk="g"), trip.trip_id)


# -- the sweeps -------------------------------------------------------------------------------------

def test_the_sweep_closes_trips_past_max_trip_minutes_only():
    w = PaymentsWorld(max_trip_minutes=180)
    late = w.trip(entered_at=NOW - timedelta(minutes=181))
    on_time = w.trip(entered_at=NOW - timedelta(minutes=179))
    report = w.sweeper().sweep()
    assert report.closed == 1
    assert (w.state(late.trip_id).status, w.state(late.trip_id).closed_by) == (TripStatus.CLOSED, ClosedBy.TIMEOUT)
    assert w.state(on_time.trip_id).status is TripStatus.OPEN
    assert w.closing.close_trip(RETAILER, late.trip_id).closed_by is ClosedBy.TIMEOUT


def test_the_sweep_releases_holds_nobody_settled_after_preauth_release_hours():
    w = PaymentsWorld(preauth_release_hours=24)
    due = w.closed_trip(hours_ago=25)
    failed = w.closed_trip(hours_ago=25, token="tok_capture_decline")
    w.holds.capture(RETAILER, failed.trip_id, amount=money(20), idempotency_key="k1")
    not_yet = w.closed_trip(hours_ago=23)
    settled = w.closed_trip(hours_ago=25)
    w.holds.capture(RETAILER, settled.trip_id, amount=money(10), idempotency_key="k2")
    still_open = w.trip(entered_at=NOW - timedelta(minutes=30))
    report = w.sweeper().sweep()
    assert (report.closed, report.released, report.deferred) == (0, 2, 0)
    assert w.stored(due.trip_id).hold.status is HoldStatus.RELEASED
    assert w.stored(failed.trip_id).hold.status is HoldStatus.RELEASED
    assert payment(w, failed.trip_id) == (Decimal(20), Decimal(0))  # the unpaid capture still counts
    assert payment(w, due.trip_id) == (None, None)  # a release reports nothing for the retailer
    assert w.stored(not_yet.trip_id) is None and w.stored(still_open.trip_id) is None
    assert w.stored(settled.trip_id).hold.status is HoldStatus.CAPTURED
    assert w.sweeper().sweep() == type(report)()  # nothing left to do
    assert w.processor.keys("release").total() == 2


def test_with_zero_release_hours_a_timed_out_trip_is_released_in_the_same_sweep():
    w = PaymentsWorld(max_trip_minutes=5, preauth_release_hours=0)
    trip = w.trip(entered_at=NOW - timedelta(minutes=6))
    assert w.sweeper().sweep().released == 1
    assert w.stored(trip.trip_id).hold.status is HoldStatus.RELEASED


def test_the_sweep_goes_in_bounded_batches():
    w = PaymentsWorld(max_trip_minutes=5)
    trips = [w.trip(entered_at=NOW - timedelta(minutes=10 + i)) for i in range(5)]
    assert w.sweeper(batch_size=2).sweep().closed == 5
    more = [w.trip(entered_at=NOW - timedelta(minutes=10 + i)) for i in range(5)]
    bounded = w.sweeper(batch_size=2, max_batches=2)
    assert bounded.sweep().closed == 4 and bounded.sweep().closed == 1
    assert all(w.state(t.trip_id).status is TripStatus.CLOSED for t in trips + more)


class _ListsThenRuns:
    """A unit-of-work factory that runs ``hook`` once, right after its first listing of due work:
    another sweeper acting between this one's read and its writes."""

    def __init__(self, inner, hook) -> None:  # noqa: ANN001
        self.inner, self.hook = inner, hook

    def __call__(self, *, write: bool = False):  # noqa: ANN204
        return _Hooked(self.inner(write=write), self)


class _Hooked:
    def __init__(self, uow, owner: _ListsThenRuns) -> None:  # noqa: ANN001
        self.uow, self.owner = uow, owner

    def __enter__(self):  # noqa: ANN204
        inner = self.uow.__enter__()
        self.trips = _Listing(inner.trips, self.owner, "list_overdue")
        self.holds = _Listing(inner.holds, self.owner, "list_to_release")
        self.trip_policies = inner.trip_policies
        return self

    def __exit__(self, *exc: object) -> None:
        self.uow.__exit__(*exc)

    def commit(self) -> None:
        self.uow.commit()


class _Listing:
    def __init__(self, repo, owner: _ListsThenRuns, method: str) -> None:  # noqa: ANN001
        self.repo, self.owner, self.method = repo, owner, method

    def __getattr__(self, name: str):  # noqa: ANN204
        attr = getattr(self.repo, name)
        if name != self.method:
            return attr

        def listed(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            found = attr(*args, **kwargs)
            if found and self.owner.hook is not None:
                hook, self.owner.hook = self.owner.hook, None
                hook()
            return found
        return listed


@pytest.mark.parametrize("stale", ["overdue trips", "holds to release"])
def test_two_sweepers_interleaved_close_each_trip_once_and_release_each_hold_once(stale):
    w = PaymentsWorld(max_trip_minutes=5, preauth_release_hours=0)
    if stale == "overdue trips":
        trips = [w.trip(entered_at=NOW - timedelta(minutes=10 + i)) for i in range(4)]
    else:
        trips = [w.closed_trip(hours_ago=1) for _ in range(4)]
    other = w.sweeper()
    reports = []
    # B sweeps everything after A has listed its work and before A closes or releases any of it.
    first = w.sweeper(_ListsThenRuns(w.memory, lambda: reports.append(other.sweep())))
    reports.append(first.sweep())
    b, a = reports
    assert (a.closed, a.released) == (0, 0)  # every write A tried found B's and changed nothing
    assert b.closed == (4 if stale == "overdue trips" else 0) and b.released == 4
    assert w.processor.keys("release").total() == 4 and len(w.processor.keys("release")) == 4
    for trip in trips:
        if stale == "overdue trips":
            assert w.state(trip.trip_id).closed_by is ClosedBy.TIMEOUT
        assert w.stored(trip.trip_id).hold.status is HoldStatus.RELEASED


def test_a_sweeper_running_while_another_waits_on_the_processor_releases_nothing_twice():
    w = PaymentsWorld(preauth_release_hours=1)
    trips = [w.closed_trip(hours_ago=2) for _ in range(3)]
    other = w.sweeper()
    nested = []
    w.processor.during["release"] = lambda: nested.append(other.sweep())
    report = w.sweeper().sweep()
    assert (report.released, nested[0].released) == (1, 2)  # B took the two A had listed but not reached
    assert w.processor.keys("release").total() == 3 and len(w.processor.keys("release")) == 3
    assert all(w.stored(t.trip_id).hold.status is HoldStatus.RELEASED for t in trips)


def test_two_sweepers_in_threads_close_and_release_each_trip_once():
    w = PaymentsWorld(max_trip_minutes=5, preauth_release_hours=0)
    trips = [w.trip(entered_at=NOW - timedelta(minutes=10 + i)) for i in range(40)]
    sweepers = [w.sweeper(batch_size=7), w.sweeper(batch_size=7)]
    start = threading.Barrier(2, timeout=5)
    reports = []

    def run(sweeper) -> None:  # noqa: ANN001
        start.wait()
        reports.append(sweeper.sweep())

    threads = [threading.Thread(target=run, args=(s,)) for s in sweepers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(reports) == 2
    assert sum(r.closed for r in reports) == 40 and sum(r.released for r in reports) == 40
    assert len(w.processor.keys("release")) == 40 and w.processor.keys("release").total() == 40
    assert all(w.stored(t.trip_id).hold.status is HoldStatus.RELEASED for t in trips)


def test_a_release_cut_short_by_a_crash_is_finished_by_a_later_sweep_with_the_same_key():
    w = PaymentsWorld(preauth_release_hours=1)
    trip = w.closed_trip(hours_ago=2)
    w.memory.fail_completions = 1
    assert w.sweeper().sweep().deferred == 1
    assert w.sweeper().sweep() == type(w.sweeper().sweep())()  # still leased: left alone
    w.clock.advance(seconds=DEFAULT_LEASE.total_seconds() + 1)
    assert w.sweeper().sweep().released == 1
    assert w.stored(trip.trip_id).hold.status is HoldStatus.RELEASED
    assert list(w.processor.keys("release").values()) == [2]  # one key, sent twice


def test_holds_the_processor_refuses_to_release_do_not_keep_the_ones_behind_them_waiting():
    w = PaymentsWorld(preauth_release_hours=1)
    stuck = [w.closed_trip(hours_ago=2, trip_id=f"trip_a{i}") for i in range(3)]
    for trip in stuck:
        # Captured at the processor behind the platform's back: the processor refuses to release them.
        w.processor.inner.capture(preauth_id=trip.preauth_id, amount=money(5),
                                  idempotency_key=f"{trip.trip_id}:elsewhere")
    behind = w.closed_trip(hours_ago=2, trip_id="trip_b0")
    assert w.sweeper(batch_size=2).sweep().released == 1
    assert w.stored(behind.trip_id).hold.status is HoldStatus.RELEASED
    assert all(w.stored(t.trip_id).hold.status is HoldStatus.HELD for t in stuck)
    w.sweeper(batch_size=2).sweep()
    assert w.processor.keys("release").total() == 4  # a refused release is not sent again every run
