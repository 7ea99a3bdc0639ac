"""Passwords kept readable, for tests only: hashing them with Argon2 costs half a second each."""
from __future__ import annotations


class PlainPasswords:
    """A ``PasswordHasher`` that stores ``plain:<password>``; never wired into a running platform."""

    def hash(self, password: str) -> str:
        return "plain:" + password

    def verify(self, password_hash: str, password: str) -> bool:
        return password_hash == "plain:" + password
