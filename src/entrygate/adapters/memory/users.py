"""Console users in memory: the rules of ``adapters/db/users.py`` on the memory store's users (by email).

Sessions live apart, in ``MemorySessions``; a removed user's sessions stop working all the same,
because a session is honoured only while its user exists (``services/console/auth.py``).
"""
from __future__ import annotations

from dataclasses import replace

from entrygate.domain.records import RetailerUser
from entrygate.domain.roles import ConsoleRole


class MemoryUsers:
    def __init__(self, users: dict[str, RetailerUser]) -> None:
        self.users = users  # by email

    def get(self, user_id: str) -> RetailerUser | None:
        return next((u for u in self.users.values() if u.user_id == user_id), None)

    def list(self, retailer_id: str) -> list[RetailerUser]:
        return sorted((u for u in self.users.values() if u.retailer_id == retailer_id), key=lambda u: u.email)

    def lock_retailer(self, retailer_id: str) -> None:
        """Nothing to do: the memory store's write units of work run one at a time."""

    def count_role(self, retailer_id: str, role: ConsoleRole) -> int:
        return sum(1 for u in self.users.values() if u.retailer_id == retailer_id and u.role is role)

    def delete(self, user_id: str) -> bool:
        user = self.get(user_id)
        if user is None:
            return False
        del self.users[user.email]
        return True

    def set_password(self, user_id: str, password_hash: str) -> None:
        user = self.get(user_id)
        if user is not None:
            self.users[user.email] = replace(user, password_hash=password_hash)
