"""The console's keys (DESIGN 15) over HTTP against a real server, on SQLite and PostgreSQL: a gate's keys
with rotate and revoke, the retailer's named API keys created (shown once) and revoked, never the last."""
from __future__ import annotations

import re

from consolekit import csrf_of
from support.server import card, entry


def _keys_on(text: str) -> list[str]:
    return re.findall(r"eg(?:gk|rk)_[0-9a-f]{16}_[A-Za-z0-9_-]+", text)


def _tap(platform, key: str) -> int:  # noqa: ANN001
    return platform.http.post("/v1/gates/lane-1/entries", json=entry(card()),
                              headers={"Authorization": f"Bearer {key}"}).status_code


def test_a_gate_gets_a_new_key_shown_once_and_an_old_key_is_revoked_from_its_keys_page(platform, login, client):
    store = platform.store(retailer=(login.retailer_id, login.retailer_key))
    assert _tap(platform, store.gates["lane-1"]) == 200
    client.sign_in(login.email, login.password)
    overview = client.http.get(f"/console/stores/{store.store_id}")
    page_path = f"/console/stores/{store.store_id}/gates/lane-1/keys"
    assert f'href="{page_path}"' in overview.text
    page = client.http.get(page_path)
    assert page.status_code == 200 and "Active" in page.text
    assert "<script>" not in page.text and " onclick=" not in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    (old_key_id,) = re.findall(r"<th scope=\"row\"><code>([0-9a-f]{16})</code>", page.text)

    rotated = client.http.post(page_path, data={"csrf_token": csrf_of(page.text), "graceSeconds": "0"})
    assert rotated.status_code == 201
    (new_key,) = _keys_on(rotated.text)
    assert _tap(platform, new_key) == 200
    assert _tap(platform, store.gates["lane-1"]) == 401  # no grace chosen: the old key stopped at once
    again = client.http.get(page_path)
    assert _keys_on(again.text) == []  # shown once only
    old_row = again.text.split(f"<code>{old_key_id}</code>")[1].split("</tr>")[0]
    assert "Replaced" in old_row and "never" not in old_row  # its last use is shown

    new_key_id = new_key.split("_")[1]
    gone = client.http.post(f"{page_path}/{new_key_id}/revoke", data={"csrf_token": csrf_of(again.text)})
    assert gone.status_code == 303
    assert _tap(platform, new_key) == 401
    assert "Revoked" in client.http.get(page_path).text

    refused = client.http.post(page_path, data={"csrf_token": csrf_of(again.text), "graceSeconds": "lots"})
    assert refused.status_code == 400 and "has-error" in refused.text
    other = platform.store()  # another retailer's gate looks like no gate at all
    assert client.http.get(f"/console/stores/{other.store_id}/gates/lane-1/keys").status_code == 404


def test_named_api_keys_are_created_shown_once_and_revoked_but_never_the_last(platform, login, client):
    client.sign_in(login.email, login.password)
    page = client.http.get("/console/keys")
    assert page.status_code == 200 and "initial key" in page.text
    assert 'href="/console/keys"' in page.text
    made = client.http.post("/console/keys", data={"csrf_token": csrf_of(page.text), "name": "kiosk 7"})
    assert made.status_code == 201 and "kiosk 7" in made.text
    (new_key,) = _keys_on(made.text)
    listed = platform.http.get(f"/v1/admin/retailers/{login.retailer_id}/keys",
                               headers={"Authorization": f"Bearer {new_key}"})
    assert listed.status_code == 200
    ids = {k["name"]: k["keyId"] for k in listed.json()["keys"]}
    after = client.http.get("/console/keys")
    assert _keys_on(after.text) == []
    assert client.http.post("/console/keys", data={"csrf_token": csrf_of(after.text), "name": ""}).status_code == 400
    assert client.http.post(f"/console/keys/{ids['initial key']}/revoke",
                            data={"csrf_token": csrf_of(after.text)}).status_code == 303
    last = client.http.post(f"/console/keys/{ids['kiosk 7']}/revoke", data={"csrf_token": csrf_of(after.text)})
    assert last.status_code == 409 and "last active key" in last.text
    assert platform.http.get(f"/v1/admin/retailers/{login.retailer_id}/keys",
                             headers={"Authorization": f"Bearer {new_key}"}).status_code == 200
    assert client.http.post(f"/console/keys/{ids['kiosk 7']}/revoke", data={"csrf_token": "x"}).status_code == 403
