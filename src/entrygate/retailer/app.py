"""The reference retailer's HTTP service: both connector endpoints of DESIGN 5.

Each request is checked in the order a careful receiver checks: the Standard Webhooks signature
first (401: nothing about an unsigned request is worth reading), then the body, strictly (400,
naming the field), then the retailer's own data. The answers:

- identity-keys: 200 ``{"visitorDetails": {"id", "type"}}``, or 401 for a key it does not know.
- shopperauthorization: 200 ``{"shopperAuthorized", "authorizationConditions", "shopperRisks"}``.

``create_retailer_app(settings)`` migrates the database and returns the app; ``app.state.retailer``
holds the running parts (repository, decisions), which the demo uses to register people and
``close()`` releases.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from entrygate.domain import webhooks
from entrygate.retailer import validation
from entrygate.retailer.db import connect
from entrygate.retailer.decisions import RetailerDecisions
from entrygate.retailer.repository import RetailerRepository
from entrygate.retailer.settings import RetailerSettings

log = structlog.get_logger("entrygate.retailer")

MAX_BODY_BYTES = 64 * 1024


@dataclass
class Retailer:
    """The running reference retailer: its settings, database and decisions."""

    settings: RetailerSettings
    repo: RetailerRepository
    decisions: RetailerDecisions
    signing_secret: str

    def close(self) -> None:
        self.repo.engine.dispose()


def build_retailer(settings: RetailerSettings, *, clock: Callable[[], float] = time.time) -> Retailer:
    """Migrate the retailer's database and assemble its parts."""
    secret = settings.require_signing_secret()
    repo = RetailerRepository(connect(settings.sqlalchemy_url))
    return Retailer(settings, repo, RetailerDecisions(repo, qr_key=settings.qr_key, clock=clock), secret)


def create_retailer_app(settings: RetailerSettings, *, clock: Callable[[], float] = time.time) -> FastAPI:
    retailer = build_retailer(settings, clock=clock)
    app = FastAPI(title="entrygate reference retailer",
                  description="The retailer side of entrygate's identity and shopper-authorization connectors.")
    app.state.retailer = retailer

    async def signed_body(request: Request) -> bytes | JSONResponse:
        raw = await _read(request)
        if raw is None:
            return _error(413, "PayloadTooLargeException", f"body: at most {MAX_BODY_BYTES} bytes", "body")
        try:
            webhooks.verify(retailer.signing_secret, request.headers, raw, now=clock())
        except webhooks.WebhookVerificationError as exc:
            return _error(401, "UnauthorizedException", f"signature: {exc}", None)
        return raw

    @app.post("/v1/identity/identity-keys", tags=["connectors"])
    async def identity_keys(request: Request) -> Any:
        raw = await signed_body(request)
        if isinstance(raw, JSONResponse):
            return raw
        try:
            req = validation.identity_request(validation.json_body(raw))
        except validation.RequestInvalid as exc:
            return _error(400, "BadRequestException", str(exc), exc.field)
        answer = await run_in_threadpool(retailer.decisions.identify, req)
        log.info("identity", store_id=req.store_id, key_channel=req.key_channel, location=req.location,
                 outcome=answer.why, visitor_id=answer.visitor.visitor_id if answer.visitor else None)
        if answer.visitor is None:
            return _error(401, "UnauthorizedException", "identityKey: not a valid key at this retailer", None)
        return {"visitorDetails": {"id": answer.visitor.visitor_id, "type": answer.visitor.visitor_type}}

    @app.post("/v1/fraudandabuse/shopperauthorization", tags=["connectors"])
    async def shopper_authorization(request: Request) -> Any:
        raw = await signed_body(request)
        if isinstance(raw, JSONResponse):
            return raw
        try:
            req = validation.authorization_request(validation.json_body(raw))
        except validation.RequestInvalid as exc:
            return _error(400, "BadRequestException", str(exc), exc.field)
        answer = await run_in_threadpool(retailer.decisions.authorize, req)
        log.info("shopper_authorization", store_id=req.store_id, trip_id=req.trip_id,
                 authorized=answer["shopperAuthorized"], risks=answer["shopperRisks"])
        return answer

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


async def _read(request: Request) -> bytes | None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            return None
    return bytes(raw)


def _error(status: int, error_type: str, message: str, field: str | None) -> JSONResponse:
    body: dict[str, Any] = {"errorType": error_type, "errorMsg": message}
    if field:
        body["field"] = field
    return JSONResponse(body, status_code=status)
