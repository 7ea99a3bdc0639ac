"""Retailers for tests: a loopback HTTP server that misbehaves on purpose, and the reference retailer
running in-process on a fresh database of either backend.

Import from other test folders as ``from retailer.harness import ...`` (``tests`` is on the path).
"""
from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest

from entrygate.cli.serverthread import ServerThread
from entrygate.domain.webhooks import new_secret
from entrygate.retailer.app import Retailer, create_retailer_app
from entrygate.retailer.settings import RetailerSettings

POSTGRES_ENV = "ENTRYGATE_TEST_POSTGRES_URL"


# --- a misbehaving retailer -------------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class Reply:
    """What the loopback server does with one request."""

    status: int = 200
    body: bytes | dict | None = None
    delay_s: float = 0.0
    hold: bool = False  # read the request, never answer
    drop: bool = False  # close the connection without a word
    raw: bytes | None = None  # send these bytes instead of an HTTP answer
    trickle_s: float | None = None  # send the answer one byte at a time, this far apart
    headers: dict[str, str] = field(default_factory=dict)


class LoopbackRetailer:
    """A threaded HTTP/1.1 server on 127.0.0.1; ``behaviour(received) -> Reply`` decides each answer."""

    def __init__(self, behaviour: Callable[[Received], Reply] | None = None) -> None:
        self.behaviour = behaviour or (lambda r: Reply(200, {"visitorDetails": {"id": "v-1", "type": "SHOPPER"}}))
        self.received: list[Received] = []
        self.connections = 0
        self._stop = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                outer.connections += 1

            def log_message(self, *args: Any) -> None:
                return None

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length") or 0)
                got = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length))
                outer.received.append(got)
                outer._answer(self, outer.behaviour(got))

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> LoopbackRetailer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    def _answer(self, h: BaseHTTPRequestHandler, reply: Reply) -> None:
        if reply.hold:
            self._stop.wait(30)
            h.close_connection = True
            return
        if reply.delay_s:
            self._stop.wait(reply.delay_s)
        if reply.drop:
            h.close_connection = True
            return
        if reply.raw is not None:
            h.wfile.write(reply.raw)
            h.close_connection = True
            return
        body = reply.body if isinstance(reply.body, bytes) else orjson.dumps(reply.body) if reply.body is not None \
            else b""
        head = f"HTTP/1.1 {reply.status} X\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in reply.headers.items()) + "\r\n"
        data = head.encode() + body
        if reply.trickle_s is None:
            h.wfile.write(data)
            return
        for i in range(len(data)):
            if self._stop.is_set():
                return
            try:
                h.wfile.write(data[i:i + 1])
                h.wfile.flush()
            except OSError:
                return
            time.sleep(reply.trickle_s)


def closed_port_url() -> str:
    """A loopback URL where nothing listens: connections are refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# --- the reference retailer in-process ----------------------------------------------------------


def fresh_retailer_database(backend: str, tmp: Path) -> str:
    """A new empty database for the reference retailer (it migrates it itself)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp / ('retailer-' + uuid.uuid4().hex[:8] + '.db')}"
    admin = os.environ.get(POSTGRES_ENV)
    if not admin:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    name = f"eg_test_retailer_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{admin.rsplit('/', 1)[0]}/{name}"


def drop_retailer_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    admin = os.environ[POSTGRES_ENV]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


class RunningRetailer:
    """The reference retailer on a free loopback port, with a settable clock."""

    def __init__(self, database_url: str, *, secret: str | None = None) -> None:
        self.secret = secret or new_secret()
        self.database_url = database_url
        self.offset_s = 0.0  # moves the retailer's clock, for expiry tests
        self.settings = RetailerSettings(database_url=database_url, signing_secret=self.secret)
        self.app = create_retailer_app(self.settings, clock=lambda: time.time() + self.offset_s)
        self.retailer: Retailer = self.app.state.retailer
        self.server = ServerThread(self.app).start()

    @property
    def url(self) -> str:
        return self.server.url

    def close(self) -> None:
        self.server.stop()
        self.retailer.close()
