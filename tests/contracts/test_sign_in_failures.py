"""``SignInFailureStore``: the console's backoff counters, shared by every process."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from entrygate.adapters.db.console_store import SqlSignInFailures
from entrygate.adapters.memory.console import MemorySignInFailures
from entrygate.services.console.auth import lockout_seconds
from entrygate.services.ports.console import FailureRecord
from support.contracts import T0, later, new_id

FORGET = timedelta(hours=24)


@pytest.fixture
def port(engine):
    return MemorySignInFailures() if engine is None else SqlSignInFailures(engine)


def fail(failures, key: str, seconds: float, lockout=lockout_seconds) -> FailureRecord:  # noqa: ANN001
    return failures.record_failure(key, now=later(seconds), forget_after=FORGET, lockout=lockout)


def test_failures_count_up_and_earn_the_lock_the_policy_gives(port):
    key = new_id("k")
    assert port.get(key) is None
    assert [fail(port, key, i) for i in range(4)] == [
        FailureRecord(1, later(0), None), FailureRecord(2, later(1), None), FailureRecord(3, later(2), later(3)),
        FailureRecord(4, later(3), later(5))]
    assert port.get(key) == FailureRecord(4, later(3), later(5))
    assert port.get(new_id("k")) is None  # another email or client counts on its own


def test_a_failure_long_after_the_last_one_counts_from_one_again(port):
    key = new_id("k")
    for i in range(5):
        fail(port, key, i)
    again = port.record_failure(key, now=later(4) + FORGET + timedelta(seconds=1), forget_after=FORGET,
                                lockout=lockout_seconds)
    assert again.failures == 1 and again.locked_until is None


def test_clearing_forgets_the_counter(port):
    key = new_id("k")
    fail(port, key, 0)
    port.clear(key)
    assert port.get(key) is None
    port.clear(key)  # clearing twice is no error
    assert fail(port, key, 1).failures == 1


def test_purging_forgets_counters_whose_failures_and_lock_are_both_over(port):
    old, locked, recent = new_id("old"), new_id("locked"), new_id("recent")
    fail(port, old, 0)
    fail(port, locked, 0, lockout=lambda n: 7200)  # locked for two hours from T0
    fail(port, recent, 7200)
    assert port.purge_stale(before=T0 + timedelta(hours=1)) == 1
    assert port.get(old) is None and port.get(locked) is not None and port.get(recent) is not None
    assert port.purge_stale(before=T0 + timedelta(hours=3)) == 2


def test_failures_recorded_at_once_are_each_counted(port):
    key, n = new_id("k"), 6
    start = threading.Barrier(n, timeout=10)

    def one(_: int) -> int:
        start.wait()
        return fail(port, key, 0, lockout=lambda count: 0).failures

    with ThreadPoolExecutor(n) as pool:
        counts = list(pool.map(one, range(n), timeout=30))
    assert sorted(counts) == list(range(1, n + 1))  # each saw its own count: none was lost
    assert port.get(key).failures == n
