"""A server killed (SIGKILL) after the processor took a capture and before the platform wrote it down.

The sandbox's ``tok_slow_capture`` takes the capture, writes it to its ledger, and only answers
after the processor deadline (here 30 s): the test waits until the ledger shows the capture, kills
the server's process group, restarts it on the same database and ledger, and retries with the
same ``Idempotency-Key``. The shopper is charged once, and the trip's hold reads CAPTURED.
"""
from __future__ import annotations

import concurrent.futures
import signal
import time

import httpx
import pytest

from support.server import Platform, operator_token, start_server, stop_server
from support.trips import close_world, ledger_ops, open_world, settle, trip, usd, value, visit

ANSWER_AFTER_MS = "30000"


@pytest.fixture
def world(backend, tmp_path):
    w = open_world(backend, tmp_path, ENTRYGATE_PROCESSOR_TIMEOUT_MS=ANSWER_AFTER_MS)
    yield w
    close_world(w)


def test_a_capture_lost_in_a_crash_is_finished_once_by_the_same_key(world):
    platform = world.platform
    store = platform.store()
    trip_id = visit(platform, store, token="tok_slow_capture")
    preauth = trip(platform, store, trip_id)["preauthorization"]["id"]
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pending = pool.submit(settle, platform, store, trip_id, "capture", usd(21.5), key="basket-7")
        deadline = time.monotonic() + 15
        while ("capture", 21.5, True) not in ledger_ops(world, preauth) and time.monotonic() < deadline:
            time.sleep(0.05)  # waiting for the processor's side of the capture, bounded by the deadline
        assert ("capture", 21.5, True) in ledger_ops(world, preauth), "the sandbox never took the capture"
        assert not pending.done()  # the server is still waiting for the processor's answer
        stop_server(platform.process, sig=signal.SIGKILL)
        with pytest.raises(httpx.HTTPError):
            pending.result(timeout=30)

    base, proc = start_server(world.database_url, env=world.env)
    platform.http.close()
    world.platform = platform = Platform(base, operator_token(world.database_url), world.database_url, proc)
    before = trip(platform, store, trip_id)
    assert before["preauthorization"]["status"] == "HELD" and before["totalAmount"] is None  # not written down
    r = settle(platform, store, trip_id, "capture", usd(21.5), key="basket-7")
    assert r.status_code == 200, r.text
    assert r.json()["preauthorization"]["status"] == "CAPTURED"
    assert value(r.json()["preauthorization"]["capturedAmount"]) == 21.5
    assert [op for op, _, _ in ledger_ops(world, preauth)] == ["hold", "capture"]  # charged once
    after = trip(platform, store, trip_id)
    assert after["preauthorization"]["status"] == "CAPTURED"
    assert (value(after["totalAmount"]), value(after["settledAmount"])) == (21.5, 21.5)
    again = settle(platform, store, trip_id, "capture", usd(21.5), key="basket-7")
    assert again.json() == r.json() and again.headers["idempotent-replayed"] == "true"
    assert [op for op, _, _ in ledger_ops(world, preauth)] == ["hold", "capture"]
