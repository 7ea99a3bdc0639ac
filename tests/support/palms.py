"""Palm test helpers shared by the service, store and end-to-end tests."""
from __future__ import annotations

import threading

import numpy as np

from entrygate.adapters.palm_index import PalmIndex
from entrygate.domain.palm import PalmMatch


class HeldIndex(PalmIndex):
    """An index whose next search, once armed, waits for ``release``: an enrollment held in its check."""

    def __init__(self, *, dimension: int = 128) -> None:
        super().__init__(dimension=dimension)
        self._armed = False
        self.checking = threading.Event()
        self.release = threading.Event()

    def arm(self) -> None:
        self._armed = True

    def search(self, probe: np.ndarray, *, k: int = 5) -> list[PalmMatch]:
        if self._armed:
            self._armed = False
            self.checking.set()
            assert self.release.wait(10), "the held enrollment was never released"
        return super().search(probe, k=k)
