"""Group commit for SQLite: many gates' decisions, one transaction, one fsync.

SQLite with ``synchronous=FULL`` syncs the write-ahead log on every commit; on ordinary disks
that is milliseconds, and SQLite has one writer at a time, so one commit per decision caps a
store at a few hundred decisions a second and queues the rest. Here one writer thread takes
whatever decisions are waiting, writes each in a savepoint of one transaction (a duplicate event
id fails alone), commits once, and only then answers every waiting request. Durability is
unchanged — nothing is acknowledged before its fsync — and the fsync is shared.

Two taps of one visitor under HARD anti-passback may land in the same batch: the second one's
trip meets the first one's in the same transaction, and it is stored as its passback denial
(``DecisionWrite.apply``). Each waiting request is answered with the decision stored for it.
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future

import structlog
from sqlalchemy.exc import SQLAlchemyError

from entrygate.adapters.db.uow import SqlUnitOfWork
from entrygate.domain.records import DecisionRecord
from entrygate.services.ports.decisions import DecisionWrite
from entrygate.services.ports.storage import StorageError, UnitOfWork

log = structlog.get_logger("entrygate.storage")

MAX_BATCH = 128
_STOP = object()


class GroupCommitLog:
    def __init__(self, uow_factory, *, max_batch: int = MAX_BATCH,  # noqa: ANN001
                 on_written: Callable[[UnitOfWork, DecisionWrite, DecisionRecord], None] | None = None) -> None:
        """``on_written`` runs in each decision's savepoint after its writes: the events it reports go in the outbox."""
        self._uow = uow_factory
        self._on_written = on_written
        self._max = max_batch
        self._queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="decision-writer", daemon=True)
        self._thread.start()

    def write(self, item: DecisionWrite) -> DecisionRecord:
        done: Future = Future()
        self._queue.put((item, done))
        return done.result()  # the decision stored; re-raises DuplicateEvent / StorageError

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            stop = False
            while len(batch) < self._max:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    stop = True
                    break
                batch.append(nxt)
            self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[tuple[DecisionWrite, Future]]) -> None:
        outcomes: list[DecisionRecord | StorageError] = []
        try:
            with self._uow(write=True) as uow:
                assert isinstance(uow, SqlUnitOfWork)
                for item, _ in batch:
                    try:
                        with uow.conn.begin_nested():
                            stored = item.apply(uow)
                            if self._on_written is not None:
                                self._on_written(uow, item, stored)
                            outcomes.append(stored)
                    except StorageError as exc:  # a duplicate event id (or another refused row): this item alone
                        outcomes.append(exc)
                uow.commit()
        except (StorageError, SQLAlchemyError) as exc:
            log.error("decision_batch_not_recorded", size=len(batch), error=str(exc))
            failure = exc if isinstance(exc, StorageError) else StorageError(type(exc).__name__)
            for _, done in batch:
                done.set_exception(failure)
            return
        except Exception as exc:  # noqa: BLE001 - never leave a gate waiting, and keep writing
            # A bug in one batch must not end the writer thread: every later decision would wait
            # for ever. The batch's gates get 503 (nothing of it was committed) and the next batch
            # starts afresh.
            log.exception("decision_writer_failed", size=len(batch), error=type(exc).__name__)
            for _, done in batch:
                if not done.done():
                    done.set_exception(StorageError(f"decision writer failed: {type(exc).__name__}"))
            return
        for (_, done), outcome in zip(batch, outcomes):
            if isinstance(outcome, StorageError):
                done.set_exception(outcome)
            else:
                done.set_result(outcome)
