"""An httpx transport whose every socket operation ends by the call's deadline.

httpx's timeouts bound each operation separately: a read timeout of 0.8 s lets a server that
sends one byte every 0.7 s hold the caller for as long as it likes. A connector call has one hard
deadline for the whole call, connection included (DESIGN 5), so this transport gives each connect,
TLS handshake, write and read at most what is left of the deadline the caller set with
``deadline()``. Outside such a block it behaves exactly like ``httpx.HTTPTransport``.

The streams are httpcore's own (``httpcore.SyncBackend``); only the timeout each call passes down
is shortened, through httpcore's public ``NetworkBackend`` seam. The same seam carries the
outbound address guard (``adapters/http/outbound.py``): the URL is judged before each request and the
resolved address at each connect.
"""
from __future__ import annotations

import contextlib
import time
import typing
from contextvars import ContextVar

import httpcore
import httpx

from entrygate.adapters.http.outbound import GuardedBackend, OutboundPolicy

# Requests larger than this are sent as they are written (connector requests are a few hundred bytes).
_COALESCE_LIMIT = 64 * 1024
_deadline: ContextVar[float | None] = ContextVar("entrygate_connector_deadline", default=None)


@contextlib.contextmanager
def deadline(at: float) -> typing.Iterator[None]:
    """Within the block, socket operations on this thread end by ``time.monotonic() == at``."""
    token = _deadline.set(at)
    try:
        yield
    finally:
        _deadline.reset(token)


def _bounded(timeout: float | None, exc: type[Exception]) -> float | None:
    at = _deadline.get()
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise exc("the connector call's deadline has passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A stream whose operations end by the deadline, and whose writes go out in one piece.

    httpcore writes a request's head and body separately; each write is a system call and, on
    loopback, a wake-up of the receiver that finds half a request. The writes are held until the
    stream is read (an HTTP/1.1 client reads only once its request is complete) and then sent
    together.
    """

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner
        self._pending = bytearray()

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._pending:
            self._flush(timeout)
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._pending += buffer
        if len(self._pending) >= _COALESCE_LIMIT:
            self._flush(timeout)

    def _flush(self, timeout: float | None) -> None:
        data, self._pending = bytes(self._pending), bytearray()
        self._inner.write(data, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: typing.Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname, _bounded(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(inner)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's synchronous backend with every timeout cut to the current deadline."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: typing.Iterable[typing.Any] | None = None) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(host, port, _bounded(timeout, httpcore.ConnectTimeout), local_address,
                                         socket_options)
        return _DeadlineStream(stream)

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: typing.Iterable[typing.Any] | None = None) -> httpcore.NetworkStream:
        stream = self._inner.connect_unix_socket(path, _bounded(timeout, httpcore.ConnectTimeout), socket_options)
        return _DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class DeadlineTransport(httpx.HTTPTransport):
    """``httpx.HTTPTransport`` over a connection pool that uses ``DeadlineBackend``, behind the outbound guard.

    httpx 0.28 has no parameter for httpcore's network backend, so this builds the pool itself
    (the one attribute, ``_pool``, that HTTPTransport's methods use) instead of calling the base
    ``__init__``; the version is pinned in pyproject.toml and a test covers the seam.
    """

    def __init__(self, *, limits: httpx.Limits, verify: bool = True,  # noqa: D107
                 policy: OutboundPolicy | None = None) -> None:
        self._policy = policy or OutboundPolicy()
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=limits.max_connections, max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry, network_backend=GuardedBackend(DeadlineBackend(), self._policy))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Refuse a URL the policy does not allow (scheme, literal address), then send it."""
        self._policy.check_url(request.url)
        return super().handle_request(request)
