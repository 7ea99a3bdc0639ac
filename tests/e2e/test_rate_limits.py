"""Rate limits per API key over real HTTP (DESIGN 15): 429 with Retry-After beyond the budget, per key."""
from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from entrygate.adapters.rate_limits import KeyRateLimits
from support.server import SUITE_RATE_LIMIT, Platform, card, entry, new_par, operator_token, start_server, stop_server

RETAILER_BUDGET = 5  # a minute (conftest's ops_platform): small enough to spend, long enough not to refill
GATE_BUDGET = 20  # a second: the default, ENTRYGATE_RATE_LIMIT_GATE unset


@pytest.fixture
def limited(ops_platform):
    return ops_platform


def assert_rate_limited(r: httpx.Response, *, most_s: int) -> int:
    assert r.status_code == 429, r.text
    assert r.json() == {"error": {"code": "RATE_LIMITED", "message": r.json()["error"]["message"], "fields": []}}
    wait = r.headers["retry-after"]
    assert wait.isdigit() and 1 <= int(wait) <= most_s, wait  # whole seconds, at least one
    assert r.headers["x-request-id"]
    return int(wait)


def test_a_gate_key_bursting_beyond_the_default_budget_waits_and_other_keys_do_not(limited):
    store = limited.store(gates=("lane-1", "lane-2"))
    key = {"Authorization": f"Bearer {store.gates['lane-1']}"}
    started = time.monotonic()
    with ThreadPoolExecutor(10) as pool:  # an empty body: refused by the parser, after the key is counted
        answers = list(pool.map(lambda _: limited.http.post("/v1/gates/lane-1/entries", json={}, headers=key),
                                range(2 * GATE_BUDGET)))
    took = time.monotonic() - started
    statuses = [r.status_code for r in answers]
    assert set(statuses) <= {400, 429} and statuses.count(429) >= 1, statuses
    if took < 1:  # the whole burst in one window: exactly the budget got through
        assert statuses.count(400) == GATE_BUDGET, (statuses, took)
    waits = [assert_rate_limited(r, most_s=1) for r in answers if r.status_code == 429]

    # Another gate's key, and the operator, are not affected.
    assert limited.enter(store, entry(card(par=new_par())), gate="lane-2").status_code == 200
    assert all(limited.http.get(f"/v1/admin/stores/{store.store_id}", headers=limited.op).status_code == 200
               for _ in range(GATE_BUDGET + 10))
    # After Retry-After, the limited gate is let in again.
    time.sleep(max(waits))
    r = limited.enter(store, entry(card(par=new_par())))
    assert r.status_code == 200 and r.json()["decision"] == "OPEN", r.text


def test_a_retailer_key_beyond_its_budget_is_refused_until_the_window_moves(limited):
    mine, other = limited.store(), limited.store()
    path = f"/v1/stores/{mine.store_id}/trips"
    assert [limited.http.get(path, headers=limited.as_retailer(mine)).status_code
            for _ in range(RETAILER_BUDGET)] == [200] * RETAILER_BUDGET
    assert_rate_limited(limited.http.get(path, headers=limited.as_retailer(mine)), most_s=60)
    # A refused request is not counted, and every route of the key shares the one budget.
    assert_rate_limited(limited.http.get(f"/v1/stores/{mine.store_id}/decisions", headers=limited.as_retailer(mine)),
                        most_s=60)
    assert limited.http.get(f"/v1/stores/{other.store_id}/trips", headers=limited.as_retailer(other)).status_code == 200
    assert limited.http.get(path, headers=limited.op).status_code == 200  # the operator reads on


def test_with_redis_every_worker_counts_in_one_budget(backend, db_url, tmp_path):
    redis_url = os.environ.get("ENTRYGATE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    if not KeyRateLimits({}, storage_url=redis_url).reachable():
        pytest.skip(f"no Redis at {redis_url} (ENTRYGATE_TEST_REDIS_URL)")
    output = tmp_path / "server.out"
    url, proc = start_server(db_url, workers=2, output=output,
                             env={"ENTRYGATE_RATE_LIMIT_RETAILER": "4/minute", "ENTRYGATE_RATE_LIMIT_STORAGE": redis_url})
    try:
        p = Platform(url, operator_token(db_url), db_url, proc)
        store = p.store()
        path = f"/v1/stores/{store.store_id}/trips"
        # A new connection each time, so both workers answer; each counting alone would let up to 8 through.
        statuses = [httpx.get(url + path, headers={**p.as_retailer(store), "Connection": "close"}).status_code
                    for _ in range(10)]
        assert statuses == [200] * 4 + [429] * 6, statuses
        assert f"rate limits: retailer keys 4 per 1 minute, gate keys {SUITE_RATE_LIMIT.replace('/', ' per 1 ')} " \
               f"(shared, {redis_url})" in output.read_text().splitlines()
    finally:
        stop_server(proc)
