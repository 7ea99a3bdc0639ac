"""Console sign-in storage: sessions and the sign-in backoff, in the shared database.

Both live in the database, not in a process, so a sign-out and a backoff hold across every
entrygate process behind a load balancer (DESIGN 8). The tables are registered on the shared
``metadata`` so ``metadata.create_all`` and Alembic's comparison see them; migration
``0002_console`` creates them.

Each method is its own short transaction; nothing here takes part in a gate decision.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    and_,
    delete,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from entrygate.adapters.db.faults import EngineStore
from entrygate.adapters.db.tables import UTCDateTime, metadata
from entrygate.services.ports.console import ConsoleSession, FailureRecord
from entrygate.services.ports.storage import StorageError

console_sessions = Table(
    "console_sessions", metadata,
    Column("session_hash", String(64), primary_key=True),
    Column("user_id", String(64), ForeignKey("retailer_users.user_id"), nullable=False),
    Column("retailer_id", String(64), nullable=False),
    Column("email", String(320), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_console_sessions_expires_at", "expires_at"),
)

console_sign_in_failures = Table(
    "console_sign_in_failures", metadata,
    Column("throttle_key", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failed_at", UTCDateTime, nullable=False),
    Column("locked_until", UTCDateTime),
    Index("ix_console_sign_in_failures_last_failed_at", "last_failed_at"),
)


class _Store(EngineStore):
    what = "console storage"


class SqlConsoleSessions(_Store):
    def create(self, session: ConsoleSession) -> None:
        with self._tx(write=True) as conn:
            conn.execute(insert(console_sessions).values(
                session_hash=session.session_hash, user_id=session.user_id, retailer_id=session.retailer_id,
                email=session.email, created_at=session.created_at, expires_at=session.expires_at))

    def get(self, session_hash: str) -> ConsoleSession | None:
        with self._tx(write=False) as conn:
            row = conn.execute(select(console_sessions)
                               .where(console_sessions.c.session_hash == session_hash)).first()
        if row is None:
            return None
        return ConsoleSession(row.session_hash, row.user_id, row.retailer_id, row.email, row.created_at,
                              row.expires_at)

    def delete(self, session_hash: str) -> None:
        with self._tx(write=True) as conn:
            conn.execute(delete(console_sessions).where(console_sessions.c.session_hash == session_hash))

    def delete_for_user(self, user_id: str, *, keep: str | None = None) -> int:
        stmt = delete(console_sessions).where(console_sessions.c.user_id == user_id)
        if keep is not None:
            stmt = stmt.where(console_sessions.c.session_hash != keep)
        with self._tx(write=True) as conn:
            return conn.execute(stmt).rowcount

    def purge_expired(self, *, now: datetime) -> int:
        with self._tx(write=True) as conn:
            return conn.execute(delete(console_sessions).where(console_sessions.c.expires_at <= now)).rowcount


class SqlSignInFailures(_Store):
    def get(self, key: str) -> FailureRecord | None:
        with self._tx(write=False) as conn:
            row = conn.execute(select(console_sign_in_failures)
                               .where(console_sign_in_failures.c.throttle_key == key)).first()
        return FailureRecord(row.failures, row.last_failed_at, row.locked_until) if row else None

    def record_failure(self, key: str, *, now: datetime, forget_after: timedelta,
                       lockout: Callable[[int], float]) -> FailureRecord:
        """Count one more failure (atomically, whichever process sees it) and set the lock it earns."""
        c = console_sign_in_failures.c
        for _ in range(3):
            with self._tx(write=True) as conn:
                row = conn.execute(select(console_sign_in_failures).where(c.throttle_key == key)
                                   .with_for_update()).first()
                if row is None:
                    failures = 1
                    locked = _lock(lockout, failures, now)
                    try:
                        with conn.begin_nested():
                            conn.execute(insert(console_sign_in_failures).values(
                                throttle_key=key, failures=failures, last_failed_at=now, locked_until=locked))
                    except IntegrityError:
                        continue  # another process counted this key's first failure; count on top of it
                    return FailureRecord(failures, now, locked)
                failures = 1 if row.last_failed_at < now - forget_after else row.failures + 1
                locked = _lock(lockout, failures, now)
                conn.execute(update(console_sign_in_failures).where(c.throttle_key == key)
                             .values(failures=failures, last_failed_at=now, locked_until=locked))
                return FailureRecord(failures, now, locked)
        raise StorageError("console storage: could not record a sign-in failure")

    def clear(self, key: str) -> None:
        with self._tx(write=True) as conn:
            conn.execute(delete(console_sign_in_failures).where(console_sign_in_failures.c.throttle_key == key))

    def purge_stale(self, *, before: datetime) -> int:
        c = console_sign_in_failures.c
        with self._tx(write=True) as conn:
            return conn.execute(delete(console_sign_in_failures).where(
                and_(c.last_failed_at < before, or_(c.locked_until.is_(None), c.locked_until < before)))).rowcount


def _lock(lockout: Callable[[int], float], failures: int, now: datetime) -> datetime | None:
    seconds = lockout(failures)
    return now + timedelta(seconds=seconds) if seconds > 0 else None
