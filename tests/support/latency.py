"""Latency of one kind of request, alone and while another kind is sent over and over beside it."""
from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def median_latency(call: Callable[[], object], *, count: int) -> float:
    return statistics.median(timed(call) for _ in range(count))


class Beside:
    """Sends ``call`` in a loop on a thread of its own, at most ``limit`` times, until stopped.

    ``first`` is set when the first call has answered; ``latencies`` keeps every call's time.
    """

    def __init__(self, call: Callable[[], object], *, limit: int = 500) -> None:
        self._call = call
        self._limit = limit
        self._stop = threading.Event()
        self.first = threading.Event()
        self.latencies: list[float] = []
        self.errors: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            while not self._stop.is_set() and len(self.latencies) < self._limit:
                self.latencies.append(timed(self._call))
                self.first.set()
        except BaseException as exc:  # noqa: BLE001 - reported by the test, not lost on the thread
            self.errors.append(exc)
            self.first.set()

    def __enter__(self) -> Beside:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
