"""The demo's back office settles trips through their holds or through feedback, and closes nothing itself."""
from __future__ import annotations

import random
from decimal import Decimal

from entrygate.retailer.reporting import PlatformFeedback
from entrygate.retailer.settlement import PlatformSettlement
from entrygate.simulation.back_office import EMPTY_BASKET_EVERY, BackOffice, EndedTrip
from entrygate.simulation.population import NON_PAYER
from retailer.fake_platform import CAPTURE_DECLINE_TOKEN, FakePlatform


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def office(platform: FakePlatform, clock: Clock, **options) -> BackOffice:
    http = platform.client()
    return BackOffice(PlatformSettlement("http://platform.test", "k", client=http, backoff_s=0),
                      PlatformFeedback("http://platform.test", "k", client=http), random.Random(1),
                      debt_s=30, clock=clock, **options)


def trip(platform: FakePlatform, trip_id: str, *, store: str = "demo-downtown", label: str = "good shopper",
         person: str = "", token: str = "tok_visa", held: bool = True, entered: float = 0.0) -> EndedTrip:
    platform.open_trip(trip_id, token=token)
    return EndedTrip(trip_id, store, "CREDIT_CARD", label, person or f"par-{trip_id}", held, entered)


def test_a_good_basket_is_captured_and_a_declined_one_is_a_debt():
    platform, clock = FakePlatform(), Clock()
    back = office(platform, clock)
    [paid] = back.settle(trip(platform, "t1"))
    [owed] = back.settle(trip(platform, "t2", label=NON_PAYER, token=CAPTURE_DECLINE_TOKEN))
    assert paid.kind == "CAPT" and paid.detail.endswith("USD captured")
    assert platform.trips["t1"].settled == platform.trips["t1"].total > 0
    assert owed.kind == "DECL" and owed.detail.startswith("capture declined, ")
    total = platform.trips["t2"].total
    assert owed.detail == f"capture declined, {total:.2f} USD unpaid"
    assert (back.ledger.captured, back.ledger.declined, back.ledger.outstanding) == (1, 1, total)
    assert not any("/feedback/" in r.url.path for r in platform.requests), "the capture path reports nothing"


def test_a_debtor_pays_everything_owed_once_the_time_comes_and_is_let_in_again():
    platform, clock = FakePlatform(), Clock()
    back = office(platform, clock)
    back.settle(trip(platform, "t1", label=NON_PAYER, person="par-x", token=CAPTURE_DECLINE_TOKEN))
    clock.now += 10
    back.settle(trip(platform, "t2", label=NON_PAYER, person="par-x", token=CAPTURE_DECLINE_TOKEN))
    assert back.collect_debts() == ([], [])
    clock.now += 25  # the first debt is due, the second not yet: the debtor pays both
    steps, restored = back.collect_debts()
    assert [(s.kind, s.trip.trip_id) for s in steps] == [("PAID", "t1"), ("PAID", "t2")]
    assert steps[-1].detail.endswith("settled; access restored") and "restored" not in steps[0].detail
    assert [t.trip_id for t in restored] == ["t2"]
    for trip_id in ("t1", "t2"):
        assert platform.trips[trip_id].settled == platform.trips[trip_id].total
    assert back.ledger.outstanding == 0 and back.collect_debts() == ([], [])


def test_a_feedback_store_and_a_trip_without_a_hold_are_reported():
    platform, clock = FakePlatform(), Clock()
    back = office(platform, clock, feedback_stores=frozenset({"demo-campus"}))
    [payer] = back.settle(trip(platform, "t1", store="demo-campus"))
    [debtor] = back.settle(trip(platform, "t2", store="demo-campus", label=NON_PAYER))
    [app] = back.settle(trip(platform, "t3", label="registered shopper (app)", held=False))
    assert (payer.kind, debtor.kind, app.kind) == ("RPRT", "DEBT", "RPRT")
    assert [r["shoppingTripId"] for r in platform.reports] == ["t1", "t2", "t3"]
    assert platform.trips["t2"].settled == 0 and back.ledger.unpaid == {"t2": platform.trips["t2"].total}
    assert all(t.hold_status == "HELD" for t in platform.trips.values()), "nothing was captured"


def test_one_basket_in_twenty_is_empty_and_its_hold_is_cancelled():
    platform, clock = FakePlatform(), Clock()
    back = office(platform, clock)
    kinds = [back.settle(trip(platform, f"t{i}"))[0].kind for i in range(1, 2 * EMPTY_BASKET_EVERY + 1)]
    assert [i + 1 for i, k in enumerate(kinds) if k == "VOID"] == [EMPTY_BASKET_EVERY, 2 * EMPTY_BASKET_EVERY]
    empty = platform.trips[f"t{EMPTY_BASKET_EVERY}"]
    assert (empty.hold_status, empty.total, empty.settled) == ("RELEASED", 0, 0)
    assert back.ledger.cancelled == 2


def test_a_trip_nobody_scanned_out_is_settled_only_once_the_platform_closed_it_by_time():
    platform, clock = FakePlatform(), Clock()
    back = office(platform, clock)
    entered = clock.now
    clock.now += 40  # the shopper walked out 40 s after entering, without scanning
    back.watch(trip(platform, "t1", entered=entered), max_trip_minutes=5)
    clock.now = entered + 299
    assert back.closed_by_time() == [] and platform.requests == [], "not looked up before its time"
    clock.now += 2  # the platform counts from the entry, and so does the back office
    assert back.closed_by_time() == [], "the platform has not swept it yet"
    assert back.closed_by_time() == [] and len(platform.requests) == 1, "looked up at most once a second"
    assert [(t.trip_id, due) for t, due in back.still_open()] == [("t1", entered + 300)]
    platform.sweep("t1")
    clock.now += 1
    steps = back.closed_by_time()
    assert [(s.kind, s.detail) for s in steps][0] == ("CLOSE", "closed by TIMEOUT (no exit scan)")
    assert steps[1].kind == "CAPT" and platform.trips["t1"].hold_status == "CAPTURED"
    assert back.still_open() == [] and back.ledger.timed_out == 1


def test_a_watched_trip_closed_some_other_way_is_settled_without_a_timeout_line():
    platform, clock = FakePlatform(), Clock()
    back = office(platform, clock)
    back.watch(trip(platform, "t1", entered=clock.now), max_trip_minutes=5)
    platform.trips["t1"].status, platform.trips["t1"].closed_by = "CLOSED", "RETAILER"
    clock.now += 301
    assert [s.kind for s in back.closed_by_time()] == ["CAPT"] and back.ledger.timed_out == 0


def test_a_refusal_is_a_line_not_a_crash():
    platform, clock = FakePlatform(), Clock()
    back = office(platform, clock)
    gone = EndedTrip("t-missing", "demo-downtown", "CREDIT_CARD", "good shopper", "par", True)
    [step] = back.settle(gone)
    assert step.kind == "FAIL" and "404" in step.detail
    assert back.ledger.captured == 0 and back.ledger.outstanding == Decimal(0)


def test_the_last_look_sees_a_trip_closed_since_the_last_poll():
    platform, clock = FakePlatform(), Clock()
    back = office(platform, clock)
    back.watch(trip(platform, "t1", entered=clock.now), max_trip_minutes=5)
    clock.now += 301
    assert back.closed_by_time() == []
    platform.sweep("t1")
    assert back.closed_by_time() == [], "looked at a moment ago"
    assert [s.kind for s in back.closed_by_time(last=True)] == ["CLOSE", "CAPT"]


def test_a_debtor_whose_payment_was_refused_still_owes_and_is_not_let_in():
    platform, clock = FakePlatform(), Clock()
    back = office(platform, clock)
    for trip_id in ("t1", "t2"):
        back.settle(trip(platform, trip_id, label=NON_PAYER, person="par-x", token=CAPTURE_DECLINE_TOKEN))
    clock.now += 31
    platform.failures = [400]  # the first report is refused
    steps, restored = back.collect_debts()
    assert [s.kind for s in steps] == ["FAIL", "PAID"] and "restored" not in steps[1].detail
    assert restored == [] and list(back.ledger.unpaid) == ["t1"]
    steps, restored = back.collect_debts()
    assert [(s.kind, s.detail.endswith("access restored")) for s in steps] == [("PAID", True)]
    assert [t.trip_id for t in restored] == ["t1"] and back.ledger.outstanding == 0
