"""Shared fixtures. Storage tests run on both backends: ``backend`` is sqlite or postgres."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from support.databases import drop_database, fresh_database
from support.risk_models import model_platform  # noqa: F401 - one server per backend for the model-operation tests
from support.server import Platform, operator_token, start_server, stop_server

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def session_db(backend: str, tmp_path_factory: pytest.TempPathFactory):
    url = fresh_database(backend, tmp_path_factory.mktemp(f"db-{backend}"), name="session")
    yield url
    drop_database(url)


@pytest.fixture
def db_url(backend: str, tmp_path: Path):
    """A fresh, migrated database for one test."""
    url = fresh_database(backend, tmp_path, name="t")
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def platform(session_db: str) -> Platform:
    """A real server process on loopback over the session database of this backend."""
    url, proc = start_server(session_db)
    p = Platform(url, operator_token(session_db), session_db, proc)
    yield p
    p.http.close()
    stop_server(proc)


# One headless Chromium per test process, for the console's tests and any other: Playwright's sync API
# runs one event loop per thread, so a second instance in the same process would refuse to start.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _chromium() -> str | None:
    return os.environ.get("ENTRYGATE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    executable = _chromium()
    if executable is None:
        pytest.skip("no Chromium installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield b
        b.close()
