"""Which SQLAlchemy exceptions mean the database is unavailable, and a connection's safe ending.

A dead, restarted, locked or unreachable database shows itself through SQLAlchemy in a few ways:
the driver's own error (``DBAPIError``: OperationalError, InterfaceError, ...), a pool that could
not hand out a connection in time, and the states a ``Connection`` is left in when its DBAPI
connection died mid-transaction (``PendingRollbackError``, ``ResourceClosedError``). Each of
them is a storage fault: the caller gets ``StorageError`` and the API a 503, never a 500.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import structlog
from sqlalchemy import Connection, Engine
from sqlalchemy import exc as sa_exc
from sqlalchemy.exc import SQLAlchemyError

from entrygate.services.ports.storage import StorageError

log = structlog.get_logger("entrygate.storage")

STORAGE_FAULTS: tuple[type[Exception], ...] = (
    sa_exc.DBAPIError, sa_exc.DisconnectionError, sa_exc.TimeoutError, sa_exc.PendingRollbackError,
    sa_exc.ResourceClosedError)


def is_storage_fault(exc: BaseException | None) -> bool:
    return isinstance(exc, STORAGE_FAULTS)


def describe(exc: BaseException) -> str:
    """The fault's kind, never its text: statements and parameters stay out of answers and logs."""
    orig = getattr(exc, "orig", None)
    return type(orig).__name__ if orig is not None else type(exc).__name__


def end_quietly(conn: Connection, *, reset: dict[str, object] | None = None) -> BaseException | None:
    """Roll back whatever is open and hand the connection back to the pool, whatever its state.

    On a connection whose server went away the rollback itself fails; the server has dropped
    the transaction with the connection, so nothing is left to undo, and the connection is
    invalidated so the pool never hands it out again. Returns the fault, if there was one.
    ``reset`` is written into ``conn.info`` first (a live connection only: an invalidated one
    gets a fresh DBAPI connection, with empty info, on its next checkout).
    """
    fault: BaseException | None = None
    try:
        if reset and not conn.invalidated and not conn.closed:
            conn.info.update(reset)
        if conn.in_transaction():
            conn.rollback()
    except sa_exc.SQLAlchemyError as exc:
        fault = exc
        try:
            conn.invalidate(exc)
        except sa_exc.SQLAlchemyError:
            pass
    try:
        conn.close()
    except sa_exc.SQLAlchemyError as exc:
        fault = fault or exc
    if fault is not None:
        log.warning("connection_dropped", error=describe(fault))
    return fault


class EngineStore:
    """A store with transactions of its own on an engine (outside the unit of work): one per block.

    ``_tx`` is one transaction; a writer's commits when the block ends cleanly, and on SQLite takes
    the lock up front (``engine.make_engine``). A storage fault is ``StorageError`` naming ``what``;
    one met only while a read ends (the rollback on a dead connection) leaves what was read standing.
    """

    what = "storage"

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @contextmanager
    def _tx(self, *, write: bool) -> Iterator[Connection]:
        try:
            conn = self._engine.connect()
        except SQLAlchemyError as exc:
            raise StorageError(f"{self.what}: {describe(exc)}") from exc
        try:
            conn.info["write"] = write
            conn.begin()
            yield conn
            if write:
                conn.commit()
        except SQLAlchemyError as exc:
            raise StorageError(f"{self.what}: {describe(exc)}") from exc
        finally:
            end_quietly(conn, reset={"write": False})
