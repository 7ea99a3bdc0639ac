"""Keys and their scopes: 401 without a good key, 403 outside its scope, 404 for unknown things."""
from __future__ import annotations

import uuid

from support.server import card, entry, new_par


def test_missing_and_wrong_keys_are_401(platform):
    store = platform.store()
    body = entry(card(par=new_par()))
    assert platform.http.post("/v1/gates/lane-1/entries", json=body).status_code == 401
    for key in ("nope", "Bearer", store.gates["lane-1"][:-3] + "abc", "eggk_0123456789abcdef_secret"):
        r = platform.http.post("/v1/gates/lane-1/entries", json=body, headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 401, key
        assert r.json()["error"]["code"] == "UNAUTHENTICATED"


def test_a_gate_key_works_only_for_its_gate(platform):
    a = platform.store(gates=("lane-1", "lane-2"))
    r = platform.http.post("/v1/gates/lane-2/entries", json=entry(card(par=new_par())),
                           headers={"Authorization": f"Bearer {a.gates['lane-1']}"})
    assert r.status_code == 403
    r = platform.http.post("/v1/gates/never-made/entries", json=entry(card(par=new_par())),
                           headers={"Authorization": f"Bearer {a.gates['lane-1']}"})
    assert r.status_code == 404


def test_a_gate_key_is_not_a_retailer_or_operator_key(platform):
    store = platform.store()
    gate = {"Authorization": f"Bearer {store.gates['lane-1']}"}
    assert platform.http.get(f"/v1/stores/{store.store_id}/trips", headers=gate).status_code == 403
    assert platform.http.post("/v1/admin/retailers", json={"name": "x"}, headers=gate).status_code == 403


def test_a_retailer_sees_only_its_own_stores(platform):
    mine = platform.store()
    theirs = platform.store()
    me = platform.as_retailer(mine)
    assert platform.http.get(f"/v1/stores/{mine.store_id}/trips", headers=me).status_code == 200
    assert platform.http.get(f"/v1/stores/{theirs.store_id}/trips", headers=me).status_code == 404
    assert platform.http.get(f"/v1/stores/{theirs.store_id}/decisions", headers=me).status_code == 404
    assert platform.http.get(f"/v1/admin/stores/{theirs.store_id}", headers=me).status_code == 403
    assert platform.http.patch(f"/v1/admin/stores/{theirs.store_id}", json={"name": "mine now"},
                               headers=me).status_code == 403
    assert platform.http.post(f"/v1/admin/stores/{theirs.store_id}/gates", json={"gateId": "g"},
                              headers=me).status_code == 403
    trip = platform.enter(theirs, entry(card(par=new_par()))).json()["shoppingTripId"]
    assert platform.http.get(f"/v1/trips/{trip}", headers=me).status_code == 404
    listed = platform.http.get("/v1/admin/stores", headers=me).json()["stores"]
    assert [s["storeId"] for s in listed] == [mine.store_id]


def test_a_retailer_key_manages_its_own_stores_but_cannot_create_retailers(platform):
    retailer_id, key = platform.retailer()
    me = {"Authorization": f"Bearer {key}"}
    assert platform.http.post("/v1/admin/retailers", json={"name": "x"}, headers=me).status_code == 403
    body = {"storeId": "own-" + uuid.uuid4().hex[:8], "name": "Own", "timezone": "UTC", "currency": "EUR",
            "authorizedAmount": {"value": 30, "currencyCode": "EUR"}, "entryMethods": ["CREDIT_CARD"]}
    r = platform.http.post("/v1/admin/stores", json=body, headers=me)
    assert r.status_code == 201 and r.json()["retailerId"] == retailer_id
    other_id, _ = platform.retailer()
    r = platform.http.post("/v1/admin/stores", json=dict(body, storeId="x-" + uuid.uuid4().hex[:6],
                                                         retailerId=other_id), headers=me)
    assert r.status_code == 403


def test_keys_and_connector_secrets_are_shown_once(platform):
    store = platform.store(entryMethods=["CREDIT_CARD", "QR_CODE"],
                           connectors={"identity": {"url": "http://127.0.0.1:9/retailer"}})
    view = platform.http.get(f"/v1/admin/stores/{store.store_id}", headers=platform.op).json()
    assert view["connectors"]["identity"] == {"url": "http://127.0.0.1:9/retailer", "secretSet": True,
                                              "timeoutMs": 800}
    assert "whsec_" not in str(view)
    gates = platform.http.get(f"/v1/admin/stores/{store.store_id}/gates", headers=platform.op).json()["gates"]
    assert gates == [{"gateId": "lane-1", "direction": "ENTRY", "enabled": True}]


def test_duplicate_store_and_gate_ids_conflict(platform):
    store = platform.store()
    r = platform.http.post(f"/v1/admin/stores/{store.store_id}/gates", json={"gateId": "lane-1"}, headers=platform.op)
    assert r.status_code == 409
    body = {"retailerId": store.retailer_id, "storeId": store.store_id, "name": "Again", "timezone": "UTC",
            "currency": "USD", "authorizedAmount": {"value": 25, "currencyCode": "USD"}, "entryMethods": ["CREDIT_CARD"]}
    assert platform.http.post("/v1/admin/stores", json=body, headers=platform.op).status_code == 409


def test_console_users(platform):
    retailer_id, key = platform.retailer()
    url = f"/v1/admin/retailers/{retailer_id}/users"
    me = {"Authorization": f"Bearer {key}"}
    assert platform.http.post(url, json={"email": "a@shop.example", "password": "long enough pw"},
                              headers=me).status_code == 201
    assert platform.http.post(url, json={"email": "a@shop.example", "password": "long enough pw"},
                              headers=me).status_code == 409
    r = platform.http.post(url, json={"email": "not-an-email", "password": "long enough pw"}, headers=me)
    assert r.status_code == 400 and r.json()["error"]["fields"] == ["email"]
    r = platform.http.post(url, json={"email": "b@shop.example", "password": "short"}, headers=me)
    assert r.status_code == 400 and r.json()["error"]["fields"] == ["password"]
    other_id, _ = platform.retailer()
    assert platform.http.post(f"/v1/admin/retailers/{other_id}/users",
                              json={"email": "c@shop.example", "password": "long enough pw"},
                              headers=me).status_code == 403
