"""The console's sign-in, sessions, CSRF and scoping over plain HTTP, against the real server."""
from __future__ import annotations

import time
import uuid

import httpx

from consolekit import ConsoleClient, csrf_of, new_login
from entrygate.console.routes_auth import safe_next


def test_pages_need_a_session_and_come_back_after_sign_in(client, shared_login):
    login = shared_login
    r = client.http.get("/console/stores/any/live?gate=lane-1")
    assert r.status_code == 303
    assert r.headers["location"] == "/console/sign-in?next=%2Fconsole%2Fstores%2Fany%2Flive%3Fgate%3Dlane-1"
    r = client.sign_in(login.email, login.password, next_path="/console/stores")
    assert r.status_code == 303 and r.headers["location"] == "/console/stores"
    assert client.http.get("/console/stores").status_code == 200


def test_session_cookie_is_signed_http_only_and_same_site(client, shared_login):
    login = shared_login
    r = client.sign_in(login.email, login.password)
    cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("eg_console="))
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert "httponly" in flags and "samesite=lax" in flags and "path=/console" in flags
    assert "secure" not in flags  # plain http on loopback; https sets it
    value = cookie.split(";")[0].split("=", 1)[1]
    # A tampered cookie is refused before any database read.
    client.http.cookies.set("eg_console", value[:-2] + ("AA" if not value.endswith("AA") else "BB"), path="/console")
    assert client.http.get("/console/stores").status_code == 303


def test_wrong_password_and_unknown_email_get_the_same_plain_answer(client, login):
    wrong = client.sign_in(login.email, "not-the-password")
    unknown = client.sign_in(f"nobody-{uuid.uuid4().hex[:6]}@example.com", "not-the-password")
    for r in (wrong, unknown):
        assert r.status_code == 401
        assert "Wrong email or password." in r.text
        assert "eg_console=" not in r.headers.get("set-cookie", "")


def test_repeated_failures_slow_down_per_email_and_client(client, login, platform):
    assert [client.sign_in(login.email, "not-the-password").status_code for _ in range(3)] == [401, 401, 429]
    # The third failure closed sign-in for a second: even the right password waits.
    r = client.sign_in(login.email, login.password)
    assert r.status_code == 429
    assert "Too many failed sign-ins" in r.text and int(r.headers["retry-after"]) >= 1
    # Another user from the same client is not affected.
    other = new_login(platform)
    assert ConsoleClient(platform).sign_in(other.email, other.password).status_code == 303
    time.sleep(1.2)
    assert client.sign_in(login.email, login.password).status_code == 303
    # Success clears the count: the next typo is free again.
    client.http.cookies.clear()
    assert client.sign_in(login.email, "not-the-password").status_code == 401


def test_sign_in_form_needs_its_token_and_our_origin(client, shared_login):
    login = shared_login
    r = client.http.post("/console/sign-in", data={"email": login.email, "password": login.password})
    assert r.status_code == 403
    token = csrf_of(client.http.get("/console/sign-in").text)
    r = client.http.post("/console/sign-in", data={"csrf_token": token, "email": login.email,
                                                   "password": login.password},
                         headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    r = client.http.post("/console/sign-in", data={"csrf_token": token, "email": login.email,
                                                   "password": login.password})
    assert r.status_code == 303


def test_every_post_needs_the_sessions_csrf_token(platform, signed_client, shared_login):
    client, login = signed_client, shared_login
    store = platform.store(retailer=(login.retailer_id, login.retailer_key))
    path = f"/console/stores/{store.store_id}/gates"
    assert client.http.post(path, data={"gateId": "lane-9"}).status_code == 403
    assert client.http.post(path, data={"gateId": "lane-9", "csrf_token": "0" * 64}).status_code == 403
    # Another session's token is no good either.
    other = ConsoleClient(platform)
    other.sign_in(login.email, login.password)
    assert client.http.post(path, data={"gateId": "lane-9", "csrf_token": other.csrf()}).status_code == 403
    r = client.http.post(path, data={"gateId": "lane-9", "csrf_token": client.csrf()},
                         headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and "Form refused" in r.text
    r = client.http.post(path, data={"gateId": "lane-9", "csrf_token": client.csrf()})
    assert r.status_code == 201 and "eggk_" in r.text  # the new gate's key, shown once


def test_sign_out_ends_the_session_everywhere(client, shared_login):
    login = shared_login  # a session of its own: the shared one stays signed in
    client.sign_in(login.email, login.password)
    stolen = dict(client.http.cookies)
    r = client.http.post("/console/sign-out", data={"csrf_token": client.csrf()})
    assert r.status_code == 303 and r.headers["location"] == "/console/sign-in?signed_out=1"
    # The cookie the browser dropped is dead on the server too.
    replay = httpx.Client(base_url=str(client.http.base_url), follow_redirects=False, cookies=stolen)
    assert replay.get("/console/stores").status_code == 303


def test_another_retailers_store_is_not_found(platform, signed_client):
    client = signed_client
    theirs = platform.store()  # another retailer's
    assert theirs.store_id not in client.http.get("/console/stores").text
    for path in ("", "/setup", "/live", "/live/rows?after=0", "/trips", "/balances", "/dashboard"):
        r = client.http.get(f"/console/stores/{theirs.store_id}{path}")
        assert r.status_code == 404, path
        assert theirs.store_id not in r.text
    r = client.http.post(f"/console/stores/{theirs.store_id}/gates",
                         data={"gateId": "sneaky", "csrf_token": client.csrf()})
    assert r.status_code == 404


def test_after_sign_in_only_console_paths_are_followed(client, shared_login):
    r = client.sign_in(shared_login.email, shared_login.password, next_path="//evil.example/x")
    assert r.headers["location"] == "/console/stores"
    for target in ("//evil.example/x", "https://evil.example/", "/v1/admin/stores", "/console\\..\\x", ""):
        assert safe_next(target) == "/console/stores", target
    assert safe_next("/console/stores/s-1/live?gate=a") == "/console/stores/s-1/live?gate=a"


def test_pages_carry_security_headers(signed_client):
    client = signed_client
    r = client.http.get("/console/stores")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["cache-control"] == "no-store"
    assert client.http.get("/console/static/console.js").status_code == 200


def test_demo_login_works(tmp_path):
    """The demo's printed login signs in (``entrygate demo`` builds the same world)."""
    from entrygate.adapters.db.engine import upgrade
    from entrygate.bootstrap import build
    from entrygate.cli.serverthread import ServerThread
    from entrygate.settings import DEMO_SECRET, Settings
    from entrygate.simulation.demo_setup import DEMO_EMAIL, DEMO_PASSWORD, create_demo_world
    from entrygate.web import create_app

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    upgrade(url)
    container = build(Settings(database_url=url, demo=True, secret_key=DEMO_SECRET))
    create_demo_world(container)
    server = ServerThread(create_app(container)).start()
    try:
        with httpx.Client(base_url=server.url, follow_redirects=False) as http:
            token = csrf_of(http.get("/console/sign-in").text)
            r = http.post("/console/sign-in", data={"csrf_token": token, "email": DEMO_EMAIL,
                                                    "password": DEMO_PASSWORD})
            assert r.status_code == 303
            assert "Demo Market Downtown" in http.get("/console/stores").text
    finally:
        server.stop()
        container.close()

