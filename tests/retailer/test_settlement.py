"""The retailer's settlement client speaks DESIGN 10's trip routes, and retries without moving money twice."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest

from entrygate.retailer.settlement import PlatformSettlement, SettlementError
from retailer.fake_platform import CAPTURE_DECLINE_TOKEN, FakePlatform


def client(platform: FakePlatform, **options) -> PlatformSettlement:
    return PlatformSettlement("http://platform.test", "egrk_key", client=platform.client(), backoff_s=0, **options)


def test_capture_sends_the_amount_with_a_key_and_reads_the_hold_back():
    platform = FakePlatform()
    platform.open_trip("trip_1")
    answer = client(platform).capture("trip_1", Decimal("18.40"), "USD", key="capture-trip_1")
    sent = platform.requests[-1]
    assert sent.url.path == "/v1/trips/trip_1/preauthorization/capture"
    assert sent.headers["Idempotency-Key"] == "capture-trip_1"
    assert sent.headers["Authorization"] == "Bearer egrk_key"
    assert json.loads(sent.content) == {"amount": {"value": 18.4, "currencyCode": "USD"}}
    assert answer.trip_id == "trip_1" and answer.declined is None and not answer.replayed
    assert (answer.hold.status, answer.hold.captured, answer.hold.held, answer.hold.currency) == \
        ("CAPTURED", Decimal("18.4"), Decimal("25.0"), "USD")


def test_a_declined_capture_is_an_answer_not_an_error():
    platform = FakePlatform()
    platform.open_trip("trip_1", token=CAPTURE_DECLINE_TOKEN)
    answer = client(platform).capture("trip_1", Decimal("30"), "USD")
    assert answer.hold.status == "FAILED" and answer.hold.captured == 0 and answer.declined == "CAPTURE"


def test_cancel_adjust_and_refund_reach_their_routes():
    platform = FakePlatform()
    platform.open_trip("trip_a")
    platform.open_trip("trip_b")
    settlement = client(platform)
    assert settlement.adjust("trip_a", Decimal("40"), "USD").hold.held == Decimal("40")
    settlement.capture("trip_a", Decimal("35.50"), "USD")
    refunded = settlement.refund("trip_a", Decimal("5.50"), "USD")
    assert refunded.hold.refunded == Decimal("5.5") and platform.trips["trip_a"].settled == Decimal("30")
    assert settlement.cancel("trip_b").hold.status == "RELEASED"
    assert [r.url.path.rsplit("/", 1)[-1] for r in platform.requests] == ["adjust", "capture", "refund", "cancel"]
    # Every settlement call has its own key unless the caller gives one.
    assert len({r.headers["Idempotency-Key"] for r in platform.requests}) == 4


@pytest.mark.parametrize("failures", [[503], [None], [502, None]], ids=["503", "no answer", "502 then no answer"])
def test_a_call_without_an_answer_is_sent_again_with_the_same_key_and_charges_once(failures):
    platform = FakePlatform()
    platform.open_trip("trip_1")
    platform.failures = list(failures)
    answer = client(platform).capture("trip_1", Decimal("12"), "USD")
    keys = {r.headers["Idempotency-Key"] for r in platform.requests}
    assert len(platform.requests) == len(failures) + 1 and len(keys) == 1
    assert answer.hold.captured == Decimal("12") and platform.trips["trip_1"].settled == Decimal("12")


def test_the_same_key_again_is_a_replay_and_another_body_under_it_a_conflict():
    platform = FakePlatform()
    platform.open_trip("trip_1")
    settlement = client(platform)
    first = settlement.capture("trip_1", Decimal("12"), "USD", key="k")
    again = settlement.capture("trip_1", Decimal("12"), "USD", key="k")
    assert again.replayed and again.hold == first.hold
    with pytest.raises(SettlementError) as refused:
        settlement.capture("trip_1", Decimal("13"), "USD", key="k")
    assert (refused.value.status, refused.value.code) == (409, "CONFLICT")


def test_refusals_are_raised_with_the_platforms_code_and_not_retried():
    platform = FakePlatform()
    platform.open_trip("trip_1")
    platform.trips["trip_1"].status = "CLOSED"
    settlement = client(platform)
    with pytest.raises(SettlementError) as refused:
        settlement.adjust("trip_1", Decimal("40"), "USD")
    assert (refused.value.status, refused.value.code) == (409, "CONFLICT") and len(platform.requests) == 1
    with pytest.raises(SettlementError) as missing:
        settlement.capture("trip_nope", Decimal("1"), "USD")
    assert missing.value.status == 404


def test_a_platform_that_never_answers_gives_up_after_the_attempts():
    platform = FakePlatform()
    platform.open_trip("trip_1")
    platform.failures = [None, 503, None]
    with pytest.raises(SettlementError) as gone:
        client(platform, attempts=3).capture("trip_1", Decimal("1"), "USD")
    assert gone.value.code == "UNREACHABLE" and len(platform.requests) == 3
    assert platform.trips["trip_1"].hold_status == "HELD"


def test_close_and_the_trip_resource():
    platform = FakePlatform()
    platform.open_trip("trip_1")
    settlement = client(platform)
    assert settlement.close("trip_1").result == "CLOSED"
    again = settlement.close("trip_1")
    assert (again.result, again.closed_by) == ("ALREADY_CLOSED", "RETAILER")
    trip = settlement.trip("trip_1")
    assert (trip["status"], trip["closedBy"], trip["preauthorization"]["status"]) == ("CLOSED", "RETAILER", "HELD")
