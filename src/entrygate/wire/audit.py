"""The audit log's answers (``GET /v1/audit``) and its query, shared by the API and the console."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field

from entrygate.domain.audit import AuditEntry
from entrygate.services.admin.audit import DEFAULT_LIMIT, MAX_LIMIT


class AuditQuery(BaseModel):
    storeId: str | None = Field(default=None, max_length=255)
    since: AwareDatetime | None = None
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class ActorOut(BaseModel):
    type: Literal["OPERATOR", "RETAILER_KEY", "CONSOLE_USER"]
    id: str
    name: str


class TargetOut(BaseModel):
    type: str
    id: str


class AuditEntryOut(BaseModel):
    at: datetime
    actor: ActorOut
    action: str = Field(description="<resource>.<verb>: store.created, store.updated, gate.created, user.added, ...")
    target: TargetOut
    storeId: str | None = None
    before: dict[str, Any] | None = Field(default=None, description="the resource's API view before; secrets as secretSet")
    after: dict[str, Any] | None = Field(default=None, description="the resource's API view after; secrets as secretSet")


class AuditPage(BaseModel):
    entries: list[AuditEntryOut]


def audit_entry_view(entry: AuditEntry) -> dict[str, Any]:
    return {"at": entry.at.isoformat().replace("+00:00", "Z"), "actor": entry.actor.to_json(), "action": entry.action,
            "target": entry.target.to_json(), "storeId": entry.store_id, "before": entry.before, "after": entry.after}
