"""Retailer feedback: payment status and risk labels, validated one field at a time."""
from __future__ import annotations

import time

import pytest

from support.server import card, entry, new_par

T0 = 1764266400000


def _trip(platform, **store_over):
    store = platform.store(**store_over)
    par = new_par()
    answer = platform.enter(store, entry(card(par=par))).json()
    return store, answer["shoppingTripId"], par


def _report(store, trip, total=18.4, settled=0, code="USD", settled_code=None, at=T0):
    return {"storeId": store.store_id, "shoppingTripId": trip, "totalAmount": {"amount": total, "code": code},
            "settledAmount": {"amount": settled, "code": settled_code or code}, "paymentStatusTime": at}


def _post(platform, store, body, path="/v1/feedback/payment-status"):
    return platform.http.post(path, json=body, headers=platform.as_retailer(store))


def test_a_report_is_accepted_and_shows_on_the_trip(platform):
    store, trip, _ = _trip(platform)
    r = _post(platform, store, _report(store, trip))
    assert r.status_code == 200 and r.json() == {"status": "Accepted"}
    view = platform.http.get(f"/v1/trips/{trip}", headers=platform.as_retailer(store)).json()
    assert view["totalAmount"]["value"] == 18.4 and view["outstanding"]["value"] == 18.4


@pytest.mark.parametrize("over, reason", [
    (dict(total=10, settled=11), "settledAmount.amount is more than totalAmount.amount"),
    (dict(settled_code="EUR"), "settledAmount.code EUR differs from totalAmount.code USD"),
    (dict(code="EUR", settled_code="EUR"), "totalAmount.code EUR is not the trip's currency, USD"),
])
def test_contradictory_reports_are_rejected_saying_why(platform, over, reason):
    store, trip, _ = _trip(platform)
    r = _post(platform, store, _report(store, trip, **over))
    # The seed's answer, with the reason added beside its status.
    assert r.status_code == 200 and r.json() == {"status": "Rejected", "reason": reason}
    view = platform.http.get(f"/v1/trips/{trip}", headers=platform.as_retailer(store)).json()
    assert view["totalAmount"] is None  # nothing was recorded


def _mutations():
    def drop(key):
        return lambda b: {k: v for k, v in b.items() if k != key}

    def put(key, value):
        return lambda b: {**b, key: value}

    def amount(which, key, value):
        return lambda b: {**b, which: {**b[which], key: value}}

    return [
        ("storeId missing", drop("storeId")), ("storeId too long", put("storeId", "s" * 256)),
        ("storeId bad chars", put("storeId", "store 001")), ("storeId not a string", put("storeId", 7)),
        ("trip missing", drop("shoppingTripId")), ("trip bad chars", put("shoppingTripId", "trip/../x")),
        ("trip too long", put("shoppingTripId", "t" * 256)),
        ("total missing", drop("totalAmount")), ("settled missing", drop("settledAmount")),
        ("total not an object", put("totalAmount", 18.4)),
        ("total amount missing", lambda b: {**b, "totalAmount": {"code": "USD"}}),
        ("total amount text", amount("totalAmount", "amount", "lots")),
        ("total amount negative", amount("totalAmount", "amount", -1)),
        ("code lowercase", amount("totalAmount", "code", "usd")),
        ("code too long", amount("settledAmount", "code", "USDX")),
        ("code missing", lambda b: {**b, "settledAmount": {"amount": 0}}),
        ("time missing", drop("paymentStatusTime")), ("time text", put("paymentStatusTime", "yesterday")),
        ("time seconds not ms", put("paymentStatusTime", 1764266400)),
        ("time float", put("paymentStatusTime", 1764266400000.5)),
        ("time an hour ahead", put("paymentStatusTime", int(time.time() * 1000) + 3_600_000)),
        ("unknown store", put("storeId", "no-such-store")), ("unknown trip", put("shoppingTripId", "trip_nope")),
    ]


@pytest.mark.parametrize("name, mutate", _mutations(), ids=[n for n, _ in _mutations()])
def test_malformed_reports_get_a_bad_request(platform, name, mutate):
    store, trip, _ = _trip(platform)
    r = _post(platform, store, mutate(_report(store, trip)))
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["errorType"] == "BadRequestException" and body["errorMsg"]


def test_another_retailers_trip_is_unknown(platform):
    store, trip, _ = _trip(platform)
    other = platform.store()
    r = _post(platform, other, _report(store, trip))
    assert r.status_code == 400
    r = _post(platform, other, _report(other, trip))
    assert r.status_code == 400


def test_a_later_report_replaces_the_earlier_and_a_stale_one_does_not(platform):
    store, trip, _ = _trip(platform)
    _post(platform, store, _report(store, trip, total=20, settled=0, at=T0))
    _post(platform, store, _report(store, trip, total=20, settled=20, at=T0 + 60_000))
    stale = _post(platform, store, _report(store, trip, total=20, settled=0, at=T0 + 1000))
    assert stale.json() == {"status": "Accepted"}
    view = platform.http.get(f"/v1/trips/{trip}", headers=platform.as_retailer(store)).json()
    assert view["settledAmount"]["value"] == 20 and view["outstanding"]["value"] == 0


def test_customer_fraud_blocks_the_instrument(platform):
    store, trip, par = _trip(platform)
    r = _post(platform, store, {"storeId": store.store_id, "shoppingTripId": trip, "risk": "CustomerFraud",
                                "note": "walked out with a TV"}, path="/v1/feedback/shopper-risk")
    assert r.status_code == 200 and r.json() == {"status": "Accepted"}
    answer = platform.enter(store, entry(card(par=par))).json()
    assert answer["decision"] == "DENY" and [x["code"] for x in answer["reasons"]] == ["INSTRUMENT_BLOCKED"]


def test_bad_debt_label_does_not_block_by_itself(platform):
    store, trip, par = _trip(platform)
    r = _post(platform, store, {"storeId": store.store_id, "shoppingTripId": trip, "risk": "BadDebt"},
              path="/v1/feedback/shopper-risk")
    assert r.json() == {"status": "Accepted"}
    assert platform.enter(store, entry(card(par=par))).json()["decision"] == "OPEN"


@pytest.mark.parametrize("body", [{"risk": "Shoplifting"}, {"risk": None}, {"note": "x" * 3000}, {"storeId": ""}])
def test_malformed_risk_labels(platform, body):
    store, trip, _ = _trip(platform)
    full = {"storeId": store.store_id, "shoppingTripId": trip, "risk": "BadDebt", **body}
    r = _post(platform, store, full, path="/v1/feedback/shopper-risk")
    assert r.status_code == 400 and r.json()["errorType"] == "BadRequestException"


def test_feedback_needs_a_retailer_key(platform):
    store, trip, _ = _trip(platform)
    r = platform.http.post("/v1/feedback/payment-status", json=_report(store, trip))
    assert r.status_code == 401
    r = platform.http.post("/v1/feedback/payment-status", json=_report(store, trip),
                           headers={"Authorization": f"Bearer {store.gates['lane-1']}"})
    assert r.status_code == 403
