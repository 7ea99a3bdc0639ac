"""API keys: shown once, stored as a hash, compared in constant time.

A key reads ``eg<kind>_<key id>_<secret>``. The key id is looked up; the secret's SHA-256 is
compared with ``hmac.compare_digest``. A fast hash is right here (unlike for passwords): the
secret is 32 random bytes, so there is nothing to guess.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import Enum


class KeyKind(str, Enum):
    OPERATOR = "op"
    RETAILER = "rk"
    GATE = "gk"


@dataclass(frozen=True, slots=True)
class NewKey:
    kind: KeyKind
    key_id: str
    secret_hash: str
    plaintext: str


def new_key(kind: KeyKind) -> NewKey:
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    return NewKey(kind, key_id, hash_secret(secret), f"eg{kind.value}_{key_id}_{secret}")


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class PresentedKey:
    kind: KeyKind
    key_id: str
    secret: str


def parse_key(text: str) -> PresentedKey | None:
    """Split a presented key into its parts, or None when it is not shaped like one of ours."""
    prefix, sep, rest = text.partition("_")
    if not sep or not prefix.startswith("eg"):
        return None
    try:
        kind = KeyKind(prefix[2:])
    except ValueError:
        return None
    key_id, sep, secret = rest.partition("_")
    if not sep or len(key_id) != 16 or not secret or len(secret) > 100:
        return None
    return PresentedKey(kind, key_id, secret)


def secret_matches(presented: PresentedKey, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(presented.secret), stored_hash)
