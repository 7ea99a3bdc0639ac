"""Console users on the database (``services/ports/users.py``)."""
from __future__ import annotations

from sqlalchemy import Connection, delete, func, select, update

from entrygate.adapters.db import tables as t
from entrygate.adapters.db.console_store import console_sessions
from entrygate.domain.records import RetailerUser
from entrygate.domain.roles import ConsoleRole

_u = t.retailer_users.c


def user_from_row(row) -> RetailerUser:  # noqa: ANN001
    return RetailerUser(row.user_id, row.retailer_id, row.email, row.password_hash, ConsoleRole(row.role),
                        row.created_at)


class SqlUsers:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, user_id: str) -> RetailerUser | None:
        row = self.conn.execute(select(t.retailer_users).where(_u.user_id == user_id)).first()
        return user_from_row(row) if row else None

    def list(self, retailer_id: str) -> list[RetailerUser]:
        rows = self.conn.execute(select(t.retailer_users).where(_u.retailer_id == retailer_id)
                                 .order_by(_u.created_at, _u.email))
        return [user_from_row(r) for r in rows]

    def lock_retailer(self, retailer_id: str) -> None:
        if self.conn.dialect.name == "postgresql":
            # The retailer's row, not its users' rows: a lock on rows that exist cannot stop a
            # second remover who reads the same rows; one lock per retailer makes them take turns.
            # NO KEY UPDATE, so inserts that check a foreign key to the retailer do not wait.
            self.conn.execute(select(t.retailers.c.retailer_id).where(t.retailers.c.retailer_id == retailer_id)
                              .with_for_update(key_share=True))

    def count_role(self, retailer_id: str, role: ConsoleRole) -> int:
        return self.conn.execute(select(func.count()).select_from(t.retailer_users)
                                 .where(_u.retailer_id == retailer_id, _u.role == role.value)).scalar_one()

    def delete(self, user_id: str) -> bool:
        # Its sessions first: they end with it, in the same transaction (and their foreign key needs it).
        self.conn.execute(delete(console_sessions).where(console_sessions.c.user_id == user_id))
        return self.conn.execute(delete(t.retailer_users).where(_u.user_id == user_id)).rowcount == 1

    def set_password(self, user_id: str, password_hash: str) -> None:
        self.conn.execute(update(t.retailer_users).where(_u.user_id == user_id).values(password_hash=password_hash))
