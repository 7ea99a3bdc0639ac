"""In-memory fakes of the secrets' storage ports (``services.ports.secrets``): the purposes' keys and
palm templates by key, with the database's rules (one active key per purpose; conditional rewrites)."""
from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime

from entrygate.domain.secrets import ROTATABLE, root_key_id
from entrygate.services.ports.secrets import ConcurrentRotation, KeyedTemplate, StoredKey, TemplateRewrite


class MemorySecretKeys:
    def __init__(self) -> None:
        at = datetime(2026, 1, 1, tzinfo=UTC)
        self._keys = [StoredKey(p.value, root_key_id(p), None, at, None) for p in ROTATABLE]  # as migration 0007
        self._lock = threading.Lock()

    def list(self) -> list[StoredKey]:
        with self._lock:
            return sorted(self._keys, key=lambda k: (k.created_at, k.key_id))

    def rotate(self, purpose: str, *, key_id: str, material: bytes, at: datetime) -> None:
        with self._lock:
            active = [k for k in self._keys if k.purpose == purpose and k.retired_at is None]
            if any(k.key_id == key_id for k in self._keys):
                raise ConcurrentRotation(f"key id {key_id} is taken")
            self._keys = [replace(k, retired_at=at) if k in active else k for k in self._keys]
            self._keys.append(StoredKey(purpose, key_id, material, at, None))


class MemoryTemplateKeys:
    """Palm templates by key id: ``palm id -> (template, key id)``."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[bytes, str]] = {}
        self._lock = threading.Lock()

    def counts_by_key(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        with self._lock:
            for _, key_id in self.rows.values():
                counts[key_id] = counts.get(key_id, 0) + 1
        return counts

    def not_under(self, key_id: str, *, after: str | None, limit: int) -> list[KeyedTemplate]:
        with self._lock:
            ids = sorted(p for p, (_, k) in self.rows.items() if k != key_id and (after is None or p > after))
            return [KeyedTemplate(p, self.rows[p][0], self.rows[p][1]) for p in ids[:limit]]

    def replace(self, rewrites: list[TemplateRewrite]) -> int:
        written = 0
        with self._lock:
            for r in rewrites:
                if r.palm_id in self.rows and self.rows[r.palm_id][1] == r.old_key_id:
                    self.rows[r.palm_id] = (r.template, r.key_id)
                    written += 1
        return written
