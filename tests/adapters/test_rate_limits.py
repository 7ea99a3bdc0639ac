"""The key budgets (adapters/rate_limits.py): counted per key, in memory or shared through Redis."""
from __future__ import annotations

import os
import threading
import time
import uuid

import pytest
from limits import parse
from limits.strategies import MovingWindowRateLimiter

from entrygate.adapters.rate_limits import FAIL_OPEN_S, KeyRateLimits, SweptMemoryStorage
from entrygate.domain.keys import KeyKind
from entrygate.settings import Settings

REDIS_URL = os.environ.get("ENTRYGATE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_or_skip() -> str:
    if not KeyRateLimits({}, storage_url=REDIS_URL).reachable():
        pytest.skip(f"no Redis at {REDIS_URL} (ENTRYGATE_TEST_REDIS_URL)")
    return REDIS_URL


def test_a_key_beyond_its_budget_waits_whole_seconds_and_other_keys_and_kinds_do_not():
    limits = KeyRateLimits({KeyKind.GATE: "3/minute", KeyKind.RETAILER: "2/minute"})
    assert [limits.check(KeyKind.GATE, "gate-a") for _ in range(3)] == [None, None, None]
    wait = limits.check(KeyKind.GATE, "gate-a")
    assert isinstance(wait, int) and 59 <= wait <= 60  # the first of the three leaves the window in a minute
    assert limits.check(KeyKind.GATE, "gate-b") is None  # another key has its own budget
    assert limits.check(KeyKind.RETAILER, "gate-a") is None  # and another kind
    assert all(limits.check(KeyKind.OPERATOR, "op") is None for _ in range(100))  # no budget: never limited
    assert limits.budget(KeyKind.GATE) == "3 per 1 minute" and limits.budget(KeyKind.OPERATOR) == "unlimited"


def test_a_refused_request_is_not_counted_and_the_wait_is_at_least_one_second():
    limits = KeyRateLimits({KeyKind.GATE: "2/second"})
    assert limits.check(KeyKind.GATE, "k") is None and limits.check(KeyKind.GATE, "k") is None
    assert limits.check(KeyKind.GATE, "k") == 1  # under a second left: still one whole second
    time.sleep(1.05)
    assert limits.check(KeyKind.GATE, "k") is None  # the refusals above took no place in the window


def test_every_budget_of_a_kind_applies():
    limits = KeyRateLimits({KeyKind.RETAILER: "100/second;3/minute"})
    assert [limits.check(KeyKind.RETAILER, "r") for _ in range(3)] == [None] * 3
    assert limits.check(KeyKind.RETAILER, "r") is not None


def test_the_budgets_come_from_the_settings_and_a_bad_one_is_refused():
    settings = Settings()
    assert (settings.rate_limit_retailer, settings.rate_limit_gate, settings.rate_limit_storage) == \
        ("50/second", "20/second", "memory://")
    with pytest.raises(ValueError, match="not a rate in limits notation"):
        Settings(rate_limit_gate="20 a second")
    with pytest.raises(ValueError, match="memory:// or a redis:// URL"):
        Settings(rate_limit_storage="memcached://localhost")


def test_processes_sharing_redis_share_one_budget():
    url = redis_or_skip()
    key = uuid.uuid4().hex  # the test database may hold another run's counts
    one, other = (KeyRateLimits({KeyKind.GATE: "4/minute"}, storage_url=url) for _ in range(2))
    assert [limits.check(KeyKind.GATE, key) for limits in (one, other, one, other)] == [None] * 4
    assert one.check(KeyKind.GATE, key) is not None and other.check(KeyKind.GATE, key) is not None


def test_a_storage_that_is_down_lets_requests_through_at_once():
    limits = KeyRateLimits({KeyKind.GATE: "1/minute"}, storage_url="redis://127.0.0.1:1/0")
    assert not limits.reachable()
    started = time.perf_counter()
    assert [limits.check(KeyKind.GATE, "k") for _ in range(50)] == [None] * 50
    assert time.perf_counter() - started < FAIL_OPEN_S  # one failed try, then unchecked for a second


def test_counting_in_memory_starts_no_thread_per_request_and_expired_entries_leave_memory():
    storage = SweptMemoryStorage(sweep_interval_s=0.05)
    limiter = MovingWindowRateLimiter(storage)
    before = set(threading.enumerate())
    started = time.monotonic()
    while time.monotonic() - started < 0.1:  # `limits`' own storage would start a thread every 10 ms here
        for key in range(20):
            limiter.hit(parse("3/second"), "k", str(key))
    assert set(threading.enumerate()) - before == set()
    assert len(storage.events) == 20
    time.sleep(1.2)  # the window (1 s, the shortest `limits` has) and a sweep
    assert set(map(len, storage.events.values())) == {0}  # a key keeps an empty list, as in `limits` itself
    storage.close()
