"""``DecisionRepository`` and ``ExitRepository``: one record per gate and event id, read back by event."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from entrygate.services.ports.storage import DuplicateEvent
from support.contracts import add_decisions, exit_record, later, shop
from support.contracts import decision as record


@pytest.fixture
def port(storage):
    return storage, shop(storage)


def test_a_decision_reads_back_by_its_gate_and_event_id(port):
    uow, where = port
    d = record(where, outcome="DENY", reasons=["CARD_DECLINED", "FALLBACK_APPLIED"], decided_by="FALLBACK",
               risk_score=71, risk_level="HIGH", authorized_amount=Decimal("40.25"), latency_ms=12.5,
               trip_id="trip_x", instrument_id="ins_x", preauth_id="pa_1", event_time=later(-1))
    add_decisions(uow, d)
    with uow() as u:
        assert u.decisions.get_by_event(where.gate.gate_pk, d.event_id) == d
        assert u.decisions.get_by_event(where.exit_gate.gate_pk, d.event_id) is None
        assert u.decisions.get_by_event(where.gate.gate_pk, "event-unknown") is None


def test_an_event_id_is_decided_once_per_gate(port):
    uow, where = port
    d = record(where)
    add_decisions(uow, d)
    with pytest.raises(DuplicateEvent), uow(write=True) as u:
        u.decisions.add(replace(d, outcome="DENY"))
        u.commit()
    other_gate = replace(d, gate_pk=where.exit_gate.gate_pk, gate_id="exit-1")
    add_decisions(uow, other_gate)  # the same event id at another gate is another event
    with uow() as u:
        assert u.decisions.get_by_event(where.gate.gate_pk, d.event_id).outcome == "OPEN"


def test_a_duplicate_committed_meanwhile_fails_the_later_commit(port):
    uow, where = port
    d = record(where)
    with uow(write=True) as first:
        first.decisions.add(d)
        first.commit()
    with pytest.raises(DuplicateEvent), uow(write=True) as second:
        second.decisions.add(replace(d, request_hash="other"))
        second.commit()
    with uow() as u:
        assert u.decisions.get_by_event(where.gate.gate_pk, d.event_id).request_hash == "h"


def test_decisions_are_listed_newest_first_or_since_a_moment_oldest_first(port):
    uow, where = port
    records = [record(where, decided_at=later(i)) for i in range(4)]
    tie = record(where, decided_at=later(3))  # stored after records[3], at the same instant
    add_decisions(uow, *records, tie, record(shop(uow), decided_at=later(2)))
    with uow() as u:
        newest = [r.event_id for r in u.decisions.list(where.store_id)]
        since = [r.event_id for r in u.decisions.list(where.store_id, since=later(1))]
        assert [r.event_id for r in u.decisions.list(where.store_id, limit=2)] == newest[:2]
    assert newest == [tie.event_id] + [r.event_id for r in reversed(records)]
    assert since == [records[2].event_id, records[3].event_id, tie.event_id]


def test_an_exit_reads_back_by_its_gate_and_event_id_and_is_recorded_once(port):
    uow, where = port
    e = exit_record(where, trip_id="trip_x", result="CLOSED", decided_at=later(60))
    with uow(write=True) as u:
        u.exits.add(e)
        u.commit()
    with uow() as u:
        assert u.exits.get_by_event(where.exit_gate.gate_pk, e.event_id) == e
        assert u.exits.get_by_event(where.gate.gate_pk, e.event_id) is None
    with pytest.raises(DuplicateEvent), uow(write=True) as u:
        u.exits.add(replace(e, result="ALREADY_CLOSED"))
        u.commit()
