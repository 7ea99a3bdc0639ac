"""Database outages on purpose: a connection that dies at a chosen moment, or every connection of
one test database at once (never the shared PostgreSQL cluster itself)."""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import psycopg
from sqlalchemy import Connection, Engine, event

from support.databases import postgres_admin_url


def kill_connections(database_url: str) -> int:
    """Terminate every backend of this test database (others use the cluster: only ours)."""
    dbname = database_url.rsplit("/", 1)[1]
    with psycopg.connect(postgres_admin_url(), autocommit=True) as conn:
        rows = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = %s AND pid <> pg_backend_pid()", (dbname,)).fetchall()
    return len(rows)


def sever(dbapi_connection: Any) -> None:
    """Kill one DBAPI connection the way an outage does: SQLite's is closed under SQLAlchemy's
    feet; PostgreSQL's backend is terminated by the server (and gone when this returns)."""
    if isinstance(dbapi_connection, psycopg.Connection):
        pid = dbapi_connection.info.backend_pid
        with psycopg.connect(postgres_admin_url(), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
    else:
        dbapi_connection.close()


def sever_conn(conn: Connection) -> None:
    sever(conn.connection.dbapi_connection)


class Sabotage:
    """Kills the connection at the next engine event of a kind (``commit``, ``rollback``,
    ``before_cursor_execute``) that a thread the predicate accepts raises, once; ``fired`` is set
    when it has."""

    def __init__(self, engine: Engine, kind: str, *, thread: Callable[[], bool] = lambda: True) -> None:
        self._engine, self._kind, self._thread = engine, kind, thread
        self._armed = False
        self._lock = threading.Lock()
        self.fired = threading.Event()
        event.listen(engine, kind, self._on)

    def arm(self) -> None:
        self.fired.clear()
        with self._lock:
            self._armed = True

    def _on(self, conn: Connection, *_: Any) -> None:
        with self._lock:
            if not self._armed or not self._thread():
                return
            self._armed = False
        sever_conn(conn)
        self.fired.set()

    def remove(self) -> None:
        event.remove(self._engine, self._kind, self._on)
