"""Fixtures shared by the end-to-end tests."""
from __future__ import annotations

import pytest

from retailer.harness import RunningRetailer, drop_retailer_database, fresh_retailer_database


@pytest.fixture(scope="module")
def shop(backend, tmp_path_factory):
    """The reference retailer on a fresh database of this backend; a module may override it."""
    url = fresh_retailer_database(backend, tmp_path_factory.mktemp("retailer"))
    running = RunningRetailer(url)
    yield running
    running.close()
    drop_retailer_database(url)


OPS_RETAILER_BUDGET = 5


@pytest.fixture(scope="session")
def ops_platform(backend, tmp_path_factory):
    """A server run as an operator would: the default gate budget, a small retailer budget
    (``OPS_RETAILER_BUDGET`` a minute), logs at INFO; ``ops_platform.output`` is the file with its
    start-up lines (stdout) and its JSON log lines (stderr)."""
    from support.databases import drop_database, fresh_database
    from support.server import Platform, operator_token, start_server, stop_server

    tmp = tmp_path_factory.mktemp(f"ops-{backend}")
    url = fresh_database(backend, tmp, name="ops")
    output = tmp / "server.out"
    server, proc = start_server(url, output=output, env={
        "ENTRYGATE_RATE_LIMIT_GATE": None, "ENTRYGATE_RATE_LIMIT_RETAILER": f"{OPS_RETAILER_BUDGET}/minute",
        "ENTRYGATE_LOG_LEVEL": "INFO", "ENTRYGATE_LOG_JSON": "true"})
    p = Platform(server, operator_token(url), url, proc)
    p.output = output
    yield p
    p.http.close()
    stop_server(proc)
    drop_database(url)
