"""The trip sweeps in the background: one thread per process runs ``TripSweeper.sweep`` every interval.

Several processes on one database each run their own: the sweeps' writes are conditional, so
two at once close each trip and release each hold once. The wait is jittered so that workers
started together drift apart instead of sweeping in step, and the first run waits a whole
interval, so a short-lived command that builds the platform never sweeps by surprise.
"""
from __future__ import annotations

import random
import threading
from collections.abc import Callable

import structlog

log = structlog.get_logger("entrygate.payments")

JITTER = 0.2  # each wait is the interval times a factor drawn from [0.8, 1.2]


class SweepThread:
    """Calls ``sweep`` every ``interval_s`` (jittered) until ``stop``; a failed run is logged, never fatal."""

    def __init__(self, sweep: Callable[[], object], *, interval_s: float,
                 rng: Callable[[], float] = random.random) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self._sweep = sweep
        self._interval = interval_s
        self._rng = rng
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs = 0  # completed runs, failed ones included

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="entrygate-trip-sweep", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to end and wait for a run in progress to finish (at most ``timeout`` seconds)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def next_wait(self) -> float:
        return self._interval * (1 - JITTER + 2 * JITTER * self._rng())

    def _loop(self) -> None:
        while not self._stop.wait(self.next_wait()):
            try:
                self._sweep()
            except Exception:  # noqa: BLE001 - a sweep that failed now is tried again at the next interval
                log.exception("trip_sweep_failed")
            self.runs += 1
