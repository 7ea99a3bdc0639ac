"""A real entrygate server process on loopback, and a small client for the tests."""
from __future__ import annotations

import os
import random
import signal
import string
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from entrygate.cli.serverthread import free_port

TEST_SECRET = "test-secret-" + "x" * 40


def card(token: str = "tok_visa_approve", *, par: str | None = "V0010013022298169667504271781", **over: Any) -> dict:
    c = {"paymentToken": token, "par": par, "brand": "VISA", "last4": "4242", "expMonth": 12, "expYear": 2030,
         "funding": "credit", "issuerCountry": "US"}
    if par is None:
        c.pop("par")
    c.update(over)
    return c


def new_par() -> str:
    """A fresh Payment Account Reference, letters only: it can never look like a card number."""
    return "VTST" + "".join(random.choice(string.ascii_uppercase) for _ in range(25))


def entry(credential: dict, *, channel: str = "CREDIT_CARD", party_size: int = 1, event_id: str | None = None) -> dict:
    return {"eventId": event_id or str(uuid.uuid4()),
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "channel": channel, "interactionType": "TAP", "partySize": party_size, "credential": credential}


@dataclass
class StoreHandle:
    store_id: str
    retailer_id: str
    retailer_key: str
    gates: dict[str, str] = field(default_factory=dict)  # gate id -> key


class Platform:
    """A running server plus an operator token, with helpers to set up stores."""

    def __init__(self, url: str, operator_token: str, database_url: str, process: subprocess.Popen | None) -> None:
        self.url = url
        self.database_url = database_url
        self.process = process
        self.http = httpx.Client(base_url=url, timeout=30.0)
        self.op = {"Authorization": f"Bearer {operator_token}"}

    def retailer(self, name: str = "Test Retailer") -> tuple[str, str]:
        r = self.http.post("/v1/admin/retailers", json={"name": name}, headers=self.op)
        assert r.status_code == 201, r.text
        return r.json()["retailerId"], r.json()["apiKey"]

    def store(self, *, gates: tuple[str, ...] = ("lane-1",), exit_gates: tuple[str, ...] = (),
              retailer: tuple[str, str] | None = None, **config: Any) -> StoreHandle:
        retailer_id, key = retailer or self.retailer()
        store_id = config.pop("storeId", "store-" + uuid.uuid4().hex[:10])
        body = {"retailerId": retailer_id, "storeId": store_id, "name": "Test Store", "timezone": "UTC",
                "currency": "USD", "authorizedAmount": {"value": 25.0, "currencyCode": "USD"},
                "entryMethods": ["CREDIT_CARD"], "riskStrategy": "NONE", "riskTolerance": "MEDIUM",
                "fallbackDecision": "DENY", "maxPartySize": 4, "antiPassback": "NONE"}
        body.update(config)
        r = self.http.post("/v1/admin/stores", json=body, headers=self.op)
        assert r.status_code == 201, r.text
        handle = StoreHandle(store_id, retailer_id, key)
        for gate_id, direction in [(g, "ENTRY") for g in gates] + [(g, "EXIT") for g in exit_gates]:
            r = self.http.post(f"/v1/admin/stores/{store_id}/gates", json={"gateId": gate_id, "direction": direction},
                               headers=self.op)
            assert r.status_code == 201, r.text
            handle.gates[gate_id] = r.json()["apiKey"]
        return handle

    def enter(self, handle: StoreHandle, body: dict, *, gate: str = "lane-1") -> httpx.Response:
        return self.http.post(f"/v1/gates/{gate}/entries", json=body,
                              headers={"Authorization": f"Bearer {handle.gates[gate]}"})

    def exit(self, handle: StoreHandle, body: dict, *, gate: str) -> httpx.Response:
        return self.http.post(f"/v1/gates/{gate}/exits", json=body,
                              headers={"Authorization": f"Bearer {handle.gates[gate]}"})

    def as_retailer(self, handle: StoreHandle) -> dict[str, str]:
        return {"Authorization": f"Bearer {handle.retailer_key}"}


def entrygate_exe() -> list[str]:
    return [sys.executable, "-m", "entrygate.cli.main"]


# The suite drives one gate or retailer key far faster than an honest client (hundreds of taps a
# second); the rate-limit tests start their servers with the defaults (passing None) or small budgets.
SUITE_RATE_LIMIT = "100000/second"


def start_server(database_url: str, *, env: dict[str, str | None] | None = None, workers: int = 1,
                 output: Path | None = None, args: tuple[str, ...] = ()) -> tuple[str, subprocess.Popen]:
    """``entrygate serve`` on a free port; ``env`` adds variables, a None value removes one; ``output``: a
    file that receives the server's stdout and stderr (its start-up lines and logs), read while it runs."""
    port = free_port()
    merged = {**os.environ, "ENTRYGATE_DATABASE_URL": database_url, "ENTRYGATE_SECRET_KEY": TEST_SECRET,
              "ENTRYGATE_LOG_LEVEL": "WARNING", "ENTRYGATE_PROCESSOR_TIMEOUT_MS": "300",
              # The tests' retailers listen on loopback; a test of the guard passes "false".
              "ENTRYGATE_ALLOW_PRIVATE_URLS": "true",
              "ENTRYGATE_RATE_LIMIT_GATE": SUITE_RATE_LIMIT, "ENTRYGATE_RATE_LIMIT_RETAILER": SUITE_RATE_LIMIT,
              **(env or {})}
    full_env = {name: value for name, value in merged.items() if value is not None}
    sink = output.open("ab") if output is not None else None
    proc = subprocess.Popen([*entrygate_exe(), "serve", "--port", str(port), "--workers", str(workers), *args],
                            env=full_env, stdout=sink or subprocess.DEVNULL, stderr=sink or subprocess.PIPE,
                            start_new_session=True)
    if sink is not None:
        sink.close()  # the server holds its own copy
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            said = output.read_text() if output is not None else proc.stderr.read().decode()
            raise RuntimeError(f"server exited: {said[-2000:]}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return url, proc
        except httpx.HTTPError:
            time.sleep(0.1)
    stop_server(proc)
    raise RuntimeError("server did not come up")


def stop_server(proc: subprocess.Popen, *, sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def operator_token(database_url: str) -> str:
    env = dict(os.environ, ENTRYGATE_DATABASE_URL=database_url, ENTRYGATE_SECRET_KEY=TEST_SECRET)
    out = subprocess.run([*entrygate_exe(), "admin", "create-token"], env=env, capture_output=True, text=True,
                         check=True)
    return out.stdout.strip().splitlines()[-1]


def daytime_zone() -> str:
    """A time zone where it is early afternoon now. The bundled model weighs the store's local hour (a
    night entry scores higher), so a test about something else than the clock puts its store here."""
    offset = (13 - datetime.now(UTC).hour + 12) % 24 - 12  # -12 .. +11 hours from UTC
    return "UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"  # POSIX: Etc/GMT-2 is two hours ahead of UTC
