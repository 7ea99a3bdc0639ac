"""The connectivity test over HTTP: it passes a connector that keeps the contract and says which part
of one that does not is wrong."""
from __future__ import annotations

import pytest

from entrygate.domain import webhooks
from retailer.harness import LoopbackRetailer, Reply, closed_port_url

VISITOR = {"visitorDetails": {"id": "v-1", "type": "SHOPPER"}}


def connectors(url: str, secret: str | None = None, timeout_ms: int = 800) -> dict:
    c = {"url": url, "timeoutMs": timeout_ms}
    if secret:
        c["secret"] = secret
    return {"identity": dict(c), "shopperAuthorization": dict(c)}


def run_test(platform, store, name: str = "identity", headers: dict | None = None):
    return platform.http.post(f"/v1/admin/stores/{store.store_id}/connectors/{name}/test",
                              headers=headers or platform.as_retailer(store))


def checks(platform, store, name: str = "identity") -> dict[str, dict]:
    r = run_test(platform, store, name)
    assert r.status_code == 200, r.text
    return {c["name"]: c for c in r.json()["checks"]}


@pytest.mark.parametrize("name", ["identity", "shopperAuthorization"])
def test_the_reference_retailer_passes_every_check(platform, shop, name):
    store = platform.store(connectors=connectors(shop.url, shop.secret))
    r = run_test(platform, store, name)
    body = r.json()
    assert r.status_code == 200 and body["passed"] is True, body
    assert len(body["checks"]) >= 14
    for check in body["checks"]:
        assert check["passed"] and check["hint"] is None
        assert check["request"] and check["expected"] and check["gotStatus"] in (200, 400, 401)


def test_a_retailer_that_does_not_check_signatures_is_told_so(platform):
    with LoopbackRetailer(lambda r: Reply(200, VISITOR)) as lax:
        store = platform.store(connectors=connectors(lax.url))
        result = checks(platform, store)
    assert result["well-formed request"]["passed"]
    for name in ("unsigned request", "wrong signature", "stale signature"):
        assert not result[name]["passed"] and result[name]["gotStatus"] == 200
    assert "carries no signature" in result["unsigned request"]["hint"]
    assert "webhook-signature" in result["unsigned request"]["hint"]
    assert "HMAC-SHA256" in result["wrong signature"]["hint"]
    assert "5 minutes" in result["stale signature"]["hint"]
    assert not result["unknown key"]["passed"] and "401 for any key" in result["unknown key"]["hint"]
    assert not result["requestId missing"]["passed"]
    assert "Validate requestId" in result["requestId missing"]["hint"]


def test_a_retailer_with_another_secret_is_pointed_at_the_secret(platform, shop):
    store = platform.store(connectors=connectors(shop.url, webhooks.new_secret()))
    result = checks(platform, store)
    assert result["unsigned request"]["passed"] and result["wrong signature"]["passed"]
    malformed = result["requestId missing"]
    assert not malformed["passed"] and malformed["gotStatus"] == 401
    assert "connector secret" in malformed["hint"]


def test_a_retailer_that_is_down_is_reported_once(platform):
    store = platform.store(connectors=connectors(closed_port_url()))
    r = run_test(platform, store)
    body = r.json()
    assert body["passed"] is False
    first, *rest = body["checks"]
    assert first["gotStatus"] is None and "No HTTP answer" in first["hint"]
    assert rest and all(c["got"] == "not sent" and c["hint"].startswith("Not run") for c in rest)


def test_a_wrong_url_is_pointed_out(platform):
    with LoopbackRetailer(lambda r: Reply(404, {"detail": "Not Found"})) as wrong:
        store = platform.store(connectors=connectors(wrong.url + "/v1/identity"))
        result = checks(platform, store)
    assert "Nothing handles POST" in result["well-formed request"]["hint"]
    assert "/v1/identity/v1/identity/identity-keys" in result["well-formed request"]["hint"]


def test_a_slow_but_correct_answer_fails_the_deadline_check(platform):
    seen = []

    def first_slow(r):
        seen.append(r)
        return Reply(200, {"shopperAuthorized": True}, delay_s=0.4 if len(seen) == 1 else 0)

    with LoopbackRetailer(first_slow) as slow:
        store = platform.store(connectors=connectors(slow.url, timeout_ms=200))
        result = checks(platform, store, "shopperAuthorization")
    check = result["well-formed request"]
    assert not check["passed"] and "over the connector's timeoutMs of 200" in check["hint"]


def test_an_answer_off_the_contract_is_explained(platform):
    with LoopbackRetailer(lambda r: Reply(200, {"authorized": True})) as odd:
        store = platform.store(connectors=connectors(odd.url))
        result = checks(platform, store, "shopperAuthorization")
    check = result["well-formed request"]
    assert not check["passed"] and "shopperAuthorized" in check["hint"]


def test_who_may_run_it(platform, shop):
    store = platform.store(connectors={"identity": {"url": shop.url, "secret": shop.secret}})
    assert run_test(platform, store, headers=platform.op).status_code == 200
    other = platform.store()
    assert run_test(platform, store, headers=platform.as_retailer(other)).status_code == 403
    assert run_test(platform, store, headers={"Authorization": f"Bearer {store.gates['lane-1']}"}).status_code == 403
    assert platform.http.post(f"/v1/admin/stores/{store.store_id}/connectors/identity/test").status_code == 401
    assert run_test(platform, store, "shopperAuthorization").status_code == 404  # not configured
    assert run_test(platform, store, "payments").status_code == 404
    missing = platform.http.post("/v1/admin/stores/no-such-store/connectors/identity/test", headers=platform.op)
    assert missing.status_code == 404
