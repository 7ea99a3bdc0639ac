"""A race loser's hold that the gate could not release is released by a later sweep, once (DESIGN 10).

Runs on the in-memory ports and on SQLite and PostgreSQL; ``MeetingLog`` makes the two taps race.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from entrygate.adapters.clock import FixedClock
from entrygate.adapters.db.engine import make_engine
from entrygate.adapters.db.payments import SqlPaymentsUnitOfWorkFactory
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.adapters.memory.payments import MemoryPayments
from entrygate.adapters.memory.processor import ScriptedProcessor
from entrygate.adapters.memory.storage import MemoryStore
from entrygate.services.gate.decision_log import DirectDecisionLog
from entrygate.services.payments.holds import HoldService
from entrygate.services.payments.sweeps import TripSweeper
from support.databases import drop_database, fresh_database
from support.factories import NOW, card, event
from support.passback import GATES, MeetingLog, at_once, race_world, release_fails


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def stores(request, tmp_path):  # noqa: ANN001, ANN201 - (gate storage, payments storage) on one backend
    if request.param == "memory":
        gate = MemoryStore()
        yield gate, MemoryPayments(gate)
        return
    url = fresh_database(request.param, tmp_path, name="t")
    engine = make_engine(url)
    uow = SqlUnitOfWorkFactory(engine)
    yield uow, SqlPaymentsUnitOfWorkFactory(uow)
    engine.dispose()
    drop_database(url)


def race(stores, processor: ScriptedProcessor):  # noqa: ANN001, ANN201
    """Two taps of one card at two gates at once; the world and the loser's stored hold id."""
    uow, payments = stores
    w = race_world(uow, lambda u: MeetingLog(DirectDecisionLog(u), 2), processor=processor, payments=payments)
    c = card()
    answers = at_once([lambda g=g: w.admit(g, event(c)) for g in GATES])
    [lost] = [a for a in answers if a["decision"] == "DENY"]
    with uow() as u:
        stored = u.decisions.get_by_event(w.gates[GATES[answers.index(lost)]].gate_pk, lost["eventId"])
    assert stored.preauth_id is not None
    return w, stored


def sweeper(stores, processor: ScriptedProcessor, after: timedelta) -> TripSweeper:  # noqa: ANN001
    _, payments = stores
    clock = FixedClock(NOW + after)
    return TripSweeper(payments, HoldService(payments, processor, clock), clock, processor=processor)


def test_a_hold_the_gate_could_not_release_is_released_by_a_later_sweep_exactly_once(stores):
    processor = release_fails()
    _, stored = race(stores, processor)
    assert processor.inner.released == {}  # the gate's release did not get through
    processor.down.discard("release")
    assert sweeper(stores, processor, timedelta(seconds=30)).sweep().orphans_released == 0  # the gate's turn still
    report = sweeper(stores, processor, timedelta(seconds=61)).sweep()
    assert (report.orphans_released, report.deferred) == (1, 0)
    assert set(processor.inner.released) == {stored.preauth_id}
    key = f"{stored.gate_pk}:{stored.event_id}:release"
    assert processor.keys("release") == {key: 2}  # the gate's failed try and the sweep's, under one key
    assert sweeper(stores, processor, timedelta(minutes=5)).sweep().orphans_released == 0
    assert processor.keys("release") == {key: 2}


def test_a_sweep_that_cannot_release_defers_and_the_next_one_releases(stores):
    processor = release_fails()
    _, stored = race(stores, processor)
    report = sweeper(stores, processor, timedelta(seconds=61)).sweep()
    assert (report.orphans_released, report.deferred) == (0, 1)
    processor.down.discard("release")
    assert sweeper(stores, processor, timedelta(seconds=120)).sweep().orphans_released == 1
    assert set(processor.inner.released) == {stored.preauth_id}


def test_a_hold_the_gate_released_is_noted_and_never_released_again(stores):
    processor = ScriptedProcessor()
    _, stored = race(stores, processor)
    assert set(processor.inner.released) == {stored.preauth_id}
    assert sweeper(stores, processor, timedelta(minutes=5)).sweep().orphans_released == 0
    assert sum(processor.keys("release").values()) == 1
