"""The password port: console passwords are stored only as a slow hash (``adapters/passwords.py``)."""
from __future__ import annotations

from typing import Protocol


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool:
        """Whether ``password`` is the one hashed; False, never an error, for a malformed hash."""
        ...
