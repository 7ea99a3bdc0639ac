"""The SQLAlchemy unit of work: one connection, one transaction, explicit commit."""
from __future__ import annotations

import threading

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from entrygate.adapters.db.repositories import (SqlDecisions, SqlExits, SqlGates, SqlInstruments, SqlKeys,
                                                SqlLabels, SqlRetailers, SqlStores, SqlTrips)
from entrygate.adapters.db.history import SqlHistory
from entrygate.services.ports import StorageError


class SqlUnitOfWork:
    def __init__(self, engine: Engine, *, write: bool = False, write_lock: threading.Lock | None = None) -> None:
        self._engine = engine
        self._write = write
        self._write_lock = write_lock if write else None

    def __enter__(self) -> SqlUnitOfWork:
        if self._write_lock is not None:
            self._write_lock.acquire()
        try:
            self.conn = self._engine.connect()
            self.conn.info["write"] = self._write
            self._tx = self.conn.begin()
        except SQLAlchemyError as exc:
            self._release()
            raise StorageError(f"database unavailable: {type(exc).__name__}") from exc
        self.keys = SqlKeys(self.conn)
        self.retailers = SqlRetailers(self.conn)
        self.stores = SqlStores(self.conn)
        self.gates = SqlGates(self.conn)
        self.instruments = SqlInstruments(self.conn)
        self.trips = SqlTrips(self.conn)
        self.decisions = SqlDecisions(self.conn)
        self.exits = SqlExits(self.conn)
        self.labels = SqlLabels(self.conn)
        self.history = SqlHistory(self.conn)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:  # noqa: ANN001
        try:
            if self._tx.is_active:
                self._tx.rollback()
        finally:
            self.conn.info["write"] = False
            self.conn.close()
            self._release()
        if isinstance(exc, DBAPIError):
            raise StorageError(f"database error: {type(exc.orig).__name__}") from exc

    def _release(self) -> None:
        if self._write_lock is not None:
            self._write_lock.release()
            self._write_lock = None

    def commit(self) -> None:
        try:
            self._tx.commit()
        except SQLAlchemyError as exc:
            raise StorageError(f"commit failed: {type(exc).__name__}") from exc


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
