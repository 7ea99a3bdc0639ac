"""The retailer's settlement client against the real platform: what the demo's back office relies on."""
from __future__ import annotations

from decimal import Decimal

import pytest

from entrygate.retailer.reporting import PlatformFeedback
from entrygate.retailer.settlement import PlatformSettlement, SettlementError
from support.server import card, entry, new_par


@pytest.fixture
def store(platform):
    return platform.store(exit_gates=("exit-1",))


def _trip(platform, store, token: str = "tok_visa_approve") -> str:
    r = platform.enter(store, entry(card(token, par=new_par())))
    assert r.status_code == 200 and r.json()["decision"] == "OPEN", r.text
    return r.json()["shoppingTripId"]


def test_a_capture_charges_the_basket_once_and_the_trip_shows_it(platform, store):
    trip = _trip(platform, store)
    settlement = PlatformSettlement(platform.url, store.retailer_key)
    first = settlement.capture(trip, Decimal("31.20"), "USD", key=f"capture-{trip}")
    again = settlement.capture(trip, Decimal("31.20"), "USD", key=f"capture-{trip}")
    assert (first.hold.status, first.hold.captured, first.declined) == ("CAPTURED", Decimal("31.2"), None)
    assert again.replayed and again.hold == first.hold
    seen = settlement.trip(trip)
    assert seen["totalAmount"]["value"] == seen["settledAmount"]["value"] == 31.2
    assert seen["preauthorization"]["status"] == "CAPTURED"


def test_a_declined_capture_is_a_debt_that_a_payment_report_settles(platform, store):
    trip = _trip(platform, store, token="tok_capture_decline")
    settlement = PlatformSettlement(platform.url, store.retailer_key)
    declined = settlement.capture(trip, Decimal("18.40"), "USD")
    assert (declined.hold.status, declined.hold.captured, declined.declined) == ("FAILED", 0, "CAPTURE")
    assert settlement.trip(trip)["outstanding"]["value"] == 18.4
    feedback = PlatformFeedback(platform.url, store.retailer_key)
    assert feedback.report_payment(store_id=store.store_id, trip_id=trip, total=Decimal("18.40"),
                                   settled=Decimal("18.40"), currency="USD") == "Accepted"
    assert settlement.trip(trip)["outstanding"]["value"] == 0


def test_an_empty_basket_releases_the_hold_and_a_second_capture_is_refused(platform, store):
    trip = _trip(platform, store)
    settlement = PlatformSettlement(platform.url, store.retailer_key)
    assert settlement.cancel(trip).hold.status == "RELEASED"
    seen = settlement.trip(trip)
    assert seen["totalAmount"]["value"] == seen["settledAmount"]["value"] == 0
    with pytest.raises(SettlementError) as refused:
        settlement.capture(trip, Decimal("5"), "USD")
    assert (refused.value.status, refused.value.code) == (409, "CONFLICT")


def test_closing_by_hand_says_who_closed_it(platform, store):
    trip = _trip(platform, store)
    settlement = PlatformSettlement(platform.url, store.retailer_key)
    first = settlement.close(trip)
    assert (first.result, first.closed_by) == ("CLOSED", "RETAILER")
    again = settlement.close(trip)
    assert (again.result, again.closed_by) == ("ALREADY_CLOSED", "RETAILER")
    assert settlement.trip(trip)["closedBy"] == "RETAILER"
