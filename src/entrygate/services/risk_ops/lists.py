"""Allow and block lists per retailer (DESIGN 14).

The changes here (``add``, ``delete``, and ``feedback_block`` from a CustomerFraud label) are the
ones an audit records. Another retailer's item is answered as unknown (404), never confirmed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog

from entrygate.domain.audit import Target
from entrygate.domain.cards import new_id
from entrygate.domain.risk_ops import MAX_NOTE, ItemSource, ItemType, ListItem, ListName, check_item_value
from entrygate.domain.views import item_view
from entrygate.services.admin import audit
from entrygate.services.auth import Principal
from entrygate.services.errors import InvalidRequest, NotFound
from entrygate.services.ports.clock import Clock
from entrygate.services.ports.storage import UnitOfWork, UnitOfWorkFactory

log = structlog.get_logger("entrygate.risk_ops")


@dataclass(frozen=True, slots=True)
class NewItem:
    item_type: ItemType
    value: str
    note: str | None = None
    expires_at: datetime | None = None


def feedback_block(uow: UnitOfWork, *, retailer_id: str, instrument_id: str, note: str | None,
                   at: datetime) -> bool:
    """A CustomerFraud label's block: the retailer's FEEDBACK item for the instrument, unless it has one.

    Written in the caller's transaction (the label's), so the label and its block stand or fall together.
    """
    item = ListItem(item_id=new_id("item"), retailer_id=retailer_id, list_name=ListName.BLOCK,
                    item_type=ItemType.INSTRUMENT, value=instrument_id, note=(note or "CustomerFraud label")[:MAX_NOTE],
                    expires_at=None, created_at=at, source=ItemSource.FEEDBACK)
    return uow.risk_lists.add_feedback_block(item)


class ListService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def add(self, principal: Principal, list_name: ListName, new: NewItem, *, retailer_id: str | None = None,
            source: ItemSource = ItemSource.API) -> ListItem:
        """Add an item to the retailer's list; the operator names the retailer (``retailer_id``)."""
        owner = principal.retailer_id if not principal.is_operator else retailer_id
        if owner is None:
            raise InvalidRequest("retailerId: is required with the operator's token", fields=["retailerId"])
        principal.require_retailer_scope(owner)
        why = check_item_value(new.item_type, new.value)
        if why:
            raise InvalidRequest(f"value: {why}", fields=["value"])
        now = self._clock.now()
        if new.expires_at is not None and new.expires_at <= now:
            raise InvalidRequest("expiresAt: must be in the future", fields=["expiresAt"])
        item = ListItem(item_id=new_id("item"), retailer_id=owner, list_name=list_name, item_type=new.item_type,
                        value=new.value, note=new.note, expires_at=new.expires_at, created_at=now, source=source)
        with self._uow(write=True) as uow:
            if uow.retailers.get(owner) is None:
                raise InvalidRequest(f"retailerId: unknown retailer {owner}", fields=["retailerId"])
            uow.risk_lists.add(item)
            audit.record(uow, principal, "listItem.added", Target("listItem", item.item_id), retailer_id=owner,
                         after=item_view(item), at=now)
            uow.commit()
        log.info("list_item_added", retailer_id=owner, list=list_name.value, item_id=item.item_id,
                 type=item.item_type.value)
        return item

    def list(self, principal: Principal, list_name: ListName, *, retailer_id: str | None = None) -> list[ListItem]:
        owner = principal.retailer_id if not principal.is_operator else retailer_id
        if owner is None:
            raise InvalidRequest("retailerId: is required with the operator's token", fields=["retailerId"])
        principal.require_retailer_scope(owner)
        with self._uow() as uow:
            return uow.risk_lists.list(owner, list_name)

    def get(self, principal: Principal, list_name: ListName, item_id: str) -> ListItem:
        with self._uow() as uow:
            return self._visible(uow.risk_lists.get(item_id), principal, list_name, item_id)

    def delete(self, principal: Principal, list_name: ListName, item_id: str) -> ListItem:
        """Remove the item; a FEEDBACK block's removal lifts the block unless another retailer's label holds it."""
        with self._uow(write=True) as uow:
            item = self._visible(uow.risk_lists.get(item_id), principal, list_name, item_id)
            if not uow.risk_lists.delete(item_id):
                raise NotFound(f"list item {item_id} not found")
            audit.record(uow, principal, "listItem.removed", Target("listItem", item_id), retailer_id=item.retailer_id,
                         before=item_view(item), at=self._clock.now())
            uow.commit()
        log.info("list_item_deleted", retailer_id=item.retailer_id, list=list_name.value, item_id=item_id,
                 source=item.source.value)
        return item

    @staticmethod
    def _visible(item: ListItem | None, principal: Principal, list_name: ListName, item_id: str) -> ListItem:
        if item is None or item.list_name is not list_name or not principal.may_manage(item.retailer_id):
            raise NotFound(f"list item {item_id} not found")
        return item
