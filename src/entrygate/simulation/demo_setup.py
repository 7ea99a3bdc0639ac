"""The demo's retailer, store and gates, created through the same services the API uses."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from entrygate.domain.badges import badge_id, csn_badge
from entrygate.domain.cards import CardCredential
from entrygate.domain.channels import AntiPassback, Channel, FallbackDecision, GateDirection, RiskStrategy
from entrygate.domain.keys import KeyKind
from entrygate.domain.money import Money
from entrygate.domain.store import ConnectorConfig, StoreConfig
from entrygate.services.auth import Principal
from entrygate.simulation.palm_reader import PalmPopulation
from entrygate.simulation.palm_reader import read as palm_read
from entrygate.simulation.population import AppUser, DemoBadge, PalmEnrollee, palm_enrollees

if TYPE_CHECKING:
    from entrygate.bootstrap import Container

DEMO_EMAIL = "demo@entrygate.local"
DEMO_PASSWORD = "entrygate-demo"


# The kiosk's trips close by time: many shoppers walk out past its exit without scanning, as at
# most checkout-free stores. Five minutes is the least maxTripMinutes allows, so a demo left
# running shows the platform closing those trips (closedBy TIMEOUT) from its fifth minute on.
SHORT_TRIP_STORE = "demo-kiosk"
SHORT_TRIP_MINUTES = 5
# The campus store's retailer charges shoppers through its own payment system and reports each
# trip with the payment-status feedback; the platform lets go of its holds when a trip closes.
FEEDBACK_STORES = frozenset({"demo-campus"})


@dataclass
class DemoWorld:
    retailer_id: str
    retailer_key: str
    stores: list[str] = field(default_factory=list)
    gates: dict[str, tuple[str, str]] = field(default_factory=dict)  # lane name -> (gate id, key)
    card_gates: dict[str, tuple[str, str]] = field(default_factory=dict)  # store id -> its card lane
    exit_gates: dict[str, tuple[str, str]] = field(default_factory=dict)  # store id -> its exit
    palms: list[PalmEnrollee] = field(default_factory=list)  # enrolled at the kiosk (enroll_demo_palms)
    max_trip_minutes: dict[str, int] = field(default_factory=dict)  # store id -> its maxTripMinutes
    feedback_stores: frozenset[str] = FEEDBACK_STORES  # whose back office reports payments instead of capturing


# A store of every kind: one per risk strategy. Downtown also takes palms, QR codes and badges.
DEMO_STORES = (
    ("demo-downtown", "Demo Market Downtown", RiskStrategy.PLATFORM_MANAGED, FallbackDecision.DENY),
    ("demo-airport", "Demo Market Airport", RiskStrategy.PLATFORM_RECOMMENDATION, FallbackDecision.USE_RECOMMENDATION),
    ("demo-campus", "Demo Market Campus", RiskStrategy.RETAILER_MANAGED, FallbackDecision.DENY),
    ("demo-kiosk", "Demo Market Kiosk", RiskStrategy.NONE, FallbackDecision.DENY),
)


def create_demo_world(c: Container, *, identity: ConnectorConfig | None = None,
                      authorization: ConnectorConfig | None = None) -> DemoWorld:
    """The demo retailer and its stores.

    Downtown takes palms at its ``lane-palm`` gate (``enroll_demo_palms`` enrolls the people). With
    ``identity`` (the reference retailer) Downtown takes QR codes and badges too; with
    ``authorization`` the airport and campus stores ask the reference retailer about card holders.
    """
    operator = Principal(KeyKind.OPERATOR)
    retailer = c.admin.create_retailer(operator, name="Demo Market")
    c.admin.create_user(operator, retailer.id, email=DEMO_EMAIL, password=DEMO_PASSWORD)
    world = DemoWorld(retailer.id, retailer.api_key)
    for store_id, name, strategy, fallback in DEMO_STORES:
        if strategy in (RiskStrategy.PLATFORM_RECOMMENDATION, RiskStrategy.RETAILER_MANAGED) and authorization is None:
            strategy = RiskStrategy.PLATFORM_MANAGED
        store = StoreConfig(store_id=store_id, retailer_id=retailer.id, name=name, timezone="America/New_York",
                            currency="USD", authorized_amount=Money.of(25, "USD"),
                            entry_methods=frozenset({Channel.CREDIT_CARD}), risk_strategy=strategy,
                            fallback_decision=fallback, max_party_size=4, anti_passback=AntiPassback.SOFT,
                            country="US")
        if authorization is not None and strategy is not RiskStrategy.PLATFORM_MANAGED and \
                strategy is not RiskStrategy.NONE:
            store = store.with_changes(connectors={"shopperAuthorization": authorization})
        if store_id == SHORT_TRIP_STORE:
            store = store.with_changes(max_trip_minutes=SHORT_TRIP_MINUTES)
        if store_id in FEEDBACK_STORES:
            store = store.with_changes(preauth_release_hours=0)
        if store_id == "demo-downtown":
            store = store.with_changes(entry_methods=store.entry_methods | {Channel.PALM})
        if store_id == "demo-downtown" and identity is not None:
            store = store.with_changes(entry_methods=store.entry_methods | {Channel.QR_CODE, Channel.BADGE},
                                       badge_formats=DEMO_BADGE_FORMATS,
                                       connectors={**store.connectors, "identity": identity})
        c.admin.create_store(operator, store)
        world.stores.append(store_id)
        world.max_trip_minutes[store_id] = store.max_trip_minutes
        gate = c.admin.add_gate(operator, store_id, gate_id="lane-1", direction=GateDirection.ENTRY)
        world.card_gates[store_id] = (gate.id, gate.api_key)
        exit_gate = c.admin.add_gate(operator, store_id, gate_id="exit-1", direction=GateDirection.EXIT)
        world.exit_gates[store_id] = (exit_gate.id, exit_gate.api_key)
    world.gates["card"] = world.card_gates["demo-downtown"]
    world.gates["exit"] = world.exit_gates["demo-downtown"]
    palm_gate = c.admin.add_gate(operator, "demo-downtown", gate_id="lane-palm", direction=GateDirection.ENTRY)
    world.gates["palm"] = (palm_gate.id, palm_gate.api_key)
    if identity is not None:
        for lane, gate_id in (("qr", "lane-qr"), ("badge", "lane-badge")):
            created = c.admin.add_gate(operator, "demo-downtown", gate_id=gate_id, direction=GateDirection.ENTRY)
            world.gates[lane] = (created.id, created.api_key)
    return world


def enroll_demo_palms(c: Container, world: DemoWorld, rng: random.Random, *, palms: PalmPopulation,
                      count: int = 50) -> list[PalmEnrollee]:
    """Enroll ``count`` simulated people at the demo retailer's kiosk, each palm on a good test card."""
    kiosk = Principal(KeyKind.RETAILER, retailer_id=world.retailer_id)
    reads = np.random.default_rng(rng.randrange(2**32))
    for person in palm_enrollees(rng, palms, count=count):
        signature = palm_read(person.person, reads).credential()["signature"]
        t = person.card
        card = CardCredential(payment_token=t["paymentToken"], par=t["par"], brand=t["brand"], last4=t["last4"],
                              exp_month=t["expMonth"], exp_year=t["expYear"], funding=t["funding"],
                              issuer_country=t["issuerCountry"])
        c.palm.enroll(kiosk, signature=signature, card=card, consent=True)
        world.palms.append(person)
    return world.palms


# --- the reference retailer's people ----------------------------------------------------------

DEMO_BADGE_FORMATS = ("H10301", "C1K35", "CSN")


@dataclass
class RetailerPeople:
    """Who the demo's reference retailer knows: app users (QR codes) and badge holders."""

    shoppers: list[AppUser]
    associates: list[AppUser]
    badges: list[DemoBadge]


def create_retailer_people(repo: Any, rng: random.Random, *, shoppers: int = 60, associates: int = 6,
                           badge_holders: int = 24) -> RetailerPeople:
    """Register app users and badges with the reference retailer (its ``RetailerRepository``).

    Sixty app users: a QR code opens once per visitor and 20-second step, so a busy demo lane
    needs that many distinct people to show mostly fresh codes.
    """
    people = RetailerPeople([], [], [])
    for i in range(shoppers + associates):
        associate = i >= shoppers
        visitor = repo.add_visitor(f"{'assoc' if associate else 'app'}-{i:03d}",
                                   "ASSOCIATE" if associate else "SHOPPER")
        (people.associates if associate else people.shoppers).append(
            AppUser(visitor.visitor_id, visitor.qr_token, associate=associate))
    for i in range(badge_holders):
        associate = i % 4 == 0
        visitor_id = f"{'staff' if associate else 'member'}-{i:03d}"
        repo.add_visitor(visitor_id, "ASSOCIATE" if associate else "SHOPPER")
        kind = ("H10301", "C1K35", "CSN")[i % 3]
        if kind == "CSN":
            badge = DemoBadge("CSN", csn="04" + "".join(f"{rng.randrange(256):02X}" for _ in range(6)),
                              associate=associate)
            repo.add_badge(csn_badge(badge.csn).canonical, visitor_id)
        else:
            facility = rng.randrange(1, 200) if kind == "H10301" else rng.randrange(1, 4096)
            card = rng.randrange(1, 65536)
            badge = DemoBadge(kind, facility, card, associate=associate)
            repo.add_badge(badge_id(kind, facility, card).canonical, visitor_id)
        people.badges.append(badge)
    return people
