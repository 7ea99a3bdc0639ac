"""The console's webhook pages over plain HTTP: add an endpoint (secret shown once), its delivery log with
status, attempts, last code and a retry button, delete it; a bad URL or event refused in words; no inline
script; another retailer's endpoint is not found."""
from __future__ import annotations

import re

from consolekit import ConsoleClient, csrf_of, new_login, tap


def _signed_in(platform):  # noqa: ANN001, ANN202
    login = new_login(platform)
    client = ConsoleClient(platform)
    assert client.sign_in(login.email, login.password).status_code == 303
    return login, client


def test_a_retailer_adds_an_endpoint_sees_its_deliveries_retries_one_and_deletes_it(platform):
    login, client = _signed_in(platform)
    try:
        page = client.http.get("/console/webhooks")
        assert page.status_code == 200 and "You have no webhook endpoints yet." in page.text
        assert "<script>" not in page.text and not re.search(r"\son[a-z]+=", page.text)
        added = client.http.post("/console/webhooks", data={
            "csrf_token": csrf_of(page.text), "url": "https://hooks.example/in",
            "events": ["decision.created", "trip.opened"]})
        assert added.status_code == 201
        secret = re.search(r'id="new-secret"[^>]*value="(whsec_[^"]+)"', added.text).group(1)
        endpoint_id = re.search(r"/console/webhooks/(we_[0-9a-f]+)", added.text).group(1)
        again = client.http.get("/console/webhooks")
        assert endpoint_id in again.text and secret not in again.text  # shown once
        api = platform.http.get(f"/v1/webhook-endpoints/{endpoint_id}", headers=login.api).json()
        assert api["events"] == ["decision.created", "trip.opened"]

        store = platform.store(retailer=(login.retailer_id, login.retailer_key))
        tap(platform, store)
        detail = client.http.get(f"/console/webhooks/{endpoint_id}")
        assert detail.status_code == 200
        rows = re.findall(r'/deliveries/(\d+)/retry', detail.text)
        assert len(rows) == 2 and "decision.created" in detail.text and "trip.opened" in detail.text
        retried = client.http.post(f"/console/webhooks/{endpoint_id}/deliveries/{rows[0]}/retry",
                                   data={"csrf_token": csrf_of(detail.text)})
        assert retried.status_code == 303 and retried.headers["location"].endswith(f"?done={rows[0]}")
        assert "will be sent again" in client.http.get(retried.headers["location"]).text
        forged = client.http.post(f"/console/webhooks/{endpoint_id}/delete", data={"csrf_token": "nope"})
        assert forged.status_code == 403

        other_login, other = _signed_in(platform)
        try:
            assert other.http.get(f"/console/webhooks/{endpoint_id}").status_code == 404
            refused = other.http.post(f"/console/webhooks/{endpoint_id}/delete",
                                      data={"csrf_token": other.csrf("/console/webhooks")})
            assert refused.status_code == 404
        finally:
            other.close()

        gone = client.http.post(f"/console/webhooks/{endpoint_id}/delete", data={"csrf_token": csrf_of(detail.text)})
        assert gone.status_code == 303
        assert platform.http.get(f"/v1/webhook-endpoints/{endpoint_id}", headers=login.api).status_code == 404
    finally:
        client.close()


def test_a_refused_endpoint_says_why_next_to_the_field(platform):
    _, client = _signed_in(platform)
    try:
        token = client.csrf("/console/webhooks")
        r = client.http.post("/console/webhooks", data={"csrf_token": token, "url": "https://hooks.example/in"})
        assert r.status_code == 400 and 'id="err-events"' in r.text and "at least one event type" in r.text
        r = client.http.post("/console/webhooks", data={"csrf_token": token, "url": "gopher://x",
                                                        "events": ["trip.closed"]})
        assert r.status_code == 400 and 'id="err-url"' in r.text and 'value="gopher://x"' in r.text
    finally:
        client.close()
