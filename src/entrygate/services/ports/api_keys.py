"""The API keys' store (DESIGN 15): gate keys that rotate with a grace period, named retailer keys.

Each method is a transaction of its own. SQL in ``adapters/db/api_keys.py``, in memory in
``adapters/memory/api_keys.py``; the rules are held to both by ``tests/contracts/test_api_keys.py``.
A key is stored only as the SHA-256 of its secret (``domain/keys.py``).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from entrygate.domain.audit import AuditEntry
from entrygate.services.ports.storage import StorageError


class LastActiveKey(StorageError):
    """Refused: the key is its retailer's last active one, and a retailer always keeps one."""


@dataclass(frozen=True, slots=True)
class GateRef:
    """A gate as key management finds it by its id: which store and retailer it belongs to."""

    gate_pk: str
    gate_id: str
    store_id: str
    retailer_id: str


@dataclass(frozen=True, slots=True)
class GateKeyInfo:
    key_id: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked: bool


@dataclass(frozen=True, slots=True)
class RetailerKeyInfo:
    key_id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool


class ApiKeyStore(Protocol):
    def gates_named(self, gate_id: str) -> list[GateRef]:
        """Every gate with this id (a gate id is unique within its store only)."""

    def rotate_gate_key(self, gate_pk: str, *, key_id: str, secret_hash: str, at: datetime,
                        previous_expire_at: datetime, audit: AuditEntry | None = None) -> None:
        """Add a key to the gate; its other working keys stop at ``previous_expire_at`` (or sooner if set so)."""

    def list_gate_keys(self, gate_pk: str) -> list[GateKeyInfo]:
        """The gate's keys, newest first, revoked ones included."""

    def revoke_gate_key(self, gate_pk: str, key_id: str, *, at: datetime, audit: AuditEntry | None = None) -> bool:
        """Revoke the key; False when the gate has no such key. Revoking a revoked key is a no-op (True)."""

    def add_retailer_key(self, retailer_id: str, *, key_id: str, name: str, secret_hash: str, at: datetime,
                         audit: AuditEntry | None = None) -> None:
        ...

    def list_retailer_keys(self, retailer_id: str) -> list[RetailerKeyInfo]:
        """The retailer's keys, oldest first, revoked ones included."""

    def revoke_retailer_key(self, retailer_id: str, key_id: str, *, at: datetime,
                            audit: AuditEntry | None = None) -> bool:
        """Revoke the key unless it is the retailer's last active one (``LastActiveKey``), in one
        step that two revocations at once cannot both pass; False when there is no such key."""

    def record_uses(self, *, gate_keys: Mapping[str, datetime], retailer_keys: Mapping[str, datetime]) -> None:
        """Write the keys' last use, in one transaction; a time never moves back."""
