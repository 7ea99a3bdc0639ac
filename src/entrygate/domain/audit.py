"""The audit log's entries: who changed what, from what to what, and when (DESIGN 15).

``before`` and ``after`` are the resource's API view (``domain/views.py``). A secret never enters
an entry: ``scrubbed`` replaces every field that could hold one with ``"secretSet": true``, on top
of the views, which already show connector secrets that way.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any


class ActorType(str, Enum):
    OPERATOR = "OPERATOR"
    RETAILER_KEY = "RETAILER_KEY"
    CONSOLE_USER = "CONSOLE_USER"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change: an operator token, a retailer's API key, or a console user (by email)."""

    type: ActorType
    id: str
    name: str

    def to_json(self) -> dict[str, str]:
        return {"type": self.type.value, "id": self.id, "name": self.name}


@dataclass(frozen=True, slots=True)
class Target:
    """What was changed: ``{"type": "store", "id": "store-001"}``."""

    type: str
    id: str

    def to_json(self) -> dict[str, str]:
        return {"type": self.type, "id": self.id}


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    actor: Actor
    action: str  # <resource>.<verb>: store.created, store.updated, gate.created, user.added, ...
    target: Target
    retailer_id: str | None  # whose data: the retailer that sees it; None: platform-wide (operators only)
    store_id: str | None = None  # the store it concerns, when it concerns one
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    entry_id: int | None = None  # given by storage; orders entries made at the same instant


# Fields that hold, or may one day hold, a secret or a key in any resource's view or body.
SECRET_FIELDS = frozenset({"secret", "apiKey", "password", "passwordHash", "currentPassword", "newPassword",
                           "token", "signingSecret", "secretHash", "key"})


def scrubbed(view: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``view`` with every secret-bearing field replaced by ``"secretSet": <whether it had one>``."""
    if view is None:
        return None
    return _scrub(view)


def _scrub(value: Any) -> Any:
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        had_secret = False
        for key, item in value.items():
            if key in SECRET_FIELDS:
                had_secret = had_secret or bool(item)
                continue
            out[str(key)] = _scrub(item)
        if any(key in SECRET_FIELDS for key in value):
            out["secretSet"] = bool(out.get("secretSet")) or had_secret
        return out
    if isinstance(value, (list, tuple)):
        return [_scrub(item) for item in value]
    return value
