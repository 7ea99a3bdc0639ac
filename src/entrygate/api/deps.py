"""Request-scoped helpers: the container and the calling principal."""
from __future__ import annotations

from fastapi import Request

from entrygate.bootstrap import Container
from entrygate.domain.keys import KeyKind, parse_key
from entrygate.services.auth import Principal
from entrygate.services.errors import RateLimited


def container(request: Request) -> Container:
    return request.app.state.container


def principal(request: Request, *allow: KeyKind) -> Principal:
    """The caller, from its bearer key; a retailer or gate key beyond its rate limit is refused (429)."""
    c = container(request)
    authorization = request.headers.get("authorization")
    who = c.auth.authenticate(authorization, allow=set(allow))
    if not who.is_operator:
        presented = parse_key(authorization.partition(" ")[2].strip())  # authenticated: shaped like a key
        assert presented is not None
        retry_after = c.rate_limits.check(who.kind, presented.key_id)
        if retry_after is not None:
            raise RateLimited(retry_after)
    return who
