"""Secrets per purpose (DESIGN 15): the stored keys, the key ring every process reads, the offline
signing keys and the palm templates' re-encryption.

The stored keys: SQL in ``adapters/db/secret_keys.py``, in memory in ``adapters/memory/secrets.py``.
The key ring (derivation, wrapping, the refresh every process does) is ``adapters/keyring.py``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from entrygate.services.ports.storage import StorageError


class ConcurrentRotation(StorageError):
    """Another rotation of the same purpose committed first; nothing was changed by this one."""


class UnknownKey(Exception):
    """Data names a key id this platform does not have (or no longer keeps)."""


@dataclass(frozen=True, slots=True)
class StoredKey:
    """A purpose's key as stored: ``material`` wrapped under the root, None for the purpose's derived first key."""

    purpose: str
    key_id: str
    material: bytes | None
    created_at: datetime
    retired_at: datetime | None


class SecretKeyStore(Protocol):
    def list(self) -> list[StoredKey]:
        """Every purpose's keys, oldest first."""

    def rotate(self, purpose: str, *, key_id: str, material: bytes, at: datetime) -> None:
        """Retire the purpose's active key and make this one active, in one transaction; at most one
        active key per purpose is kept by the database (``ConcurrentRotation`` for the loser of a race)."""


@dataclass(frozen=True, slots=True)
class OfflineSigningKey:
    """The key offline bundles are signed with now: its id and the Ed25519 signing call."""

    key_id: str
    sign: Callable[[bytes], bytes]  # 64-byte Ed25519 signature over exactly these bytes


@dataclass(frozen=True, slots=True)
class OfflinePublicKey:
    key_id: str
    public_key: bytes  # the raw 32-byte Ed25519 public key


@dataclass(frozen=True, slots=True)
class OfflineKeySet:
    active: OfflineSigningKey
    public_keys: list[OfflinePublicKey]  # every key a bundle that has not expired may be signed with, newest first


class KeyRingPort(Protocol):
    def active_key_id(self, purpose: str) -> str: ...

    def rotate(self, purpose: str) -> str:
        """A new random key for the purpose, made active for every process; its key id."""

    def refresh(self) -> None:
        """Read the stored keys again now."""

    def offline_keys(self) -> OfflineKeySet:
        """The active offline signing key, and every public key still valid for a bundle, with key ids."""


class SessionKeys(Protocol):
    """The console's signing keys: cookies and CSRF tokens carry the id of the key that made them."""

    def session_key(self) -> tuple[str, bytes]:
        """The id and bytes of the key new cookies and tokens are made with."""

    def session_key_for(self, key_id: str) -> bytes | None:
        """The key of this id while what it made may still be valid (active, or retired less than a
        session's lifetime ago); None otherwise."""


@dataclass(frozen=True, slots=True)
class KeyedTemplate:
    """A palm template as stored, with the key it is under."""

    palm_id: str
    template: bytes
    key_id: str


@dataclass(frozen=True, slots=True)
class TemplateRewrite:
    palm_id: str
    old_key_id: str
    template: bytes
    key_id: str


class TemplateKeyStore(Protocol):
    """Palm templates by the key they are under, for re-encryption (``adapters/db/palm_templates.py``)."""

    def counts_by_key(self) -> dict[str, int]:
        """How many enrolled templates are under each key id."""

    def not_under(self, key_id: str, *, after: str | None, limit: int) -> list[KeyedTemplate]:
        """One page of the templates under another key than ``key_id``, in palm id order, after ``after``."""

    def replace(self, rewrites: list[TemplateRewrite]) -> int:
        """Store each new template where the row is still under its old key, in one transaction; how many."""


class TemplateRecipher(Protocol):
    """Re-encrypts a template under the active palm key (``adapters/palm_keys.KeyedTemplateCipher``)."""

    def reencrypt(self, blob: bytes, *, palm_id: str) -> tuple[bytes, str]:
        """The template encrypted under the active key, and that key's id; raises when ``blob`` does not open."""
