"""Errors to HTTP answers, in one place. Every error body is ``{"error": {code, message, fields}}``."""
from __future__ import annotations

from typing import Any

import orjson
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from entrygate.adapters.db.faults import STORAGE_FAULTS, describe
from entrygate.api.responses import FastJSONResponse
from entrygate.services.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    NotAuthenticated,
    NotFound,
    RateLimited,
    ServiceError,
    Unavailable,
)
from entrygate.services.ports.storage import StorageError
from entrygate.wire.parse import invalid_request

log = structlog.get_logger("entrygate.api")

STATUS = {NotAuthenticated: 401, Forbidden: 403, NotFound: 404, Conflict: 409, InvalidRequest: 400, RateLimited: 429,
          Unavailable: 503}


def error_body(code: str, message: str, fields: list[str] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or []}}


def install(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service(request: Request, exc: ServiceError) -> FastJSONResponse:
        status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 500)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if isinstance(exc, RateLimited):
            headers = {"Retry-After": str(exc.retry_after_s)}
        answer = error_body(exc.code, exc.message, exc.fields)
        reason = getattr(exc, "reason", None)
        if isinstance(reason, str):
            answer["error"]["reason"] = reason  # which rule refused (a hold's state: ALREADY_CAPTURED, ...)
        return FastJSONResponse(answer, status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> FastJSONResponse:
        err = invalid_request(exc.errors())
        return FastJSONResponse(error_body(err.code, err.message, err.fields), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> FastJSONResponse:
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE"}.get(exc.status_code, "HTTP_ERROR")
        return FastJSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code)

    async def _storage(request: Request, exc: Exception) -> FastJSONResponse:
        error = str(exc) if isinstance(exc, StorageError) else f"{type(exc).__name__}: {describe(exc)}"
        log.error("storage_error", path=request.url.path, error=error)
        return FastJSONResponse(error_body("UNAVAILABLE", "the database is unavailable; nothing was changed"),
                                status_code=503)

    # A storage fault is a 503 wherever it is raised, also one that escaped its adapter unwrapped:
    # these handlers answer within the request, where the catch-all below would answer 500 and
    # then drop the connection.
    for fault in (StorageError, *STORAGE_FAULTS):
        app.add_exception_handler(fault, _storage)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> FastJSONResponse:
        log.exception("unhandled_error", path=request.url.path, error_type=type(exc).__name__)
        return FastJSONResponse(error_body("INTERNAL", "an internal error occurred; it has been logged"),
                              status_code=500)


class RefuseNul:
    """ASGI middleware: a path or query with U+0000 is refused before any route sees it
    (no database text column can hold it; PostgreSQL would fail the query)."""

    def __init__(self, app) -> None:  # noqa: ANN001
        self.app = app

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] == "http" and ("\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b"")
                                        or b"%00" in scope.get("raw_path", b"")):
            body = orjson.dumps(error_body("VALIDATION_ERROR", "the URL must not contain the character U+0000",
                                           ["url"]))
            await send({"type": "http.response.start", "status": 400,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)
