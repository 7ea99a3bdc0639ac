"""Stores and gates as the gate path reads them: from the database, cached for a moment.

Every process reads the same database, so a change made through another process applies within
``ttl_s``; a change made through this process applies at once (``invalidate``).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from threading import Lock
from typing import TypeVar

from entrygate.domain.records import Gate
from entrygate.domain.store import StoreConfig
from entrygate.services.ports.storage import UnitOfWorkFactory

T = TypeVar("T")


class Catalog:
    def __init__(self, uow: UnitOfWorkFactory, *, ttl_s: float = 2.0) -> None:
        self._uow = uow
        self._ttl = ttl_s
        self._entries: dict[tuple[str, str], tuple[float, object]] = {}
        self._lock = Lock()

    def _cached(self, key: tuple[str, str], load: Callable[[], T]) -> T:
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit and hit[0] > now:
            return hit[1]  # type: ignore[return-value]
        value = load()
        if value is not None:
            with self._lock:
                self._entries[key] = (now + self._ttl, value)
        return value

    def gate(self, gate_pk: str) -> Gate | None:
        def load() -> Gate | None:
            with self._uow() as uow:
                return uow.gates.get(gate_pk)
        return self._cached(("gate", gate_pk), load)

    def store(self, store_id: str) -> StoreConfig | None:
        def load() -> StoreConfig | None:
            with self._uow() as uow:
                return uow.stores.get(store_id)
        return self._cached(("store", store_id), load)

    def invalidate(self) -> None:
        with self._lock:
            self._entries.clear()
