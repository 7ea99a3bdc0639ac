"""One process's palm index, loaded from the store and kept in step with its change log (DESIGN 8).

- At start a background thread reads the change log's position W, decrypts every template and
  builds the index. Until then the process is not ready for palms: ``/readyz`` answers 503 and a
  palm at the gate gets 503 (no decision), never a ``PALM_NO_MATCH`` it could not know.
- With a snapshot (the index as built last time, on disk and encrypted), the start restores it
  and applies the change log from the snapshot's position instead, then checks the result
  against the database: the number of palms enrolled, and a sample of templates decrypted from
  the database compared with the index's rows. Anything that does not hold (a file that does not
  verify, is for another database, is ahead of the change log, or disagrees with it) is logged
  and the index is built from the database as before; a snapshot is never trusted unchecked.
  After each full build, and after a rebuild once a minute at most, the snapshot is rewritten
  in the background.
- It then polls ``palm_changes`` for rows after its watermark, re-reading a window below it, a
  margin against positions committed out of order (every palm write holds the store's lock, so
  they no longer are). A palm id is never reused, so applying a change twice, or late, is
  harmless: an enrollment whose row is gone is not added.
- An enrollment or deletion made through this process applies to its index at once; other
  processes follow within the poll interval.
"""
from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import numpy as np
import structlog

from entrygate.services.ports.palm import (
    IndexSnapshotPort,
    PalmChange,
    PalmIndexPort,
    PalmIndexState,
    PalmRepository,
    SealedTemplate,
    SnapshotRefused,
    TemplateCipherPort,
)

log = structlog.get_logger("entrygate.palm")

SYNC_WINDOW = 256  # change-log positions re-read below the watermark (late PostgreSQL commits)
SYNC_PAGE = 5_000
LOAD_PAGE = 5_000
SNAPSHOT_SAMPLE = 32  # templates decrypted from the database to check a restored index against
SNAPSHOT_MIN_INTERVAL_S = 60.0  # a rebuild rewrites the snapshot at most this often


class PalmIndexSync:
    """The index, its watermark in the change log, and the thread that loads and follows it."""

    def __init__(self, *, store: PalmRepository, index: PalmIndexPort, cipher: Callable[[], TemplateCipherPort],
                 dimension: int, sync_interval_s: float = 1.0, window: int = SYNC_WINDOW,
                 snapshot: IndexSnapshotPort | None = None) -> None:
        self._store = store
        self._snapshot = snapshot
        self._saving = threading.Lock()  # one snapshot write at a time
        self._saved_generation: int | None = None
        self._saved_at = float("-inf")
        self.loaded_from: str | None = None  # "snapshot" or "database": how the last load filled the index
        self.snapshot_refusal: str | None = None  # why the last start could not use its snapshot
        self.index = index
        self._cipher_factory = cipher  # built on first use: a CLI command with no secret never needs it
        self._cipher: TemplateCipherPort | None = None
        self.dimension = dimension
        self._interval = max(sync_interval_s, 0.05)
        self._window = window
        self._watermark = 0  # the change-log position applied so far (the index's is informational)
        self._apply = threading.Lock()  # index writes vs. the sync's read-then-apply
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_sync: float | None = None
        self._unreadable = 0

    @property
    def cipher(self) -> TemplateCipherPort:
        if self._cipher is None:
            self._cipher = self._cipher_factory()
        return self._cipher

    @property
    def watermark(self) -> int:
        """The change-log position applied so far: the index holds every palm added at or below it."""
        return self._watermark

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def wait_ready(self, timeout: float | None = None) -> bool:
        return self._ready.wait(timeout)

    def added_here(self, palm_id: str, vec: np.ndarray) -> None:
        """An enrollment made through this process: searchable here at once."""
        with self._apply:
            self.index.add(palm_id, vec)

    def removed_here(self, palm_id: str) -> None:
        """A deletion made through this process: gone from this index at once."""
        with self._apply:
            self.index.remove(palm_id)

    def status(self) -> dict[str, object]:
        """For ``/readyz`` and logs: whether palms can be identified here, and how current the index is."""
        age = None if self._last_sync is None else round(time.monotonic() - self._last_sync, 3)
        return {"state": "ready" if self.ready else "loading", "palms": len(self.index),
                "layout": self.index.kind, "syncedSeq": self._watermark, "lastSyncAgeS": age,
                "unreadableTemplates": self._unreadable}

    def start(self) -> None:
        """Load the index in the background, then poll the change log until ``stop``."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="palm-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def load(self) -> int:
        """(Re)build the index from every enrolled template; gates are answered meanwhile.

        Reads the change log's position first, so a change committed during the load is applied
        by the next poll (twice at worst, which is harmless).
        """
        started = time.monotonic()
        first = not self._ready.is_set()
        restored = first and self._snapshot is not None and self._restore()
        if not restored:
            self._unreadable = 0
            mark = self._store.last_seq()
            self.index.build(self._all_templates(), watermark=mark)
            with self._apply:
                self._watermark = max(self._watermark, mark)
        self._ready.set()
        self._last_sync = time.monotonic()
        details: dict[str, object] = {"palms": len(self.index), "layout": self.index.kind,
                                      "seconds": round(time.monotonic() - started, 3), "synced_seq": self._watermark}
        if self._unreadable:
            details["unreadable_templates"] = self._unreadable
        self.loaded_from = "snapshot" if restored else "database"
        event = "palm_index_restored" if restored else "palm_index_loaded" if first else "palm_index_rebuilt"
        quietly(log.info, event, **details)
        if not restored:
            self.save_snapshot_later()
        return len(self.index)

    # -- the snapshot --------------------------------------------------------------------------

    def _restore(self) -> bool:
        """Install the stored index, bring it up to date from the change log and check it; False to build."""
        assert self._snapshot is not None
        try:
            state = self._snapshot.load()
            if state.dimension != self.dimension:
                raise SnapshotRefused(f"dimension {state.dimension}, expected {self.dimension}")
            if state.watermark > self._store.last_seq():
                raise SnapshotRefused("it is ahead of this database's change log")
            try:
                self.index.restore(state)
            except ValueError as exc:
                raise SnapshotRefused(str(exc)) from None
            with self._apply:
                self._watermark = state.watermark
            self._unreadable = state.skipped
            self.sync()
            self._check_against_store(state)
        except SnapshotRefused as exc:
            self.snapshot_refusal = str(exc)[:300]
            quietly(log.info if str(exc) == "no snapshot file" else log.warning, "palm_index_snapshot_refused",
                    reason=self.snapshot_refusal)
            return False
        self._saved_generation = self.index.generation
        return True

    def _check_against_store(self, state: PalmIndexState) -> None:
        """SnapshotRefused unless the restored index agrees with the database it now follows."""
        for _ in range(3):  # an enrollment committed between the catch-up and the count: catch up again
            enrolled = self._store.count()
            if enrolled == len(self.index) + self._unreadable:
                break
            self.sync()
        else:
            raise SnapshotRefused(f"it holds {len(self.index)} palms, the database {enrolled}")
        alive = [p for p, ok in zip(state.palm_ids, state.alive) if ok]
        sample = random.SystemRandom().sample(alive, min(SNAPSHOT_SAMPLE, len(alive)))
        stored = {s.palm_id: s for s in self._store.templates_of(sample)}
        for palm_id in sample:
            ours = self.index.vector_of(palm_id)
            if palm_id not in stored:
                if ours is not None and self._store.owner(palm_id) is None:
                    self.sync()  # deleted since the catch-up: the next changes remove it
                    ours = self.index.vector_of(palm_id)
                if ours is not None:
                    raise SnapshotRefused(f"it holds palm {palm_id}, which the database does not")
                continue
            theirs = self.decrypt(stored[palm_id])
            if theirs is None or ours is None:
                continue  # unreadable in the database: in no index either way
            unit = (theirs / np.linalg.norm(theirs.astype(np.float64))).astype(np.float32)
            if not np.allclose(unit, ours, atol=1e-6):
                raise SnapshotRefused(f"its template of palm {palm_id} differs from the database's")

    def save_snapshot_later(self) -> None:
        """Write the snapshot in the background (skipped when a write is already running)."""
        if self._snapshot is None or self._saving.locked():
            return
        threading.Thread(target=self.save_snapshot, kwargs={"wait": False}, name="palm-snapshot", daemon=True).start()

    def save_snapshot(self, *, wait: bool = True) -> bool:
        """Write the current index to the snapshot now (after a write already running, or skipped when
        ``wait`` is False); False when it was skipped or failed."""
        if self._snapshot is None or not self._saving.acquire(blocking=wait):
            return False
        try:
            started, generation = time.monotonic(), self.index.generation
            if not wait and self._saved_generation == generation:
                return False  # a write since this one was asked for already holds this layout
            state = replace(self.index.export_state(), skipped=self._unreadable)
            written = self._snapshot.save(state)
            self._saved_generation, self._saved_at = generation, time.monotonic()
            quietly(log.info, "palm_index_snapshot_saved", palms=len(state.palm_ids), bytes=written,
                    synced_seq=state.watermark, seconds=round(time.monotonic() - started, 3))
            return True
        except Exception as exc:  # noqa: BLE001 - a failed write leaves the previous file; the next build retries
            quietly(log.warning, "palm_index_snapshot_failed", error=f"{type(exc).__name__}: {exc}"[:300])
            return False
        finally:
            self._saving.release()

    def _snapshot_due(self) -> bool:
        """A rebuild swapped in a new layout since the last write, and the last write is a minute old."""
        return (self._snapshot is not None and self._saved_generation != self.index.generation
                and time.monotonic() - self._saved_at >= SNAPSHOT_MIN_INTERVAL_S)

    def sync(self) -> int:
        """Apply the changes after the watermark (and a window below it); how many palms changed here."""
        applied = 0
        while True:
            low = max(0, self._watermark - self._window)
            changes = self._store.changes_since(low, limit=SYNC_PAGE)
            if changes:
                applied += self._apply_changes(changes)
            self._last_sync = time.monotonic()
            if len(changes) < SYNC_PAGE:  # a full page: a backlog, read on from the new watermark
                return applied

    def _apply_changes(self, changes: list[PalmChange]) -> int:
        removed = {c.palm_id for c in changes if c.op == "remove"}
        added = {c.palm_id for c in changes if c.op == "add"} - removed
        top = changes[-1].seq
        with self._apply:  # a local deletion cannot slip between reading a row and adding it
            fresh = sorted(p for p in added if p not in self.index)
            count = 0
            for sealed in self._store.templates_of(fresh) if fresh else []:
                vec = self._open(sealed)
                if vec is not None:
                    self.index.add(sealed.palm_id, vec, watermark=top)
                    count += 1
            for palm_id in removed:
                if palm_id in self.index:
                    self.index.remove(palm_id, watermark=top)
                    count += 1
            self._watermark = max(self._watermark, top)
        return count

    def _run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                self.load()
                break
            except Exception as exc:  # noqa: BLE001 - keep trying: the database may still be starting
                quietly(log.error, "palm_index_load_failed", error=f"{type(exc).__name__}: {exc}"[:300])
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)
        while not self._stop.wait(self._interval):
            try:
                self.sync()
                if self._snapshot_due():
                    self.save_snapshot_later()
            except Exception as exc:  # noqa: BLE001 - a failed poll is retried at the next one
                quietly(log.warning, "palm_sync_failed", error=f"{type(exc).__name__}: {exc}"[:300])

    def _all_templates(self) -> Iterator[tuple[str, np.ndarray]]:
        after: str | None = None
        while True:
            page = self._store.templates(after=after, limit=LOAD_PAGE)
            for sealed in page:
                vec = self._open(sealed)
                if vec is not None:
                    yield sealed.palm_id, vec
            if len(page) < LOAD_PAGE:
                return
            after = page[-1].palm_id

    def _open(self, sealed: SealedTemplate) -> np.ndarray | None:
        """The decrypted template for the index, or None (counted) when it cannot be used: one bad
        row must not keep every other palm out of the index."""
        vec = self.decrypt(sealed)
        if vec is None:
            self._unreadable += 1
        return vec

    def decrypt(self, sealed: SealedTemplate) -> np.ndarray | None:
        """The decrypted template, or None (logged) when it has another dimension or does not decrypt.

        Such a template is in no index, so it opens no gate; the duplicate check skips it too.
        """
        if sealed.dimension != self.dimension:
            quietly(log.error, "palm_template_unreadable", palm_id=sealed.palm_id,
                    error=f"dimension {sealed.dimension}, expected {self.dimension}")
            return None
        try:
            return self.cipher.decrypt_vector(sealed.template, palm_id=sealed.palm_id)
        except Exception as exc:  # noqa: BLE001 - TemplateDecryptionError, whatever the adapter raises
            quietly(log.error, "palm_template_unreadable", palm_id=sealed.palm_id, error=type(exc).__name__)
            return None


def quietly(emit: Callable[..., object], event: str, **fields: object) -> None:
    """Log from the index's thread; a broken log sink (a closed pipe) must not stop the sync."""
    try:
        emit(event, **fields)
    except Exception:  # noqa: BLE001
        pass
