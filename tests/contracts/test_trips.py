"""``TripRepository``: trips kept by the unit of work, the HARD passback rule, the conditional close."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from entrygate.domain.channels import TripStatus
from entrygate.domain.trips import ClosedBy
from entrygate.services.ports.storage import AlreadyExists, TripAlreadyOpen
from support.contracts import T0, add_trips, instrument, later, shop, trip


@pytest.fixture
def port(storage):
    """The unit of work the trips repository comes from, and a store to put trips in."""
    return storage, shop(storage)


def get(uow, trip_id):  # noqa: ANN001, ANN201
    with uow() as u:
        return u.trips.get(trip_id)


def test_a_trip_reads_back_as_it_was_added(port):
    uow, where = port
    t = trip(where, instrument_id=instrument(uow), passback_key="v-1", party_size=2, preauth_id="pa_1")
    add_trips(uow, t)
    assert get(uow, t.trip_id) == t
    assert get(uow, "trip_unknown") is None


def test_a_unit_of_work_left_without_commit_leaves_nothing(port):
    uow, where = port
    t = trip(where)
    with uow(write=True) as u:
        u.trips.add(t)
        assert u.trips.get(t.trip_id) == t  # the transaction sees its own write
    assert get(uow, t.trip_id) is None


def test_a_trip_id_is_taken_once(port):
    uow, where = port
    t = trip(where)
    add_trips(uow, t)
    with pytest.raises(AlreadyExists), uow(write=True) as u:
        u.trips.add(replace(t, visitor_id="someone-else"))


def test_hard_passback_allows_one_open_trip_per_visitor_and_store(port):
    uow, where = port
    other = shop(uow, retailer_id=where.retailer_id)
    first = trip(where, visitor_id="v-1", passback_key="v-1")
    add_trips(uow, first)
    with pytest.raises(TripAlreadyOpen), uow(write=True) as u:
        u.trips.add(trip(where, visitor_id="v-1", passback_key="v-1"))
    add_trips(uow, trip(other, visitor_id="v-1", passback_key="v-1"))  # another store: its own rule
    add_trips(uow, trip(where, visitor_id="v-1"))  # opened without the rule (SOFT, NONE): no key, no limit
    with uow(write=True) as u:
        assert u.trips.close(first.trip_id, at=later(60), gate_id="exit-1")
        u.commit()
    again = trip(where, visitor_id="v-1", passback_key="v-1", entered_at=later(120))
    add_trips(uow, again)  # out and in again
    assert get(uow, again.trip_id).status is TripStatus.OPEN


def test_a_passback_loser_keeps_the_rest_of_its_transaction(port):
    uow, where = port
    add_trips(uow, trip(where, visitor_id="v-1", passback_key="v-1"))
    kept = trip(where, visitor_id="v-2")
    with uow(write=True) as u:
        with pytest.raises(TripAlreadyOpen):
            u.trips.add(trip(where, visitor_id="v-1", passback_key="v-1"))
        u.trips.add(kept)  # the denial is stored in the same transaction (services/ports/decisions.py)
        u.commit()
    assert get(uow, kept.trip_id) == kept


def test_a_trip_closes_once_in_one_conditional_write(port):
    uow, where = port
    t = trip(where)
    add_trips(uow, t)
    with uow(write=True) as u:
        assert u.trips.close(t.trip_id, at=later(60), gate_id="exit-1") is True
        assert u.trips.close(t.trip_id, at=later(90), gate_id="exit-2") is False
        assert u.trips.close("trip_unknown", at=later(90), gate_id="exit-1") is False
        u.commit()
    closed = get(uow, t.trip_id)
    assert (closed.status, closed.exited_at, closed.exit_gate_id, closed.closed_by) == (
        TripStatus.CLOSED, later(60), "exit-1", ClosedBy.EXIT_GATE)


def test_the_open_trip_found_is_the_visitors_newest_at_that_store(port):
    uow, where = port
    other = shop(uow, retailer_id=where.retailer_id)
    old, new = trip(where, visitor_id="v-1"), trip(where, visitor_id="v-1", entered_at=later(30))
    add_trips(uow, old, new, trip(other, visitor_id="v-1", entered_at=later(60)))
    with uow() as u:
        assert u.trips.find_open(visitor_id="v-1", store_id=where.store_id).trip_id == new.trip_id
        assert u.trips.find_open(visitor_id="v-2", store_id=where.store_id) is None
    with uow(write=True) as u:
        u.trips.close(new.trip_id, at=later(90), gate_id="exit-1")
        u.trips.close(old.trip_id, at=later(90), gate_id="exit-1")
        u.commit()
    with uow() as u:
        assert u.trips.find_open(visitor_id="v-1", store_id=where.store_id) is None


def test_trips_are_listed_newest_first_by_status_up_to_the_limit(port):
    uow, where = port
    trips = [trip(where, entered_at=later(i)) for i in range(5)]
    add_trips(uow, *trips, trip(shop(uow), entered_at=later(10)))
    with uow(write=True) as u:
        u.trips.close(trips[1].trip_id, at=later(20), gate_id="exit-1")
        u.commit()
    with uow() as u:
        assert [t.trip_id for t in u.trips.list(where.store_id)] == [t.trip_id for t in reversed(trips)]
        assert [t.trip_id for t in u.trips.list(where.store_id, limit=2)] == [trips[4].trip_id, trips[3].trip_id]
        assert [t.trip_id for t in u.trips.list(where.store_id, status="CLOSED")] == [trips[1].trip_id]
        assert len(u.trips.list(where.store_id, status="OPEN")) == 4


def test_a_payment_report_is_kept_unless_a_newer_one_stands(port):
    uow, where = port
    t = trip(where)
    add_trips(uow, t)

    def report(total: str, settled: str, seconds: int) -> bool:
        with uow(write=True) as u:
            done = u.trips.report_payment(t.trip_id, total=Decimal(total), settled=Decimal(settled),
                                          status_time=later(seconds), at=later(1000))
            u.commit()
        return done

    assert report("18.40", "0", 100) is True
    assert report("18.40", "18.40", 200) is True
    assert report("18.40", "5", 150) is False  # an older report arriving late changes nothing
    assert report("18.40", "18.40", 200) is True  # the same report again is no conflict
    stored = get(uow, t.trip_id)
    assert (stored.total_amount, stored.settled_amount, stored.payment_status_time) == (
        Decimal("18.40"), Decimal("18.40"), later(200))
    with uow(write=True) as u:
        assert u.trips.report_payment("trip_unknown", total=Decimal(1), settled=Decimal(0), status_time=T0,
                                      at=T0) is False


def test_the_outstanding_balance_is_what_the_instruments_trips_at_this_retailer_left_unpaid(port):
    uow, where = port
    card_id, other_card = instrument(uow), instrument(uow)
    elsewhere = shop(uow)  # another retailer's store
    sister = shop(uow, retailer_id=where.retailer_id, currency="EUR")
    unpaid = trip(where, instrument_id=card_id)
    part_paid = trip(where, instrument_id=card_id)
    paid = trip(where, instrument_id=card_id)
    unreported = trip(where, instrument_id=card_id)
    in_euros = trip(sister, instrument_id=card_id, currency="EUR")
    at_another_retailer = trip(elsewhere, instrument_id=card_id)
    not_this_card = trip(where, instrument_id=other_card)
    add_trips(uow, unpaid, part_paid, paid, unreported, in_euros, at_another_retailer, not_this_card)
    with uow(write=True) as u:
        for t, total, settled in [(unpaid, "10", "0"), (part_paid, "20", "12.50"), (paid, "30", "30"),
                                  (in_euros, "7", "0"), (at_another_retailer, "99", "0"), (not_this_card, "5", "0")]:
            u.trips.report_payment(t.trip_id, total=Decimal(total), settled=Decimal(settled), status_time=T0, at=T0)
        u.commit()
    with uow() as u:
        assert u.trips.outstanding_balance(card_id, retailer_id=where.retailer_id) == {
            "USD": Decimal("17.50"), "EUR": Decimal("7")}
        assert u.trips.outstanding_balance(card_id, retailer_id=elsewhere.retailer_id) == {"USD": Decimal("99")}
        assert u.trips.outstanding_balance(instrument(uow), retailer_id=where.retailer_id) == {}
