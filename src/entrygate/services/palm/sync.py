"""One process's palm index, loaded from the store and kept in step with its change log (DESIGN 8).

- At start a background thread reads the change log's position W, decrypts every template and
  builds the index. Until then the process is not ready for palms: ``/readyz`` answers 503 and a
  palm at the gate gets 503 (no decision), never a ``PALM_NO_MATCH`` it could not know.
- It then polls ``palm_changes`` for rows after its watermark, re-reading a window below it, a
  margin against positions committed out of order (every palm write holds the store's lock, so
  they no longer are). A palm id is never reused, so applying a change twice, or late, is
  harmless: an enrollment whose row is gone is not added.
- An enrollment or deletion made through this process applies to its index at once; other
  processes follow within the poll interval.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import numpy as np
import structlog

from entrygate.services.ports.palm import PalmChange, PalmIndexPort, PalmRepository, SealedTemplate, TemplateCipherPort

log = structlog.get_logger("entrygate.palm")

SYNC_WINDOW = 256  # change-log positions re-read below the watermark (late PostgreSQL commits)
SYNC_PAGE = 5_000
LOAD_PAGE = 5_000


class PalmIndexSync:
    """The index, its watermark in the change log, and the thread that loads and follows it."""

    def __init__(self, *, store: PalmRepository, index: PalmIndexPort, cipher: Callable[[], TemplateCipherPort],
                 dimension: int, sync_interval_s: float = 1.0, window: int = SYNC_WINDOW) -> None:
        self._store = store
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
        self._unreadable = 0
        mark = self._store.last_seq()
        self.index.build(self._all_templates(), watermark=mark)
        with self._apply:
            self._watermark = max(self._watermark, mark)
        first = not self._ready.is_set()
        self._ready.set()
        self._last_sync = time.monotonic()
        details: dict[str, object] = {"palms": len(self.index), "layout": self.index.kind,
                                      "seconds": round(time.monotonic() - started, 3), "synced_seq": mark}
        if self._unreadable:
            details["unreadable_templates"] = self._unreadable
        quietly(log.info, "palm_index_loaded" if first else "palm_index_rebuilt", **details)
        return len(self.index)

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
