"""The palm service: enrollment, deletion and identification over one process's index.

The template is stored only encrypted; the searchable copy lives in each process's in-memory
index, a cache of the database (DESIGN 8) that ``sync.PalmIndexSync`` keeps current. Until this
process's index has caught up with a deletion made elsewhere, the gate path still cannot admit
the deleted palm: the card of a matched palm is read from its enrollment row, and a palm without
one is no match (``identification.py``).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from entrygate.domain.cards import CardCredential
from entrygate.domain.palm import MATCH_THRESHOLD
from entrygate.services.auth import Principal
from entrygate.services.palm.enrollment import PalmEnrollment
from entrygate.services.palm.identification import PalmMatcher
from entrygate.services.palm.sync import SYNC_WINDOW, PalmIndexSync
from entrygate.services.ports.clock import Clock
from entrygate.services.ports.palm import IndexSnapshotPort, PalmIndexPort, PalmLink, PalmRepository, TemplateCipherPort


class PalmService:
    """Enrollment, deletion and identification, over one process's index kept in step with the store."""

    def __init__(self, *, store: PalmRepository, index: PalmIndexPort, cipher: Callable[[], TemplateCipherPort],
                 clock: Clock, secret: bytes, dimension: int, match_threshold: float | None = None,
                 liveness_threshold: float, sync_interval_s: float = 1.0, window: int = SYNC_WINDOW,
                 snapshot: IndexSnapshotPort | None = None) -> None:
        self._sync = PalmIndexSync(store=store, index=index, cipher=cipher, dimension=dimension,
                                   sync_interval_s=sync_interval_s, window=window, snapshot=snapshot)
        self._matcher = PalmMatcher(store=store, index=self._sync,
                                    match_threshold=MATCH_THRESHOLD if match_threshold is None else match_threshold)
        self._enrollment = PalmEnrollment(store=store, index=self._sync, matcher=self._matcher, clock=clock,
                                          secret=secret)
        self.dimension = dimension
        self.match_threshold = self._matcher.match_threshold
        self.liveness_threshold = liveness_threshold

    # -- enrollment --------------------------------------------------------------------------

    def enroll(self, principal: Principal, *, signature: object, card: CardCredential, consent: object) -> str:
        """Link a palm to a card; the new palm id. The palm is searchable here when this returns."""
        return self._enrollment.enroll(principal, signature=signature, card=card, consent=consent)

    def delete(self, principal: Principal, palm_id: str) -> None:
        """Remove an enrollment for good: the row, and this process's copy of the template at once."""
        self._enrollment.delete(principal, palm_id)

    # -- identification ----------------------------------------------------------------------

    def decode_probe(self, signature: object, *, field: str) -> np.ndarray:
        """A gate's palm read as a vector; a malformed one is a bad request naming ``field``."""
        return self._matcher.decode(signature, field=field)

    def identify(self, probe: np.ndarray) -> PalmLink | None:
        """The enrolled palm this read belongs to, with its card; None when nobody matches."""
        return self._matcher.identify(probe)

    # -- the index ---------------------------------------------------------------------------

    @property
    def cipher(self) -> TemplateCipherPort:
        return self._sync.cipher

    @property
    def ready(self) -> bool:
        return self._sync.ready

    def status(self) -> dict[str, object]:
        """For ``/readyz`` and logs: whether palms can be identified here, and how current the index is."""
        return self._sync.status()

    def start(self) -> None:
        """Load the index in the background, then poll the change log until ``stop``."""
        self._sync.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._sync.stop(timeout)

    def wait_ready(self, timeout: float | None = None) -> bool:
        return self._sync.wait_ready(timeout)

    def load(self) -> int:
        """(Re)build the index from every enrolled template; gates are answered meanwhile."""
        return self._sync.load()

    def sync(self) -> int:
        """Apply the changes after the watermark (and a window below it); how many palms changed here."""
        return self._sync.sync()

    def save_snapshot(self) -> bool:
        """Write this process's index to its snapshot now (it is also written after each build)."""
        return self._sync.save_snapshot()
