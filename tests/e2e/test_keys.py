"""Keys and secrets over real HTTP and the real CLI (DESIGN 15), on SQLite and PostgreSQL: gate keys'
grace and revocation across two server processes, named retailer keys, last use, and `entrygate keys`
rotating the palm key (palms still open after a restart) and the sessions key (sessions in flight live)."""
from __future__ import annotations

import re
import time
import uuid

import httpx
import numpy as np
import pytest
from click.testing import Result
from typer.testing import CliRunner

from entrygate.bootstrap import build
from entrygate.cli.main import app
from entrygate.domain.palm import encode_signature
from entrygate.settings import Settings
from entrygate.simulation.palm_reader import PalmPopulation, read
from support.databases import drop_database, fresh_database
from support.server import TEST_SECRET, Platform, card, entry, start_server, stop_server

ENV = {"ENTRYGATE_KEY_USE_FLUSH_S": "0.3", "ENTRYGATE_KEY_REFRESH_S": "0.2"}
PASSWORD = "correct-horse-battery"
POP = PalmPopulation(seed=9191)
RNG = np.random.default_rng(11)


@pytest.fixture(scope="module")
def pair(backend, tmp_path_factory):
    """Two server processes on one fresh database of this backend."""
    url = fresh_database(backend, tmp_path_factory.mktemp(f"keys-{backend}"), name="keys")
    (a_url, a), (b_url, b) = start_server(url, env=ENV), start_server(url, env=ENV)
    made = CliRunner().invoke(app, ["admin", "create-token"], env=_env(url))
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[-1]
    first, second = Platform(a_url, token, url, a), Platform(b_url, token, url, b)
    yield first, second
    for p in (first, second):
        p.http.close()
        stop_server(p.process)
    drop_database(url)


def _env(database_url: str) -> dict[str, str]:
    return {"ENTRYGATE_DATABASE_URL": database_url, "ENTRYGATE_SECRET_KEY": TEST_SECRET,
            "ENTRYGATE_LOG_LEVEL": "WARNING", **ENV}


def cli(database_url: str, *args: str) -> Result:
    """``entrygate keys ...`` as the console script runs it (in this process: starting Python costs seconds)."""
    return CliRunner().invoke(app, ["keys", *args], env=_env(database_url))


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def tap(p: Platform, gate_key: str, gate: str = "lane-1") -> int:
    return p.http.post(f"/v1/gates/{gate}/entries", json=entry(card()), headers=bearer(gate_key)).status_code


def until(check, *, within: float) -> float:  # noqa: ANN001
    """Seconds until ``check()`` is true; fails when it is not within ``within`` seconds."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < within, f"not within {within} s"
        time.sleep(0.02)
    return time.monotonic() - start


def test_a_rotated_gate_key_keeps_working_through_its_grace_and_a_revoked_one_stops_in_every_process(pair):
    a, b = pair
    shop = a.store()
    old = shop.gates["lane-1"]
    assert tap(a, old) == 200 and tap(b, old) == 200
    r = a.http.post("/v1/admin/gates/lane-1/keys", json={"graceSeconds": 3}, headers=a.as_retailer(shop),
                    params={"storeId": shop.store_id})
    assert r.status_code == 201, r.text
    rotated = r.json()
    assert set(rotated) == {"keyId", "apiKey", "previousKeyExpiresAt"} and rotated["apiKey"].startswith("eggk_")
    assert tap(a, old) == 200 and tap(b, old) == 200 and tap(b, rotated["apiKey"]) == 200  # the grace
    until(lambda: tap(a, old) == 401 and tap(b, old) == 401, within=5)
    assert tap(a, rotated["apiKey"]) == 200

    listed = a.http.get("/v1/admin/gates/lane-1/keys", headers=a.op, params={"storeId": shop.store_id}).json()["keys"]
    assert [k["keyId"] for k in listed][0] == rotated["keyId"] and len(listed) == 2
    assert set(listed[0]) == {"keyId", "createdAt", "expiresAt", "lastUsedAt", "revoked"}
    assert listed[1]["expiresAt"] == rotated["previousKeyExpiresAt"] and listed[0]["expiresAt"] is None
    # Last use, written behind by both processes: within a flush interval of the use.
    until(lambda: all(k["lastUsedAt"] for k in b.http.get("/v1/admin/gates/lane-1/keys", headers=b.op,
                                                          params={"storeId": shop.store_id}).json()["keys"]),
          within=3)

    r = b.http.delete(f"/v1/admin/gates/lane-1/keys/{rotated['keyId']}", headers=b.as_retailer(shop),
                      params={"storeId": shop.store_id})
    assert r.status_code == 204
    assert until(lambda: tap(a, rotated["apiKey"]) == 401 and tap(b, rotated["apiKey"]) == 401, within=1.0) < 1.0
    revoked = {k["keyId"]: k["revoked"] for k in a.http.get("/v1/admin/gates/lane-1/keys", headers=a.op,
                                                            params={"storeId": shop.store_id}).json()["keys"]}
    assert revoked[rotated["keyId"]] is True


def test_gate_keys_of_another_retailer_are_not_found_and_bad_grace_names_the_field(pair):
    a, _ = pair
    mine, theirs = a.store(gates=("lane-k",)), a.store(gates=("lane-z",))
    for method, path in (("POST", "/v1/admin/gates/lane-z/keys"), ("GET", "/v1/admin/gates/lane-z/keys"),
                         ("DELETE", "/v1/admin/gates/lane-z/keys/0123456789abcdef")):
        r = a.http.request(method, path, headers=a.as_retailer(mine), json={} if method == "POST" else None)
        assert r.status_code == 404, (method, r.text)
    for body in ({"graceSeconds": -1}, {"graceSeconds": 604801}, {"graceSeconds": "60"}, {"graceSeconds": 1.5}):
        r = a.http.post("/v1/admin/gates/lane-k/keys", json=body, headers=a.as_retailer(mine))
        assert r.status_code == 400 and r.json()["error"]["fields"] == ["graceSeconds"], r.text
    r = a.http.post("/v1/admin/gates/lane-k/keys", headers=a.as_retailer(mine))  # no body: a day of grace
    assert r.status_code == 201
    assert r.json()["previousKeyExpiresAt"] > time.strftime("%Y-%m-%dT", time.gmtime(time.time() + 86000))
    assert a.http.get("/v1/admin/gates/lane-k/keys", headers=bearer(theirs.gates["lane-z"])).status_code == 403
    assert a.http.get("/v1/admin/gates/lane-k/keys").status_code == 401


def test_named_retailer_keys_are_shown_once_and_the_last_active_one_stays(pair):
    a, b = pair
    retailer_id, initial = a.retailer("Keys Retailer")
    other_id, other_key = a.retailer("Someone Else")
    r = a.http.post(f"/v1/admin/retailers/{retailer_id}/keys", json={"name": "back office"}, headers=bearer(initial))
    assert r.status_code == 201, r.text
    made = r.json()
    assert set(made) == {"keyId", "name", "apiKey"} and made["name"] == "back office"
    listed = b.http.get(f"/v1/admin/retailers/{retailer_id}/keys", headers=bearer(made["apiKey"]))
    assert listed.status_code == 200
    keys = listed.json()["keys"]
    assert [k["name"] for k in keys] == ["initial key", "back office"]
    assert all(set(k) == {"keyId", "name", "createdAt", "lastUsedAt", "revoked"} for k in keys)
    assert made["apiKey"] not in listed.text and initial not in listed.text
    initial_id = keys[0]["keyId"]
    assert a.http.get(f"/v1/admin/retailers/{other_id}/keys", headers=bearer(initial)).status_code == 404
    assert a.http.delete(f"/v1/admin/retailers/{other_id}/keys/{initial_id}", headers=bearer(initial)).status_code == 404
    assert a.http.post(f"/v1/admin/retailers/{retailer_id}/keys", json={"name": ""}, headers=a.op).status_code == 400
    assert a.http.delete(f"/v1/admin/retailers/{retailer_id}/keys/{initial_id}",
                         headers=bearer(made["apiKey"])).status_code == 204
    until(lambda: b.http.get(f"/v1/admin/retailers/{retailer_id}/keys", headers=bearer(initial)).status_code == 401,
          within=1.0)
    r = a.http.delete(f"/v1/admin/retailers/{retailer_id}/keys/{made['keyId']}", headers=a.op)
    assert r.status_code == 409 and r.json()["error"]["code"] == "CONFLICT"
    assert b.http.get(f"/v1/admin/retailers/{retailer_id}/keys", headers=bearer(made["apiKey"])).status_code == 200
    assert a.http.get(f"/v1/admin/retailers/{other_id}/keys", headers=bearer(other_key)).status_code == 200


def test_an_unknown_purpose_exits_2_and_status_lists_every_purpose(pair):
    a, _ = pair
    for purpose in ("instrument", "bogus"):
        done = cli(a.database_url, "rotate", "--purpose", purpose)
        assert done.exit_code == 2, done.stderr
    status = cli(a.database_url, "status")
    assert status.exit_code == 0, status.stderr
    lines = status.stdout.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["instrument", "palm", "sessions", "offline"]
    assert re.fullmatch(r"palm: palm-[0-9a-f]+ \(templates under older keys: \d+\)", lines[1])


def _sign_in(p: Platform, email: str) -> httpx.Client:
    client = httpx.Client(base_url=p.url, follow_redirects=False, timeout=30)
    page = client.get("/console/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/console/sign-in", data={"csrf_token": token, "email": email, "password": PASSWORD,
                                               "next": "/console/stores"})
    assert r.status_code == 303, r.text
    return client


def _csrf(client: httpx.Client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console/stores").text).group(1)


def test_sessions_and_csrf_tokens_from_before_a_sessions_rotation_stay_valid(pair):
    a, b = pair
    retailer_id, _ = a.retailer("Session Retailer")
    email = f"user-{uuid.uuid4().hex[:8]}@example.com"
    assert a.http.post(f"/v1/admin/retailers/{retailer_id}/users", json={"email": email, "password": PASSWORD},
                       headers=a.op).status_code == 201
    before = _sign_in(a, email)
    old_cookie, old_csrf = before.cookies["eg_console"], _csrf(before)
    old_key = old_cookie.split("~")[0]
    done = cli(a.database_url, "rotate", "--purpose", "sessions")
    assert done.exit_code == 0, done.stderr
    new_key = done.stdout.strip().splitlines()[-1].removeprefix("key id: ")
    assert re.fullmatch(r"sessions-[0-9a-f]{8}", new_key) and new_key != old_key
    # Every process signs with the new key within moments (well inside 10 s) ...
    for p in (a, b):
        until(lambda p=p: _sign_in(p, email).cookies["eg_console"].startswith(new_key + "~"), within=10)
    # ... and the session and form token made under the old key still work, on both processes.
    for p in (a, b):
        old = httpx.Client(base_url=p.url, follow_redirects=False, timeout=30, cookies={"eg_console": old_cookie})
        assert old.get("/console/stores").status_code == 200
        assert _csrf(old).startswith(new_key + "~")  # new pages carry new tokens
        old.close()
    gone = before.post("/console/sign-out", data={"csrf_token": old_csrf})
    assert gone.status_code == 303  # the old token was accepted: the sign-out happened
    assert before.get("/console/stores").status_code == 303  # signed out now: sent to sign in


def test_a_palm_rotation_re_encrypts_every_template_and_palms_open_after_a_restart(pair):
    a, _ = pair
    deadline = time.monotonic() + 30
    while a.http.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    shop = a.store(entryMethods=["CREDIT_CARD", "PALM"], gates=("palm-lane",))
    people = range(3)
    for who in people:
        r = a.http.post("/v1/palm/enrollments", headers=a.as_retailer(shop),
                        json={"signature": encode_signature(read(POP.person(who), RNG).signature),
                              "card": card(par="V001" + uuid.uuid4().hex.upper()[:25].replace("0", "Q")),
                              "consent": True})
        assert r.status_code == 201, r.text
    done = cli(a.database_url, "rotate", "--purpose", "palm")
    assert done.exit_code == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    total = int(re.fullmatch(r"re-encrypted: (\d+) of (\d+)", lines[-2]).group(2))
    assert lines[-2] == f"re-encrypted: {total} of {total}" and total >= 3
    key_id = lines[-1].removeprefix("key id: ")
    assert re.fullmatch(r"palm-[0-9a-f]{8}", key_id)
    status = cli(a.database_url, "status").stdout
    assert f"palm: {key_id} (templates under older keys: 0)" in status
    for who in people:  # the running processes, which loaded the templates before, still match
        r = a.http.post("/v1/gates/palm-lane/entries", headers=bearer(shop.gates["palm-lane"]),
                        json=entry({"signature": encode_signature(read(POP.person(who), RNG).signature),
                                    "liveness": 0.97}, channel="PALM"))
        assert r.status_code == 200 and r.json()["decision"] == "OPEN", r.text
    # A process started now reads every template from the database, under the new key.
    restarted = build(Settings(database_url=a.database_url, secret_key=TEST_SECRET, key_refresh_s=0.2),
                      background_sweep=False)
    try:
        assert restarted.palm.wait_ready(30)
        assert restarted.palm.status()["unreadableTemplates"] == 0
        for who in people:
            probe = restarted.palm.decode_probe(encode_signature(read(POP.person(who), RNG).signature), field="s")
            assert restarted.palm.identify(probe) is not None
    finally:
        restarted.close()


def test_key_changes_are_in_the_audit_log_under_the_key_that_made_them_and_never_the_key(pair):
    a, _ = pair
    retailer_id, initial = a.retailer("Audited Keys")
    store = a.store(retailer=(retailer_id, initial))
    made = a.http.post(f"/v1/admin/retailers/{retailer_id}/keys", json={"name": "till"}, headers=bearer(initial)).json()
    rotated = a.http.post("/v1/admin/gates/lane-1/keys", params={"storeId": store.store_id}, json={"graceSeconds": 60},
                          headers=bearer(made["apiKey"])).json()
    assert a.http.delete(f"/v1/admin/gates/lane-1/keys/{rotated['keyId']}", params={"storeId": store.store_id},
                         headers=bearer(made["apiKey"])).status_code == 204
    assert a.http.delete(f"/v1/admin/retailers/{retailer_id}/keys/{made['keyId']}",
                         headers=bearer(initial)).status_code == 204
    assert a.http.delete(f"/v1/admin/retailers/{retailer_id}/keys/{made['keyId']}/x", headers=bearer(initial)).status_code == 404
    r = a.http.get("/v1/audit", headers=bearer(initial))
    entries = [e for e in r.json()["entries"] if e["action"].startswith(("gateKey.", "retailerKey."))]
    assert [e["action"] for e in entries] == ["retailerKey.revoked", "gateKey.revoked", "gateKey.rotated",
                                              "retailerKey.created"]
    assert entries[-1]["actor"]["type"] == "RETAILER_KEY" and entries[-1]["actor"]["name"] == "initial key"
    assert entries[2]["actor"]["name"] == "till" and entries[2]["target"] == {"type": "gateKey", "id": rotated["keyId"]}
    for secret in (made["apiKey"], rotated["apiKey"], initial):
        assert secret.split("_", 2)[2] not in r.text
