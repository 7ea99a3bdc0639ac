"""Parsed JSON to validated requests: refusals that name the field, card numbers that must never be stored."""
from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from entrygate.domain.cards import find_pan_field
from entrygate.services.errors import InvalidRequest

M = TypeVar("M", bound=BaseModel)


def parse_json(raw: bytes, *, refuse_pan: bool = False) -> dict[str, Any]:
    """A body's JSON object, refused with ``InvalidRequest`` when it is empty, not an object, or holds a card number."""
    return _parse_body(raw, dict, "a JSON object", refuse_pan=refuse_pan)


def parse_json_array(raw: bytes, *, refuse_pan: bool = False) -> list[Any]:
    """A body that is a JSON array (a store's rules), refused as ``parse_json`` refuses an object."""
    return _parse_body(raw, list, "a JSON array", refuse_pan=refuse_pan)


def _parse_body(raw: bytes, kind: type, what: str, *, refuse_pan: bool) -> Any:
    if not raw:
        raise InvalidRequest(f"body: {what} is required", fields=["body"])
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidRequest("body: is not valid JSON", fields=["body"]) from None
    if not isinstance(data, kind):
        raise InvalidRequest(f"body: must be {what}", fields=["body"])
    nul = _find_nul(data)
    if nul is not None:
        # No text column of either database can hold U+0000, and no field of ours needs it.
        raise InvalidRequest(f"{nul}: must not contain the character U+0000", fields=[nul])
    if refuse_pan:
        refuse_card_numbers(data)
    return data


def refuse_card_numbers(data: Any) -> None:
    """Refuse a payload with anything that looks like a full card number (PAN), naming only where it was."""
    path = find_pan_field(data, skip=_is_uuid)
    if path is not None:
        # The value is neither echoed, logged nor stored: only where it was.
        raise InvalidRequest(f"{path}: looks like a full card number; send the processor's payment token, "
                             "never the card number", fields=[path])


def parse(model: type[M], data: Any, *, prefix: str = "") -> M:
    """``data`` validated as ``model``; an ``InvalidRequest`` naming every wrong field otherwise."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_request(exc.errors(), prefix=prefix) from None


def invalid_request(errors: Iterable[Mapping[str, Any]], *, prefix: str = "") -> InvalidRequest:
    """A readable 400 from pydantic's errors. Input values are never echoed: they may be card data."""
    fields, parts = [], []
    for err in errors:
        path = field_path(tuple(err.get("loc", ())))
        if prefix:
            path = prefix if path == "body" else f"{prefix}.{path}"
        msg = err.get("msg", "invalid")
        if err.get("type") == "missing":
            msg = "is required"
        elif err.get("type") == "json_invalid":
            msg = "is not valid JSON"
        fields.append(path)
        parts.append(f"{path}: {msg}")
    return InvalidRequest("; ".join(parts) or "invalid request", fields=sorted(set(fields)))


def field_path(loc: tuple[Any, ...]) -> str:
    """A pydantic location as the JSON path a client wrote: ``connectors.identity.url``, ``entryMethods[0]``."""
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or "body"


def request_hash(*parts: BaseModel) -> str:
    """A digest of what the request means (after validation, unknown fields dropped)."""
    h = hashlib.sha256()
    for part in parts:
        h.update(orjson.dumps(part.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS))
    return h.hexdigest()


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
