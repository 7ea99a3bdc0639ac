"""Bad input gets a 4xx that names the problem — never a 500, never a stored PAN."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text

from support.server import card, entry

GOOD = entry(card())


def _without(path: str) -> dict:
    body = {**GOOD, "credential": dict(GOOD["credential"]), "eventId": str(uuid.uuid4())}
    parts = path.split(".")
    target = body
    for p in parts[:-1]:
        target = target[p]
    del target[parts[-1]]
    return body


def _with(path: str, value) -> dict:  # noqa: ANN001
    body = {**GOOD, "credential": dict(GOOD["credential"]), "eventId": str(uuid.uuid4())}
    parts = path.split(".")
    target = body
    for p in parts[:-1]:
        target = target[p]
    target[parts[-1]] = value
    return body


BAD_ENTRIES = [
    ("eventId", _without("eventId")),
    ("timestamp", _without("timestamp")),
    ("channel", _without("channel")),
    ("credential", _without("credential")),
    ("credential.paymentToken", _without("credential.paymentToken")),
    ("credential.expMonth", _without("credential.expMonth")),
    ("channel", _with("channel", "TELEPATHY")),
    ("timestamp", _with("timestamp", "yesterday")),
    ("timestamp", _with("timestamp", "2026-11-27T18:00:00")),  # no zone: ambiguous
    ("partySize", _with("partySize", 0)),
    ("partySize", _with("partySize", "two")),
    ("credential.expMonth", _with("credential.expMonth", 13)),
    ("credential.expYear", _with("credential.expYear", "soon")),
    ("credential.last4", _with("credential.last4", "42")),
    ("credential.par", _with("credential.par", "short")),
    ("credential", _with("credential", "tok_visa_approve")),
    ("credential", _with("credential", None)),
    ("eventId", _with("eventId", "x" * 200)),
    ("eventId", _with("eventId", 12)),
    ("interactionType", _with("interactionType", "THROW")),
    ("credential.issuerCountry", _with("credential.issuerCountry", "usa")),
]


@pytest.mark.parametrize("field, body", BAD_ENTRIES, ids=[f"{f}-{i}" for i, (f, _) in enumerate(BAD_ENTRIES)])
def test_malformed_entries_name_the_field(platform, field, body):
    store = platform.store()
    r = platform.enter(store, body)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["code"] == "VALIDATION_ERROR"
    assert field in err["fields"], err
    assert field in err["message"]


@pytest.mark.parametrize("raw", [b"", b"{oops", b"[]", b'"text"', b"null", b"\xff\xfe", b"{" * 10000])
def test_malformed_json(platform, raw):
    store = platform.store()
    r = platform.http.post("/v1/gates/lane-1/entries", content=raw,
                           headers={"Authorization": f"Bearer {store.gates['lane-1']}",
                                    "content-type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["message"]


def test_oversized_body(platform):
    store = platform.store()
    body = _with("credential.padding", "x" * 200_000)
    r = platform.enter(store, body)
    assert r.status_code == 413 or r.status_code == 400
    assert r.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


PANS = ["4242424242424242", "4242 4242 4242 4242", "5555-5555-5555-4444", "378282246310005"]


@pytest.mark.parametrize("pan", PANS)
def test_card_numbers_are_refused_and_never_stored(platform, pan):
    store = platform.store()
    for body in (_with("credential.paymentToken", pan), _with("credential.note", f"pan {pan}"),
                 _with("credential.number", int(pan.replace(" ", "").replace("-", ""))),
                 _with("eventId", pan.replace(" ", "-"))):
        r = platform.enter(store, body)
        assert r.status_code == 400, r.text
        assert pan not in r.text and pan.replace(" ", "").replace("-", "") not in r.text
    digits = pan.replace(" ", "").replace("-", "")
    engine = create_engine(platform.database_url)
    with engine.connect() as conn:
        for table in ("decisions", "shopping_trips", "payment_instruments", "exits"):
            rows = conn.execute(text(f"SELECT * FROM {table}")).fetchall()
            assert all(digits not in str(row) for row in rows), table
    engine.dispose()


def test_event_ids_that_are_uuids_are_never_mistaken_for_card_numbers(platform):
    store = platform.store()
    body = _with("eventId", "12345678-1234-1234-1234-123456789012")
    assert platform.enter(store, body).status_code == 200


@pytest.mark.parametrize("body, field", [
    ({"eventId": "e1", "timestamp": "2026-11-27T18:00:00Z"}, "body"),
    ({"eventId": "e1", "timestamp": "2026-11-27T18:00:00Z", "shoppingTripId": "bad id!"}, "shoppingTripId"),
    ({"timestamp": "2026-11-27T18:00:00Z", "shoppingTripId": "trip_x"}, "eventId"),
])
def test_malformed_exits(platform, body, field):
    store = platform.store(exit_gates=("exit-1",))
    r = platform.exit(store, body, gate="exit-1")
    assert r.status_code == 400, r.text
    assert field in r.json()["error"]["fields"]


def test_exit_for_an_unknown_trip_is_404(platform):
    store = platform.store(exit_gates=("exit-1",))
    r = platform.exit(store, {"eventId": "e1", "timestamp": "2026-11-27T18:00:00Z", "shoppingTripId": "trip_nope"},
                      gate="exit-1")
    assert r.status_code == 404


BAD_STORES = [
    ("storeId", {"storeId": "has space"}),
    ("currency", {"currency": "dollars"}),
    ("authorizedAmount.value", {"authorizedAmount": {"value": -5, "currencyCode": "USD"}}),
    ("authorizedAmount.currencyCode", {"authorizedAmount": {"value": 5, "currencyCode": "EUR"}}),
    ("entryMethods", {"entryMethods": []}),
    ("entryMethods[0]", {"entryMethods": ["FAX"]}),
    ("riskStrategy", {"riskStrategy": "YOLO"}),
    ("qrPattern", {"qrPattern": "([unclosed"}),
    ("badgeFormats", {"badgeFormats": ["H99999"]}),
    ("maxPartySize", {"maxPartySize": 0}),
    ("timezone", {"timezone": "Mars/Olympus"}),
    ("timezone", {"timezone": "America"}),  # a folder of the zone database, not a zone
    ("timezone", {"timezone": "localtime"}),
    ("connectors.identity", {"entryMethods": ["QR_CODE"]}),
    ("connectors.shopperAuthorization", {"riskStrategy": "RETAILER_MANAGED"}),
    ("connectors.identity.url", {"entryMethods": ["QR_CODE"], "connectors": {"identity": {"url": "ftp://x"}}}),
    ("connectors.identity.secret", {"entryMethods": ["QR_CODE"],
                                    "connectors": {"identity": {"url": "http://x", "secret": "plain"}}}),
]


@pytest.mark.parametrize("field, over", BAD_STORES, ids=[f for f, _ in BAD_STORES])
def test_malformed_store_configurations_name_the_field(platform, field, over):
    retailer_id, _ = platform.retailer()
    body = {"retailerId": retailer_id, "storeId": "s-" + uuid.uuid4().hex[:8], "name": "S", "timezone": "UTC",
            "currency": "USD", "authorizedAmount": {"value": 25, "currencyCode": "USD"},
            "entryMethods": ["CREDIT_CARD"], **over}
    r = platform.http.post("/v1/admin/stores", json=body, headers=platform.op)
    assert r.status_code == 400, r.text
    assert field in r.json()["error"]["fields"], r.json()


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../../etc/passwd", "Europe/", "utc"])
def test_a_store_change_to_an_unknown_time_zone_is_refused_naming_it(platform, zone):
    store = platform.store()
    r = platform.http.patch(f"/v1/admin/stores/{store.store_id}", json={"timezone": zone}, headers=platform.op)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and error["fields"] == ["timezone"]
    assert "IANA" in error["message"]
    assert platform.http.get(f"/v1/admin/stores/{store.store_id}", headers=platform.op).json()["timezone"] == "UTC"
    r = platform.http.patch(f"/v1/admin/stores/{store.store_id}", json={"timezone": "Asia/Kolkata"},
                            headers=platform.op)
    assert r.status_code == 200 and r.json()["timezone"] == "Asia/Kolkata"


def test_a_failed_update_leaves_the_store_as_it_was(platform):
    store = platform.store()
    before = platform.http.get(f"/v1/admin/stores/{store.store_id}", headers=platform.op).json()
    r = platform.http.patch(f"/v1/admin/stores/{store.store_id}", json={"entryMethods": ["QR_CODE"]},
                            headers=platform.op)
    assert r.status_code == 400
    assert platform.http.get(f"/v1/admin/stores/{store.store_id}", headers=platform.op).json() == before


@pytest.mark.parametrize("query", ["status=MAYBE", "limit=0", "limit=abc", "limit=100000"])
def test_malformed_trip_queries(platform, query):
    store = platform.store()
    r = platform.http.get(f"/v1/stores/{store.store_id}/trips?{query}", headers=platform.as_retailer(store))
    assert r.status_code == 400


def test_malformed_decision_since(platform):
    store = platform.store()
    r = platform.http.get(f"/v1/stores/{store.store_id}/decisions?since=notatime",
                          headers=platform.as_retailer(store))
    assert r.status_code == 400 and r.json()["error"]["fields"] == ["since"]


def test_unknown_route_and_method(platform):
    assert platform.http.get("/v1/nothing").status_code == 404
    assert platform.http.delete("/v1/admin/retailers", headers=platform.op).status_code == 405


@pytest.mark.parametrize("path, body", [
    ("/v1/admin/retailers", {"name": "Acme\u0000"}),
    ("/v1/admin/retailers", {"name": "ok", "extra": {"k\u0000": 1}}),
])
def test_nul_characters_are_refused_not_stored(platform, path, body):
    r = platform.http.post(path, json=body, headers=platform.op)
    assert r.status_code == 400, r.text
    assert "U+0000" in r.json()["error"]["message"]


@pytest.mark.parametrize("url", ["/v1/stores/a%00b/trips", "/v1/trips/trip%00x", "/v1/stores/s/decisions?since=%00"])
def test_nul_characters_in_urls_are_refused(platform, url):
    store = platform.store()
    r = platform.http.get(url, headers=platform.as_retailer(store))
    assert r.status_code == 400, r.text
