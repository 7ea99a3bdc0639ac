"""The audit log (DESIGN 15): every change through the administration API or the console, recorded
in the same transaction as the change, and read back newest first, each retailer its own.

To record a change, call ``record`` inside the write unit of work that makes it, before its commit::

    with self._uow(write=True) as uow:
        before = store_view(current)
        uow.stores.update(changed, at=now)
        audit.record(uow, principal, "store.updated", Target("store", store_id), retailer_id=changed.retailer_id,
                     store_id=store_id, before=before, after=store_view(changed), at=now)
        uow.commit()

A refused change raises before the commit, so the entry rolls back with it; a committed change
always has its entry. ``before`` / ``after`` are the resource's API view (``domain/views.py``);
``record`` scrubs them once more, so a secret or key never reaches the log.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from entrygate.domain.audit import Actor, ActorType, AuditEntry, Target, scrubbed
from entrygate.services.auth import Principal, store_in_scope
from entrygate.services.errors import InvalidRequest
from entrygate.services.ports.storage import UnitOfWork, UnitOfWorkFactory

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

# Who made a change when the principal does not say: one made by the platform's own code (the demo's
# setup, a command), not from a presented key.
LOCAL_OPERATOR = Actor(ActorType.OPERATOR, "local", "operator (local)")


def actor_of(who: Principal | Actor) -> Actor:
    if isinstance(who, Actor):
        return who
    if who.actor is not None:
        return who.actor
    if who.is_operator:
        return LOCAL_OPERATOR
    return Actor(ActorType.RETAILER_KEY, "local", f"retailer {who.retailer_id} (local)")


def record(uow: UnitOfWork, who: Principal | Actor, action: str, target: Target, *, retailer_id: str | None,
           at: datetime, store_id: str | None = None, before: Mapping[str, Any] | None = None,
           after: Mapping[str, Any] | None = None) -> AuditEntry:
    """Add an entry for a change made in ``uow`` (a write unit of work, not yet committed).

    ``action`` is ``<resource>.<verb>`` (``store.updated``, ``gateKey.rotated``); ``retailer_id`` is
    whose data changed (the retailer that sees the entry; None for a platform-wide change, such as a
    risk model's promotion, which only operators see); ``store_id`` the store it concerns, if any.
    """
    made = entry(who, action, target, retailer_id=retailer_id, at=at, store_id=store_id, before=before, after=after)
    uow.audit.add(made)
    return made


def entry(who: Principal | Actor, action: str, target: Target, *, retailer_id: str | None, at: datetime,
          store_id: str | None = None, before: Mapping[str, Any] | None = None,
          after: Mapping[str, Any] | None = None) -> AuditEntry:
    """The entry for a change that a store writes in its own transaction (the key store's, for one)."""
    return AuditEntry(at=at, actor=actor_of(who), action=action, target=target, retailer_id=retailer_id,
                      store_id=store_id, before=scrubbed(before), after=scrubbed(after))


class AuditTrail:
    """Reading the log: an operator reads every entry, a retailer (key or console user) its own."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    def list(self, principal: Principal, *, store_id: str | None = None, since: datetime | None = None,
             limit: int = DEFAULT_LIMIT) -> list[AuditEntry]:
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidRequest(f"limit: from 1 to {MAX_LIMIT}", fields=["limit"])
        if store_id is not None:
            store_in_scope(self._uow, principal, store_id)  # another retailer's store is not found
        retailer_id = None if principal.is_operator else principal.retailer_id
        if retailer_id is None and not principal.is_operator:
            return []
        with self._uow() as uow:
            return uow.audit.list(retailer_id=retailer_id, store_id=store_id, since=since, limit=limit)
