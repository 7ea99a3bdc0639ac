"""Rate limits per API key (DESIGN 15), counted by the `limits` library.

Each retailer or gate key has a budget in `limits` notation (``ENTRYGATE_RATE_LIMIT_RETAILER``,
``ENTRYGATE_RATE_LIMIT_GATE``), counted in a moving window: at most N requests in any window of
the given length, and a refused request is not counted. ``check`` counts one request and answers
how many whole seconds the caller must wait when the budget is spent.

Where the counts live is ``ENTRYGATE_RATE_LIMIT_STORAGE``: ``memory://`` (the default) keeps them
in the process, so with ``--workers N`` or several hosts each process grants the budget on its own;
``redis://...`` shares one count among every process and host (docs/deploy.md says which to pick).
A storage that fails (Redis down) lets requests through rather than stopping every gate: the limit
is a guard against a runaway client, not a part of a decision.

In memory the counts are kept by ``SweptMemoryStorage``, `limits`' own memory storage with one
change: `limits` starts a new thread every 10 ms while requests come, to drop expired entries, and
measured in the running app (bench/request_overhead.py) those threads cost more than the counting
itself; here one thread drops them once a second. Counting never depends on that sweep: a moving
window compares the timestamps it holds.
"""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping

import structlog
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from entrygate.domain.keys import KeyKind

log = structlog.get_logger("entrygate.rate_limits")

NAMESPACE = "entrygate"
REDIS_TIMEOUT_S = 0.1  # a Redis that does not answer in this time counts as down
FAIL_OPEN_S = 1.0  # after a storage failure, requests pass unchecked this long before it is tried again
FAILURE_LOG_INTERVAL_S = 10.0
SWEEP_INTERVAL_S = 1.0  # how often expired entries leave memory


class SweptMemoryStorage(MemoryStorage):
    """`limits`' memory storage, its expired entries dropped by one thread once a second (see above)."""

    STORAGE_SCHEME = ["entrygate-memory"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, *,
                 sweep_interval_s: float = SWEEP_INTERVAL_S) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        self._interval = sweep_interval_s
        self._stopped = threading.Event()
        self._sweeper = threading.Thread(target=self._sweep, name="rate-limit-expiry", daemon=True)
        self._sweeper.start()

    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 - replaces limits' own, called on every hit
        """Nothing: the sweeper thread does it."""

    def _sweep(self) -> None:
        while not self._stopped.wait(self._interval):
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]

    def close(self) -> None:
        self._stopped.set()


class KeyRateLimits:
    """The budgets of API keys by kind; kinds without a budget (operator tokens) are never limited."""

    def __init__(self, budgets: Mapping[KeyKind, str], *, storage_url: str = "memory://",
                 clock: Callable[[], float] = time.time) -> None:
        options = {"socket_timeout": REDIS_TIMEOUT_S, "socket_connect_timeout": REDIS_TIMEOUT_S} \
            if storage_url.startswith("redis") else {}
        self.storage_url = storage_url
        self._storage: Storage = SweptMemoryStorage(wrap_exceptions=True) if storage_url.startswith("memory://") \
            else storage_from_string(storage_url, wrap_exceptions=True, **options)
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._budgets: dict[KeyKind, list[RateLimitItem]] = {kind: parse_many(text) for kind, text in budgets.items()}
        self._clock = clock
        self._unchecked_until = 0.0
        self._failures_logged_at = 0.0
        self._lock = threading.Lock()

    def budget(self, kind: KeyKind) -> str:
        """The budget of ``kind`` as `limits` writes it ("20 per 1 second"), or "unlimited"."""
        items = self._budgets.get(kind)
        return "; ".join(str(item) for item in items) if items else "unlimited"

    def check(self, kind: KeyKind, key_id: str) -> int | None:
        """Count one request of the key; None when it is within its budget, else the whole seconds (>= 1) to wait."""
        items = self._budgets.get(kind)
        if not items or self._clock() < self._unchecked_until:
            return None
        try:
            for item in items:
                if not self._limiter.hit(item, NAMESPACE, kind.value, key_id):
                    reset_at = self._limiter.get_window_stats(item, NAMESPACE, kind.value, key_id).reset_time
                    return max(1, math.ceil(reset_at - self._clock()))
        except StorageError as exc:
            self._storage_failed(exc)
        return None

    def close(self) -> None:
        if isinstance(self._storage, SweptMemoryStorage):
            self._storage.close()

    def reachable(self) -> bool:
        """Whether the storage answers now (always, in memory)."""
        try:
            return bool(self._storage.check())
        except StorageError:
            return False

    def _storage_failed(self, exc: Exception) -> None:
        now = self._clock()
        with self._lock:
            self._unchecked_until = now + FAIL_OPEN_S
            if now - self._failures_logged_at < FAILURE_LOG_INTERVAL_S:
                return
            self._failures_logged_at = now
        log.warning("rate_limit_storage_unavailable", storage=self.storage_url, error=str(exc),
                    effect=f"requests pass unlimited; retried after {FAIL_OPEN_S:g} s")
