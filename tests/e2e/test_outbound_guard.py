"""Outbound addresses over HTTP (DESIGN "Outbound addresses"): a connector URL cannot make the
platform read a private service back to a retailer.

``platform`` allows private URLs, as every test server does; ``strict`` is a second server over
the same database started with ``ENTRYGATE_ALLOW_PRIVATE_URLS=false``, as production runs.
"""
from __future__ import annotations

import json

import pytest

from retailer.harness import LoopbackRetailer, Reply
from support.server import Platform, card, entry, new_par, start_server, stop_server

SECRET = "INTERNAL-SECRET-7f3a"  # what a private service would give away if its answer were relayed


@pytest.fixture(scope="module")
def strict(platform: Platform):
    url, proc = start_server(platform.database_url, env={"ENTRYGATE_ALLOW_PRIVATE_URLS": "false"})
    p = Platform(url, platform.op["Authorization"].split(" ", 1)[1], platform.database_url, proc)
    yield p
    p.http.close()
    stop_server(proc)


def both(url: str, timeout_ms: int = 800) -> dict:
    c = {"url": url, "timeoutMs": timeout_ms}
    return {"identity": dict(c), "shopperAuthorization": dict(c)}


def connectivity(p: Platform, store, name: str = "identity") -> tuple[dict, str]:
    r = p.http.post(f"/v1/admin/stores/{store.store_id}/connectors/{name}/test", headers=p.as_retailer(store))
    assert r.status_code == 200, r.text
    return r.json(), r.text


def store_body(p: Platform, connectors: dict) -> dict:
    retailer_id, _ = p.retailer()
    return {"retailerId": retailer_id, "storeId": "st-" + new_par()[-10:].lower(), "name": "S", "timezone": "UTC",
            "currency": "USD", "authorizedAmount": {"value": 25.0, "currencyCode": "USD"},
            "entryMethods": ["CREDIT_CARD", "QR_CODE"], "connectors": connectors}


# --- saving ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "words"), [
    ("http://retailer.example/entry", "must use https"),
    ("https://127.0.0.1:8443/", "loopback"),
    ("https://localhost/", "loopback"),
    ("https://10.0.0.7/", "private"),
    ("https://169.254.169.254/latest/meta-data/", "metadata"),
    ("https://[fd00:ec2::254]/", "metadata"),
    ("https://[::ffff:127.0.0.1]/", "loopback"),
    ("https://100.64.0.1/", "carrier-grade NAT"),
])
def test_saving_a_connector_url_entrygate_would_not_call_is_a_400_naming_the_field(strict, url, words):
    r = strict.http.post("/v1/admin/stores", headers=strict.op,
                         json=store_body(strict, {"identity": {"url": url}}))
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and error["fields"] == ["connectors.identity.url"]
    assert words in error["message"] and "connectors.identity.url" in error["message"]


def test_a_public_https_url_is_saved_and_a_patch_to_a_private_one_is_refused(strict):
    body = store_body(strict, {"identity": {"url": "https://retailer.example/entry"}})
    assert strict.http.post("/v1/admin/stores", headers=strict.op, json=body).status_code == 201
    r = strict.http.patch(f"/v1/admin/stores/{body['storeId']}", headers=strict.op,
                          json={"connectors": {"identity": {"url": "https://192.168.0.10/"},
                                               "shopperAuthorization": {"url": "https://retailer.example/a"}}})
    assert r.status_code == 400 and r.json()["error"]["fields"] == ["connectors.identity.url"], r.text
    saved = strict.http.get(f"/v1/admin/stores/{body['storeId']}", headers=strict.op).json()
    assert saved["connectors"]["identity"]["url"] == "https://retailer.example/entry"


# --- calling -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["identity", "shopperAuthorization"])
def test_the_connectivity_test_does_not_reach_a_loopback_service_when_private_urls_are_refused(
        platform, strict, name):
    with LoopbackRetailer(lambda r: Reply(500, f"{SECRET} database password".encode())) as internal:
        # Saved where private URLs are allowed (or before the operator turned them off).
        store = platform.store(connectors=both(internal.url))
        result, text = connectivity(strict, store, name)
    assert internal.connections == 0 and internal.received == []
    assert SECRET not in text
    first, *rest = result["checks"]
    assert result["passed"] is False and all(not c["passed"] and c["hint"] for c in result["checks"])
    assert first["gotStatus"] is None and "entrygate refuses" in first["hint"]
    assert "ENTRYGATE_ALLOW_PRIVATE_URLS" in first["hint"]
    assert rest and all(c["got"] == "not sent" and c["hint"].startswith("Not run") for c in rest)


def test_a_gate_entry_whose_connector_is_refused_gets_the_fallback_not_a_500(platform, strict):
    with LoopbackRetailer(lambda r: Reply(200, {"shopperAuthorized": True})) as internal:
        store = platform.store(riskStrategy="RETAILER_MANAGED", fallbackDecision="ALLOW",
                               connectors={"shopperAuthorization": {"url": internal.url, "timeoutMs": 3000}})
        r = strict.enter(store, entry(card(par=new_par())))
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["decision"] == "OPEN" and answer["decidedBy"] == "FALLBACK"
    assert [x["code"] for x in answer["reasons"]] == ["FALLBACK_APPLIED"]
    assert internal.connections == 0


# --- what an allowed connector's answers may show ----------------------------------------------------


@pytest.mark.parametrize("reply", [
    Reply(500, f"{SECRET} stack trace".encode()),
    Reply(400, {"error": SECRET}),
    Reply(401, f"<html>{SECRET}</html>".encode()),
    Reply(200, f"{SECRET} not json".encode()),
    Reply(200, {"visitorDetails": {"id": "v", "type": SECRET}, "note": SECRET}),
    Reply(302, f"{SECRET}".encode(), headers={"location": "http://elsewhere.example/"}),
    Reply(raw=f"{SECRET} banner of a service that does not speak HTTP\r\n\r\n".encode()),
    Reply(raw=f"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n{SECRET}\r\n\r\n".encode()),
], ids=["500", "400", "401-html", "200-not-json", "200-off-contract", "302", "not-http", "bad-header"])
@pytest.mark.parametrize("name", ["identity", "shopperAuthorization"])
def test_an_unexpected_answer_is_reported_by_status_and_hint_never_by_its_body(platform, reply, name):
    with LoopbackRetailer(lambda r: reply) as odd:
        store = platform.store(connectors=both(odd.url))
        result, text = connectivity(platform, store, name)
    assert odd.received or odd.connections
    assert SECRET not in text, json.dumps(result, indent=1)[:3000]
    assert not result["passed"] and all(c["hint"] for c in result["checks"] if not c["passed"])
