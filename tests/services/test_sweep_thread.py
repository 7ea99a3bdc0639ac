"""The background sweep: it runs every interval (jittered), survives a failed run, and stops."""
from __future__ import annotations

import threading

import pytest

from entrygate.services.payments.sweep_thread import SweepThread


def test_it_runs_again_and_again_and_a_failed_run_is_not_fatal():
    calls = 0
    third = threading.Event()

    def sweep() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("the database went away")
        if calls >= 3:
            third.set()

    thread = SweepThread(sweep, interval_s=0.01)
    thread.start()
    try:
        assert third.wait(5), "the thread stopped after a failed run"
    finally:
        thread.stop()
    assert thread.runs >= 3


def test_the_first_run_waits_a_whole_interval_and_stop_ends_the_thread():
    ran = threading.Event()
    thread = SweepThread(ran.set, interval_s=30)
    thread.start()
    thread.stop(timeout=5)
    assert not ran.is_set() and thread.runs == 0
    assert not any(t.name == "entrygate-trip-sweep" and t.is_alive() for t in threading.enumerate())


def test_the_wait_is_jittered_by_a_fifth_either_way():
    assert SweepThread(lambda: None, interval_s=30, rng=lambda: 0.0).next_wait() == pytest.approx(24)
    assert SweepThread(lambda: None, interval_s=30, rng=lambda: 1.0).next_wait() == pytest.approx(36)
    assert SweepThread(lambda: None, interval_s=30, rng=lambda: 0.5).next_wait() == pytest.approx(30)


def test_an_interval_must_be_positive():
    with pytest.raises(ValueError):
        SweepThread(lambda: None, interval_s=0)
