"""Palm ports: the enrollments' store and its change log, the 1:N index, templates at rest.

SQL in ``adapters/db/palm_store.py``, in memory in ``adapters/memory/palm.py``; the index is
``adapters/palm_index.py`` and the cipher ``adapters/template_crypto.py``.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import numpy as np

from entrygate.domain.cards import CardCredential
from entrygate.domain.palm import PalmMatch


@dataclass(frozen=True, slots=True)
class Enrollment:
    """A palm linked to a card: the encrypted template, the instrument, who enrolled it."""

    palm_id: str
    instrument_id: str
    retailer_id: str
    template: bytes  # TemplateCipher blob, bound to palm_id
    dimension: int
    card: CardCredential  # token, PAR and displayable parts; never a PAN
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PalmLink:
    """What a gate needs once a palm matched: the card it opens on."""

    palm_id: str
    instrument_id: str
    card: CardCredential


@dataclass(frozen=True, slots=True)
class SealedTemplate:
    """An enrolled template as stored: encrypted, with the dimension it was read at."""

    palm_id: str
    template: bytes
    dimension: int


@dataclass(frozen=True, slots=True)
class PalmChange:
    """One row of the change log: a palm added or removed at position ``seq``."""

    seq: int
    palm_id: str
    op: str  # "add" or "remove"


class EnrollmentSession(Protocol):
    """One enrollment's write transaction, holding the lock that serialises every palm change."""

    def links(self, palm_ids: Sequence[str]) -> dict[str, PalmLink]:
        """The card of each palm that is still enrolled, as this transaction sees it."""

    def enrolled_after(self, seq: int) -> list[SealedTemplate]:
        """The templates of the palms still enrolled whose ``add`` change has a position above ``seq``."""

    def add(self, enrollment: Enrollment) -> None:
        """Upsert the instrument, insert the enrollment and an ``add`` change; committed with the session."""


class PalmRepository(Protocol):
    """Palm enrollments and their change log. Each write is one transaction of its own.

    Every write takes one lock, database-wide, so enrollments and deletions happen one at a time
    across processes and their change-log positions become visible in order.
    """

    def enrolling(self) -> AbstractContextManager[EnrollmentSession]:
        """A write transaction holding the lock; it commits when the block ends without an error."""

    def add(self, enrollment: Enrollment) -> None:
        """Upsert the instrument, insert the enrollment and an ``add`` change, atomically, unchecked."""

    def owner(self, palm_id: str) -> str | None:
        """The enrolling retailer's id, or None for an unknown palm."""

    def delete(self, palm_id: str, *, at: datetime) -> bool:
        """Delete the row for good and log a ``remove`` change, atomically; False if it was gone."""

    def links(self, palm_ids: Sequence[str]) -> dict[str, PalmLink]:
        """The card of each palm that is still enrolled, in one indexed read."""

    def last_seq(self) -> int:
        """The change log's highest position (0 when empty)."""

    def count(self) -> int:
        """How many palms are enrolled."""

    def templates(self, *, after: str | None, limit: int) -> list[SealedTemplate]:
        """One page of every enrolled template, in palm id order, after ``after``."""

    def templates_of(self, palm_ids: Sequence[str]) -> list[SealedTemplate]:
        """The templates of these palms that are still enrolled."""

    def changes_since(self, seq: int, *, limit: int) -> list[PalmChange]:
        """Changes with a position above ``seq``, in order."""


@dataclass(frozen=True, slots=True)
class PalmIndexState:
    """Everything a restart needs to answer searches at once: one generation, captured whole.

    ``vectors`` are the unit rows as searched (removed rows zeroed, ``alive`` False); rows below
    ``base`` are covered by the serialised faiss index ``ann`` (None in the exact layout).
    ``watermark`` is the change-log position the contents cover.
    """

    dimension: int
    palm_ids: list[str]
    vectors: np.ndarray
    alive: np.ndarray
    base: int
    nlist: int
    ann: bytes | None
    trained: bytes | None
    watermark: int
    skipped: int = 0  # enrolled palms left out because their template could not be read


class SnapshotRefused(Exception):
    """A stored index state that must not be used: missing, unreadable, foreign or tampered."""


class IndexSnapshotPort(Protocol):
    """The index state kept between restarts (``adapters.palm_snapshot.PalmSnapshotFile``)."""

    def load(self) -> PalmIndexState:
        """The stored state; SnapshotRefused unless it is intact and for this database."""

    def save(self, state: PalmIndexState) -> int:
        """Store ``state`` atomically in place of the previous one; bytes written."""


class PalmIndexPort(Protocol):
    """The 1:N index (``adapters.palm_index.PalmIndex``)."""

    kind: str

    def __len__(self) -> int: ...
    def __contains__(self, palm_id: object) -> bool: ...
    def search(self, probe: np.ndarray, *, k: int = 5) -> list[PalmMatch]: ...
    def add(self, palm_id: str, vec: np.ndarray, *, watermark: int | None = None) -> None: ...
    def remove(self, palm_id: str, *, watermark: int | None = None) -> bool: ...
    def build(self, items: Iterable[tuple[str, np.ndarray]], *, watermark: int | None = None) -> None: ...
    def vector_of(self, palm_id: str) -> np.ndarray | None: ...
    def export_state(self) -> PalmIndexState: ...
    def restore(self, state: PalmIndexState) -> None: ...
    @property
    def generation(self) -> int: ...


class TemplateCipherPort(Protocol):
    """Templates at rest (``adapters.template_crypto.TemplateCipher``)."""

    def encrypt_vector(self, vec: np.ndarray, *, palm_id: str) -> bytes: ...
    def decrypt_vector(self, blob: bytes, *, palm_id: str) -> np.ndarray: ...
