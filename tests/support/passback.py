"""A HARD anti-passback store with two entry gates, and taps that are made to meet.

``MeetingLog`` holds every decision write until all the taps have reached theirs, so each tap has
read the visitor's open trip (and found none) before any of them writes: the race the database
must settle, every time, with no sleeps.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from entrygate.adapters.clock import FixedClock
from entrygate.adapters.memory.connectors import ScriptedIdentity
from entrygate.adapters.memory.processor import ScriptedProcessor
from entrygate.adapters.processors.sandbox import SandboxProcessor
from entrygate.domain.channels import AntiPassback, Channel, GateDirection, VisitorType
from entrygate.domain.decision import EntryEvent, Visitor
from entrygate.domain.keys import KeyKind
from entrygate.domain.store import ConnectorConfig
from entrygate.services.admin.service import AdminService
from entrygate.services.auth import Principal
from entrygate.services.catalog import Catalog
from entrygate.services.gate.admit import EntryService
from entrygate.services.gate.card import CardHandler
from entrygate.services.gate.exits import ExitService
from entrygate.services.gate.qr_badge import BadgeHandler, QrHandler
from entrygate.services.ports.decisions import DecisionLog, DecisionWrite
from entrygate.services.ports.payments import PaymentsUnitOfWorkFactory
from entrygate.services.ports.storage import UnitOfWorkFactory
from entrygate.wire.decisions import decision_answer
from support.factories import NOW, OPERATOR, SECRET, PlainPasswords, store_config

GATES = ("lane-1", "lane-2")


class MeetingLog:
    """Passes writes on to ``inner`` once ``parties`` of them are waiting (then freely)."""

    def __init__(self, inner: DecisionLog, parties: int) -> None:
        self.inner = inner
        self._meeting = threading.Barrier(parties)

    def write(self, item: DecisionWrite):  # noqa: ANN201 - DecisionRecord
        try:
            self._meeting.wait(10)
        except threading.BrokenBarrierError:
            pass  # a retry after the meeting: nothing to wait for
        return self.inner.write(item)


def release_fails() -> ScriptedProcessor:
    """A processor whose releases never get through."""
    processor = ScriptedProcessor()
    processor.down.add("release")
    return processor


def shopper(visitor_id: str) -> Visitor:
    return Visitor(visitor_id, VisitorType.SHOPPER)


@dataclass
class RaceWorld:
    uow: UnitOfWorkFactory
    entries: EntryService
    exits: ExitService
    processor: SandboxProcessor | ScriptedProcessor
    store_id: str
    gates: dict[str, Principal] = field(default_factory=dict)
    exit_gates: dict[str, Principal] = field(default_factory=dict)

    def admit(self, gate_id: str, ev: EntryEvent) -> dict[str, Any]:
        return decision_answer(self.entries.admit(self.gates[gate_id], gate_id, ev))


def race_world(uow: UnitOfWorkFactory, log: Callable[[UnitOfWorkFactory], DecisionLog] | DecisionLog, *,
               anti_passback: AntiPassback = AntiPassback.HARD,
               processor: SandboxProcessor | ScriptedProcessor | None = None,
               identity: ScriptedIdentity | None = None,
               payments: PaymentsUnitOfWorkFactory | None = None) -> RaceWorld:
    """One store with entry gates ``lane-1`` and ``lane-2`` and exit gates ``exit-1`` and ``exit-2``."""
    clock = FixedClock(NOW)
    catalog = Catalog(uow, ttl_s=0)
    admin = AdminService(uow, clock, catalog, PlainPasswords())
    retailer = admin.create_retailer(OPERATOR, name="R")
    store = admin.create_store(OPERATOR, store_config(
        retailer.id, anti_passback=anti_passback, max_party_size=4,
        entry_methods=frozenset({Channel.CREDIT_CARD, Channel.QR_CODE, Channel.BADGE}),
        badge_formats=("H10301", "CSN"),
        connectors={"identity": ConnectorConfig("https://retailer.test", "whsec_" + "A" * 44)}))
    handlers = {Channel.CREDIT_CARD: CardHandler(secret=SECRET)}
    if identity is not None:
        handlers |= {Channel.QR_CODE: QrHandler(identity=identity), Channel.BADGE: BadgeHandler(identity=identity)}
    processor = processor or SandboxProcessor(timeout_s=0.01)
    entries = EntryService(uow=uow, catalog=catalog, clock=clock, processor=processor, handlers=handlers,
                           decision_log=log if not callable(log) else log(uow), payments=payments)
    world = RaceWorld(uow=uow, entries=entries, exits=ExitService(uow=uow, catalog=catalog, clock=clock,
                                                                     handlers=handlers),
                      processor=processor, store_id=store.store_id)
    for gate_id, direction in [(g, GateDirection.ENTRY) for g in GATES] + [("exit-1", GateDirection.EXIT),
                                                                            ("exit-2", GateDirection.EXIT)]:
        admin.add_gate(OPERATOR, store.store_id, gate_id=gate_id, direction=direction)
        with uow() as u:
            principal = Principal(KeyKind.GATE, gate_pk=u.gates.find(store.store_id, gate_id).gate_pk)
        (world.gates if direction is GateDirection.ENTRY else world.exit_gates)[gate_id] = principal
    return world


def at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run every call in its own thread, all released together; their results in order."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        start.wait(10)
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        futures = [pool.submit(run, c) for c in calls]
        return [f.result(timeout=30) for f in futures]


def codes(answer: dict[str, Any]) -> list[str]:
    return [r["code"] for r in answer["reasons"]]
