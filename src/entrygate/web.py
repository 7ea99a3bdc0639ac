"""The platform's web app: the JSON API and the HTML console, side by side on one FastAPI app.

The one place that knows both edges; neither imports the other (import-linter keeps it so).
"""
from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from entrygate import __version__, console
from entrygate.api import app as api
from entrygate.api.responses import FastJSONResponse
from entrygate.bootstrap import Container
from entrygate.request_context import RequestContext
from entrygate.wire.headers import SecurityHeaders


class PlatformApp(FastAPI):
    """FastAPI with ``RequestContext`` outermost, outside Starlette's error middleware, so that even an
    unexpected 500 carries its ``X-Request-Id`` and every request is measured (method, route, status)."""

    def build_middleware_stack(self) -> Any:
        container = getattr(self.state, "container", None)  # set by create_app before the first request
        observe = container.observer.http_request if container is not None else None
        return RequestContext(super().build_middleware_stack(), observe=observe)


def create_app(container: Container) -> FastAPI:
    """The app serving ``container``: the API at ``/v1`` (with health, metrics, docs), the console at ``/console``."""
    app = _app(trusted_proxies=container.settings.trusted_proxy_list)
    app.state.container = container
    # The webhook delivery worker lets its attempts in flight finish and be recorded before the process ends.
    app.router.on_shutdown.append(container.delivery.stop)
    return app


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document the app serves at ``/openapi.json``; building it needs no database."""
    return _app(trusted_proxies=[]).openapi()


def _app(*, trusted_proxies: list[str]) -> FastAPI:
    # The API serves its own reference pages, from the package (api/docs.py).
    app = PlatformApp(title="entrygate", version=__version__, description=api.DESCRIPTION,
                      default_response_class=FastJSONResponse, docs_url=None, redoc_url=None)
    api.install(app)
    console.install(app)
    app.add_middleware(SecurityHeaders)
    # Outermost: the scheme and client address a trusted proxy reports, before anything reads them
    # (ENTRYGATE_TRUSTED_PROXIES; `entrygate serve` turns uvicorn's own proxy handling off for this).
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=trusted_proxies)
    return app
