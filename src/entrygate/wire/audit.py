"""The audit log's answers (``GET /v1/audit``) and its query, shared by the API and the console."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field

from entrygate.domain.audit import ActorType, AuditEntry
from entrygate.services.admin.audit import DEFAULT_LIMIT, MAX_LIMIT
from entrygate.wire.answers import Answer

# Why ``before`` and ``after`` stay open objects: they are the API views of different resources (a store, a gate, a
# user, a key, a list item, a review, a store's rules, the risk model), the shape depending on ``target.type``.
FREE_FORM_VIEW = ("Free-form: the {moment} view of the resource `target` names, as its own API answer shows it "
                  "(a store's, a gate's, a user's, ...; its shape depends on `target.type`), with every secret as "
                  "`secretSet`; null when the change {when}.")


class AuditQuery(BaseModel):
    storeId: str | None = Field(default=None, max_length=255,
                                description="Only the changes to this store and what belongs to it.")
    since: AwareDatetime | None = Field(default=None, description="Only changes made at or after this moment "
                                                                  "(ISO 8601 with a time zone).")
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="At most this many entries.")


class ActorOut(Answer):
    type: ActorType = Field(description="OPERATOR (a token), RETAILER_KEY (a retailer's API key), or CONSOLE_USER.")
    id: str = Field(description="The token's or key's id, the console user's id, or `local`/`cli` for a command run "
                                "where the database is.")
    name: str = Field(description="For a person: the key's name, the console user's email, or the command.")


class TargetOut(Answer):
    type: str = Field(description="What kind of thing changed: store, gate, user, retailer, gateKey, retailerKey, "
                                  "listItem, review, storeRules, riskModel, ...", examples=["store"])
    id: str = Field(description="Its id (for a gate key, the key's id).", examples=["store-001"])


class AuditEntryOut(Answer):
    at: datetime = Field(description="When the change was made (UTC).")
    actor: ActorOut = Field(description="Who made it.")
    action: str = Field(description="<resource>.<verb>: store.created, store.updated, gate.created, user.added, ...",
                        examples=["store.updated"])
    target: TargetOut = Field(description="What was changed.")
    storeId: str | None = Field(description="The store the change concerns; null when it concerns none.")
    before: dict[str, Any] | None = Field(description=FREE_FORM_VIEW.format(moment="earlier", when="created it"))
    after: dict[str, Any] | None = Field(description=FREE_FORM_VIEW.format(moment="new", when="removed it"))


class AuditLogOut(Answer):
    entries: list[AuditEntryOut] = Field(description="Newest first.")


def audit_entry_view(entry: AuditEntry) -> dict[str, Any]:
    return {"at": entry.at.isoformat().replace("+00:00", "Z"), "actor": entry.actor.to_json(), "action": entry.action,
            "target": entry.target.to_json(), "storeId": entry.store_id, "before": entry.before, "after": entry.after}
