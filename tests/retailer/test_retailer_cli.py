"""``entrygate retailer …``: the records the commands write are what the running service answers from."""
from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
import uuid

import httpx
import pytest
from typer.testing import CliRunner

from entrygate.cli.serverthread import free_port
from entrygate.domain import qr, webhooks
from entrygate.retailer.cli import app
from retailer.harness import RunningRetailer, drop_retailer_database, fresh_retailer_database

runner = CliRunner()


@pytest.fixture
def db(backend, tmp_path):
    url = fresh_retailer_database(backend, tmp_path)
    yield url
    drop_retailer_database(url)


@pytest.fixture
def sqlite_db(tmp_path):
    """For what does not depend on the database: argument checks, the serve command."""
    return f"sqlite:///{tmp_path / 'retailer.db'}"


def run(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, list(args), env=env)


def identity(url: str, secret: str, key: bytes, channel: str = "OPTICAL") -> httpx.Response:
    body = {"requestId": str(uuid.uuid4()), "identityKey": base64.b64encode(key).decode(), "storeId": "s",
            "authEvent": {"id": str(uuid.uuid4()), "timestamp": "2026-11-27T18:00:00Z", "location": "ENTRY"},
            "keyChannel": channel}
    raw = httpx.Request("POST", "/", json=body).content
    return httpx.post(url + "/v1/identity/identity-keys", content=raw,
                      headers={"content-type": "application/json", **webhooks.headers(secret, raw)})


def test_registrations_are_what_the_service_answers(db, tmp_path):
    secret = webhooks.new_secret()
    assert run("add-shopper", "--identity-key", "member-7", "--visitor-id", "v-carol", "--database-url", db).exit_code == 0
    assert run("add-associate", "--identity-key", "staff-1", "--visitor-id", "v-dan", "--database-url",
               db).exit_code == 0
    r = run("add-badge", "--format", "H10301", "--facility", "101", "--card", "1337", "--visitor-id", "v-dan",
            "--type", "ASSOCIATE", "--database-url", db)
    assert r.exit_code == 0 and "H10301:101:1337" in r.output
    assert run("add-badge", "--csn", "04:a1:b2:c3:d4:e5:f6", "--visitor-id", "v-carol", "--database-url",
               db).exit_code == 0
    png = tmp_path / "code.png"
    r = run("issue-qr", "--visitor-id", "v-carol", "--png", str(png), "--database-url", db, "--signing-secret", secret)
    assert r.exit_code == 0, r.output
    code = r.output.strip()
    assert png.read_bytes().startswith(b"\x89PNG")
    running = RunningRetailer(db, secret=secret)
    try:
        assert qr.verify(running.settings.qr_key, code, now=time.time()).token
        assert identity(running.url, secret, b"member-7").json()["visitorDetails"] == {"id": "v-carol",
                                                                                     "type": "SHOPPER"}
        assert identity(running.url, secret, b"staff-1").json()["visitorDetails"]["type"] == "ASSOCIATE"
        assert identity(running.url, secret, b"H10301:101:1337", "RFID").json()["visitorDetails"]["id"] == "v-dan"
        assert identity(running.url, secret, b"CSN:04A1B2C3D4E5F6", "RFID").status_code == 200
        assert identity(running.url, secret, code.encode()).json()["visitorDetails"]["id"] == "v-carol"
        assert identity(running.url, secret, code.encode()).status_code == 401
    finally:
        running.close()


def test_balances_deny_list_and_loyalty(db):
    assert run("set-balance", "--shopper-id", "pi_1", "--amount", "12.50", "--currency", "USD", "--database-url",
               db).exit_code == 0
    assert run("deny", "--shopper-id", "pi_2", "--database-url", db).exit_code == 0
    assert run("add-loyalty-member", "--shopper-id", "pi_3", "--database-url", db).exit_code == 0
    running = RunningRetailer(db)
    try:
        accounts = {s: running.retailer.repo.account(s) for s in ("pi_1", "pi_2", "pi_3", "pi_4")}
    finally:
        running.close()
    assert accounts["pi_1"].balance == 12.5 and accounts["pi_1"].currency == "USD"
    assert accounts["pi_2"].denied_as == "CustomerFraud"
    assert accounts["pi_3"].loyalty_member and not accounts["pi_4"].loyalty_member


@pytest.mark.parametrize("args, message", [
    (["add-badge", "--format", "H10301", "--facility", "999", "--card", "1", "--visitor-id", "v"], "does not fit"),
    (["add-badge", "--format", "NOPE", "--facility", "1", "--card", "1", "--visitor-id", "v"], "unknown Wiegand"),
    (["add-badge", "--csn", "04A1B", "--visitor-id", "v"], "whole bytes"),
    (["add-badge", "--csn", "04A1B2C3", "--format", "H10301", "--visitor-id", "v"], "not both"),
    (["add-badge", "--format", "H10301", "--card", "5", "--visitor-id", "v", "--type", "VIP"], "SHOPPER or ASSOCIATE"),
    (["set-balance", "--shopper-id", "p", "--amount", "ten", "--currency", "USD"], "number"),
    (["set-balance", "--shopper-id", "p", "--amount", "-1", "--currency", "USD"], "zero or more"),
    (["set-balance", "--shopper-id", "p", "--amount", "1", "--currency", "usd"], "three capital"),
    (["issue-qr", "--visitor-id", "nobody", "--signing-secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], "no visitor"),
    (["issue-qr", "--visitor-id", "v"], "SIGNING_SECRET"),
    (["deny", "--shopper-id", "p", "--risk", "Meh"], "must be one of"),
])
def test_bad_arguments_are_refused_with_a_message(sqlite_db, args, message):
    env = {"ENTRYGATE_RETAILER_SIGNING_SECRET": ""}
    r = runner.invoke(app, [*args, "--database-url", sqlite_db], env=env)
    assert r.exit_code == 2, r.output
    assert message in r.output


def test_a_visitor_keeps_its_type(db):
    assert run("add-shopper", "--identity-key", "k", "--visitor-id", "v-x", "--database-url", db).exit_code == 0
    r = run("add-associate", "--identity-key", "k2", "--visitor-id", "v-x", "--database-url", db)
    assert r.exit_code == 2 and "registered as SHOPPER" in r.output


def test_serve_runs_the_connector_endpoints(sqlite_db):
    db = sqlite_db
    secret = webhooks.new_secret()
    assert run("add-shopper", "--identity-key", "member-9", "--visitor-id", "v-eve", "--database-url", db).exit_code == 0
    port = free_port()
    env = dict(os.environ, ENTRYGATE_RETAILER_SIGNING_SECRET=secret, ENTRYGATE_LOG_LEVEL="WARNING")
    proc = subprocess.Popen([sys.executable, "-m", "entrygate.cli.main", "retailer", "serve", "--port", str(port),
                             "--database-url", db], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert identity(url, secret, b"member-9").json()["visitorDetails"]["id"] == "v-eve"
        assert identity(url, webhooks.new_secret(), b"member-9").status_code == 401
    finally:
        proc.terminate()
        proc.wait(10)


def test_serve_refuses_to_run_without_a_signing_secret(sqlite_db):
    r = runner.invoke(app, ["serve", "--database-url", sqlite_db], env={"ENTRYGATE_RETAILER_SIGNING_SECRET": ""})
    assert r.exit_code == 2 and "SIGNING_SECRET" in r.output
