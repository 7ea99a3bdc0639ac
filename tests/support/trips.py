"""Helpers for the trip lifecycle tests: a server of their own, settlement calls, the sandbox ledger, the clock.

The tests' server runs with its background sweep off (``ENTRYGATE_SWEEP_INTERVAL_S=0``), so a trip
closes by timeout only when a test runs ``entrygate trips sweep``, and with a sandbox ledger, so
what the processor did can be counted from outside the server.
"""
from __future__ import annotations

import os
import re
import subprocess
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from entrygate.adapters.processors.sandbox import read_ledger
from support.databases import drop_database, fresh_database
from support.server import (
    TEST_SECRET,
    Platform,
    StoreHandle,
    card,
    entry,
    entrygate_exe,
    new_par,
    operator_token,
    start_server,
    stop_server,
)

SWEPT = re.compile(r"^closed: (\d+), released: (\d+), orphans released: \d+$")
LENIENT = {"riskStrategy": "PLATFORM_MANAGED", "riskTolerance": "HIGH"}  # only the balance itself denies


@dataclass
class World:
    """A running server of the trip tests, its database and its sandbox ledger."""

    platform: Platform
    ledger: Path
    env: dict[str, str]

    @property
    def database_url(self) -> str:
        return self.platform.database_url


def server_env(ledger: Path, **extra: str) -> dict[str, str]:
    return {"ENTRYGATE_SANDBOX_LEDGER": str(ledger), "ENTRYGATE_SWEEP_INTERVAL_S": "0", **extra}


def open_world(backend: str, tmp: Path, **extra_env: str) -> World:
    url = fresh_database(backend, tmp, name="trips")
    ledger = tmp / "ledger.jsonl"
    env = server_env(ledger, **extra_env)
    base, proc = start_server(url, env=env)
    return World(Platform(base, operator_token(url), url, proc), ledger, env)


def close_world(world: World) -> None:
    world.platform.http.close()
    if world.platform.process is not None:
        stop_server(world.platform.process)
    drop_database(world.database_url)


def world_fixtures(name: str) -> tuple[Any, Any]:
    """A test module's ``world`` (its own server, one per module and backend) and ``platform`` (that server).

    Use as ``world, platform = world_fixtures("settlement")`` at the top of the module.
    """
    @pytest.fixture(scope="module")
    def world(backend: str, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN202
        w = open_world(backend, tmp_path_factory.mktemp(name))
        yield w
        close_world(w)

    @pytest.fixture
    def platform(world: World) -> Platform:
        return world.platform

    return world, platform


def tap(platform: Platform, store: StoreHandle, *, token: str = "tok_visa_approve", par: str | None = None) -> dict:
    """A card tap at the store's entry; the gate's answer."""
    r = platform.enter(store, entry(card(token, par=par or new_par())))
    assert r.status_code == 200, r.text
    return r.json()


def visit(platform: Platform, store: StoreHandle, **kwargs: Any) -> str:
    """A tap that opens the gate; the trip's id."""
    answer = tap(platform, store, **kwargs)
    assert answer["decision"] == "OPEN", answer
    return answer["shoppingTripId"]


def usd(value: float | str, currency: str = "USD") -> dict[str, Any]:
    return {"amount": {"value": value, "currencyCode": currency}}


def settle(platform: Platform, store: StoreHandle, trip_id: str, operation: str, body: Any = None, *,
           key: str | None = None, headers: dict[str, str] | None = None) -> httpx.Response:
    """``POST /v1/trips/{id}/preauthorization/{operation}`` with a fresh ``Idempotency-Key`` unless one is given."""
    sent = {**(headers if headers is not None else platform.as_retailer(store)),
            "Idempotency-Key": key or uuid.uuid4().hex}
    path = f"/v1/trips/{trip_id}/preauthorization/{operation}"
    if body is None:
        return platform.http.post(path, headers=sent)
    return platform.http.post(path, json=body, headers=sent)


def trip(platform: Platform, store: StoreHandle, trip_id: str) -> dict:
    r = platform.http.get(f"/v1/trips/{trip_id}", headers=platform.as_retailer(store))
    assert r.status_code == 200, r.text
    return r.json()


def close(platform: Platform, trip_id: str, headers: dict[str, str]) -> httpx.Response:
    return platform.http.post(f"/v1/trips/{trip_id}/close", headers=headers)


def value(money: dict | None) -> float | None:
    return None if money is None else money["value"]


def ledger_ops(world: World, preauth_id: str) -> list[tuple[str, float | None, bool | None]]:
    """What the sandbox did to one hold, in order: ``(op, amount, approved)``."""
    return [(x["op"], float(x["amount"]) if "amount" in x else None, x.get("approved"))
            for x in read_ledger(world.ledger) if x["preauthId"] == preauth_id]


def backdate(database_url: str, trip_id: str, *, entered: timedelta | None = None,
             exited: timedelta | None = None) -> None:
    """Move a trip's entry (or its close) into the past, as if that much time had gone by since."""
    now = datetime.now(UTC)
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            if entered is not None:
                conn.execute(text("UPDATE shopping_trips SET entered_at = :at WHERE trip_id = :t"),
                             {"at": now - entered, "t": trip_id})
            if exited is not None:
                conn.execute(text("UPDATE shopping_trips SET exited_at = :at WHERE trip_id = :t"),
                             {"at": now - exited, "t": trip_id})
    finally:
        engine.dispose()


def sweep_command(world: World) -> list[str]:
    return [*entrygate_exe(), "trips", "sweep"]


def sweep_env(world: World) -> dict[str, str]:
    return {**os.environ, **world.env, "ENTRYGATE_DATABASE_URL": world.database_url,
            "ENTRYGATE_SECRET_KEY": TEST_SECRET, "ENTRYGATE_LOG_LEVEL": "WARNING"}


def sweep(world: World) -> tuple[int, int]:
    """``entrygate trips sweep`` once; what it printed, as ``(closed, released)``."""
    run = subprocess.run(sweep_command(world), env=sweep_env(world), capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    found = SWEPT.match(run.stdout.strip())
    assert found, run.stdout
    return int(found.group(1)), int(found.group(2))
