"""Reading JSON bodies: size limits, malformed JSON, card numbers that must never be stored."""
from __future__ import annotations

import hashlib
import uuid
from typing import Any, TypeVar

import orjson
from fastapi import Request
from pydantic import BaseModel, ValidationError

from entrygate.api.errors import validation_error
from entrygate.domain.cards import find_pan_field
from entrygate.services.errors import InvalidRequest

M = TypeVar("M", bound=BaseModel)


class PayloadTooLarge(InvalidRequest):
    code = "PAYLOAD_TOO_LARGE"


async def read_json(request: Request, *, max_bytes: int, refuse_pan: bool = False) -> Any:
    """The request's JSON, refused with a 4xx when it is too large, not JSON, or holds a card number."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge(f"body is larger than {max_bytes} bytes")
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > max_bytes:
            raise PayloadTooLarge(f"body is larger than {max_bytes} bytes")
    if not raw:
        raise InvalidRequest("body: a JSON object is required", fields=["body"])
    try:
        data = orjson.loads(bytes(raw))
    except orjson.JSONDecodeError:
        raise InvalidRequest("body: is not valid JSON", fields=["body"]) from None
    if not isinstance(data, dict):
        raise InvalidRequest("body: must be a JSON object", fields=["body"])
    nul = _find_nul(data)
    if nul is not None:
        # No text column of either database can hold U+0000, and no field of ours needs it.
        raise InvalidRequest(f"{nul}: must not contain the character U+0000", fields=[nul])
    if refuse_pan:
        path = find_pan_field(data, skip=_is_uuid)
        if path is not None:
            # The value is neither echoed, logged nor stored: only where it was.
            raise InvalidRequest(f"{path}: looks like a full card number; send the processor's payment token, "
                                 "never the card number", fields=[path])
    return data


def _find_nul(value: Any, path: str = "") -> str | None:
    if isinstance(value, str):
        return (path or "body") if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                return where
            found = _find_nul(item, where)
            if found:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = _find_nul(item, f"{path}[{i}]")
            if found:
                return found
    return None


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return "-" in text


def parse(model: type[M], data: Any, *, prefix: str = "") -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, prefix=prefix) from None


def request_hash(*parts: BaseModel) -> str:
    """A digest of what the request means (after validation, unknown fields dropped)."""
    h = hashlib.sha256()
    for part in parts:
        h.update(orjson.dumps(part.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS))
    return h.hexdigest()
