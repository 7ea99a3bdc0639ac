"""The audit log in memory: the rules of ``adapters/db/audit.py`` on the memory store's data."""
from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime

from entrygate.domain.audit import AuditEntry

_ids = itertools.count(1)


class MemoryAudit:
    def __init__(self, entries: dict[int, AuditEntry]) -> None:
        self.entries = entries

    def add(self, entry: AuditEntry) -> None:
        entry_id = next(_ids)
        self.entries[entry_id] = replace(entry, entry_id=entry_id)

    def list(self, *, retailer_id: str | None, store_id: str | None, since: datetime | None,
             limit: int) -> list[AuditEntry]:
        found = [e for e in self.entries.values()
                 if (retailer_id is None or e.retailer_id == retailer_id)
                 and (store_id is None or e.store_id == store_id) and (since is None or e.at >= since)]
        found.sort(key=lambda e: (e.at, e.entry_id or 0), reverse=True)
        return found[:limit]
