"""The demo's retailer, store and gates, created through the same services the API uses."""
from __future__ import annotations

from dataclasses import dataclass, field

from entrygate.bootstrap import Container
from entrygate.domain.channels import AntiPassback, Channel, GateDirection, RiskStrategy
from entrygate.domain.keys import KeyKind
from entrygate.domain.money import Money
from entrygate.domain.store import StoreConfig
from entrygate.services.auth import Principal

DEMO_EMAIL = "demo@entrygate.local"
DEMO_PASSWORD = "entrygate-demo"


@dataclass
class DemoWorld:
    retailer_id: str
    retailer_key: str
    stores: list[str] = field(default_factory=list)
    gates: dict[str, tuple[str, str]] = field(default_factory=dict)  # lane name -> (gate id, key)


def create_demo_world(c: Container) -> DemoWorld:
    operator = Principal(KeyKind.OPERATOR)
    retailer = c.admin.create_retailer(operator, name="Demo Market")
    c.admin.create_user(operator, retailer.id, email=DEMO_EMAIL, password=DEMO_PASSWORD)
    world = DemoWorld(retailer.id, retailer.api_key)
    store = StoreConfig(store_id="demo-downtown", retailer_id=retailer.id, name="Demo Market Downtown",
                        timezone="America/New_York", currency="USD", authorized_amount=Money.of(25, "USD"),
                        entry_methods=frozenset({Channel.CREDIT_CARD}), risk_strategy=RiskStrategy.NONE,
                        max_party_size=4, anti_passback=AntiPassback.SOFT, country="US")
    c.admin.create_store(operator, store)
    world.stores.append(store.store_id)
    gate = c.admin.add_gate(operator, store.store_id, gate_id="lane-1", direction=GateDirection.ENTRY)
    world.gates["card"] = (gate.id, gate.api_key)
    exit_gate = c.admin.add_gate(operator, store.store_id, gate_id="exit-1", direction=GateDirection.EXIT)
    world.gates["exit"] = (exit_gate.id, exit_gate.api_key)
    return world
