"""The ASGI entry point uvicorn loads (``entrygate.api.asgi:create``), settings from the environment."""
from __future__ import annotations

from fastapi import FastAPI

from entrygate.api.app import create_app
from entrygate.bootstrap import build
from entrygate.logs import configure
from entrygate.settings import Settings


def create() -> FastAPI:
    settings = Settings()
    settings.require_real_secret()
    configure(level=settings.log_level, json=settings.log_json)
    container = build(settings)
    container.risk_model()  # load the model now, not on the first gate's tap
    return create_app(container)
