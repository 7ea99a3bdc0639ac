"""Security headers on every answer of a real server, on both databases (DESIGN 15): the console's
CSP without inline script, no framing, nosniff, a referrer policy; the API's; HSTS only over https,
believed from X-Forwarded-Proto only when the proxy is trusted (ENTRYGATE_TRUSTED_PROXIES)."""
from __future__ import annotations

import httpx
import pytest

from consolekit import PASSWORD, csrf_of, new_login
from support.server import start_server, stop_server

CONSOLE_PATHS = ["/console/sign-in", "/console/stores", "/console/static/console.js", "/console/static/console.css",
                 "/console/no-such-page", "/console"]
API_PATHS = ["/healthz", "/v1/admin/stores", "/v1/no-such-thing", "/openapi.json"]


def csp(response: httpx.Response) -> dict[str, list[str]]:
    policy = response.headers.get("content-security-policy", "")
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in policy.split(";")) if d}


def assert_console_headers(r: httpx.Response) -> None:
    policy = csp(r)
    assert "'unsafe-inline'" not in policy["script-src"] and policy["script-src"] == ["'self'"], r.url
    assert "'unsafe-inline'" not in policy.get("style-src", []), r.url
    assert policy["frame-ancestors"] == ["'none'"], r.url
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"


def test_every_console_answer_carries_the_console_headers_and_no_hsts_over_http(platform):
    for path in CONSOLE_PATHS:
        r = platform.http.get(path, follow_redirects=False)
        assert r.status_code in (200, 303, 404), path
        assert_console_headers(r)
        assert "strict-transport-security" not in r.headers, path
    r = platform.http.post("/console/sign-in", data={"email": "x@example.com"})  # refused: no form token
    assert r.status_code == 403
    assert_console_headers(r)


def test_api_answers_carry_their_own_headers_and_the_reference_page_works(platform):
    for path in API_PATHS:
        r = platform.http.get(path)
        policy = csp(r)
        assert policy["default-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"], path
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["referrer-policy"] == "no-referrer"
        assert "strict-transport-security" not in r.headers
    docs = platform.http.get("/docs")
    assert docs.status_code == 200  # the reference pages run no inline script: a CSP of their own, 'self' only
    assert "'unsafe-inline'" not in docs.headers["content-security-policy"].split("script-src")[-1].split(";")[0]
    assert docs.headers["x-content-type-options"] == "nosniff"


def test_a_forwarded_https_from_an_untrusted_address_is_not_believed(platform):
    r = platform.http.get("/console/sign-in", headers={"X-Forwarded-Proto": "https"})
    assert "strict-transport-security" not in r.headers
    assert "secure" not in r.headers.get("set-cookie", "").lower()


@pytest.fixture(scope="module")
def behind_proxy(platform):
    """A second process on the same database that trusts loopback as its TLS proxy."""
    url, proc = start_server(platform.database_url, env={"ENTRYGATE_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8"})
    yield url
    stop_server(proc)


def test_hsts_and_secure_cookies_behind_a_trusted_proxy(platform, behind_proxy):
    https = {"X-Forwarded-Proto": "https"}
    with httpx.Client(base_url=behind_proxy, follow_redirects=False, timeout=30) as http:
        for path in CONSOLE_PATHS + API_PATHS:
            r = http.get(path, headers=https)
            assert r.headers["strict-transport-security"] == "max-age=31536000", path
            assert "strict-transport-security" not in http.get(path).headers, path  # plain http: none
    login = new_login(platform, name="Behind a proxy")
    with httpx.Client(base_url=behind_proxy, follow_redirects=False, timeout=30) as http:
        page = http.get("/console/sign-in", headers=https)
        assert "secure" in page.headers["set-cookie"].lower()
        # A Secure cookie travels only over https: the proxy's side of the connection, sent by hand here.
        presession = page.headers["set-cookie"].split(";")[0]
        form = {"csrf_token": csrf_of(page.text), "email": login.email, "password": PASSWORD, "next": "/console/stores"}
        r = http.post("/console/sign-in", headers=https | {"Cookie": presession}, data=form)
        assert r.status_code == 303
        session = next(c for c in r.headers.get_list("set-cookie") if c.startswith("eg_console="))
        assert "secure" in session.lower() and "httponly" in session.lower()
        assert_console_headers(r)
