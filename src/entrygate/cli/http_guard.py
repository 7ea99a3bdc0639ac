"""The HTTP/1.1 protocol ``entrygate serve`` runs: uvicorn's h11 protocol with a deadline on every
request read and a cap on open connections (docs/serving.md).

uvicorn alone closes a connection only when it has been idle for ``timeout_keep_alive`` after a
response; a connection that never sends a request, or sends one a byte at a time, holds its socket
for ever, and about a thousand of them use up the process's open files so that no new gate can
connect. Here:

- the request head must be complete within ``header_timeout_s`` of the connection opening, or of
  the first byte of a later request on a keep-alive connection; its body within
  ``body_timeout_s`` of the head. A connection that misses either is closed (RFC 9112 section 9.5
  lets a server close an idle or slow connection at any time);
- between requests a keep-alive connection may stay idle ``keep_alive_timeout_s``;
- at most ``max_connections`` connections per process are served; one more is answered
  ``503`` with the contract's error body as soon as its request head arrives, and dropped after
  ``REFUSED_GRACE_S`` if it sends none; while ``REFUSED_WAITING`` refused connections are already
  waiting so, a further one is written the 503 and closed at once. Connections already admitted
  keep working, which uvicorn's ``limit_concurrency`` does not do: it counts every connection and
  refuses the requests of those already open too.
"""
from __future__ import annotations

import asyncio
import math
import re
import time
import uuid
import weakref
from dataclasses import dataclass
from typing import Any

import h11
import orjson
import structlog
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

log = structlog.get_logger("entrygate.serve")

# A refused connection holds a file descriptor until it has been told 503; one that never asks is
# dropped after this, so a flood beyond the cap costs the process little.
REFUSED_GRACE_S = 1.0
REFUSED_WAITING = 64
REFUSAL_LOG_INTERVAL_S = 10.0
_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")  # DESIGN 15, X-Request-Id
_BUSY_BODY = orjson.dumps({"error": {"code": "UNAVAILABLE", "fields": [],
                                     "message": "the server is at its connection limit; retry in a second"}})
_BUSY_HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(_BUSY_BODY)).encode()),
                 (b"retry-after", b"1"), (b"connection", b"close")]
_BUSY_RAW = (b"HTTP/1.1 503 Service Unavailable\r\n" + b"".join(k + b": " + v + b"\r\n" for k, v in _BUSY_HEADERS)
             + b"\r\n" + _BUSY_BODY)
_READING = (h11.IDLE, h11.SEND_BODY)


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    header_timeout_s: float = 5.0
    body_timeout_s: float = 10.0
    keep_alive_timeout_s: float = 5.0
    max_connections: int = 2048


class ServeConfig(uvicorn.Config):
    """uvicorn's configuration with entrygate's protocol and limits; it is pickled to every worker."""

    def __init__(self, app: str, *, limits: ConnectionLimits, **options: Any) -> None:
        super().__init__(app, http=GuardedH11Protocol, timeout_keep_alive=math.ceil(limits.keep_alive_timeout_s),
                         **options)
        self.connection_limits = limits


class _Refusals:
    """Counts refused connections and logs them at most once per interval, so a flood cannot flood the log."""

    def __init__(self) -> None:
        self.count, self.logged_at = 0, 0.0

    def note(self, cap: int) -> None:
        self.count += 1
        now = time.monotonic()
        if now - self.logged_at >= REFUSAL_LOG_INTERVAL_S:
            log.warning("connection_limit_reached", max_connections=cap, refused=self.count)
            self.count, self.logged_at = 0, now


class _Places:
    """The connections one server has admitted, and those refused that are still open."""

    def __init__(self) -> None:
        self.admitted: set[H11Protocol] = set()
        self.refused: set[H11Protocol] = set()


_PLACES: weakref.WeakKeyDictionary[ServerState, _Places] = weakref.WeakKeyDictionary()
_REFUSALS = _Refusals()


class GuardedH11Protocol(H11Protocol):
    """One HTTP/1.1 connection, with a read deadline and a place under the cap."""

    def __init__(self, config: uvicorn.Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits: ConnectionLimits = getattr(config, "connection_limits", None) or ConnectionLimits()
        self.timeout_keep_alive = self.limits.keep_alive_timeout_s  # uvicorn's Config only takes whole seconds
        self.places = _PLACES.setdefault(server_state, _Places())
        self.read_timer: asyncio.TimerHandle | None = None
        self.reading: Any = None  # the h11 state the timer was armed for: IDLE (head) or SEND_BODY (body)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.places.admitted) < self.limits.max_connections:
            self.places.admitted.add(self)
            self._arm(h11.IDLE, self.limits.header_timeout_s)
            return
        _REFUSALS.note(self.limits.max_connections)
        if len(self.places.refused) >= REFUSED_WAITING:
            # A flood: answer before the request, so no descriptor waits. A client that has sent its
            # request by the time the close reaches it may see a reset instead of the 503.
            transport.write(_BUSY_RAW)
            transport.close()
            return
        self.places.refused.add(self)
        self.app = refuse_busy
        self._arm(h11.IDLE, min(REFUSED_GRACE_S, self.limits.header_timeout_s))

    def connection_lost(self, exc: Exception | None) -> None:
        self.places.admitted.discard(self)
        self.places.refused.discard(self)
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # Bytes towards a later request: uvicorn has just dropped its keep-alive timer on them.
        self._follow(started_head=True)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._follow(started_head=bool(self.conn.trailing_data[0]))  # a pipelined request, in part

    def _follow(self, *, started_head: bool) -> None:
        """Keep the deadline in step with what the client still owes: a head, a body, or nothing."""
        if self.transport is None or self.transport.is_closing():
            return
        state = self.conn.their_state
        if state not in _READING:
            self._disarm()
        elif state is h11.SEND_BODY and self.reading is not h11.SEND_BODY:
            self._arm(h11.SEND_BODY, self.limits.body_timeout_s)
        elif state is h11.IDLE and self.reading is not h11.IDLE and started_head:
            self._arm(h11.IDLE, self.limits.header_timeout_s)

    def _arm(self, state: Any, seconds: float) -> None:
        self._disarm()
        self.reading = state
        self.read_timer = self.loop.call_later(seconds, self._read_expired)

    def _disarm(self) -> None:
        if self.read_timer is not None:
            self.read_timer.cancel()
        self.read_timer, self.reading = None, None

    def _read_expired(self) -> None:
        self.read_timer, self.reading = None, None
        if not self.transport.is_closing():
            self.transport.close()


async def refuse_busy(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """503 in the contract's error shape (DESIGN 4), then the connection closes."""
    given = next((v for k, v in scope.get("headers", []) if k == b"x-request-id"), b"")
    request_id = given if _REQUEST_ID.fullmatch(given) else str(uuid.uuid4()).encode()
    await send({"type": "http.response.start", "status": 503,
                "headers": [*_BUSY_HEADERS, (b"x-request-id", request_id)]})
    await send({"type": "http.response.body", "body": _BUSY_BODY})
