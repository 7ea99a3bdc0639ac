"""Engines and migrations for the two supported databases."""
from __future__ import annotations

import warnings
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy import exc as sa_exc

from entrygate.adapters.db.migration_lock import migration_lock

warnings.filterwarnings("ignore", message=".*does \\*not\\* support Decimal objects natively.*",
                        category=sa_exc.SAWarning)

_ALEMBIC_INI = Path(__file__).with_name("alembic.ini")


def make_engine(url: str, *, pool_size: int = 16, busy_timeout_s: float = 30.0) -> Engine:
    """An engine tuned for the gate's short transactions.

    SQLite runs in WAL mode so readers never wait for the writer, with ``synchronous=FULL``: a
    decision is on disk before the gate hears it, even across a power cut, which matters more
    than the fsync it costs. ``busy_timeout`` makes concurrent writers queue instead of failing;
    past it, a file still locked is a storage fault (503), like one that cannot be opened.

    PostgreSQL connections are pinged when checked out, so a connection the server dropped (a
    restart, a terminated backend) is replaced before a gate's transaction meets it, and a
    connection attempt gives up after ``connect_timeout`` (libpq's minimum, 2 s), so a gate is not
    held by a server that is down or unreachable. A ``connect_timeout`` in the URL wins.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": busy_timeout_s},
                               pool_size=pool_size, max_overflow=pool_size)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
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
    # DESIGN 15: a gate hears 503 within moments when PostgreSQL is gone; 2 s is libpq's least.
    connect_args = {} if "connect_timeout" in make_url(url).query else {"connect_timeout": 2}
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True,
                         connect_args=connect_args)


def alembic_config(url: str) -> Config:
    cfg = Config(str(_ALEMBIC_INI))
    cfg.set_main_option("script_location", str(_ALEMBIC_INI.parent / "migrations"))
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Apply pending migrations (idempotent), one process at a time: others starting at the same
    moment wait for the lock, then find nothing left to do."""
    with migration_lock(url):
        command.upgrade(alembic_config(url), revision)


def current_revision(url: str, *, connect_timeout_s: int = 5) -> str | None:
    """The database's schema revision; None for an empty database (or a SQLite file not yet created)."""
    from alembic.runtime.migration import MigrationContext

    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:" and "mode=memory" not in url and not Path(database).exists():
            return None  # connecting would create the file
        engine = create_engine(url)
    else:
        engine = create_engine(url, connect_args={"connect_timeout": connect_timeout_s})
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str:
    """The revision this version of entrygate expects: the newest migration it carries."""
    head = _scripts().get_current_head()
    assert head is not None, "no migrations are packaged"
    return head


def is_behind(current: str | None) -> bool:
    """True when ``current`` is older than this version's head (None, an empty database, is behind);
    a revision this version does not know, from a newer entrygate, is not."""
    scripts = _scripts()
    if current == scripts.get_current_head():
        return False
    return current is None or any(rev.revision == current for rev in scripts.walk_revisions())


def _scripts():  # noqa: ANN202 - alembic.script.ScriptDirectory, imported on use
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(""))
