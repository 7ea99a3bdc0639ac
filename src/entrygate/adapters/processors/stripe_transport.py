"""Deadlines for calls to Stripe: every attempt, and the retries between them, end by one deadline.

The stripe library retries on its own with pauses of half a second and more, and each of its
attempts may take the whole timeout; a gate waiting for a pre-authorization has two seconds in
all. So the library's own retries are off (``max_network_retries=0``), ``call`` retries within the
deadline (same idempotency key, so Stripe replays rather than repeats), and the requests session
under the library caps each attempt's timeout at what is left of it.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import requests
import stripe

from entrygate.services.ports.processor import (
    IdempotencyConflict,
    ProcessorConfigError,
    ProcessorError,
    ProcessorUnavailable,
)

T = TypeVar("T")
MAX_ATTEMPTS = 3
FIRST_PAUSE_S = 0.05
# An attempt given less than this cannot complete a TLS handshake and a request; don't start it.
MIN_ATTEMPT_S = 0.05


class CallDeadline:
    """The deadline of the call running on this thread (monotonic seconds), if any."""

    def __init__(self) -> None:
        self._local = threading.local()

    def remaining(self) -> float | None:
        at = getattr(self._local, "at", None)
        return None if at is None else at - time.monotonic()

    @contextmanager
    def until(self, at: float) -> Iterator[None]:
        self._local.at = at
        try:
            yield
        finally:
            self._local.at = None


class DeadlineSession:
    """What the stripe client takes for a requests session: one real session per thread, each
    request timing out by the current call's deadline (a Session is not documented thread-safe)."""

    def __init__(self, deadline: CallDeadline) -> None:
        self._deadline = deadline
        self._local = threading.local()
        self._all: list[requests.Session] = []
        self._lock = threading.Lock()

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        remaining = self._deadline.remaining()
        if remaining is not None:
            if remaining < MIN_ATTEMPT_S:
                raise requests.exceptions.Timeout("the processor deadline has passed")
            kwargs["timeout"] = remaining
        return self._session().request(method, url, *args, **kwargs)

    def close(self) -> None:
        with self._lock:
            sessions, self._all = self._all, []
        for session in sessions:
            session.close()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            with self._lock:
                self._all.append(session)
        return session


def call(what: str, send: Callable[[], T], *, deadline: CallDeadline, timeout_s: float) -> T:
    """``send()`` within ``timeout_s``, retried where Stripe allows it; its errors as the port's.

    Card errors and invalid-request errors pass through: what they mean depends on the operation.
    """
    at = time.monotonic() + timeout_s
    with deadline.until(at):
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return send()
            except stripe.IdempotencyError as exc:
                raise IdempotencyConflict(f"Stripe refused the idempotency key of {what}: {exc.user_message}") from exc
            except (stripe.AuthenticationError, stripe.PermissionError) as exc:
                raise ProcessorConfigError(f"Stripe refused the API key for {what}: {exc.user_message}") from exc
            except (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError) as exc:
                if not _unavailable(exc):
                    raise ProcessorError(f"Stripe gave an unexpected answer to {what}: {exc.user_message}") from exc
                pause = FIRST_PAUSE_S * 2 ** (attempt - 1)
                if attempt == MAX_ATTEMPTS or not _retryable(exc) or time.monotonic() + pause + MIN_ATTEMPT_S >= at:
                    raise ProcessorUnavailable(f"Stripe did not complete {what} within {timeout_s:.1f}s "
                                               f"({_short(exc)})") from exc
                time.sleep(pause)
            except (stripe.CardError, stripe.InvalidRequestError):
                raise   # what a decline or a refusal means depends on the operation: the caller maps it
            except stripe.StripeError as exc:
                raise ProcessorError(f"Stripe refused {what}: {exc.user_message}") from exc
    raise AssertionError("unreachable")


def _unavailable(exc: stripe.StripeError) -> bool:
    """No answer, a server error, a conflict with a request in flight, a rate limit: try again later."""
    status = exc.http_status
    return (isinstance(exc, (stripe.APIConnectionError, stripe.RateLimitError)) or status is None
            or status >= 500 or status == 409)


def _retryable(exc: stripe.StripeError) -> bool:
    # Stripe says when a retry would only replay the same failure (Stripe-Should-Retry: false).
    should = next((v for k, v in (exc.headers or {}).items() if k.lower() == "stripe-should-retry"), None)
    if should is not None:
        return should == "true"
    if isinstance(exc, stripe.APIConnectionError):
        return exc.should_retry
    return True


def _short(exc: stripe.StripeError) -> str:
    if isinstance(exc, stripe.APIConnectionError):
        return "no answer" if "Timeout" in (exc.user_message or "") else "connection failed"
    return f"HTTP {exc.http_status}"
