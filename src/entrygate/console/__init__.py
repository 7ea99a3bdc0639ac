"""The developer console: server-rendered pages at ``/console``, mounted beside the API by ``entrygate.web``."""
from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from entrygate.console import (
    routes_access,
    routes_auth,
    routes_investigation,
    routes_keys,
    routes_models,
    routes_risk_ops,
    routes_stores,
    routes_traffic,
    routes_trips,
    routes_webhooks,
)
from entrygate.console.web import STATIC


def install(app: FastAPI) -> None:
    """Mount the console's pages and its static files on the platform's app."""
    app.include_router(routes_auth.router)
    app.include_router(routes_stores.router)
    app.include_router(routes_traffic.router)
    app.include_router(routes_trips.router)
    app.include_router(routes_access.router)
    app.include_router(routes_risk_ops.router)
    app.include_router(routes_models.router)
    app.include_router(routes_investigation.router)
    app.include_router(routes_keys.router)
    app.include_router(routes_webhooks.router)
    app.mount("/console/static", StaticFiles(directory=str(STATIC)), name="console-static")
