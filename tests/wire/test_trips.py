"""Trips, holds and store trip settings between JSON and the typed results (DESIGN 10)."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from entrygate.adapters.db.mapping import store_from_json, store_to_json
from entrygate.domain.channels import Channel, TripStatus
from entrygate.domain.holds import Hold, HoldStatus, ProcessorStep
from entrygate.domain.money import Money
from entrygate.domain.records import Trip
from entrygate.domain.store import StoreConfig, StoreConfigError, check_store
from entrygate.domain.trips import ClosedBy, CloseResult
from entrygate.services.errors import InvalidRequest
from entrygate.services.payments.closing import TripClosed
from entrygate.services.ports.payments import HoldAnswer
from entrygate.wire.parse import parse
from entrygate.wire.schemas import HoldAmountIn, MoneyIn, StoreIn, StorePatch
from entrygate.wire.stores import change_from_patch, draft_from_input, store_view
from entrygate.wire.trips import close_answer, hold_answer, trip_view

AT = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)


def _trip(**over) -> Trip:
    fields = dict(trip_id="trip_1", store_id="s-1", entry_gate_id="lane-1", channel="CREDIT_CARD", visitor_id="pi_1",
                  instrument_id="pi_1", party_size=1, status=TripStatus.OPEN, entered_at=AT, currency="USD",
                  authorized_amount=Decimal("25"), preauth_id="pa_1")
    return Trip(**{**fields, **over})


def test_a_trip_shows_who_closed_it_its_passback_flag_and_its_hold():
    hold = Hold.opened("pa_1", Money(Decimal("25"), "USD")).summary()
    view = trip_view(_trip(status=TripStatus.CLOSED, exited_at=AT, closed_by=ClosedBy.TIMEOUT,
                           passback_violation=True), hold)
    assert view["closedBy"] == "TIMEOUT" and view["passbackViolation"] is True and view["exitedAt"] == \
        "2026-11-27T18:00:00Z"
    assert view["preauthorization"] == {
        "id": "pa_1", "status": "HELD", "heldAmount": {"value": 25.0, "currencyCode": "USD"},
        "capturedAmount": {"value": 0.0, "currencyCode": "USD"},
        "refundedAmount": {"value": 0.0, "currencyCode": "USD"}}
    open_view = trip_view(_trip(preauth_id=None, authorized_amount=None), None)
    assert open_view["closedBy"] is None and open_view["preauthorization"] is None


def test_the_settlement_and_close_answers():
    hold = Hold.opened("pa_1", Money(Decimal("25"), "JPY"))
    answer = hold_answer(HoldAnswer("trip_1", hold.summary(), None, declined=ProcessorStep.INCREMENT))
    assert answer["shoppingTripId"] == "trip_1" and answer["declined"] == "INCREMENT"
    assert answer["preauthorization"]["status"] == HoldStatus.HELD.value
    assert answer["preauthorization"]["heldAmount"] == {"value": 25.0, "currencyCode": "JPY"}
    assert close_answer(TripClosed("trip_1", CloseResult.ALREADY_CLOSED, None)) == {
        "shoppingTripId": "trip_1", "result": "ALREADY_CLOSED", "closedBy": None}


@pytest.mark.parametrize("money, field", [
    ({"value": 1.5, "currencyCode": "JPY"}, "amount.value"),
    ({"value": "0.001", "currencyCode": "USD"}, "amount.value"),
    ({"value": "1.0001", "currencyCode": "KWD"}, "amount.value"),
    ({"value": 5, "currencyCode": "ABC"}, "amount.currencyCode"),
    ({"value": 5, "currencyCode": "XTS"}, "amount.currencyCode"),
])
def test_money_in_must_be_a_real_currency_within_its_minor_units(money, field):
    with pytest.raises(InvalidRequest) as refused:
        parse(HoldAmountIn, {"amount": money})
    assert refused.value.fields == [field]


@pytest.mark.parametrize("money", [{"value": 1500, "currencyCode": "JPY"}, {"value": "1.250", "currencyCode": "KWD"},
                                   {"value": 25.0, "currencyCode": "JPY"}, {"value": "18.40", "currencyCode": "USD"}])
def test_money_in_takes_what_the_currency_can_carry(money):
    assert parse(MoneyIn, money).currencyCode == money["currencyCode"]


STORE = {"storeId": "s-1", "name": "S", "timezone": "UTC", "currency": "USD",
         "authorizedAmount": {"value": 25, "currencyCode": "USD"}, "entryMethods": ["CREDIT_CARD"]}


def test_trip_settings_default_and_travel_from_json_to_the_store_and_back():
    store = draft_from_input(parse(StoreIn, STORE), "ret_1").config
    assert (store.max_trip_minutes, store.preauth_release_hours) == (180, 24)
    store = draft_from_input(parse(StoreIn, {**STORE, "maxTripMinutes": 5, "preauthReleaseHours": 0}), "ret_1").config
    assert (store.max_trip_minutes, store.preauth_release_hours) == (5, 0)
    view = store_view(store)
    assert (view["maxTripMinutes"], view["preauthReleaseHours"]) == (5, 0)
    again = store_from_json("s-1", "ret_1", "S", store_to_json(store))
    assert again == store
    change = change_from_patch(parse(StorePatch, {"maxTripMinutes": 60, "preauthReleaseHours": None}))
    assert change.max_trip_minutes == 60 and change.preauth_release_hours is not None  # null leaves it alone


def test_a_config_stored_before_the_settings_existed_reads_the_defaults():
    data = store_to_json(draft_from_input(parse(StoreIn, STORE), "ret_1").config)
    del data["maxTripMinutes"], data["preauthReleaseHours"]
    store = store_from_json("s-1", "ret_1", "S", data)
    assert (store.max_trip_minutes, store.preauth_release_hours) == (180, 24)


@pytest.mark.parametrize("change, field", [(dict(max_trip_minutes=4), "maxTripMinutes"),
                                           (dict(max_trip_minutes=1441), "maxTripMinutes"),
                                           (dict(preauth_release_hours=-1), "preauthReleaseHours"),
                                           (dict(preauth_release_hours=721), "preauthReleaseHours")])
def test_the_domain_refuses_trip_settings_out_of_range(change, field):
    store = StoreConfig(store_id="s", retailer_id="r", name="S", timezone="UTC", currency="USD",
                        authorized_amount=Money(Decimal(25), "USD"), entry_methods=frozenset({Channel.CREDIT_CARD}))
    check_store(store.with_changes(max_trip_minutes=5, preauth_release_hours=0))
    check_store(store.with_changes(max_trip_minutes=1440, preauth_release_hours=720))
    with pytest.raises(StoreConfigError) as refused:
        check_store(store.with_changes(**change))
    assert refused.value.field == field
