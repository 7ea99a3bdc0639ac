"""The webhook delivery schedule: exponential backoff with jitter, the 24 h window, five days to disable."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from entrygate.domain.events import (
    DISABLE_AFTER,
    RETRY_WINDOW,
    disabled_reason,
    next_attempt,
    retry_delay,
    should_disable,
)

T0 = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)


def test_the_delay_doubles_up_to_two_hours_with_half_of_it_random():
    top = [retry_delay(n, scale=1, rng=lambda: 1.0) for n in range(1, 14)]
    assert top[:4] == [timedelta(seconds=s) for s in (5, 10, 20, 40)]
    assert max(top) == timedelta(hours=2) and top[-1] == timedelta(hours=2)
    assert retry_delay(3, scale=1, rng=lambda: 0.0) == timedelta(seconds=10)  # never below half its step
    assert retry_delay(3, scale=0.01, rng=lambda: 1.0) == timedelta(seconds=0.2)


def test_retries_end_with_the_window_and_the_scale_shrinks_the_window_too():
    assert next_attempt(1, now=T0, window_started_at=T0, scale=1, rng=lambda: 1.0) == T0 + timedelta(seconds=5)
    late = T0 + RETRY_WINDOW - timedelta(minutes=30)
    assert next_attempt(20, now=late, window_started_at=T0, scale=1, rng=lambda: 1.0) is None
    assert next_attempt(20, now=T0 + timedelta(seconds=800), window_started_at=T0, scale=0.01,
                        rng=lambda: 1.0) is None  # 24 h scaled by 0.01 is 864 s
    assert next_attempt(1, now=T0, window_started_at=T0, scale=0.01, rng=lambda: 1.0) is not None


def test_an_endpoint_is_disabled_after_five_days_of_failure_scaled():
    assert not should_disable(None, now=T0, scale=1)
    assert not should_disable(T0, now=T0 + DISABLE_AFTER - timedelta(seconds=1), scale=1)
    assert should_disable(T0, now=T0 + DISABLE_AFTER, scale=1)
    assert should_disable(T0, now=T0 + timedelta(seconds=4320), scale=0.01)
    assert disabled_reason(T0, "answered HTTP 500") == \
        "no 2xx answer since 2026-11-27T18:00:00Z; the last attempt: answered HTTP 500"
