"""What a console user may do: its role, one of three, each allowing all that the one below it allows.

    VIEWER    reads everything of its retailer, changes nothing (but signs out, changes its own password)
    OPERATOR  also runs the stores and gates: store settings, gates, trips, simulated entries
    ADMIN     also manages who has access: console users, and API keys
"""
from __future__ import annotations

from enum import Enum


class ConsoleRole(str, Enum):
    VIEWER = "VIEWER"
    OPERATOR = "OPERATOR"
    ADMIN = "ADMIN"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def allows(self, needed: ConsoleRole) -> bool:
        """Whether a user of this role may do what needs ``needed``."""
        return self.rank >= needed.rank


_RANK = {ConsoleRole.VIEWER: 0, ConsoleRole.OPERATOR: 1, ConsoleRole.ADMIN: 2}
