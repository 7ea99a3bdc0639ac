"""HARD anti-passback races settled by the database, on SQLite (group commit) and PostgreSQL.

The entry service runs in this process over the real database, with the decision log each
database gets in production; ``MeetingLog`` makes every tap read the open trip before any writes.
"""
from __future__ import annotations

from collections import Counter
from concurrent.futures import Future

import pytest
from sqlalchemy import func, select

from entrygate.adapters.db import tables as t
from entrygate.adapters.db.engine import make_engine
from entrygate.adapters.db.group_commit import GroupCommitLog
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.adapters.memory.connectors import ScriptedIdentity
from entrygate.domain.channels import Channel, TripStatus
from entrygate.domain.credentials import BadgeRead, QrScan
from entrygate.domain.records import DecisionRecord, Trip
from entrygate.services.gate.decision_log import DirectDecisionLog
from entrygate.services.ports.decisions import DecisionWrite
from support.factories import NOW, card, event
from support.passback import GATES, MeetingLog, at_once, codes, race_world, shopper

QR = "EG1.alice.89790290.C2M2XMFc3CqKV7PCrWz0WQ"


@pytest.fixture
def sql(db_url):
    engine = make_engine(db_url)
    uow = SqlUnitOfWorkFactory(engine)
    logs: list[GroupCommitLog] = []

    def production_log(u):  # noqa: ANN001, ANN202 - as bootstrap chooses it
        if engine.dialect.name != "sqlite":
            return DirectDecisionLog(u)
        logs.append(GroupCommitLog(u))
        return logs[-1]

    yield uow, production_log
    for log in logs:
        log.close()
    engine.dispose()


def open_trips_per_visitor(uow, store_id: str) -> Counter:  # noqa: ANN001
    c = t.shopping_trips.c
    with uow() as u:
        rows = u.conn.execute(select(c.visitor_id, func.count()).where(c.store_id == store_id, c.status == "OPEN")
                              .group_by(c.visitor_id))
        return Counter({visitor: n for visitor, n in rows})


def test_cards_at_two_gates_at_once_open_once_each(sql):
    uow, production_log = sql
    cards = [card() for _ in range(10)]
    w = race_world(uow, lambda u: MeetingLog(production_log(u), 2 * len(cards)))
    answers = at_once([lambda c=c, g=g: w.admit(g, event(c)) for c in cards for g in GATES])
    per_visitor = Counter((a["visitor"]["id"], a["decision"]) for a in answers)
    assert set(per_visitor.values()) == {1} and len(per_visitor) == 2 * len(cards)
    assert all(codes(a) == ["ALREADY_INSIDE"] and a["shoppingTripId"] is None
               for a in answers if a["decision"] == "DENY")
    assert set(open_trips_per_visitor(uow, w.store_id).values()) == {1}
    with uow() as u:
        denied = [d for d in u.decisions.list(w.store_id) if d.outcome == "DENY"]
        kept = {tr.preauth_id for tr in u.trips.list(w.store_id, status="OPEN")}
    assert len(denied) == len(cards)
    assert {d.preauth_id for d in denied} == set(w.processor.released)  # every loser's hold, and only those
    assert not kept & set(w.processor.released)


def test_qr_and_badge_shoppers_at_two_gates_at_once_get_in_once(sql):
    uow, production_log = sql
    identity = ScriptedIdentity({QR.encode(): shopper("v-alice"), b"CSN:04A1B2C3D4E5F6": shopper("v-bob")})
    w = race_world(uow, lambda u: MeetingLog(production_log(u), 4), identity=identity)
    qr = lambda: event(QrScan(QR), channel=Channel.QR_CODE)  # noqa: E731
    badge = lambda: event(BadgeRead(csn="04A1B2C3D4E5F6"), channel=Channel.BADGE)  # noqa: E731
    answers = at_once([lambda g=g, make=make: w.admit(g, make()) for make in (qr, badge) for g in GATES])
    assert Counter((a["visitor"]["id"], a["decision"]) for a in answers) == Counter(
        {("v-alice", "OPEN"): 1, ("v-alice", "DENY"): 1, ("v-bob", "OPEN"): 1, ("v-bob", "DENY"): 1})
    assert open_trips_per_visitor(uow, w.store_id) == Counter({"v-alice": 1, "v-bob": 1})


def test_two_taps_in_one_group_commit_are_settled_in_its_transaction(sql):
    uow, production_log = sql
    if uow.engine.dialect.name != "sqlite":
        pytest.skip("group commit is SQLite's")
    w = race_world(uow, production_log)
    log = GroupCommitLog(uow)
    try:
        with uow() as u:
            gates = [u.gates.find(w.store_id, g) for g in GATES]
        writes = [_open_write(w.store_id, gate, "v-carol", f"pa_{i}") for i, gate in enumerate(gates)]
        futures: list[Future] = [Future(), Future()]
        log._commit(list(zip(writes, futures)))  # one batch, one transaction
        stored = [f.result(timeout=5) for f in futures]
    finally:
        log.close()
    assert [d.outcome for d in stored] == ["OPEN", "DENY"]
    assert stored[1].reasons == ["ALREADY_INSIDE"] and stored[1].preauth_id == "pa_1"
    assert open_trips_per_visitor(uow, w.store_id) == Counter({"v-carol": 1})
    with uow() as u:
        assert u.decisions.get_by_event(gates[1].gate_pk, "ev-1").outcome == "DENY"


def _open_write(store_id: str, gate, visitor: str, preauth_id: str) -> DecisionWrite:  # noqa: ANN001
    event_id = f"ev-{preauth_id[-1]}"
    record = DecisionRecord(
        gate_pk=gate.gate_pk, gate_id=gate.gate_id, store_id=store_id, event_id=event_id, request_hash="h",
        channel="BADGE", outcome="OPEN", reasons=[], decided_by="RETAILER", visitor_id=visitor,
        visitor_type="SHOPPER", instrument_id=None, trip_id=f"trip_{event_id}", party_size=1, risk_score=None,
        risk_level=None, authorized_amount=None, currency=None, latency_ms=1.0,
        event_time=NOW, decided_at=NOW, preauth_id=preauth_id)
    denial = DecisionRecord(**{**{f: getattr(record, f) for f in record.__dataclass_fields__},
                               "outcome": "DENY", "reasons": ["ALREADY_INSIDE"], "trip_id": None})
    trip = Trip(trip_id=f"trip_{event_id}", store_id=store_id, entry_gate_id=gate.gate_id, channel="BADGE",
                visitor_id=visitor, instrument_id=None, party_size=1, status=TripStatus.OPEN, entered_at=NOW,
                currency="USD", preauth_id=preauth_id, passback_key=visitor)
    return DecisionWrite(record=record, trip=trip, passback_denial=denial)
