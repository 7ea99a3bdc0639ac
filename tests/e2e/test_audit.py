"""The audit log over real HTTP (DESIGN 15): every admin change recorded with who, before and after;
a refused change records nothing; each retailer reads its own; limit and since; never a secret."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import orjson
from sqlalchemy import select

from entrygate.adapters.db.engine import make_engine
from entrygate.adapters.db.tables import audit_entries

SECRET = "whsec_" + "A1b2C3d4" * 4
PASSWORD = "audit-pass-" + uuid.uuid4().hex[:8]


def _key_id(api_key: str) -> str:
    return api_key.split("_")[1]


def _audit(platform, headers, **params) -> list[dict]:  # noqa: ANN001, ANN003
    r = platform.http.get("/v1/audit", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["entries"]


def _store(platform, retailer, **over):  # noqa: ANN001, ANN003, ANN202
    return platform.store(gates=(), retailer=retailer, **over)


def test_every_admin_change_is_recorded_with_who_what_before_and_after(platform):
    retailer_id, key = platform.retailer("Audited Retailer")
    me = {"Authorization": f"Bearer {key}"}
    store_id = "store-" + uuid.uuid4().hex[:8]
    body = {"storeId": store_id, "name": "Corner", "timezone": "UTC", "currency": "USD",
            "authorizedAmount": {"value": 25.0, "currencyCode": "USD"}, "entryMethods": ["CREDIT_CARD"],
            "riskStrategy": "NONE", "connectors": {"identity": {"url": "https://r.example/id", "secret": SECRET}}}
    assert platform.http.post("/v1/admin/stores", json=body, headers=me).status_code == 201
    assert platform.http.patch(f"/v1/admin/stores/{store_id}", json={"name": "Renamed"}, headers=me).status_code == 200
    assert platform.http.post(f"/v1/admin/stores/{store_id}/gates", json={"gateId": "lane-1", "direction": "ENTRY"},
                              headers=me).status_code == 201
    assert platform.http.patch(f"/v1/admin/stores/{store_id}/gates/lane-1", json={"enabled": False},
                               headers=me).status_code == 200
    r = platform.http.post(f"/v1/admin/retailers/{retailer_id}/users",
                           json={"email": f"v-{uuid.uuid4().hex[:6]}@example.com", "password": PASSWORD,
                                 "role": "VIEWER"}, headers=me)
    assert r.status_code == 201 and r.json()["role"] == "VIEWER", r.text

    entries = _audit(platform, me)
    assert [e["action"] for e in entries] == ["user.added", "gate.updated", "gate.created", "store.updated",
                                              "store.created", "retailer.created"]
    ats = [datetime.fromisoformat(e["at"]) for e in entries]
    assert ats == sorted(ats, reverse=True)
    by_key = {"type": "RETAILER_KEY", "id": _key_id(key), "name": "initial key"}  # a retailer's first key
    assert [e["actor"] for e in entries[:5]] == [by_key] * 5
    assert entries[5]["actor"] == {"type": "OPERATOR", "id": _key_id(platform.op["Authorization"][7:]),
                                   "name": "operator"}
    assert entries[5]["target"] == {"type": "retailer", "id": retailer_id}
    assert entries[5]["after"] == {"retailerId": retailer_id, "name": "Audited Retailer"}

    created, updated = entries[4], entries[3]
    assert created["target"] == {"type": "store", "id": store_id} and created["before"] is None
    assert created["after"]["connectors"]["identity"] == {"url": "https://r.example/id", "secretSet": True,
                                                          "timeoutMs": 800}
    assert (updated["before"]["name"], updated["after"]["name"]) == ("Corner", "Renamed")
    assert {k for k in updated["after"] if updated["after"][k] != updated["before"][k]} == {"name"}
    gate_off = entries[1]
    assert gate_off["target"] == {"type": "gate", "id": "lane-1"}
    assert (gate_off["before"]["enabled"], gate_off["after"]["enabled"]) == (True, False)
    added = entries[0]
    assert added["after"]["role"] == "VIEWER" and added["target"]["id"] == r.json()["userId"]
    assert "password" not in orjson.dumps(added).decode().lower().replace("passwordchanged", "")

    # The store's own entries: the store and its gates, not the retailer's account.
    assert [e["action"] for e in _audit(platform, me, storeId=store_id)] == [
        "gate.updated", "gate.created", "store.updated", "store.created"]


def test_a_refused_change_records_nothing(platform):
    retailer = platform.retailer()
    handle = platform.store(gates=("lane-1",), retailer=retailer)
    me = platform.as_retailer(handle)
    before = _audit(platform, me)
    refusals = [
        platform.http.patch(f"/v1/admin/stores/{handle.store_id}", json={"maxPartySize": 0}, headers=me),
        platform.http.patch(f"/v1/admin/stores/{handle.store_id}", json={"entryMethods": ["QR_CODE"]}, headers=me),
        platform.http.post(f"/v1/admin/stores/{handle.store_id}/gates", json={"gateId": "lane-1", "direction": "ENTRY"},
                           headers=me),
        platform.http.post("/v1/admin/stores", headers=me, json={
            "storeId": handle.store_id, "name": "Again", "timezone": "UTC", "currency": "USD",
            "authorizedAmount": {"value": 5, "currencyCode": "USD"}, "entryMethods": ["CREDIT_CARD"],
            "riskStrategy": "NONE"}),
        platform.http.post(f"/v1/admin/retailers/{retailer[0]}/users", json={"email": "x@example.com", "password": "short"},
                           headers=me),
        platform.http.delete(f"/v1/admin/retailers/{retailer[0]}/users/usr_nobody", headers=me),
    ]
    assert [r.status_code for r in refusals] == [400, 400, 409, 409, 400, 404]
    assert _audit(platform, me) == before


def test_a_retailer_reads_only_its_own_entries_and_an_operator_reads_all(platform):
    mine = platform.store(gates=())
    theirs = platform.store(gates=())
    me = platform.as_retailer(mine)
    r = platform.http.get("/v1/audit", params={"storeId": theirs.store_id}, headers=me)
    assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"
    assert platform.http.get("/v1/audit", params={"storeId": "store-never-made"}, headers=me).status_code == 404
    assert {e["target"]["id"] for e in _audit(platform, me)} == {mine.retailer_id, mine.store_id}
    op = _audit(platform, platform.op, limit=1000)
    assert {mine.store_id, theirs.store_id} <= {e["target"]["id"] for e in op}
    assert [e["target"]["id"] for e in _audit(platform, platform.op, storeId=theirs.store_id)] == [theirs.store_id]
    gate = platform.store()
    assert platform.http.get("/v1/audit", headers={"Authorization": f"Bearer {gate.gates['lane-1']}"}).status_code == 403
    assert platform.http.get("/v1/audit").status_code == 401


def test_limit_and_since(platform):
    handle = platform.store(gates=())
    me = platform.as_retailer(handle)
    for n in range(101):
        r = platform.http.patch(f"/v1/admin/stores/{handle.store_id}", json={"maxPartySize": 1 + n % 9}, headers=me)
        assert r.status_code == 200
    entries = _audit(platform, me, storeId=handle.store_id)
    assert len(entries) == 100  # the default; 102 are stored (the store's creation and 101 changes)
    assert len(_audit(platform, me, storeId=handle.store_id, limit=1000)) == 102
    newest = _audit(platform, me, storeId=handle.store_id, limit=3)
    assert newest == entries[:3]
    since = newest[2]["at"]
    assert _audit(platform, me, storeId=handle.store_id, since=since) == newest  # inclusive
    later = (datetime.fromisoformat(since) + timedelta(microseconds=1)).isoformat()
    assert _audit(platform, me, storeId=handle.store_id, since=later) == newest[:2]
    for params, field in [({"limit": 1001}, "limit"), ({"limit": 0}, "limit"), ({"limit": "many"}, "limit"),
                          ({"since": "yesterday"}, "since"), ({"since": "2026-11-27T18:00:00"}, "since")]:
        r = platform.http.get("/v1/audit", params=params, headers=me)
        assert r.status_code == 400, params
        assert r.json()["error"]["code"] == "VALIDATION_ERROR" and r.json()["error"]["fields"] == [field], r.text


def test_no_secret_or_key_is_ever_stored_in_the_log(platform):
    retailer_id, retailer_key = platform.retailer("Secretive")
    handle = platform.store(gates=("lane-1",), retailer=(retailer_id, retailer_key), entryMethods=["QR_CODE"],
                            connectors={"identity": {"url": "https://r.example/id", "secret": SECRET}})
    me = platform.as_retailer(handle)
    r = platform.http.patch(f"/v1/admin/stores/{handle.store_id}", headers=me, json={
        "connectors": {"identity": {"url": "https://r.example/id2"},
                       "shopperAuthorization": {"url": "https://r.example/auth"}}})
    assert r.status_code == 200
    generated = r.json()["connectors"]["shopperAuthorization"]["secret"]
    password = "never-logged-" + uuid.uuid4().hex
    assert platform.http.post(f"/v1/admin/retailers/{retailer_id}/users", headers=me,
                              json={"email": f"s-{uuid.uuid4().hex[:6]}@example.com", "password": password}
                              ).status_code == 201
    # A key is <kind>_<key id>_<secret>; the secret is base64url, so it may hold "_" itself.
    known = [SECRET, generated, retailer_key, retailer_key.split("_", 2)[2], handle.gates["lane-1"],
             handle.gates["lane-1"].split("_", 2)[2], password, platform.op["Authorization"][7:]]

    engine = make_engine(platform.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(audit_entries)).all()
    finally:
        engine.dispose()
    stored = orjson.dumps([row._asdict() for row in rows], default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    assert handle.store_id in stored and "store.updated" in stored  # the scan reads the entries made here
    assert [s for s in known if s in stored] == []
    answered = platform.http.get("/v1/audit", params={"limit": 1000}, headers=platform.op).text
    assert [s for s in known if s in answered] == []
    updated = _audit(platform, me, storeId=handle.store_id)[0]
    assert updated["after"]["connectors"]["shopperAuthorization"]["secretSet"] is True
