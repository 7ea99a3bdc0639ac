"""The delivery worker (DESIGN 13): one per process, safe with several processes on one database.

Each turn claims due deliveries (a lease in the database: no other process sends a claimed one
until the lease runs out, and a claim left by a process that died is taken again when it does,
within ``LEASE``, well inside the 60 s DESIGN 13 allows) and attempts each on a small thread
pool, so one slow endpoint does not hold up the others. An attempt posts the event's stored bytes
under its delivery's fixed ``webhook-id``, signed when it is sent (a new ``webhook-timestamp``),
and is recorded with its status code, time and error. A failure is tried again after an
exponential, jittered delay until the retry window closes; a trip's later event waits for its
earlier ones (the claim skips a delivery with an earlier pending one of the same trip); an
endpoint that has not answered 2xx for five days is disabled with a reason.
"""
from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Protocol

import structlog

from entrygate.domain import webhooks as signatures
from entrygate.domain.events import LEASE, disabled_reason, next_attempt, should_disable
from entrygate.services.events.recorder import Subscriptions
from entrygate.services.ports.clock import Clock
from entrygate.services.ports.events import AttemptResult, ClaimedDelivery, WebhookStore

log = structlog.get_logger("entrygate.events")


class WebhookSender(Protocol):
    def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> AttemptResult:
        """One POST within the attempt deadline; never raises for what the endpoint did."""
        ...


class DeliveryWorker:
    def __init__(self, store: WebhookStore, sender: WebhookSender, clock: Clock, *, backoff_scale: float = 1.0,
                 subscriptions: Subscriptions | None = None, poll_interval_s: float = 1.0, concurrency: int = 8,
                 lease: timedelta = LEASE, rng: Callable[[], float] = random.random) -> None:
        self._store = store
        self._sender = sender
        self._clock = clock
        self._scale = backoff_scale
        self._subscriptions = subscriptions
        self._poll = poll_interval_s
        self._concurrency = concurrency
        self._lease = lease
        self._rng = rng
        self._token = uuid.uuid4().hex  # this process's claims
        self._busy = 0
        self._busy_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None

    def claim(self, limit: int) -> list[ClaimedDelivery]:
        now = self._clock.now()
        return self._store.claim(now=now, limit=limit, lease_token=self._token, lease_until=now + self._lease)

    def run_once(self) -> int:
        """Claim what is due and attempt it here, one after the other; the number attempted (for tests)."""
        claimed = self.claim(self._concurrency)
        for delivery in claimed:
            self.attempt(delivery)
        return len(claimed)

    def attempt(self, delivery: ClaimedDelivery) -> AttemptResult:
        """Sign and send one claimed delivery, and record what came of it."""
        body = delivery.body
        try:
            headers = signatures.headers(delivery.secret, body, msg_id=delivery.webhook_id,
                                         now=self._clock.now().timestamp())
            result = self._sender.send(delivery.url, body, headers)
        except Exception as exc:  # noqa: BLE001 - a bug in one attempt is that attempt's failure
            log.exception("webhook_attempt_crashed", delivery_id=delivery.delivery_id)
            result = AttemptResult(None, f"the attempt failed: {type(exc).__name__}", 0.0)
        at = self._clock.now()
        attempts = delivery.attempts + 1
        retry_at = None if result.delivered else next_attempt(attempts, now=at,
                                                              window_started_at=delivery.window_started_at,
                                                              scale=self._scale, rng=self._rng)
        failing_since = self._store.record_attempt(delivery, result, at=at, next_attempt_at=retry_at)
        log.info("webhook_attempt", delivery_id=delivery.delivery_id, endpoint_id=delivery.endpoint_id,
                 webhook_id=delivery.webhook_id, attempt=attempts, status_code=result.status_code,
                 error=result.error, ms=round(result.duration_ms, 1),
                 gave_up=not result.delivered and retry_at is None, lease_lost=failing_since is False)
        if failing_since not in (None, False) and should_disable(failing_since, now=at, scale=self._scale):
            assert not isinstance(failing_since, bool) and failing_since is not None
            reason = disabled_reason(failing_since, result.error or "no 2xx answer")
            if self._store.disable_endpoint(delivery.endpoint_id, reason=reason, at=at):
                log.warning("webhook_endpoint_disabled", endpoint_id=delivery.endpoint_id, reason=reason)
        return result

    # -- in the background ------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._pool = ThreadPoolExecutor(self._concurrency, thread_name_prefix="entrygate-webhook")
            self._thread = threading.Thread(target=self._loop, name="entrygate-webhook-worker", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        """Stop claiming, and let attempts in flight finish and be recorded (each ends by its deadline)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            claimed = 0
            try:
                if self._subscriptions is not None:
                    self._subscriptions.keep_fresh()
                with self._busy_lock:
                    free = self._concurrency - self._busy
                if free > 0:
                    for delivery in self.claim(free):
                        self._submit(delivery)
                        claimed += 1
            except Exception:  # noqa: BLE001 - a storage fault now: the next turn tries again
                log.exception("webhook_claim_failed")
            # Straight back for more while there is work and room; otherwise wait for the next turn.
            self._stop.wait(0.02 if claimed else self._poll)

    def _submit(self, delivery: ClaimedDelivery) -> None:
        assert self._pool is not None
        with self._busy_lock:
            self._busy += 1

        def run() -> None:
            try:
                self.attempt(delivery)
            except Exception:  # noqa: BLE001 - not recorded: the lease runs out and the delivery is retried
                log.exception("webhook_attempt_not_recorded", delivery_id=delivery.delivery_id)
            finally:
                with self._busy_lock:
                    self._busy -= 1
        self._pool.submit(run)
