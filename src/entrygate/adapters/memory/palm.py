"""Palm enrollments and their change log in memory (``services.ports.palm.PalmRepository``), for service tests.

Given the ``MemoryStore`` of the other ports, an enrollment records its payment instrument
there too, as the SQL store does in the same transaction. One lock stands for the database's
palm lock: every write, and an enrollment's check with it, holds it.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from entrygate.adapters.memory.storage import MemoryStore
from entrygate.services.ports.palm import Enrollment, PalmChange, PalmLink, SealedTemplate
from entrygate.services.ports.storage import AlreadyExists, StorageError


class MemoryPalmStore:
    def __init__(self, memory: MemoryStore | None = None) -> None:
        self._memory = memory
        self._lock = threading.Lock()
        self.enrollments: dict[str, Enrollment] = {}
        self.changes: list[PalmChange] = []
        self.fail = False  # set by tests: every call fails, as an unreachable database would

    def _check(self) -> None:
        if self.fail:
            raise StorageError("simulated palm store failure")

    @contextmanager
    def enrolling(self) -> Iterator[MemoryEnrollment]:
        self._check()
        with self._lock:
            session = MemoryEnrollment(self)
            yield session
            # The block ended without an error: commit, all or nothing.
            ids = [e.palm_id for e in session.staged]
            clash = next((p for i, p in enumerate(ids) if p in self.enrollments or p in ids[:i]), None)
            if clash is not None:
                raise AlreadyExists(clash)
            for enrollment in session.staged:
                self._insert(enrollment)

    def add(self, enrollment: Enrollment) -> None:
        with self.enrolling() as session:
            session.add(enrollment)

    def _insert(self, enrollment: Enrollment) -> None:
        if enrollment.palm_id in self.enrollments:
            raise AlreadyExists(enrollment.palm_id)
        if self._memory is not None:
            with self._memory(write=True) as uow:
                uow.instruments.record_seen(enrollment.instrument_id, enrollment.card, at=enrollment.created_at)
                uow.commit()
        self.enrollments[enrollment.palm_id] = enrollment
        self._log(enrollment.palm_id, "add")

    def delete(self, palm_id: str, *, at: datetime) -> bool:
        self._check()
        with self._lock:
            if self.enrollments.pop(palm_id, None) is None:
                return False
            self._log(palm_id, "remove")
            return True

    def owner(self, palm_id: str) -> str | None:
        self._check()
        e = self.enrollments.get(palm_id)
        return e.retailer_id if e else None

    def links(self, palm_ids: Sequence[str]) -> dict[str, PalmLink]:
        self._check()
        found = {p: self.enrollments.get(p) for p in palm_ids}
        return {p: PalmLink(p, e.instrument_id, e.card) for p, e in found.items() if e is not None}

    def last_seq(self) -> int:
        self._check()
        return self.changes[-1].seq if self.changes else 0

    def count(self) -> int:
        self._check()
        return len(self.enrollments)

    def templates(self, *, after: str | None, limit: int) -> list[SealedTemplate]:
        self._check()
        ids = sorted(p for p in list(self.enrollments) if after is None or p > after)[:limit]
        return self.templates_of(ids)

    def templates_of(self, palm_ids: Sequence[str]) -> list[SealedTemplate]:
        self._check()
        found = [self.enrollments.get(p) for p in palm_ids]
        return [SealedTemplate(e.palm_id, e.template, e.dimension) for e in found if e is not None]

    def changes_since(self, seq: int, *, limit: int) -> list[PalmChange]:
        self._check()
        return [c for c in list(self.changes) if c.seq > seq][:limit]

    def _log(self, palm_id: str, op: str) -> None:
        self.changes.append(PalmChange(len(self.changes) + 1, palm_id, op))


class MemoryEnrollment:
    """An enrollment's session on the in-memory store, holding its lock; writes land at the end."""

    def __init__(self, store: MemoryPalmStore) -> None:
        self._store = store
        self.staged: list[Enrollment] = []

    def links(self, palm_ids: Sequence[str]) -> dict[str, PalmLink]:
        """As the transaction sees the store: its own additions included."""
        links = self._store.links(palm_ids)
        links.update({e.palm_id: PalmLink(e.palm_id, e.instrument_id, e.card)
                      for e in self.staged if e.palm_id in palm_ids})
        return links

    def enrolled_after(self, seq: int) -> list[SealedTemplate]:
        added = [c.palm_id for c in self._store.changes_since(seq, limit=len(self._store.changes)) if c.op == "add"]
        # This session's own additions come last: their change-log positions are the next ones.
        return self._store.templates_of(added) + [SealedTemplate(e.palm_id, e.template, e.dimension)
                                                  for e in self.staged]

    def add(self, enrollment: Enrollment) -> None:
        self._store._check()
        self.staged.append(enrollment)
