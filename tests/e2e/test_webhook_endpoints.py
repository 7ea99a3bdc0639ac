"""The webhook endpoints API over HTTP (DESIGN 13): create with the secret shown once, read without it,
list, delete, the delivery log and retry; another retailer's endpoint is 404; bad input is 400."""
from __future__ import annotations

import base64

from support.webhooks import ALL_EVENTS, tap


def _create(platform, store, body):  # noqa: ANN001, ANN202
    return platform.http.post("/v1/webhook-endpoints", json=body, headers=platform.as_retailer(store))


def test_an_endpoint_is_created_shown_listed_and_deleted(platform):
    store = platform.store()
    me = platform.as_retailer(store)
    r = _create(platform, store, {"url": "https://hooks.example/in", "events": ["trip.closed", "decision.created"]})
    assert r.status_code == 201 and set(r.json()) == {"id", "secret"}
    endpoint_id, secret = r.json()["id"], r.json()["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:], validate=True)) == 32
    shown = platform.http.get(f"/v1/webhook-endpoints/{endpoint_id}", headers=me)
    assert shown.status_code == 200 and secret not in shown.text
    body = shown.json()
    assert body == {"id": endpoint_id, "url": "https://hooks.example/in", "events": ["decision.created", "trip.closed"],
                    "createdAt": body["createdAt"], "disabled": False, "disabledReason": None}
    listed = platform.http.get("/v1/webhook-endpoints", headers=me).json()["endpoints"]
    assert [e["id"] for e in listed] == [endpoint_id] and secret not in str(listed)

    tap(platform, store)  # decision.created, recorded in the tap's transaction
    log = platform.http.get(f"/v1/webhook-endpoints/{endpoint_id}/deliveries", headers=me)
    [delivery] = log.json()["deliveries"]
    assert delivery["eventType"] == "decision.created" and delivery["webhookId"].startswith("msg_")
    assert set(delivery) >= {"deliveryId", "eventId", "eventType", "webhookId", "status", "attempts",
                             "lastResponseCode", "lastAttemptAt", "nextAttemptAt"}
    again = platform.http.post(f"/v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery['deliveryId']}/retry",
                               headers=me)
    assert again.status_code == 200 and again.json()["status"] == "PENDING"
    missing = platform.http.post(f"/v1/webhook-endpoints/{endpoint_id}/deliveries/999999/retry", headers=me)
    assert missing.status_code == 404

    assert platform.http.delete(f"/v1/webhook-endpoints/{endpoint_id}", headers=me).status_code == 204
    assert platform.http.get(f"/v1/webhook-endpoints/{endpoint_id}", headers=me).status_code == 404
    assert platform.http.get("/v1/webhook-endpoints", headers=me).json() == {"endpoints": []}


def test_another_retailers_endpoint_is_not_found_and_the_operator_sees_all(platform):
    mine, theirs = platform.store(), platform.store()
    endpoint_id = _create(platform, mine, {"url": "https://hooks.example/a", "events": ALL_EVENTS}).json()["id"]
    other = platform.as_retailer(theirs)
    for method, path in [("GET", ""), ("DELETE", ""), ("GET", "/deliveries"), ("POST", "/deliveries/1/retry")]:
        r = platform.http.request(method, f"/v1/webhook-endpoints/{endpoint_id}{path}", headers=other)
        assert r.status_code == 404, (method, path)
    assert platform.http.get("/v1/webhook-endpoints", headers=other).json() == {"endpoints": []}
    seen = platform.http.get(f"/v1/webhook-endpoints?retailerId={mine.retailer_id}", headers=platform.op).json()
    assert [e["id"] for e in seen["endpoints"]] == [endpoint_id]
    r = platform.http.post("/v1/webhook-endpoints", headers=platform.op,
                           json={"url": "https://hooks.example/b", "events": ["trip.opened"], "retailerId": mine.retailer_id})
    assert r.status_code == 201
    assert platform.http.get("/v1/webhook-endpoints").status_code == 401


def test_bad_endpoints_are_refused_with_the_field_named(platform):
    store = platform.store()
    for body, field in [({"url": "https://hooks.example/in", "events": ["trip.teleported"]}, "events"),
                        ({"url": "https://hooks.example/in", "events": []}, "events"),
                        ({"url": "https://hooks.example/in"}, "events"),
                        ({"url": "https://hooks.example/in", "events": "trip.closed"}, "events"),
                        ({"events": ["trip.closed"]}, "url"),
                        ({"url": "mailto:ops@example.com", "events": ["trip.closed"]}, "url"),
                        ({"url": "https://" + "a" * 2050, "events": ["trip.closed"]}, "url"),
                        ({"url": "https://[::1/x", "events": ["trip.closed"]}, "url"),
                        ({"url": "https:///path-only", "events": ["trip.closed"]}, "url")]:
        r = _create(platform, store, body)
        assert r.status_code == 400, body
        error = r.json()["error"]
        assert error["code"] == "VALIDATION_ERROR" and error["fields"][0].startswith(field), (body, error)
    assert platform.http.get("/v1/webhook-endpoints", headers=platform.as_retailer(store)).json() == {"endpoints": []}


def test_a_bad_delivery_log_limit_is_a_400_naming_it(platform):
    store = platform.store()
    endpoint_id = _create(platform, store, {"url": "https://hooks.example/in", "events": ["trip.closed"]}).json()["id"]
    for limit in ("0", "201", "many"):
        r = platform.http.get(f"/v1/webhook-endpoints/{endpoint_id}/deliveries?limit={limit}",
                              headers=platform.as_retailer(store))
        assert r.status_code == 400 and r.json()["error"]["fields"] == ["limit"], limit


def test_an_endpoint_made_and_deleted_is_in_the_audit_log_never_with_its_secret(platform):
    store = platform.store()
    me = platform.as_retailer(store)
    r = _create(platform, store, {"url": "https://hooks.example/audited", "events": ["trip.closed"]})
    endpoint_id, secret = r.json()["id"], r.json()["secret"]
    assert platform.http.delete(f"/v1/webhook-endpoints/{endpoint_id}", headers=me).status_code == 204
    assert platform.http.delete(f"/v1/webhook-endpoints/{endpoint_id}", headers=me).status_code == 404
    answer = platform.http.get("/v1/audit", headers=me)
    entries = [e for e in answer.json()["entries"] if e["target"] == {"type": "webhookEndpoint", "id": endpoint_id}]
    assert [e["action"] for e in entries] == ["webhookEndpoint.deleted", "webhookEndpoint.created"]
    assert entries[1]["after"]["url"] == "https://hooks.example/audited" and entries[0]["before"]["events"] == ["trip.closed"]
    assert secret not in answer.text and secret[6:] not in answer.text
