"""Request bodies in the OpenAPI document.

The routes read their JSON themselves (to refuse card numbers and oversized bodies before
validation), so FastAPI cannot see their models; ``body(Model)`` declares them and ``install``
adds every declared model to ``components.schemas``.
"""
from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

_DECLARED: dict[str, type[BaseModel]] = {}


def body(model: type[BaseModel], *, example: dict[str, Any] | None = None) -> dict[str, Any]:
    _DECLARED[model.__name__] = model
    content: dict[str, Any] = {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
    if example is not None:
        content["example"] = example
    return {"requestBody": {"required": True, "content": {"application/json": content}}}


def declare(*models: type[BaseModel]) -> None:
    for model in models:
        _DECLARED[model.__name__] = model


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        _, defs = models_json_schema([(m, "validation") for m in _DECLARED.values()],
                                     ref_template="#/components/schemas/{model}")
        schema.setdefault("components", {}).setdefault("schemas", {}).update(defs.get("$defs", {}))
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
