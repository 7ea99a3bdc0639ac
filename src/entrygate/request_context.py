"""Every request's id and measure (DESIGN 15): ``X-Request-Id`` on every answer and in every log line.

``RequestContext`` wraps the whole web app, outside Starlette's error middleware, so the API, the
console, error answers, 404s and even an unexpected 500 carry the header. The id is the caller's
``X-Request-Id`` when it is 1-128 characters of ``[A-Za-z0-9._:-]`` (a proxy's or a gate's own id
passes through), otherwise a new UUID. While the request runs, structlog's context variables carry
it as ``request_id``, so every log line written for the request has it (code run with
``run_in_threadpool`` inherits the context). When the answer is sent the request is measured:
method, route template (``/v1/gates/{gateId}/entries``, never the raw path), status, seconds.
"""
from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import structlog

HEADER = b"x-request-id"
_VALID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
UNMATCHED = "unmatched"  # the route label of a request no route matched (a 404)
# Any token is a method to HTTP/1.1; others are measured as OTHER, so a client cannot multiply the series.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

Observe = Callable[[str, str, int, float], None]  # method, route template, status, seconds


def request_id_of(headers: list[tuple[bytes, bytes]]) -> str:
    """The caller's id when it is well formed, otherwise a new UUID."""
    for name, value in headers:
        if name == HEADER:
            return value.decode("ascii") if _VALID.fullmatch(value) else str(uuid.uuid4())
    return str(uuid.uuid4())


def route_template(scope: dict[str, Any]) -> str:
    """The path template of the route that served the request (set by Starlette's router), or ``unmatched``."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class RequestContext:
    """ASGI middleware: the request id in the answer and the logs, and the request's measure."""

    def __init__(self, app: Any, *, observe: Observe | None = None) -> None:
        self.app = app
        self.observe = observe

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_of(scope.get("headers", []))
        scope.setdefault("state", {})["request_id"] = request_id
        id_header = (HEADER, request_id.encode("ascii"))
        status, completed = 500, False

        def measure() -> None:
            if self.observe is not None:
                method = scope["method"] if scope["method"] in METHODS else "OTHER"
                self.observe(method, route_template(scope), status, time.perf_counter() - started)

        async def send_with_id(message: dict[str, Any]) -> None:
            nonlocal status, completed
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), id_header]
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                completed = True
                measure()  # before the last bytes go: a client that has its answer finds it counted
            await send(message)

        tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Starlette's error middleware has answered 500 and logged the error (with this request's
            # id) before raising it again for the server; raised further, uvicorn would log it once
            # more, as a plain line without the id. An answer left unfinished is the server's to close.
            if not completed:
                raise
        finally:
            structlog.contextvars.reset_contextvars(**tokens)
            if not completed:
                measure()
