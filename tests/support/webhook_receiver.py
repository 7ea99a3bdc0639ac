"""A real webhook receiver for the tests: a small HTTP server on loopback that the platform posts to.

It verifies every request with the official ``standardwebhooks`` package (an independent
implementation of the signature scheme), records what it received and what it answered, counts
the requests in flight per ``webhook-id`` (two at once would mean two processes sent one
delivery at the same time), and answers as the test's ``behave`` function says: a status code
after a delay, so it can be slow beyond the platform's deadline or answer 500. It can also start
later than it is created, so the platform first finds nothing listening.
"""
from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook

from entrygate.cli.serverthread import free_port


@dataclass
class Received:
    webhook_id: str
    event_id: str
    event_type: str
    trip_id: str | None
    body: bytes
    timestamp: str
    verified: bool
    received_at: float
    answered_at: float | None = None
    status: int | None = None


@dataclass
class Receiver:
    behave: Callable[[Receiver, Received], tuple[int, float]]  # -> (status, seconds to wait before answering)
    secret: str | None = None
    port: int = field(default_factory=free_port)
    log: list[Received] = field(default_factory=list)
    in_flight: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    max_in_flight: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def listen(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                receiver.handle(self, body)

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def handle(self, request: BaseHTTPRequestHandler, body: bytes) -> None:
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            assert self.secret is not None
            Webhook(self.secret).verify(body, headers)
            verified = True
        except Exception:  # noqa: BLE001 - recorded; the test asserts on it
            verified = False
        payload = json.loads(body)
        data = payload.get("data") or {}
        got = Received(headers.get("webhook-id", ""), payload["id"], payload["type"], data.get("shoppingTripId"),
                       body, headers.get("webhook-timestamp", ""), verified, time.monotonic())
        with self.lock:
            self.log.append(got)
            self.in_flight[got.webhook_id] += 1
            self.max_in_flight[got.webhook_id] = max(self.max_in_flight[got.webhook_id], self.in_flight[got.webhook_id])
            status, wait = self.behave(self, got)
        try:
            time.sleep(wait)
            request.send_response(status)
            request.send_header("content-length", "0")
            request.end_headers()
            got.status = status
            got.answered_at = time.monotonic()
        except OSError:
            pass  # the platform gave up on this attempt (its deadline) or died
        finally:
            with self.lock:
                self.in_flight[got.webhook_id] -= 1

    # -- what the tests read ------------------------------------------------------------------------

    def received(self) -> list[Received]:
        with self.lock:
            return list(self.log)

    def delivered(self) -> dict[str, Received]:
        """Event id -> its first attempt answered 2xx."""
        out: dict[str, Received] = {}
        for r in self.received():
            if r.status is not None and 200 <= r.status < 300 and r.event_id not in out:
                out[r.event_id] = r
        return out

    def requests_so_far(self) -> int:
        with self.lock:
            return len(self.log)

    def busy(self) -> list[str]:
        with self.lock:
            return [wid for wid, n in self.in_flight.items() if n > 0]


def wait_for(check: Callable[[], bool], *, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(step)
    return check()
