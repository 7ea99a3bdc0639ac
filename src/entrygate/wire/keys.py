"""Gate and retailer keys on the wire (DESIGN 15): request bodies and answers, shared by API and console."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from entrygate.services.admin.api_keys import (
    DEFAULT_GRACE_SECONDS,
    MAX_GRACE_SECONDS,
    MAX_KEY_NAME,
    CreatedRetailerKey,
    RotatedGateKey,
)
from entrygate.services.ports.api_keys import GateKeyInfo, RetailerKeyInfo
from entrygate.wire.answers import Answer
from entrygate.wire.schemas import Model


class GateKeyIn(Model):
    graceSeconds: int = Field(default=DEFAULT_GRACE_SECONDS, ge=0, le=MAX_GRACE_SECONDS, strict=True,
                              description="How long the gate's previous keys keep working, in seconds (0 ends them at "
                                          "once; a day when left out).")


class RetailerKeyIn(Model):
    name: str = Field(min_length=1, max_length=MAX_KEY_NAME, description="What the key is for (shown in listings "
                                                                         "and the audit log).")


_KEY_ID = "The key's id: the part of the key after its prefix, before its secret; names it in listings and to revoke it."
_LAST_USED = "When the key was last used (UTC, within 60 s); null when it never was."


class RotatedGateKeyOut(Answer):
    keyId: str = Field(description=_KEY_ID)
    apiKey: str = Field(description="The new key (`eggk_…`); shown only this once.")
    previousKeyExpiresAt: datetime = Field(description="When the gate's previous keys stop working (UTC).")


class GateKeyOut(Answer):
    keyId: str = Field(description=_KEY_ID)
    createdAt: datetime = Field(description="When the key was made (UTC).")
    expiresAt: datetime | None = Field(description="When it stops working, set when a newer key replaced it (the "
                                                   "rotation's grace); null otherwise.")
    lastUsedAt: datetime | None = Field(description=_LAST_USED)
    revoked: bool = Field(description="Revoked keys are refused at once.")


class GateKeysOut(Answer):
    keys: list[GateKeyOut] = Field(description="The gate's keys, never the keys themselves.")


class CreatedRetailerKeyOut(Answer):
    keyId: str = Field(description=_KEY_ID)
    name: str = Field(description="What the key is for, as given.")
    apiKey: str = Field(description="The new key (`egrk_…`); shown only this once.")


class RetailerKeyOut(Answer):
    keyId: str = Field(description=_KEY_ID)
    name: str = Field(description="What the key is for.")
    createdAt: datetime = Field(description="When the key was made (UTC).")
    lastUsedAt: datetime | None = Field(description=_LAST_USED)
    revoked: bool = Field(description="Revoked keys are refused at once.")


class RetailerKeysOut(Answer):
    keys: list[RetailerKeyOut] = Field(description="The retailer's keys, never the keys themselves.")


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
