"""The FastAPI application: routers, error mapping, health and metrics."""
from __future__ import annotations

from fastapi import FastAPI, Request, Response
from entrygate.api.responses import FastJSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from entrygate import __version__
from entrygate.api import errors, openapi, routes_admin, routes_feedback, routes_gates, routes_retailer
from entrygate.api import routes_connectors, routes_palm
from entrygate.bootstrap import Container
from entrygate import console

DESCRIPTION = """Entry decisions for checkout-free stores: a gate presents a credential (card, palm,
QR code, badge); entrygate authenticates it, pre-authorizes payment, weighs risk, asks the
retailer's systems where the store wants that, records a shopping trip and answers the gate."""


def create_app(container: Container) -> FastAPI:
    app = FastAPI(title="entrygate", version=__version__, description=DESCRIPTION,
                  default_response_class=FastJSONResponse)
    app.state.container = container
    errors.install(app)
    app.add_middleware(errors.RefuseNul)
    openapi.install(app)
    app.include_router(routes_gates.router)
    app.include_router(routes_retailer.router)
    app.include_router(routes_feedback.router)
    app.include_router(routes_admin.router)
    app.include_router(routes_connectors.router)
    app.include_router(routes_palm.router)
    console.install(app)  # the developer console's pages and static files, at /console

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"])
    async def readyz() -> FastJSONResponse:
        """Ready when the database answers and the palm index is loaded (docs/palm.md, readiness)."""
        def ping() -> None:
            with container.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        try:
            await run_in_threadpool(ping)
        except Exception:  # noqa: BLE001 - any failure means not ready
            return FastJSONResponse({"status": "unavailable"}, status_code=503)
        palm = container.palm.status()
        if palm["state"] != "ready":
            return FastJSONResponse({"status": "loading", "palm": palm}, status_code=503)
        return FastJSONResponse({"status": "ok", "palm": palm})

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    async def metrics(request: Request) -> Response:
        return Response(container.observer.exposition(), media_type=CONTENT_TYPE_LATEST)

    return app
