"""The platform's web app: the JSON API and the HTML console, side by side on one FastAPI app.

The one place that knows both edges; neither imports the other (import-linter keeps it so).
"""
from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from entrygate import __version__, console
from entrygate.api import app as api
from entrygate.api.responses import FastJSONResponse
from entrygate.bootstrap import Container


def create_app(container: Container) -> FastAPI:
    """The app serving ``container``: the API at ``/v1`` (with health, metrics, docs), the console at ``/console``."""
    app = _app()
    app.state.container = container
    return app


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document the app serves at ``/openapi.json``; building it needs no database."""
    return _app().openapi()


def _app() -> FastAPI:
    # The API serves its own reference pages, from the package (api/docs.py).
    app = FastAPI(title="entrygate", version=__version__, description=api.DESCRIPTION,
                  default_response_class=FastJSONResponse, docs_url=None, redoc_url=None)
    api.install(app)
    console.install(app)
    return app
