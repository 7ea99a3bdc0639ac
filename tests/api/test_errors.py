"""Errors to HTTP answers: a storage fault is a 503 with the error body wherever it is raised, over
a connection that stays open; anything else unexpected is still a 500."""
from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, Request
from sqlalchemy import exc as sa_exc

from entrygate.api import errors
from entrygate.cli.serverthread import ServerThread

FAULTS = {
    "operational": sa_exc.OperationalError("SELECT 1", {}, ConnectionError("server closed the connection")),
    "interface": sa_exc.InterfaceError("SELECT 1", {}, ConnectionError("connection already closed")),
    "dbapi": sa_exc.DBAPIError("SELECT 1", {}, ConnectionError("gone")),
    "pending-rollback": sa_exc.PendingRollbackError("Can't reconnect until invalid transaction is rolled back"),
    "pool-timeout": sa_exc.TimeoutError("QueuePool limit reached"),
}


@pytest.fixture(scope="module")
def http():
    app = FastAPI()
    errors.install(app)

    @app.get("/fault/{name}")
    def fault(name: str) -> None:
        raise FAULTS[name]

    @app.get("/bug")
    def bug() -> None:
        raise RuntimeError("a bug")

    @app.get("/port")
    def port(request: Request) -> int:
        return request.client.port  # which TCP connection this came over

    server = ServerThread(app).start()
    with httpx.Client(base_url=server.url, timeout=5) as client:
        yield client
    server.stop()


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_a_storage_fault_is_a_503_with_the_error_body_and_the_connection_stays(http, name):
    before = http.get("/port").json()
    r = http.get(f"/fault/{name}")
    assert r.status_code == 503
    body = r.json()
    assert body["error"]["code"] == "UNAVAILABLE" and body["error"]["message"], body
    assert "SELECT" not in r.text and "closed" not in r.text  # no statement, no driver text
    assert http.get("/port").json() == before, "the connection was dropped after the answer"


def test_anything_else_unexpected_is_still_a_500(http):
    r = http.get("/bug")
    assert r.status_code == 500 and r.json()["error"]["code"] == "INTERNAL"
