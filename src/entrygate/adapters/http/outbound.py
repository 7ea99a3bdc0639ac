"""The outbound address guard: calls to retailers' URLs reach public https addresses only.

The rules are ``domain/outbound.py``'s; this applies them where they cannot be dodged. A URL's
scheme and literal host are judged before the request, and a name is resolved here, every
address it resolves to is classified, and the socket connects to one of those checked
addresses, never to the name. A name that resolves to a public address when saved and to
127.0.0.1 when called (DNS rebinding) is therefore refused at the call. Any httpcore
``NetworkBackend`` can be wrapped, so webhook delivery can reuse the guard.
"""
from __future__ import annotations

import socket
import time
import typing
from dataclasses import dataclass, field

import httpcore
import httpx

from entrygate.domain.outbound import AddressKind, classify, url_refusal

Resolver = typing.Callable[..., list[tuple[typing.Any, ...]]]


class OutboundRefused(httpx.TransportError):
    """entrygate will not call this URL or address.

    Not an ``httpx.ConnectError``: a refusal is not retried, yet callers that treat every
    ``httpx.HTTPError`` as an unreachable peer handle it like one.
    """


@dataclass(frozen=True, slots=True)
class OutboundPolicy:
    """Which outbound URLs and addresses may be called; ``allow_private`` lifts both rules."""

    allow_private: bool = False
    resolver: Resolver = field(default=socket.getaddrinfo, repr=False)

    def check_url(self, url: httpx.URL) -> None:
        """Refuse a URL that is not https, or whose host is a literal non-public address."""
        reason = url_refusal(str(url), allow_private=self.allow_private)
        if reason is not None:
            raise OutboundRefused(f"entrygate refuses to call {url.scheme}://{url.host}: the URL {reason}")

    def addresses(self, host: str, port: int) -> list[str]:
        """The addresses ``host`` resolves to, each checked; refuses if any is not public."""
        try:
            infos = self.resolver(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
        found: list[str] = []
        for family, *_, sockaddr in infos:
            if family not in (socket.AF_INET, socket.AF_INET6):
                continue
            address = str(sockaddr[0])
            kind = classify(address)
            if kind is not AddressKind.PUBLIC:
                # Why all, not just the first: a name that answers with one private address among
                # public ones is either misconfigured or aimed at the platform's network.
                raise OutboundRefused(f"entrygate refuses to connect to {host}: it resolves to {kind.value} "
                                      f"({address}); set ENTRYGATE_ALLOW_PRIVATE_URLS=true only for development")
            if address not in found:
                found.append(address)
        if not found:
            raise httpcore.ConnectError(f"{host} resolves to no IP address")
        return found


class GuardedBackend(httpcore.NetworkBackend):
    """A network backend that connects only to addresses the policy allows, checked at connect time."""

    def __init__(self, inner: httpcore.NetworkBackend, policy: OutboundPolicy) -> None:
        self._inner = inner
        self._policy = policy

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: typing.Iterable[typing.Any] | None = None) -> httpcore.NetworkStream:
        if self._policy.allow_private:
            return self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        started = time.monotonic()
        options = list(socket_options) if socket_options is not None else None
        error: Exception | None = None
        for address in self._policy.addresses(host, port):
            left = None if timeout is None else timeout - (time.monotonic() - started)
            if left is not None and left <= 0:
                raise httpcore.ConnectTimeout(f"no connection to {host} within {timeout} s")
            try:
                # The TLS handshake still verifies ``host``: httpcore passes the origin's name as SNI.
                return self._inner.connect_tcp(address, port, left, local_address, options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: typing.Iterable[typing.Any] | None = None) -> httpcore.NetworkStream:
        if not self._policy.allow_private:
            raise OutboundRefused("entrygate refuses to connect to a unix socket")
        return self._inner.connect_unix_socket(path, timeout, socket_options)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)
