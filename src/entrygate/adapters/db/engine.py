"""Engines and migrations for the two supported databases."""
from __future__ import annotations

import warnings
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as sa_exc

warnings.filterwarnings("ignore", message=".*does \\*not\\* support Decimal objects natively.*",
                        category=sa_exc.SAWarning)

_ALEMBIC_INI = Path(__file__).with_name("alembic.ini")


def make_engine(url: str, *, pool_size: int = 16) -> Engine:
    """An engine tuned for the gate's short transactions.

    SQLite runs in WAL mode so readers never wait for the writer, with ``synchronous=FULL``: a
    decision is on disk before the gate hears it, even across a power cut, which matters more
    than the fsync it costs. ``busy_timeout`` makes concurrent writers queue instead of failing.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_size=pool_size, max_overflow=pool_size)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        # pysqlite's own transaction handling defers BEGIN; take the write lock up front instead so
        # two writers never deadlock upgrading a read lock.
        @event.listens_for(engine, "connect")
        def _autocommit_off(dbapi_conn, _record) -> None:  # noqa: ANN001
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn) -> None:  # noqa: ANN001
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")

        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def alembic_config(url: str) -> Config:
    cfg = Config(str(_ALEMBIC_INI))
    cfg.set_main_option("script_location", str(_ALEMBIC_INI.parent / "migrations"))
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Apply pending migrations (idempotent)."""
    command.upgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
