"""Console fixtures: retailers with console logins on the real server, and a headless Chromium.

The browser is Debian's Chromium driven by Playwright (``ENTRYGATE_CHROMIUM`` overrides the path);
browser tests are skipped, not failed, where no Chromium is installed.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the helpers next to this file

from consolekit import ConsoleClient, ConsoleLogin, new_login  # noqa: E402
from support.server import Platform  # noqa: E402


@pytest.fixture
def login(platform: Platform) -> ConsoleLogin:
    return new_login(platform)


@pytest.fixture
def client(platform: Platform):
    c = ConsoleClient(platform)
    yield c
    c.close()


@pytest.fixture
def page(browser, platform: Platform):
    context = browser.new_context(base_url=platform.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    pg = context.new_page()
    yield pg
    context.close()


# Signing in costs an Argon2 verification (about half a second on a small machine), so tests that
# do not sign out or lock themselves out share one signed-in session per module and backend.


@pytest.fixture(scope="module")
def shared_login(platform: Platform) -> ConsoleLogin:
    return new_login(platform, name="Shared Console Retailer")


@pytest.fixture(scope="module")
def shared_session(platform: Platform, shared_login: ConsoleLogin) -> list[dict]:
    c = ConsoleClient(platform)
    assert c.sign_in(shared_login.email, shared_login.password).status_code == 303
    cookies = [{"name": k.name, "value": k.value, "domain": "127.0.0.1", "path": k.path, "httpOnly": True,
                "sameSite": "Lax"} for k in c.http.cookies.jar]
    c.close()
    return cookies


@pytest.fixture
def signed_client(platform: Platform, shared_session: list[dict]):
    c = ConsoleClient(platform)
    for k in shared_session:
        c.http.cookies.set(k["name"], k["value"], domain=k["domain"], path=k["path"])
    yield c
    c.close()


@pytest.fixture
def signed_page(browser, platform: Platform, shared_session: list[dict]):
    context = browser.new_context(base_url=platform.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    context.add_cookies(shared_session)
    pg = context.new_page()
    yield pg
    context.close()
