"""Bad input to the trip endpoints and the store's trip settings gets a 4xx naming the field, never a 5xx.

Also ISO 4217 wherever money comes in: a currency that is not one, or an amount finer than its
currency's minor units (JPY 1.5, USD 1.005), is refused at the edge.
"""
from __future__ import annotations

import uuid

import pytest

from support.server import card, entry, new_par
from support.trips import settle, usd, visit

OPERATIONS = ["capture", "adjust", "refund"]
T0 = 1764266400000


@pytest.fixture(scope="module")
def store(platform):
    return platform.store()


@pytest.fixture
def trip_id(platform, store):
    return visit(platform, store)


FRESH = object()


def _post(platform, store, trip_id, operation, *, content=None, json=None, key=FRESH, headers=None):
    sent = {**platform.as_retailer(store), **(headers or {})}
    if key is not None:
        sent["Idempotency-Key"] = uuid.uuid4().hex if key is FRESH else key
    if content is not None:
        sent["Content-Type"] = "application/json"
    return platform.http.post(f"/v1/trips/{trip_id}/preauthorization/{operation}", content=content, json=json,
                              headers=sent)


def _refused(r, field, status=400):
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == ("VALIDATION_ERROR" if status == 400 else error["code"]) and error["message"]
    assert field in error["fields"], error
    return error


@pytest.mark.parametrize("operation", [*OPERATIONS, "cancel"])
def test_a_missing_or_unusable_idempotency_key_is_400(platform, store, trip_id, operation):
    body = None if operation == "cancel" else usd(5)
    _refused(_post(platform, store, trip_id, operation, json=body, key=None), "Idempotency-Key")
    _refused(_post(platform, store, trip_id, operation, json=body, key=b"caf\xc3\xa9"), "Idempotency-Key")
    _refused(_post(platform, store, trip_id, operation, json=body, key=""), "Idempotency-Key")
    _refused(_post(platform, store, trip_id, operation, json=body, key="k" * 256), "Idempotency-Key")
    shown = platform.http.get(f"/v1/trips/{trip_id}", headers=platform.as_retailer(store)).json()
    assert shown["preauthorization"]["status"] == "HELD"  # nothing was done


BAD_BODIES = [
    ("not JSON", b"{amount:", "body"),
    ("not an object", b"[1, 2]", "body"),
    ("empty", b"", "body"),
    ("no amount", b"{}", "amount"),
    ("amount not an object", b'{"amount": 5}', "amount"),
    ("no value", b'{"amount": {"currencyCode": "USD"}}', "amount.value"),
    ("no currency", b'{"amount": {"value": 5}}', "amount.currencyCode"),
    ("value text", b'{"amount": {"value": "five", "currencyCode": "USD"}}', "amount.value"),
    ("value negative", b'{"amount": {"value": -5, "currencyCode": "USD"}}', "amount.value"),
    ("value zero", b'{"amount": {"value": 0, "currencyCode": "USD"}}', "amount.value"),
    ("value infinite", b'{"amount": {"value": 1e999, "currencyCode": "USD"}}', "body"),  # not JSON to orjson
    ("value too large", b'{"amount": {"value": 1e12, "currencyCode": "USD"}}', "amount.value"),
    ("too precise", b'{"amount": {"value": 1.005, "currencyCode": "USD"}}', "amount.value"),
    ("another currency", b'{"amount": {"value": 5, "currencyCode": "EUR"}}', "amount.currencyCode"),
    ("not a currency", b'{"amount": {"value": 5, "currencyCode": "ABC"}}', "amount.currencyCode"),
    ("no minor unit", b'{"amount": {"value": 5, "currencyCode": "XAU"}}', "amount.currencyCode"),
    ("lowercase", b'{"amount": {"value": 5, "currencyCode": "usd"}}', "amount.currencyCode"),
]


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("name, content, field", BAD_BODIES, ids=[n for n, _, _ in BAD_BODIES])
def test_a_bad_amount_body_names_the_field(platform, store, trip_id, operation, name, content, field):
    if operation == "refund":
        settle(platform, store, trip_id, "capture", usd(20))  # so only the body can be wrong
    error = _refused(_post(platform, store, trip_id, operation, content=content), field)
    assert field in error["message"]


@pytest.mark.parametrize("content", [b"{not json", b"[]", b'"cancel"', b"null"])
def test_a_cancel_body_when_given_must_be_an_object(platform, store, trip_id, content):
    _refused(_post(platform, store, trip_id, "cancel", content=content), "body")


def test_an_oversized_body_is_refused(platform, store, trip_id):
    big = b'{"amount": {"value": 5, "currencyCode": "USD"}, "pad": "' + b"x" * 70_000 + b'"}'
    r = _post(platform, store, trip_id, "capture", content=big)
    assert r.status_code == 400 and r.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_a_yen_store_takes_whole_yen_only(platform):
    store = platform.store(currency="JPY", authorizedAmount={"value": 3000, "currencyCode": "JPY"})
    trip_id = visit(platform, store)
    _refused(_post(platform, store, trip_id, "capture", json=usd(1.5, "JPY")), "amount.value")
    r = _post(platform, store, trip_id, "capture", json=usd(1500, "JPY"))
    assert r.status_code == 200 and r.json()["preauthorization"]["capturedAmount"] == {"value": 1500.0,
                                                                                       "currencyCode": "JPY"}


@pytest.mark.parametrize("path", ["/v1/trips/{t}/close", "/v1/trips/{t}/preauthorization/cancel"])
def test_unknown_trips_are_404_with_the_error_body(platform, store, path):
    r = platform.http.post(path.format(t="trip_" + "z" * 24), headers={**platform.as_retailer(store),
                                                                       "Idempotency-Key": "x"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"
    r = platform.http.post(path.format(t="x" * 300), headers={**platform.as_retailer(store), "Idempotency-Key": "x"})
    assert r.status_code == 404


STORE_SETTINGS = [
    ("maxTripMinutes", 4), ("maxTripMinutes", 1441), ("maxTripMinutes", "long"), ("maxTripMinutes", 2.5),
    ("preauthReleaseHours", -1), ("preauthReleaseHours", 721), ("preauthReleaseHours", "day"),
]


@pytest.mark.parametrize("field, bad", STORE_SETTINGS, ids=[f"{f}={v}" for f, v in STORE_SETTINGS])
def test_store_trip_settings_out_of_range_name_the_field(platform, field, bad):
    retailer_id, _ = platform.retailer()
    body = {"retailerId": retailer_id, "storeId": "s-" + uuid.uuid4().hex[:8], "name": "S", "timezone": "UTC",
            "currency": "USD", "authorizedAmount": {"value": 25, "currencyCode": "USD"},
            "entryMethods": ["CREDIT_CARD"], field: bad}
    _refused(platform.http.post("/v1/admin/stores", json=body, headers=platform.op), field)
    store = platform.store()
    _refused(platform.http.patch(f"/v1/admin/stores/{store.store_id}", json={field: bad}, headers=platform.op), field)


def test_store_trip_settings_are_kept_and_changed(platform):
    store = platform.store(maxTripMinutes=5, preauthReleaseHours=0)
    path = f"/v1/admin/stores/{store.store_id}"
    shown = platform.http.get(path, headers=platform.op).json()
    assert (shown["maxTripMinutes"], shown["preauthReleaseHours"]) == (5, 0)
    changed = platform.http.patch(path, json={"maxTripMinutes": 1440}, headers=platform.as_retailer(store)).json()
    assert (changed["maxTripMinutes"], changed["preauthReleaseHours"]) == (1440, 0)
    changed = platform.http.patch(path, json={"preauthReleaseHours": 720, "maxTripMinutes": None},
                                  headers=platform.op).json()
    assert (changed["maxTripMinutes"], changed["preauthReleaseHours"]) == (1440, 720)


CURRENCIES = [
    ("currency", {"currency": "ABC", "authorizedAmount": {"value": 25, "currencyCode": "ABC"}}),
    ("authorizedAmount.currencyCode", {"currency": "XXX", "authorizedAmount": {"value": 25, "currencyCode": "XXX"}}),
    ("authorizedAmount.value", {"currency": "JPY", "authorizedAmount": {"value": 1.5, "currencyCode": "JPY"}}),
    ("authorizedAmount.value", {"authorizedAmount": {"value": 25.001, "currencyCode": "USD"}}),
]


@pytest.mark.parametrize("field, over", CURRENCIES,
                         ids=[f"{f}-{o['authorizedAmount']['value']}" for f, o in CURRENCIES])
def test_a_store_money_that_iso_4217_does_not_allow_names_the_field(platform, field, over):
    retailer_id, _ = platform.retailer()
    body = {"retailerId": retailer_id, "storeId": "s-" + uuid.uuid4().hex[:8], "name": "S", "timezone": "UTC",
            "currency": "USD", "authorizedAmount": {"value": 25, "currencyCode": "USD"},
            "entryMethods": ["CREDIT_CARD"], **over}
    error = _refused(platform.http.post("/v1/admin/stores", json=body, headers=platform.op), field)
    assert "ISO 4217" in error["message"] or "decimals" in error["message"]
    patched = platform.http.patch(f"/v1/admin/stores/{platform.store().store_id}", json=over, headers=platform.op)
    _refused(patched, field)


@pytest.mark.parametrize("total, field", [({"amount": 18.4, "code": "ABC"}, "totalAmount.code"),
                                          ({"amount": 18.405, "code": "USD"}, "totalAmount.amount"),
                                          ({"amount": 1.5, "code": "JPY"}, "totalAmount.amount")])
def test_a_payment_report_in_no_real_currency_or_too_precise_is_a_bad_request(platform, store, total, field):
    trip_id = platform.enter(store, entry(card(par=new_par()))).json()["shoppingTripId"]
    r = platform.http.post("/v1/feedback/payment-status", headers=platform.as_retailer(store), json={
        "storeId": store.store_id, "shoppingTripId": trip_id, "totalAmount": total,
        "settledAmount": {"amount": 0, "code": total["code"]}, "paymentStatusTime": T0})
    assert r.status_code == 400, r.text
    assert r.json()["errorType"] == "BadRequestException" and field in r.json()["errorMsg"]
