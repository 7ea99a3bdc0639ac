"""Security headers on every answer: the console's pages and the API's JSON (DESIGN 15).

A plain ASGI middleware (no framework), installed once for the whole app by ``entrygate.web``.

- The console: a Content-Security-Policy that runs scripts and styles only from this origin (no
  ``'unsafe-inline'``: ``console/static/`` holds them all), allows no framing
  (``frame-ancestors 'none'``), and sends forms only here; nosniff; ``Referrer-Policy:
  same-origin``; never cached.
- The API: JSON that a browser must never render or frame (``default-src 'none'``), nosniff,
  ``Referrer-Policy: no-referrer``. The interactive API reference (``/docs``, ``/redoc``) loads
  its viewer from a CDN with an inline bootstrap script, so it gets no CSP, only the rest.
- ``Strict-Transport-Security`` whenever the request came over https: directly, or through a
  trusted proxy's ``X-Forwarded-Proto`` (``ENTRYGATE_TRUSTED_PROXIES``; the proxy-headers
  middleware before this one has then already made the scheme https). A browser never learns
  HSTS over plain http anyway (RFC 6797 section 7.2), so it is not sent there.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]

CONSOLE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
API_CSP = "default-src 'none'; frame-ancestors 'none'"
HSTS = "max-age=31536000"  # a year; includeSubDomains is the operator's choice, at its proxy

CONSOLE_HEADERS = {
    "Content-Security-Policy": CONSOLE_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
API_HEADERS = {
    "Content-Security-Policy": API_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
DOCS_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
DOCS_PATHS = ("/docs", "/redoc")


def headers_for(path: str, *, https: bool) -> list[tuple[bytes, bytes]]:
    """The security headers an answer to ``path`` carries."""
    if path == "/console" or path.startswith("/console/"):
        chosen = CONSOLE_HEADERS
    elif path.startswith(DOCS_PATHS):
        chosen = DOCS_HEADERS
    else:
        chosen = API_HEADERS
    out = [(k.lower().encode(), v.encode()) for k, v in chosen.items()]
    if https:
        out.append((b"strict-transport-security", HSTS.encode()))
    return out


class SecurityHeaders:
    """Adds ``headers_for`` to every HTTP answer, keeping a header the route set itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Message]],
                       send: Callable[[Message], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = headers_for(scope.get("path", ""), https=scope.get("scheme") == "https")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend((name, value) for name, value in extra if name not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
