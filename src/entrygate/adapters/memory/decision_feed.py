"""The decisions feed over the in-memory store (the ``DecisionFeed`` port's fake).

The store's decisions are kept in the order their units of work committed, so a decision's place
in that order is its position: ``(0, n)`` for the n-th decision committed.
"""
from __future__ import annotations

from entrygate.adapters.memory.storage import MemoryStore
from entrygate.services.ports.feed import FeedEntry, FeedPosition


class MemoryDecisionFeed:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def page(self, store_id: str, *, after: FeedPosition, limit: int) -> list[FeedEntry]:
        with self._store.lock:
            committed = list(self._store.data.decisions.values())
        out = []
        for n, record in enumerate(committed, start=1):
            position = FeedPosition(0, n)
            if record.store_id == store_id and position > after:
                out.append(FeedEntry(position, record))
                if len(out) == limit:
                    break
        return out
