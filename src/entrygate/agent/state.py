"""The agent's state directory: its last verified bundle, the signing keys it trusts, and every
decision it made offline, in one SQLite file.

A decision is committed here, with ``synchronous=FULL`` (the commit is fsync'd before it returns),
before the reader hears it: an agent killed a moment after answering still has the decision and
uploads it after its restart. The event id is the primary key, so a reader that retries an event
hears the first answer again and the entry is counted once.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS bundle (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    body TEXT NOT NULL,          -- the bundle as the platform sent it (payload and signature)
    fetched_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS signing_keys (
    key_id TEXT PRIMARY KEY,
    public_key TEXT NOT NULL     -- base64url of the raw 32-byte Ed25519 key
);
CREATE TABLE IF NOT EXISTS offline_decisions (
    event_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,          -- ENTRY or EXIT
    request TEXT NOT NULL,       -- what the reader sent (its credential as sent: the agent is on the store's network)
    answer TEXT NOT NULL,        -- what the reader heard
    instrument_id TEXT,          -- the visitor an OPEN let in, for the per-instrument limit
    bundle_id TEXT,
    exposure_minor INTEGER NOT NULL DEFAULT 0,
    decided_at TEXT NOT NULL,
    uploaded_at TEXT
);
CREATE INDEX IF NOT EXISTS ix_offline_pending ON offline_decisions (decided_at) WHERE uploaded_at IS NULL;
"""


@dataclass(frozen=True, slots=True)
class PendingDecision:
    event_id: str
    kind: str
    request: dict[str, Any]
    answer: dict[str, Any]


class AgentState:
    """One agent's state file; safe to use from the agent's threads (one connection, one lock)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / "agent.sqlite3"
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")  # WAL + FULL: every commit is fsync'd
            self._conn.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- the bundle and its keys ----------------------------------------------------------------

    def bundle(self) -> dict[str, Any] | None:
        with self._lock:
            row = self._conn.execute("SELECT body FROM bundle WHERE one = 1").fetchone()
        return None if row is None else json.loads(row[0])

    def keep_bundle(self, body: dict[str, Any], *, at: datetime) -> None:
        with self._lock:
            self._conn.execute("INSERT INTO bundle (one, body, fetched_at) VALUES (1, ?, ?) "
                               "ON CONFLICT (one) DO UPDATE SET body = excluded.body, fetched_at = excluded.fetched_at",
                               (json.dumps(body), at.isoformat()))

    def signing_keys(self) -> dict[str, str]:
        with self._lock:
            return dict(self._conn.execute("SELECT key_id, public_key FROM signing_keys").fetchall())

    def keep_signing_keys(self, keys: dict[str, str]) -> None:
        """Add keys the platform published; a key once trusted stays (old bundles verify until they expire)."""
        with self._lock:
            self._conn.executemany("INSERT INTO signing_keys (key_id, public_key) VALUES (?, ?) "
                                   "ON CONFLICT (key_id) DO NOTHING", list(keys.items()))

    # -- offline decisions ----------------------------------------------------------------------

    def decided(self, event_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The request and answer of an event decided offline before, or None."""
        with self._lock:
            row = self._conn.execute("SELECT request, answer FROM offline_decisions WHERE event_id = ?",
                                     (event_id,)).fetchone()
        return None if row is None else (json.loads(row[0]), json.loads(row[1]))

    def record(self, *, event_id: str, kind: str, request: dict[str, Any], answer: dict[str, Any],
               instrument_id: str | None, bundle_id: str | None, exposure_minor: int, at: datetime,
               check: Any = None) -> dict[str, Any]:
        """Store a decision (durably) and return the answer to give: this one, or the one stored first.

        ``check(conn)`` runs inside the write transaction before the insert and may return a
        replacement answer (a limit reached meanwhile); the counts it reads cannot change until commit.
        """
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute("SELECT answer FROM offline_decisions WHERE event_id = ?", (event_id,)).fetchone()
                if row is not None:
                    conn.execute("ROLLBACK")
                    return json.loads(row[0])
                if check is not None:
                    replaced = check(self)
                    if replaced is not None:
                        answer, instrument_id, exposure_minor = replaced, None, 0
                conn.execute("INSERT INTO offline_decisions (event_id, kind, request, answer, instrument_id, bundle_id,"
                             " exposure_minor, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             (event_id, kind, json.dumps(request), json.dumps(answer), instrument_id, bundle_id,
                              exposure_minor, at.isoformat()))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return answer

    def entries_of(self, instrument_id: str, bundle_id: str) -> int:
        """Offline entries this instrument made under this bundle (caller holds the write transaction)."""
        return self._conn.execute("SELECT count(*) FROM offline_decisions WHERE instrument_id = ? AND bundle_id = ?",
                                  (instrument_id, bundle_id)).fetchone()[0]

    def exposure_of(self, bundle_id: str) -> int:
        """Minor units let in offline under this bundle (caller holds the write transaction)."""
        return self._conn.execute("SELECT coalesce(sum(exposure_minor), 0) FROM offline_decisions WHERE bundle_id = ?",
                                  (bundle_id,)).fetchone()[0]

    def pending(self, limit: int) -> list[PendingDecision]:
        with self._lock:
            rows = self._conn.execute("SELECT event_id, kind, request, answer FROM offline_decisions "
                                      "WHERE uploaded_at IS NULL ORDER BY decided_at, event_id LIMIT ?",
                                      (limit,)).fetchall()
        return [PendingDecision(r[0], r[1], json.loads(r[2]), json.loads(r[3])) for r in rows]

    def pending_count(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT count(*) FROM offline_decisions WHERE uploaded_at IS NULL").fetchone()[0]

    def mark_uploaded(self, event_ids: list[str], *, at: datetime) -> None:
        with self._lock:
            self._conn.executemany("UPDATE offline_decisions SET uploaded_at = ? WHERE event_id = ?",
                                   [(at.isoformat(), e) for e in event_ids])
