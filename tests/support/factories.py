"""Factories for test data: stores, gates, entry events, on the in-memory ports."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from entrygate.adapters.clock import FixedClock
from entrygate.adapters.memory.security import PlainPasswords
from entrygate.adapters.memory.storage import MemoryStore
from entrygate.adapters.processors.sandbox import SandboxProcessor
from entrygate.domain.cards import CardCredential
from entrygate.domain.channels import AntiPassback, Channel, GateDirection, RiskStrategy
from entrygate.domain.decision import EntryEvent
from entrygate.domain.keys import KeyKind
from entrygate.domain.money import Money
from entrygate.domain.store import StoreConfig
from entrygate.services.admin.service import AdminService
from entrygate.services.auth import Principal
from entrygate.services.catalog import Catalog
from entrygate.services.gate.admit import EntryService
from entrygate.services.gate.card import CardHandler
from entrygate.services.gate.exits import ExitService
from entrygate.wire.decisions import decision_answer

SECRET = b"test-secret"
NOW = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
OPERATOR = Principal(KeyKind.OPERATOR)


def store_config(retailer_id: str, **over: Any) -> StoreConfig:
    base = dict(store_id="store-" + uuid.uuid4().hex[:8], retailer_id=retailer_id, name="Test", timezone="UTC",
                currency="USD", authorized_amount=Money.of(25, "USD"), entry_methods=frozenset({Channel.CREDIT_CARD}),
                risk_strategy=RiskStrategy.NONE, max_party_size=4, anti_passback=AntiPassback.NONE)
    base.update(over)
    return StoreConfig(**base)


def card(token: str = "tok_visa_approve", *, par: str | None = None, **over: Any) -> CardCredential:
    base = dict(payment_token=token, par=par or "V001" + uuid.uuid4().hex.upper()[:25], brand="VISA", last4="4242",
                exp_month=12, exp_year=2030, funding="credit", issuer_country="US")
    base.update(over)
    return CardCredential(**base)


def event(credential: object, *, channel: Channel = Channel.CREDIT_CARD, party_size: int = 1,
          event_id: str | None = None, request_hash: str | None = None) -> EntryEvent:
    eid = event_id or str(uuid.uuid4())
    return EntryEvent(event_id=eid, timestamp=NOW, channel=channel, interaction_type="TAP", party_size=party_size,
                      credential=credential, request_hash=request_hash or eid)


class World:
    """Services over the in-memory ports, with one retailer, one store and one gate."""

    def __init__(self, **store_over: Any) -> None:
        self.memory = MemoryStore()
        self.clock = FixedClock(NOW)
        self.catalog = Catalog(self.memory, ttl_s=0)
        self.admin = AdminService(self.memory, self.clock, self.catalog, PlainPasswords())
        handlers = {Channel.CREDIT_CARD: CardHandler(secret=SECRET)}
        self.entries = EntryService(uow=self.memory, catalog=self.catalog, clock=self.clock,
                                    processor=SandboxProcessor(timeout_s=0.01), handlers=handlers)
        self.exits = ExitService(uow=self.memory, catalog=self.catalog, clock=self.clock, handlers=handlers)
        retailer = self.admin.create_retailer(OPERATOR, name="R")
        self.retailer_id = retailer.id
        self.store = self.admin.create_store(OPERATOR, store_config(retailer.id, **store_over))
        self.admin.add_gate(OPERATOR, self.store.store_id, gate_id="lane-1", direction=GateDirection.ENTRY)
        self.admin.add_gate(OPERATOR, self.store.store_id, gate_id="exit-1", direction=GateDirection.EXIT)
        with self.memory() as uow:
            self.gate = uow.gates.find(self.store.store_id, "lane-1")
            self.exit_gate = uow.gates.find(self.store.store_id, "exit-1")
        self.gate_principal = Principal(KeyKind.GATE, gate_pk=self.gate.gate_pk)
        self.exit_principal = Principal(KeyKind.GATE, gate_pk=self.exit_gate.gate_pk)

    def admit(self, ev: EntryEvent) -> dict[str, Any]:
        return decision_answer(self.entries.admit(self.gate_principal, "lane-1", ev))
