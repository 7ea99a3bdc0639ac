"""``InvestigationQueries`` and the export it feeds: the same answers on the fake, SQLite and PostgreSQL,
and an export that reads a page at a time as it is consumed."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from entrygate.adapters.db.investigation_queries import SqlInvestigationQueries
from entrygate.adapters.memory.investigation import MemoryInvestigationQueries
from entrygate.domain.decision_trace import ConnectorCall
from entrygate.domain.keys import KeyKind
from entrygate.services.auth import Principal
from entrygate.services.console.investigation import GateState, InvestigationService, gate_state
from entrygate.services.errors import NotFound
from entrygate.services.ports.investigation import DecisionCriteria
from support.contracts import T0, add_decisions, add_trips, decision, instrument, later, shop, trip
from support.factories import card

OPERATOR = Principal(KeyKind.OPERATOR)


class Clock:
    def __init__(self, now) -> None:  # noqa: ANN001
        self.at = now

    def now(self):  # noqa: ANN201
        return self.at


@pytest.fixture
def queries(storage, engine):
    return MemoryInvestigationQueries(storage) if engine is None else SqlInvestigationQueries(engine)


def service(storage, queries, *, page: int = 500, now=T0) -> InvestigationService:  # noqa: ANN001
    return InvestigationService(uow=storage, queries=queries, clock=Clock(now), export_page=page)


def test_search_by_visitor_last4_trip_reason_and_dates(storage, queries):
    where, elsewhere = shop(storage), shop(storage)
    visa = instrument(storage, card(last4="1896"))
    by_card = decision(where, instrument_id=visa, visitor_id=visa, decided_at=later(10), trip_id="trip_a")
    by_qr = decision(where, channel="QR_CODE", visitor_id="member-7", decided_at=later(20))
    denied = decision(where, outcome="DENY", reasons=["PREAUTH_DECLINED"], visitor_id="member-7", decided_at=later(30))
    add_decisions(storage, by_card, by_qr, denied, decision(elsewhere, visitor_id="member-7"))
    s = service(storage, queries)

    def found(**c) -> list[str]:  # noqa: ANN003
        return [r.event_id for r in s.search(OPERATOR, where.store_id, DecisionCriteria(**c))]

    assert found() == [denied.event_id, by_qr.event_id, by_card.event_id]
    assert found(visitor_id="member-7") == [denied.event_id, by_qr.event_id]
    assert found(visitor_id=visa) == [by_card.event_id]
    assert found(last4="1896") == [by_card.event_id]
    assert found(trip_id="trip_a") == [by_card.event_id]
    assert found(reason="PREAUTH_DECLINED") == [denied.event_id]
    assert found(since=later(15), until=later(30)) == [by_qr.event_id]
    newest = s.search(OPERATOR, where.store_id, DecisionCriteria())[0]
    assert [r.event_id for r in s.search(OPERATOR, where.store_id, DecisionCriteria(), before_id=newest.decision_id)] \
        == [by_qr.event_id, by_card.event_id]
    row = s.search(OPERATOR, where.store_id, DecisionCriteria(last4="1896"))[0]
    assert (row.brand, row.last4) == ("VISA", "1896")


def test_a_decision_in_full_with_what_the_gate_sent_and_each_call(storage, queries):
    where = shop(storage)
    calls = (ConnectorCall("shopperAuthorization", "timeout", 801.5, None), ConnectorCall("processor", "OK", 3.2))
    sent = {"eventId": "e", "channel": "CREDIT_CARD", "credential": {"brand": "VISA", "last4": "4242"}}
    add_decisions(storage, decision(where, gate_request=sent, connector_calls=calls, risk_score=42, risk_level="MEDIUM"))
    s = service(storage, queries)
    (row,) = s.search(OPERATOR, where.store_id, DecisionCriteria())
    detail = s.decision(OPERATOR, where.store_id, row.decision_id)
    assert detail.record.gate_request == sent and detail.record.connector_calls == calls
    assert detail.row.risk_score == 42 and detail.row.decision_id == row.decision_id
    with pytest.raises(NotFound):
        s.decision(OPERATOR, shop(storage).store_id, row.decision_id)  # another store's number is not found there
    with pytest.raises(NotFound):
        s.decision(Principal(KeyKind.RETAILER, retailer_id="someone-else"), where.store_id, row.decision_id)


def test_exports_read_one_page_at_a_time_as_they_are_consumed(storage, queries, engine):
    where = shop(storage)
    records = [decision(where, decided_at=later(i)) for i in range(25)]
    add_decisions(storage, *records)
    add_trips(storage, *[trip(where, entered_at=later(i)) for i in range(7)])
    selects: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        if statement.lstrip().upper().startswith("SELECT") and "decisions" in statement:
            selects.append(statement)

    if engine is not None:
        event.listen(engine, "before_cursor_execute", count)
    try:
        rows = service(storage, queries, page=10).export_decisions(OPERATOR, where.store_id, DecisionCriteria())
        first = next(rows)
        if engine is not None:
            assert len(selects) == 1, "the export read more than its first page before the first row"
        rest = list(rows)
        if engine is not None:
            assert len(selects) == 4  # pages of 10, 10, 5, then the empty one that ends it
            assert all("LIMIT" in s.upper() for s in selects)
    finally:
        if engine is not None:
            event.remove(engine, "before_cursor_execute", count)
    assert [r.event_id for r in [first, *rest]] == [r.event_id for r in records]
    trips = list(service(storage, queries, page=3).export_trips(OPERATOR, where.store_id, since=later(2),
                                                                  until=later(6)))
    assert [t.entered_at for t in trips] == [later(i) for i in range(2, 6)]


def test_a_gate_that_stopped_sending_is_silent(storage, queries):
    where = shop(storage)
    now = T0 + timedelta(hours=2)
    add_decisions(storage, decision(where, decided_at=now - timedelta(minutes=25)),
                  decision(where, decided_at=now - timedelta(minutes=40)))
    statuses = {g.gate_id: g for g in service(storage, queries, now=now).gate_statuses(OPERATOR, where.store_id)}
    assert statuses["lane-1"].state is GateState.SILENT and statuses["lane-1"].in_window == 2
    assert statuses["exit-1"].state is GateState.IDLE and statuses["exit-1"].last_at is None
    assert gate_state(now - timedelta(minutes=9), now=now) is GateState.SENDING
    assert gate_state(now - timedelta(minutes=61), now=now) is GateState.IDLE
