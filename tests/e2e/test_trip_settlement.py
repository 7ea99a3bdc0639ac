"""Settling a trip through its pre-authorization over real HTTP (DESIGN 10), on SQLite and PostgreSQL.

A whole visit: tap, then capture (at, above the hold with a raise, a declined raise, a declined
capture), cancel, adjust, refund; idempotent retries; the balance a capture leaves unpaid denies
the next tap exactly as a payment-status report does; closing by the retailer, the operator and
the exit gate; the processor not answering.
"""
from __future__ import annotations

import time

import pytest

from support.server import new_par
from support.trips import LENIENT, close, ledger_ops, settle, tap, trip, usd, value, visit, world_fixtures

T0 = 1764266400000  # a payment-status time before anything these tests settle

# One server per module: keep the module's tests on one worker of `pytest -n`.
pytestmark = pytest.mark.xdist_group("trip_settlement")


world, platform = world_fixtures("settlement")


def _codes(answer: dict) -> list[str]:
    return [r["code"] for r in answer["reasons"]]


def test_a_trip_shows_its_hold_who_closed_it_and_no_passback_violation(platform):
    store = platform.store()
    trip_id = visit(platform, store)
    shown = trip(platform, store, trip_id)
    hold = shown["preauthorization"]
    assert hold["id"].startswith("pa_") and hold["status"] == "HELD"
    assert hold["heldAmount"] == {"value": 25.0, "currencyCode": "USD"}
    assert value(hold["capturedAmount"]) == 0 and value(hold["refundedAmount"]) == 0
    assert shown["closedBy"] is None and shown["passbackViolation"] is False
    listed = platform.http.get(f"/v1/stores/{store.store_id}/trips", headers=platform.as_retailer(store)).json()
    assert [t["preauthorization"] for t in listed["trips"]] == [hold]


def test_a_soft_passback_store_flags_the_second_trip(platform):
    store = platform.store(antiPassback="SOFT")
    par = new_par()
    first, second = visit(platform, store, par=par), visit(platform, store, par=par)
    assert trip(platform, store, first)["passbackViolation"] is False
    assert trip(platform, store, second)["passbackViolation"] is True


def test_a_capture_within_the_hold_charges_the_amount_and_settles_the_trip(platform, world):
    store = platform.store()
    trip_id = visit(platform, store)
    r = settle(platform, store, trip_id, "capture", usd(18.4))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["shoppingTripId"] == trip_id and body["declined"] is None
    hold = body["preauthorization"]
    assert hold["status"] == "CAPTURED" and value(hold["capturedAmount"]) == 18.4
    shown = trip(platform, store, trip_id)
    assert shown["preauthorization"] == hold
    assert value(shown["totalAmount"]) == 18.4 and value(shown["settledAmount"]) == 18.4
    assert value(shown["outstanding"]) == 0
    assert ledger_ops(world, hold["id"]) == [("hold", 25.0, None), ("capture", 18.4, True)]


def test_a_capture_above_the_hold_raises_it_first(platform, world):
    store = platform.store()
    trip_id = visit(platform, store)
    body = settle(platform, store, trip_id, "capture", usd(40)).json()
    hold = body["preauthorization"]
    assert body["declined"] is None and hold["status"] == "CAPTURED"
    assert value(hold["heldAmount"]) == 40 and value(hold["capturedAmount"]) == 40
    assert [op for op, _, _ in ledger_ops(world, hold["id"])] == ["hold", "increment", "capture"]
    assert value(trip(platform, store, trip_id)["outstanding"]) == 0


def test_a_declined_raise_captures_the_hold_and_leaves_the_rest_unpaid(platform, world):
    store = platform.store(**LENIENT)
    par = new_par()
    trip_id = visit(platform, store, token="tok_no_increment", par=par)
    body = settle(platform, store, trip_id, "capture", usd(40)).json()
    hold = body["preauthorization"]
    assert body["declined"] == "INCREMENT" and hold["status"] == "CAPTURED"
    assert value(hold["capturedAmount"]) == 25
    assert ledger_ops(world, hold["id"])[1:] == [("increment", 40.0, False), ("capture", 25.0, True)]
    shown = trip(platform, store, trip_id)
    assert (value(shown["totalAmount"]), value(shown["settledAmount"]), value(shown["outstanding"])) == (40, 25, 15)
    assert _codes(tap(platform, store, par=par)) == ["OUTSTANDING_BALANCE"]


def test_a_declined_capture_feeds_the_balance_exactly_as_a_payment_report_does(platform):
    store = platform.store(**LENIENT)
    captured_par, reported_par = new_par(), new_par()
    by_capture = visit(platform, store, token="tok_capture_decline", par=captured_par)
    by_report = visit(platform, store, par=reported_par)
    body = settle(platform, store, by_capture, "capture", usd(18.4)).json()
    assert body["preauthorization"]["status"] == "FAILED" and body["declined"] == "CAPTURE"
    assert value(body["preauthorization"]["capturedAmount"]) == 0
    r = platform.http.post("/v1/feedback/payment-status", headers=platform.as_retailer(store), json={
        "storeId": store.store_id, "shoppingTripId": by_report, "totalAmount": {"amount": 18.4, "code": "USD"},
        "settledAmount": {"amount": 0, "code": "USD"}, "paymentStatusTime": T0})
    assert r.json() == {"status": "Accepted"}
    money = ("totalAmount", "settledAmount", "outstanding")
    assert [trip(platform, store, by_capture)[k] for k in money] == [trip(platform, store, by_report)[k] for k in money]
    for par in (captured_par, reported_par):
        answer = tap(platform, store, par=par)
        assert answer["decision"] == "DENY" and _codes(answer) == ["OUTSTANDING_BALANCE"]
    # The retailer collects the debt another way and says so: the card is welcome again.
    r = platform.http.post("/v1/feedback/payment-status", headers=platform.as_retailer(store), json={
        "storeId": store.store_id, "shoppingTripId": by_capture, "totalAmount": {"amount": 18.4, "code": "USD"},
        "settledAmount": {"amount": 18.4, "code": "USD"}, "paymentStatusTime": int(time.time() * 1000)})
    assert r.json() == {"status": "Accepted"}
    assert tap(platform, store, par=captured_par)["decision"] == "OPEN"
    # A debt at this retailer never stops the card at another's store (DESIGN 10).
    assert tap(platform, platform.store(**LENIENT), par=reported_par)["decision"] == "OPEN"


def test_a_failed_capture_can_be_cancelled(platform):
    store = platform.store()
    trip_id = visit(platform, store, token="tok_capture_decline")
    assert settle(platform, store, trip_id, "capture", usd(10)).json()["preauthorization"]["status"] == "FAILED"
    body = settle(platform, store, trip_id, "cancel").json()
    assert body["preauthorization"]["status"] == "RELEASED"
    assert value(trip(platform, store, trip_id)["outstanding"]) == 0


def test_a_cancel_releases_the_hold_and_clears_the_balance(platform, world):
    store = platform.store(**LENIENT)
    par = new_par()
    trip_id = visit(platform, store, par=par)
    r = platform.http.post("/v1/feedback/payment-status", headers=platform.as_retailer(store), json={
        "storeId": store.store_id, "shoppingTripId": trip_id, "totalAmount": {"amount": 12, "code": "USD"},
        "settledAmount": {"amount": 0, "code": "USD"}, "paymentStatusTime": T0})
    assert r.json() == {"status": "Accepted"}
    assert _codes(tap(platform, store, par=par)) == ["OUTSTANDING_BALANCE"]
    r = settle(platform, store, trip_id, "cancel")
    assert r.status_code == 200, r.text
    hold = r.json()["preauthorization"]
    assert hold["status"] == "RELEASED" and value(hold["capturedAmount"]) == 0
    shown = trip(platform, store, trip_id)
    assert shown["status"] == "OPEN"  # the trip stays as it is
    assert (value(shown["totalAmount"]), value(shown["settledAmount"]), value(shown["outstanding"])) == (0, 0, 0)
    assert tap(platform, store, par=par)["decision"] == "OPEN"
    assert [op for op, _, _ in ledger_ops(world, hold["id"])] == ["hold", "release"]
    assert settle(platform, store, trip_id, "capture", usd(5)).json()["error"]["reason"] == "RELEASED"


def test_a_cancel_takes_an_empty_or_any_object_body(platform):
    store = platform.store()
    for body in (None, {}, {"reason": "empty basket"}):
        trip_id = visit(platform, store)
        r = settle(platform, store, trip_id, "cancel", body)
        assert r.status_code == 200 and r.json()["preauthorization"]["status"] == "RELEASED", r.text


def test_an_adjust_changes_the_hold_while_the_trip_is_open_only(platform, world):
    store = platform.store()
    trip_id = visit(platform, store)
    up = settle(platform, store, trip_id, "adjust", usd(40)).json()["preauthorization"]
    assert up["status"] == "HELD" and value(up["heldAmount"]) == 40
    down = settle(platform, store, trip_id, "adjust", usd(10)).json()["preauthorization"]
    assert value(down["heldAmount"]) == 10
    assert [op for op, _, _ in ledger_ops(world, up["id"])] == ["hold", "increment"]  # lowering asks nothing
    assert trip(platform, store, trip_id)["totalAmount"] is None  # a hold is not a bill
    assert close(platform, trip_id, platform.as_retailer(store)).json()["result"] == "CLOSED"
    r = settle(platform, store, trip_id, "adjust", usd(20))
    assert r.status_code == 409 and r.json()["error"]["code"] == "CONFLICT"
    assert r.json()["error"]["reason"] == "TRIP_CLOSED"
    # Closed, it can still be captured: up to the 40 the processor holds, with no raise.
    captured = settle(platform, store, trip_id, "capture", usd(30)).json()["preauthorization"]
    assert captured["status"] == "CAPTURED" and value(captured["capturedAmount"]) == 30
    assert [op for op, _, _ in ledger_ops(world, up["id"])] == ["hold", "increment", "capture"]


def test_a_declined_raise_leaves_the_hold_as_it_was(platform):
    store = platform.store()
    trip_id = visit(platform, store, token="tok_no_increment")
    body = settle(platform, store, trip_id, "adjust", usd(60)).json()
    assert body["declined"] == "INCREMENT" and value(body["preauthorization"]["heldAmount"]) == 25


def test_refunds_add_up_to_at_most_the_capture(platform, world):
    store = platform.store()
    trip_id = visit(platform, store)
    early = settle(platform, store, trip_id, "refund", usd(1))
    assert early.status_code == 409 and early.json()["error"]["reason"] == "NOT_CAPTURED"
    settle(platform, store, trip_id, "capture", usd(20))
    first = settle(platform, store, trip_id, "refund", usd(5)).json()["preauthorization"]
    assert first["status"] == "CAPTURED" and value(first["refundedAmount"]) == 5
    shown = trip(platform, store, trip_id)
    assert (value(shown["totalAmount"]), value(shown["settledAmount"])) == (15, 15)
    above = settle(platform, store, trip_id, "refund", usd(15.01))
    assert above.status_code == 409 and above.json()["error"]["reason"] == "REFUND_ABOVE_CAPTURE"
    rest = settle(platform, store, trip_id, "refund", usd(15)).json()["preauthorization"]
    assert value(rest["refundedAmount"]) == 20
    assert settle(platform, store, trip_id, "refund", usd(0.01)).json()["error"]["reason"] == "REFUND_ABOVE_CAPTURE"
    shown = trip(platform, store, trip_id)
    assert (value(shown["totalAmount"]), value(shown["settledAmount"])) == (0, 0)
    assert [op for op, _, _ in ledger_ops(world, first["id"])] == ["hold", "capture", "refund", "refund"]


def test_a_captured_hold_cannot_be_captured_or_cancelled_again(platform):
    store = platform.store()
    trip_id = visit(platform, store)
    settle(platform, store, trip_id, "capture", usd(10))
    for operation, body in (("capture", usd(10)), ("cancel", None), ("adjust", usd(10))):
        r = settle(platform, store, trip_id, operation, body)
        assert r.status_code == 409 and r.json()["error"]["reason"] == "ALREADY_CAPTURED", (operation, r.text)


def test_the_same_key_and_body_replay_the_answer_and_move_no_more_money(platform, world):
    store = platform.store()
    trip_id = visit(platform, store)
    first = settle(platform, store, trip_id, "capture", usd(12.5), key="order-1")
    again = settle(platform, store, trip_id, "capture", usd(12.5), key="order-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    other = settle(platform, store, trip_id, "capture", usd(13), key="order-1")
    assert other.status_code == 409 and other.json()["error"]["fields"] == ["Idempotency-Key"]
    preauth = first.json()["preauthorization"]["id"]
    assert [op for op, _, _ in ledger_ops(world, preauth)] == ["hold", "capture"]
    # A refusal is replayed as the same refusal.
    refused = settle(platform, store, trip_id, "refund", usd(99), key="refund-1")
    assert settle(platform, store, trip_id, "refund", usd(99), key="refund-1").json() == refused.json()
    # Keys are the caller's own: the operator's "order-1" is another request, judged on its own.
    by_operator = settle(platform, store, trip_id, "capture", usd(12.5), key="order-1", headers=platform.op)
    assert by_operator.status_code == 409 and by_operator.json()["error"]["reason"] == "ALREADY_CAPTURED"


def test_the_operator_may_settle_and_close_any_trip(platform):
    store = platform.store()
    trip_id = visit(platform, store)
    r = settle(platform, store, trip_id, "capture", usd(3), headers=platform.op)
    assert r.status_code == 200 and r.json()["preauthorization"]["status"] == "CAPTURED"
    assert close(platform, trip_id, platform.op).json() == {"shoppingTripId": trip_id, "result": "CLOSED",
                                                            "closedBy": "OPERATOR"}


def test_closing_a_trip_by_the_retailer_then_again(platform):
    store = platform.store()
    trip_id = visit(platform, store)
    r = close(platform, trip_id, platform.as_retailer(store))
    assert r.status_code == 200
    assert r.json() == {"shoppingTripId": trip_id, "result": "CLOSED", "closedBy": "RETAILER"}
    again = close(platform, trip_id, platform.op)
    assert again.json() == {"shoppingTripId": trip_id, "result": "ALREADY_CLOSED", "closedBy": "RETAILER"}
    shown = trip(platform, store, trip_id)
    assert shown["status"] == "CLOSED" and shown["closedBy"] == "RETAILER" and shown["exitedAt"]
    assert shown["preauthorization"]["status"] == "HELD"  # closing moves no money


def test_an_exit_closes_the_trip_by_the_exit_gate(platform):
    store = platform.store(exit_gates=("exit-1",))
    trip_id = visit(platform, store)
    r = platform.exit(store, {"eventId": new_par(), "timestamp": "2026-11-27T18:00:00Z", "shoppingTripId": trip_id},
                      gate="exit-1")
    assert r.json()["result"] == "CLOSED"
    assert trip(platform, store, trip_id)["closedBy"] == "EXIT_GATE"
    assert close(platform, trip_id, platform.as_retailer(store)).json() == {
        "shoppingTripId": trip_id, "result": "ALREADY_CLOSED", "closedBy": "EXIT_GATE"}


def test_another_retailers_trip_is_not_found_and_a_gate_key_is_refused(platform):
    store, other = platform.store(), platform.store()
    trip_id = visit(platform, store)
    stranger = platform.as_retailer(other)
    assert close(platform, trip_id, stranger).status_code == 404
    for operation, body in (("capture", usd(1)), ("cancel", None), ("adjust", usd(1)), ("refund", usd(1))):
        assert settle(platform, store, trip_id, operation, body, headers=stranger).status_code == 404
        assert settle(platform, store, "trip_nope", operation, body).status_code == 404
        gate = {"Authorization": f"Bearer {store.gates['lane-1']}"}
        assert settle(platform, store, trip_id, operation, body, headers=gate).status_code == 403
        assert settle(platform, store, trip_id, operation, body, headers={}).status_code == 401
    assert close(platform, "trip_nope", platform.as_retailer(store)).status_code == 404
    assert trip(platform, store, trip_id)["preauthorization"]["status"] == "HELD"


def test_a_processor_that_does_not_answer_is_503_and_the_same_key_finishes_once(platform, world):
    store = platform.store()
    trip_id = visit(platform, store, token="tok_slow_capture")
    preauth = trip(platform, store, trip_id)["preauthorization"]["id"]
    lost = settle(platform, store, trip_id, "capture", usd(18.4), key="slow-1")
    assert lost.status_code == 503 and lost.json()["error"]["code"] == "UNAVAILABLE", lost.text
    # The money moved at the processor; the platform does not know yet, and holds the hold for the key.
    assert ledger_ops(world, preauth) == [("hold", 25.0, None), ("capture", 18.4, True)]
    assert trip(platform, store, trip_id)["preauthorization"]["status"] == "HELD"
    busy = settle(platform, store, trip_id, "capture", usd(18.4), key="slow-2")
    assert busy.status_code == 409 and busy.json()["error"]["reason"] == "IN_PROGRESS"
    done = settle(platform, store, trip_id, "capture", usd(18.4), key="slow-1")
    assert done.status_code == 200, done.text
    assert done.json()["preauthorization"]["status"] == "CAPTURED"
    assert ledger_ops(world, preauth) == [("hold", 25.0, None), ("capture", 18.4, True)]  # captured once
    assert value(trip(platform, store, trip_id)["settledAmount"]) == 18.4
