"""A list item has no effect from its ``expiresAt`` on, at the gate (DESIGN 14), on the in-memory storage."""
from __future__ import annotations

from datetime import timedelta

from entrygate.adapters.clock import FixedClock
from entrygate.adapters.memory.storage import MemoryStore
from entrygate.adapters.processors.sandbox import SandboxProcessor
from entrygate.domain.channels import Channel, GateDirection
from entrygate.domain.keys import KeyKind
from entrygate.domain.risk_ops import ItemType, ListName
from entrygate.services.admin.service import AdminService
from entrygate.services.auth import Principal
from entrygate.services.catalog import Catalog
from entrygate.services.gate.admit import EntryService
from entrygate.services.gate.card import CardHandler
from entrygate.services.risk_ops.lists import ListService, NewItem
from entrygate.wire.decisions import decision_answer
from support.factories import NOW, OPERATOR, PlainPasswords, card, event, store_config


def test_a_block_that_expires_stops_blocking_then():
    uow, clock = MemoryStore(), FixedClock(NOW)
    catalog = Catalog(uow, ttl_s=0)
    admin = AdminService(uow, clock, catalog, PlainPasswords())
    retailer = admin.create_retailer(OPERATOR, name="R")
    store = admin.create_store(OPERATOR, store_config(retailer.id))
    admin.add_gate(OPERATOR, store.store_id, gate_id="g", direction=GateDirection.ENTRY)
    with uow() as u:
        gate = Principal(KeyKind.GATE, gate_pk=u.gates.find(store.store_id, "g").gate_pk)
    entries = EntryService(uow=uow, catalog=catalog, clock=clock, processor=SandboxProcessor(timeout_s=0),
                           handlers={Channel.CREDIT_CARD: CardHandler(secret=b"k")})
    lists = ListService(uow, clock)
    tap = card(par="V001" + "X" * 25, issuer_country="FR")
    lists.add(Principal(KeyKind.RETAILER, retailer_id=retailer.id), ListName.BLOCK,
              NewItem(ItemType.ISSUER_COUNTRY, "FR", expires_at=NOW + timedelta(hours=1)))

    def codes() -> list[str]:
        return [r["code"] for r in decision_answer(entries.admit(gate, "g", event(tap)))["reasons"]]

    assert codes() == ["INSTRUMENT_BLOCKED"]
    clock.at = NOW + timedelta(minutes=59, seconds=59)
    assert codes() == ["INSTRUMENT_BLOCKED"]
    clock.at = NOW + timedelta(hours=1)
    assert codes() == []
