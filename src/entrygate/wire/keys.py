"""Gate and retailer keys on the wire (DESIGN 15): request bodies and answers, shared by API and console."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from entrygate.services.admin.api_keys import (
    DEFAULT_GRACE_SECONDS,
    MAX_GRACE_SECONDS,
    MAX_KEY_NAME,
    CreatedRetailerKey,
    RotatedGateKey,
)
from entrygate.services.ports.api_keys import GateKeyInfo, RetailerKeyInfo
from entrygate.wire.schemas import Model


class GateKeyIn(Model):
    graceSeconds: int = Field(default=DEFAULT_GRACE_SECONDS, ge=0, le=MAX_GRACE_SECONDS, strict=True,
                              description="How long the gate's previous keys keep working")


class RetailerKeyIn(Model):
    name: str = Field(min_length=1, max_length=MAX_KEY_NAME, description="What the key is for (shown in listings)")


class RotatedGateKeyOut(BaseModel):
    keyId: str
    apiKey: str = Field(description="The new key; shown only this once")
    previousKeyExpiresAt: datetime


class GateKeyOut(BaseModel):
    keyId: str
    createdAt: datetime
    expiresAt: datetime | None
    lastUsedAt: datetime | None
    revoked: bool


class GateKeysOut(BaseModel):
    keys: list[GateKeyOut]


class CreatedRetailerKeyOut(BaseModel):
    keyId: str
    name: str
    apiKey: str = Field(description="The new key; shown only this once")


class RetailerKeyOut(BaseModel):
    keyId: str
    name: str
    createdAt: datetime
    lastUsedAt: datetime | None
    revoked: bool


class RetailerKeysOut(BaseModel):
    keys: list[RetailerKeyOut]


def _time(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at is not None else None


def rotated_view(key: RotatedGateKey) -> dict[str, Any]:
    return {"keyId": key.key_id, "apiKey": key.api_key, "previousKeyExpiresAt": _time(key.previous_key_expires_at)}


def gate_key_view(key: GateKeyInfo) -> dict[str, Any]:
    return {"keyId": key.key_id, "createdAt": _time(key.created_at), "expiresAt": _time(key.expires_at),
            "lastUsedAt": _time(key.last_used_at), "revoked": key.revoked}


def created_retailer_key_view(key: CreatedRetailerKey) -> dict[str, Any]:
    return {"keyId": key.key_id, "name": key.name, "apiKey": key.api_key}


def retailer_key_view(key: RetailerKeyInfo) -> dict[str, Any]:
    return {"keyId": key.key_id, "name": key.name, "createdAt": _time(key.created_at),
            "lastUsedAt": _time(key.last_used_at), "revoked": key.revoked}
