"""The audit log's storage: entries written in the unit of work of the change they record.

An entry is added through ``uow.audit`` of the very unit of work that makes the change, so a
change that is refused or rolled back leaves no entry, and a recorded change always has one.
SQL in ``adapters/db/audit.py``, in memory in ``adapters/memory/audit.py``.
"""
from __future__ import annotations

from datetime import datetime
from typing import Protocol

from entrygate.domain.audit import AuditEntry


class AuditRepository(Protocol):
    def add(self, entry: AuditEntry) -> None: ...

    def list(self, *, retailer_id: str | None, store_id: str | None, since: datetime | None,
             limit: int) -> list[AuditEntry]:
        """Entries newest first (by time, then by the order they were stored); ``since`` inclusive.

        ``retailer_id`` None: every retailer's (the operator's view).
        """
        ...
