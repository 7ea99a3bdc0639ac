"""The developer console: server-rendered pages at ``/console``, served by the API's process."""
from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles


def install(app: FastAPI) -> None:
    """Mount the console's pages and its static files on the platform's app."""
    from entrygate.console import routes_auth, routes_stores, routes_traffic
    from entrygate.console.web import STATIC

    app.include_router(routes_auth.router)
    app.include_router(routes_stores.router)
    app.include_router(routes_traffic.router)
    app.mount("/console/static", StaticFiles(directory=str(STATIC)), name="console-static")
