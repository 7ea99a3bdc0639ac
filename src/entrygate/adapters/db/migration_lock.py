"""One migration at a time on a database, however many processes start together.

Without it, two processes on a fresh database both find no ``alembic_version`` row, both create
the schema, and the second fails (a unique violation on PostgreSQL, "table already exists" on
SQLite). With it, the second waits, then finds the schema at head and does nothing.
"""
from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import structlog
from sqlalchemy import create_engine, make_url, pool, text

log = structlog.get_logger("entrygate.migrations")

# The advisory lock's key: fixed, so every entrygate process of every version takes the same one.
# (The bytes of "entrygat" as a signed 64-bit integer.)
ADVISORY_KEY = int.from_bytes(b"entrygat", "big", signed=True)
LOCK_SUFFIX = ".migrate-lock"


@contextmanager
def migration_lock(url: str) -> Iterator[None]:
    """Hold the database's migration lock for the duration of the block, waiting for it if another has it."""
    if url.startswith("sqlite"):
        path = sqlite_lock_path(url)
        if path is None:
            yield  # an in-memory database belongs to one process
            return
        with _file_lock(path):
            yield
        return
    with _advisory_lock(url):
        yield


def sqlite_lock_path(url: str) -> Path | None:
    """The lock file beside a SQLite database file, or None for an in-memory database."""
    database = make_url(url).database
    if not database or database == ":memory:" or "mode=memory" in url:
        return None
    db = Path(database)
    return db.with_name(db.name + LOCK_SUFFIX)


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    # A file of its own rather than the database: SQLite takes POSIX record locks on the database
    # file, and on some file systems flock is emulated with those, so the two would collide. The
    # file stays after use: removing it would let a process lock a name another has just unlinked.
    with open(path, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("migration_lock_wait", lock=str(path))
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _advisory_lock(url: str) -> Iterator[None]:
    # A session-level advisory lock on a connection of its own, outside any transaction: alembic
    # commits on its connection while this one keeps the lock, and if the process dies the server
    # ends the session and frees the lock.
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            if not conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}).scalar():
                log.info("migration_lock_wait", key=ADVISORY_KEY)
                conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_KEY})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
    finally:
        engine.dispose()
