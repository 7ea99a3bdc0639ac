"""Request-scoped helpers: the container and the calling principal."""
from __future__ import annotations

from fastapi import Request

from entrygate.bootstrap import Container
from entrygate.domain.keys import KeyKind
from entrygate.services.auth import Principal


def container(request: Request) -> Container:
    return request.app.state.container


def principal(request: Request, *allow: KeyKind) -> Principal:
    return container(request).auth.authenticate(request.headers.get("authorization"), allow=set(allow))
