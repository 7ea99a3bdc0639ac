"""Identifying a palm 1:N: the index's candidates, confirmed against the store's enrollments."""
from __future__ import annotations

import numpy as np

from entrygate.domain.palm import PalmMatch, PalmSignatureError, decode_signature
from entrygate.services.errors import InvalidRequest, Unavailable
from entrygate.services.palm.sync import PalmIndexSync
from entrygate.services.ports.palm import PalmLink, PalmRepository
from entrygate.services.ports.storage import StorageError

SEARCH_K = 5


class PalmMatcher:
    """Finds the enrolled palm a read belongs to, at or above the match threshold."""

    def __init__(self, *, store: PalmRepository, index: PalmIndexSync, match_threshold: float) -> None:
        self._store = store
        self._sync = index
        self.match_threshold = match_threshold

    def decode(self, signature: object, *, field: str) -> np.ndarray:
        """The reader's signature as a vector; a malformed one is a bad request naming ``field``."""
        try:
            return decode_signature(signature, dimension=self._sync.dimension, field=field)  # type: ignore[arg-type]
        except PalmSignatureError as exc:
            raise InvalidRequest(f"{exc.field}: {exc.message}", fields=[exc.field]) from None

    def identify(self, probe: np.ndarray) -> PalmLink | None:
        """The enrolled palm this read belongs to, with its card; None when nobody matches."""
        if not self._sync.ready:
            raise Unavailable("palm identification is starting; no decision was made, try again shortly")
        return self._enrolled_match(probe)

    def candidates(self, probe: np.ndarray) -> list[PalmMatch]:
        """This index's nearest palms whose exact score reaches the threshold (VECTORS.md)."""
        return [m for m in self._sync.index.search(probe, k=SEARCH_K) if m.score >= self.match_threshold]

    def _enrolled_match(self, probe: np.ndarray) -> PalmLink | None:
        """The best candidate at or above the threshold whose enrollment row still exists.

        The threshold is applied to the exact score (VECTORS.md). The rows are read in the same
        query that fetches the card, so a palm deleted in another process, still in this index
        until the next poll, is never taken for a match.
        """
        above = self.candidates(probe)
        if not above:
            return None
        try:
            links = self._store.links([m.palm_id for m in above])
        except StorageError as exc:
            raise Unavailable("palm enrollments could not be read; no decision was made") from exc
        return next((links[m.palm_id] for m in above if m.palm_id in links), None)
