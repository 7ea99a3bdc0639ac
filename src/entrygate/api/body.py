"""Reading a request's JSON body: the size limit here, the rest of the checks in ``wire.parse``."""
from __future__ import annotations

from typing import Any

from fastapi import Request

from entrygate.services.errors import InvalidRequest
from entrygate.wire.parse import parse_json


class PayloadTooLarge(InvalidRequest):
    code = "PAYLOAD_TOO_LARGE"


async def read_json(request: Request, *, max_bytes: int, refuse_pan: bool = False) -> dict[str, Any]:
    """The request's JSON, refused with a 4xx when it is too large, not JSON, or holds a card number."""
    return parse_json(await read_bytes(request, max_bytes=max_bytes), refuse_pan=refuse_pan)


async def read_bytes(request: Request, *, max_bytes: int) -> bytes:
    """The request's body, refused with a 413 once it is larger than ``max_bytes``."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge(f"body is larger than {max_bytes} bytes")
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > max_bytes:
            raise PayloadTooLarge(f"body is larger than {max_bytes} bytes")
    return bytes(raw)
