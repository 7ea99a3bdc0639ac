"""The SQLAlchemy unit of work: one connection, one transaction, explicit commit."""
from __future__ import annotations

import threading

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from entrygate.adapters.db.audit import SqlAudit
from entrygate.adapters.db.faults import describe, end_quietly, is_storage_fault
from entrygate.adapters.db.history import SqlHistory
from entrygate.adapters.db.outbox import SqlEventOutbox
from entrygate.adapters.db.repositories import (
    SqlDecisions,
    SqlExits,
    SqlGates,
    SqlInstruments,
    SqlKeys,
    SqlLabels,
    SqlRetailers,
    SqlStores,
    SqlTrips,
)
from entrygate.adapters.db.risk_ops import SqlLists, SqlReviews, SqlRules
from entrygate.adapters.db.users import SqlUsers
from entrygate.services.ports.storage import StorageError


class SqlUnitOfWork:
    """One connection and one transaction; every storage fault, however late, leaves as ``StorageError``.

    A fault can surface on entering (no connection), in the body, at commit, or only on leaving,
    when the rollback or the connection's return meets a server that went away. In every case
    the connection goes back to the pool (invalidated if it is dead) and the SQLite write lock is
    released, so the next unit of work starts clean once the database is back.
    """

    def __init__(self, engine: Engine, *, write: bool = False, write_lock: threading.Lock | None = None) -> None:
        self._engine = engine
        self._write = write
        self._write_lock = write_lock if write else None

    def __enter__(self) -> SqlUnitOfWork:
        if self._write_lock is not None:
            self._write_lock.acquire()
        conn: Connection | None = None
        try:
            conn = self._engine.connect()
            conn.info["write"] = self._write
            self._tx = conn.begin()
        except BaseException as exc:
            if conn is not None:
                end_quietly(conn, reset={"write": False})
            self._release()
            if isinstance(exc, SQLAlchemyError):
                raise StorageError(f"database unavailable: {describe(exc)}") from exc
            raise
        self.conn = conn
        self.keys = SqlKeys(conn)
        self.retailers = SqlRetailers(conn)
        self.stores = SqlStores(conn)
        self.gates = SqlGates(conn)
        self.instruments = SqlInstruments(conn)
        self.trips = SqlTrips(conn)
        self.decisions = SqlDecisions(conn)
        self.exits = SqlExits(conn)
        self.labels = SqlLabels(conn)
        self.history = SqlHistory(conn)
        self.audit = SqlAudit(conn)
        self.users = SqlUsers(conn)
        self.risk_lists = SqlLists(conn)
        self.rules = SqlRules(conn)
        self.reviews = SqlReviews(conn)
        self.events = SqlEventOutbox(conn)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:  # noqa: ANN001
        # A body that finished cleanly has read, or committed, all it meant to; a fault while
        # ending it can only undo what was left uncommitted, which is what ending means anyway.
        try:
            end_quietly(self.conn, reset={"write": False})
        finally:
            self._release()
        if is_storage_fault(exc):
            raise StorageError(f"database error: {describe(exc)}") from exc

    def _release(self) -> None:
        if self._write_lock is not None:
            self._write_lock.release()
            self._write_lock = None

    def commit(self) -> None:
        try:
            self._tx.commit()
        except SQLAlchemyError as exc:
            raise StorageError(f"commit failed: {describe(exc)}") from exc


class SqlUnitOfWorkFactory:
    """Units of work on one engine.

    SQLite admits one writer at a time; a second one waits in SQLite's busy handler, which
    sleeps in steps of up to 100 ms — seconds of tail latency at a busy gate. So this process's
    writers queue on a lock instead and enter SQLite one after the other, each write being a few
    hundred microseconds. PostgreSQL needs no such lock.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._write_lock = threading.Lock() if engine.dialect.name == "sqlite" else None

    def __call__(self, *, write: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, write=write, write_lock=self._write_lock)
