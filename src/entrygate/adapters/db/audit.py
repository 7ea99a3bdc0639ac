"""The audit log on the database (``services/ports/audit.py``): one row per change, in its transaction."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select

from entrygate.adapters.db import tables as t
from entrygate.domain.audit import Actor, ActorType, AuditEntry, Target

_c = t.audit_entries.c


class SqlAudit:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, entry: AuditEntry) -> None:
        self.conn.execute(insert(t.audit_entries).values(
            at=entry.at, retailer_id=entry.retailer_id, store_id=entry.store_id, actor_type=entry.actor.type.value,
            actor_id=entry.actor.id, actor_name=entry.actor.name, action=entry.action,
            target_type=entry.target.type, target_id=entry.target.id, before=entry.before, after=entry.after))

    def list(self, *, retailer_id: str | None, store_id: str | None, since: datetime | None,
             limit: int) -> list[AuditEntry]:
        stmt = select(t.audit_entries).order_by(_c.at.desc(), _c.entry_id.desc()).limit(limit)
        if retailer_id is not None:
            stmt = stmt.where(_c.retailer_id == retailer_id)
        if store_id is not None:
            stmt = stmt.where(_c.store_id == store_id)
        if since is not None:
            stmt = stmt.where(_c.at >= since)
        return [AuditEntry(at=r.at, actor=Actor(ActorType(r.actor_type), r.actor_id, r.actor_name), action=r.action,
                           target=Target(r.target_type, r.target_id), retailer_id=r.retailer_id,
                           store_id=r.store_id, before=r.before, after=r.after, entry_id=r.entry_id)
                for r in self.conn.execute(stmt)]
