"""The platform's web app: the JSON API and the HTML console, side by side on one FastAPI app.

The one place that knows both edges; neither imports the other (import-linter keeps it so).
"""
from __future__ import annotations

from fastapi import FastAPI

from entrygate import __version__, console
from entrygate.api import app as api
from entrygate.api.responses import FastJSONResponse
from entrygate.bootstrap import Container


def create_app(container: Container) -> FastAPI:
    """The app serving ``container``: the API at ``/v1`` (with health, metrics, docs), the console at ``/console``."""
    app = FastAPI(title="entrygate", version=__version__, description=api.DESCRIPTION,
                  default_response_class=FastJSONResponse)
    app.state.container = container
    # The webhook delivery worker lets its attempts in flight finish and be recorded before the process ends.
    app.router.on_shutdown.append(container.delivery.stop)
    api.install(app)
    console.install(app)
    return app
