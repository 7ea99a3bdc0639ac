"""Console sign-in storage in memory: sessions and the sign-in backoff's counters.

The same rules as ``adapters/db/console_store.py``: a session id is stored once, a counter starts
again after ``forget_after`` and is forgotten only when its lock, too, has ended.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from entrygate.services.ports.console import ConsoleSession, FailureRecord
from entrygate.services.ports.storage import StorageError


class MemorySessions:
    """A ``SessionStore``; ``fail`` makes every call fail, as an unreachable database would."""

    def __init__(self) -> None:
        self.rows: dict[str, ConsoleSession] = {}
        self.fail = False
        self._lock = threading.Lock()

    def _check(self) -> None:
        if self.fail:
            raise StorageError("console storage: simulated failure")

    def create(self, session: ConsoleSession) -> None:
        self._check()
        with self._lock:
            if session.session_hash in self.rows:
                raise StorageError("console storage: the session exists already")
            self.rows[session.session_hash] = session

    def get(self, session_hash: str) -> ConsoleSession | None:
        self._check()
        return self.rows.get(session_hash)

    def delete(self, session_hash: str) -> None:
        self._check()
        with self._lock:
            self.rows.pop(session_hash, None)

    def delete_for_user(self, user_id: str, *, keep: str | None = None) -> int:
        self._check()
        with self._lock:
            gone = [k for k, s in self.rows.items() if s.user_id == user_id and k != keep]
            for k in gone:
                del self.rows[k]
        return len(gone)

    def purge_expired(self, *, now: datetime) -> int:
        self._check()
        with self._lock:
            gone = [k for k, s in self.rows.items() if s.expires_at <= now]
            for k in gone:
                del self.rows[k]
        return len(gone)


class MemorySignInFailures:
    """A ``SignInFailureStore``; ``fail`` makes every call fail, as an unreachable database would."""

    def __init__(self) -> None:
        self.rows: dict[str, FailureRecord] = {}
        self.fail = False
        self._lock = threading.Lock()

    def _check(self) -> None:
        if self.fail:
            raise StorageError("console storage: simulated failure")

    def get(self, key: str) -> FailureRecord | None:
        self._check()
        return self.rows.get(key)

    def record_failure(self, key: str, *, now: datetime, forget_after: timedelta,
                       lockout: Callable[[int], float]) -> FailureRecord:
        self._check()
        with self._lock:
            old = self.rows.get(key)
            failures = 1 if old is None or old.last_failed_at < now - forget_after else old.failures + 1
            seconds = lockout(failures)
            record = FailureRecord(failures, now, now + timedelta(seconds=seconds) if seconds > 0 else None)
            self.rows[key] = record
        return record

    def clear(self, key: str) -> None:
        self._check()
        with self._lock:
            self.rows.pop(key, None)

    def purge_stale(self, *, before: datetime) -> int:
        self._check()
        with self._lock:
            stale = [k for k, r in self.rows.items()
                     if r.last_failed_at < before and (r.locked_until is None or r.locked_until < before)]
            for k in stale:
                del self.rows[k]
        return len(stale)
