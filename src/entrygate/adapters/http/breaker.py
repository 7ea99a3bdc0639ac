"""A circuit breaker per retailer connector.

Why: when a retailer's connector is down, every QR or badge entry at its stores would wait out
the whole deadline (800 ms by default) before hearing ``CONNECTOR_UNAVAILABLE``, and a queue
forms at the gate. After ``failure_threshold`` consecutive failures the circuit opens and calls
fail at once for ``cooldown_s``; then one trial call is let through (half-open). Its success
closes the circuit, its failure opens it for another cool-down.

The numbers: 5 consecutive failures is not one dropped packet, and a 5 s cool-down means a
recovered retailer is back within seconds, not minutes (queues at a gate build in seconds). Only
failures that mean "down or sick" count (FailureKind.counts_against_breaker); a fast 4xx is an
answer and resets the count.

The state lives in each process: it protects this process's gates and rebuilds on its own, so it
needs no database (DESIGN 8 allows such caches).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from enum import Enum


class BreakerState(str, Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"

    @property
    def gauge(self) -> int:
        return {BreakerState.CLOSED: 0, BreakerState.OPEN: 1, BreakerState.HALF_OPEN: 2}[self]


class CircuitBreaker:
    def __init__(self, *, failure_threshold: int = 5, cooldown_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if failure_threshold < 1 or cooldown_s <= 0:
            raise ValueError("failure_threshold must be at least 1 and cooldown_s positive")
        self._threshold = failure_threshold
        self._cooldown = cooldown_s
        self._clock = clock
        self._lock = threading.Lock()
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_started: float | None = None

    @property
    def state(self) -> BreakerState:
        return self._state

    def allow(self) -> bool:
        """May a call go out now? In half-open state only one trial at a time may."""
        with self._lock:
            if self._state is BreakerState.CLOSED:
                return True
            now = self._clock()
            if self._state is BreakerState.OPEN:
                if now - self._opened_at < self._cooldown:
                    return False
                self._state = BreakerState.HALF_OPEN
                self._trial_started = now
                return True
            # Half-open: a trial is out. A trial that never reported back (its caller died) must not
            # keep the circuit shut for good, so after a cool-down another may go.
            if self._trial_started is not None and now - self._trial_started < self._cooldown:
                return False
            self._trial_started = now
            return True

    def record_success(self) -> None:
        with self._lock:
            self._state = BreakerState.CLOSED
            self._failures = 0
            self._trial_started = None

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._state is BreakerState.HALF_OPEN or self._failures >= self._threshold:
                self._state = BreakerState.OPEN
                self._opened_at = self._clock()
                self._trial_started = None


class Breakers:
    """One breaker per (store, connector name, url): a changed URL starts with a closed circuit."""

    def __init__(self, *, failure_threshold: int = 5, cooldown_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._make = lambda: CircuitBreaker(failure_threshold=failure_threshold, cooldown_s=cooldown_s, clock=clock)
        self._breakers: dict[tuple[str, str, str], CircuitBreaker] = {}
        self._lock = threading.Lock()

    def get(self, store_id: str, name: str, url: str) -> CircuitBreaker:
        key = (store_id, name, url)
        breaker = self._breakers.get(key)
        if breaker is None:
            with self._lock:
                breaker = self._breakers.setdefault(key, self._make())
        return breaker
