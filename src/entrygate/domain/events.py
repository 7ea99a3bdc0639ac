"""Events out (DESIGN 13): the event types a retailer can subscribe to, and the delivery schedule.

Pure: no clock and no randomness of its own (both are passed in), so the schedule is tested
without waiting. Every delay here is multiplied by ``ENTRYGATE_WEBHOOK_BACKOFF_SCALE`` (default 1;
the tests use 0.01), the retry window and the time to disable an endpoint included; the deadline
of one attempt and the lease on a claimed delivery are not scaled, since they bound a real HTTP
call and keep two processes from sending one delivery at once.
"""
from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime, timedelta


class EventType(str, enum.Enum):
    DECISION_CREATED = "decision.created"
    TRIP_OPENED = "trip.opened"
    TRIP_CLOSED = "trip.closed"
    PREAUTHORIZATION_UPDATED = "preauthorization.updated"
    INSTRUMENT_BLOCKED = "instrument.blocked"


class DeliveryStatus(str, enum.Enum):
    PENDING = "PENDING"      # to be attempted (again) at next_attempt_at
    DELIVERED = "DELIVERED"  # answered 2xx
    FAILED = "FAILED"        # no 2xx within the retry window; a retry starts a new window
    DISABLED = "DISABLED"    # its endpoint was disabled while it was pending


EVENT_TYPES = frozenset(t.value for t in EventType)
SECRET_PREFIX = "whsec_"

# DESIGN 13: an attempt has a 10 s deadline, connection included.
ATTEMPT_DEADLINE_S = 10.0
# A claimed delivery is the claimer's for this long: longer than an attempt can take, so no two
# processes ever send it at once, and short enough that a claim left by a process that died is
# attempted again well within the 60 s DESIGN 13 allows.
LEASE = timedelta(seconds=ATTEMPT_DEADLINE_S + 5)
# Retries back off exponentially from FIRST_DELAY, doubling up to MAX_DELAY, for RETRY_WINDOW.
FIRST_DELAY = timedelta(seconds=5)
MAX_DELAY = timedelta(hours=2)
RETRY_WINDOW = timedelta(hours=24)
# An endpoint is disabled after failing this long without a single 2xx, never by a count of attempts.
DISABLE_AFTER = timedelta(days=5)


def retry_delay(attempts: int, *, scale: float, rng: Callable[[], float]) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: exponential with "equal jitter".

    Half the exponential step is fixed and half is drawn at random, so deliveries that failed
    together (an endpoint that was down) spread out instead of retrying in one burst, and no wait
    is shorter than half its step.
    """
    step = min(FIRST_DELAY * (2 ** max(attempts - 1, 0)), MAX_DELAY)
    return step * (0.5 + 0.5 * rng()) * scale


def next_attempt(attempts: int, *, now: datetime, window_started_at: datetime, scale: float,
                 rng: Callable[[], float]) -> datetime | None:
    """When to try a delivery again after its ``attempts``-th failure; None when the retry window is over."""
    at = now + retry_delay(attempts, scale=scale, rng=rng)
    if at > window_started_at + RETRY_WINDOW * scale:
        return None
    return at


def should_disable(failing_since: datetime | None, *, now: datetime, scale: float) -> bool:
    """True once an endpoint has failed without a 2xx for ``DISABLE_AFTER`` (scaled)."""
    return failing_since is not None and now - failing_since >= DISABLE_AFTER * scale


def disabled_reason(failing_since: datetime, last_error: str) -> str:
    """The sentence the console and the API show for a disabled endpoint."""
    since = failing_since.isoformat(timespec="seconds").replace("+00:00", "Z")
    return f"no 2xx answer since {since}; the last attempt: {last_error}"[:500]
