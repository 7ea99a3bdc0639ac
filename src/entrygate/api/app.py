"""The JSON API on the platform's app: routers, error mapping, the OpenAPI document, health and metrics."""
from __future__ import annotations

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from entrygate.api import (
    docs,
    errors,
    openapi,
    routes_admin,
    routes_audit,
    routes_connectors,
    routes_feedback,
    routes_gates,
    routes_keys,
    routes_palm,
    routes_retailer,
    routes_risk_ops,
    routes_trips,
    routes_users,
    routes_webhooks,
)
from entrygate.api.deps import container
from entrygate.api.responses import FastJSONResponse
from entrygate.wire.answers import HealthOut, ReadyOut

DESCRIPTION = """Entry decisions for checkout-free stores: a gate presents a credential (card, palm,
QR code, badge); entrygate authenticates it, pre-authorizes payment, weighs risk, asks the
retailer's systems where the store wants that, records a shopping trip and answers the gate."""


def install(app: FastAPI) -> None:
    """Mount the API's routes, its error answers (for the whole app), its OpenAPI document, health and metrics."""
    errors.install(app)
    app.add_middleware(errors.RefuseNul)
    openapi.install(app)
    docs.install(app)
    app.include_router(routes_gates.router)
    app.include_router(routes_retailer.router)
    app.include_router(routes_trips.router)
    app.include_router(routes_feedback.router)
    app.include_router(routes_admin.router)
    app.include_router(routes_connectors.router)
    app.include_router(routes_palm.router)
    app.include_router(routes_audit.router)
    app.include_router(routes_users.router)
    app.include_router(routes_risk_ops.router)
    app.include_router(routes_keys.router)
    app.include_router(routes_webhooks.router)

    @app.get("/healthz", tags=["operations"], summary="Liveness", response_model=HealthOut)
    async def healthz() -> FastJSONResponse:
        """200 while the process serves; no key needed."""
        return FastJSONResponse({"status": "ok"})

    @app.get("/readyz", tags=["operations"], summary="Readiness", response_model=ReadyOut,
             responses={503: {"description": "Not ready: the database does not answer (`unavailable`), or the palm "
                                             "index is still loading (`loading`).", "model": ReadyOut}})
    async def readyz(request: Request) -> FastJSONResponse:
        """Ready when the database answers and the palm index is loaded (docs/palm.md, readiness)."""
        c = container(request)

        def ping() -> None:
            with c.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        try:
            await run_in_threadpool(ping)
        except Exception:  # noqa: BLE001 - any failure means not ready
            return FastJSONResponse({"status": "unavailable"}, status_code=503)
        palm = c.palm.status()
        if palm["state"] != "ready":
            return FastJSONResponse({"status": "loading", "palm": palm}, status_code=503)
        return FastJSONResponse({"status": "ok", "palm": palm})

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    async def metrics(request: Request) -> Response:
        return Response(container(request).observer.exposition(), media_type=CONTENT_TYPE_LATEST)
