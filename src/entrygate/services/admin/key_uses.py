"""Keys' last use, written behind: a thread per process flushes the uses the authenticator noted.

``lastUsedAt`` must be within 60 s of a use (DESIGN 15). Writing it on every request would put a
write on the gate's hot path; instead each process writes each key it saw at most once per
interval (default 15 s), in one transaction, and once more when it stops.
"""
from __future__ import annotations

import threading

import structlog

from entrygate.services.auth import Authenticator

log = structlog.get_logger("entrygate.keys")

DEFAULT_FLUSH_INTERVAL_S = 15.0


class KeyUseFlusher:
    def __init__(self, auth: Authenticator, *, interval_s: float = DEFAULT_FLUSH_INTERVAL_S) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self._auth = auth
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="entrygate-key-uses", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread, then write what is left."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._flush()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self._flush()

    def _flush(self) -> None:
        try:
            self._auth.flush_uses()
        except Exception as exc:  # noqa: BLE001 - kept for the next flush; the database may be back by then
            try:
                log.warning("key_uses_not_written", error=f"{type(exc).__name__}: {exc}"[:300])
            except Exception:  # noqa: BLE001 - a closed log sink must not stop the thread
                pass
