"""The ASGI entry point uvicorn loads (``entrygate.asgi:create``), settings from the environment."""
from __future__ import annotations

from fastapi import FastAPI

from entrygate.bootstrap import build
from entrygate.logs import configure
from entrygate.settings import Settings
from entrygate.web import create_app


def create() -> FastAPI:
    """The platform's app, built from the environment's settings; the risk model is loaded before the first request."""
    settings = Settings()
    settings.require_real_secret()
    configure(level=settings.log_level, json=settings.log_json)
    container = build(settings)
    container.risk_model()  # load the model now, not on the first gate's tap
    return create_app(container)
