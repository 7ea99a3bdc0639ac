"""Console users of a retailer: listing, removal, roles and passwords.

Adding a user stays ``RetailerRepository.add_user``; the sessions a user holds are the console
ports' (``services/ports/console.py``). SQL in ``adapters/db/users.py``, in memory in
``adapters/memory/users.py``.
"""
from __future__ import annotations

from typing import Protocol

from entrygate.domain.records import RetailerUser
from entrygate.domain.roles import ConsoleRole


class UserRepository(Protocol):
    def get(self, user_id: str) -> RetailerUser | None: ...
    def list(self, retailer_id: str) -> list[RetailerUser]: ...

    def lock_retailer(self, retailer_id: str) -> None:
        """Hold off other user changes of this retailer until the unit of work ends (a row lock on the
        retailer; SQLite's writers already take turns), so a check of its users stays true until commit."""
        ...

    def count_role(self, retailer_id: str, role: ConsoleRole) -> int: ...

    def delete(self, user_id: str) -> bool:
        """Remove the user and every session it holds, in this unit of work; true when it existed."""
        ...

    def set_password(self, user_id: str, password_hash: str) -> None: ...
