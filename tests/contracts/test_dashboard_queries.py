"""``DashboardQueries``: what the console reads of recorded decisions, exits and trips."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from entrygate.adapters.db.dashboard_queries import SqlDashboardQueries
from entrygate.adapters.db.payments import SqlPaymentsUnitOfWorkFactory
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.adapters.memory.dashboard import MemoryDashboardQueries
from entrygate.adapters.memory.payments import MemoryPayments
from entrygate.domain.holds import Hold, HoldStatus
from entrygate.domain.money import Money
from entrygate.services.ports.console import ConnectorCalls, LiveFilter
from entrygate.services.ports.payments import HoldAnswer
from support.contracts import T0, add_decisions, add_trips, decision, exit_record, instrument, later, shop, trip
from support.factories import card
from support.payments_storage import intent

EVERYTHING = LiveFilter()


@pytest.fixture
def port(storage, engine):
    """(the queries, the storage they read, a store with its gates)."""
    queries = MemoryDashboardQueries(storage) if engine is None else SqlDashboardQueries(engine)
    return queries, storage, shop(storage)


def test_decisions_are_counted_per_minute_and_outcome_from_the_window_on(port):
    q, uow, where = port
    add_decisions(uow, decision(where, decided_at=later(-10)),  # before the window
                  decision(where, decided_at=later(0)), decision(where, decided_at=later(40)),
                  decision(where, outcome="DENY", decided_at=later(50)), decision(where, decided_at=later(70)),
                  decision(shop(uow), decided_at=later(10)))  # another store
    minute = T0.replace(second=0)
    assert sorted(q.decisions_per_minute(where.store_id, since=T0)) == [
        (minute, "DENY", 1), (minute, "OPEN", 2), (minute + timedelta(minutes=1), "OPEN", 1)]
    assert q.decisions_per_minute(where.store_id, since=later(3600)) == []


def test_reasons_are_counted_over_the_decisions_of_one_outcome(port):
    q, uow, where = port
    add_decisions(uow, decision(where, outcome="DENY", reasons=["CARD_DECLINED"]),
                  decision(where, outcome="DENY", reasons=["CARD_DECLINED", "FALLBACK_APPLIED"]),
                  decision(where, outcome="OPEN", reasons=["FALLBACK_APPLIED"]),
                  decision(where, outcome="DENY", reasons=["PARTY_TOO_LARGE"], decided_at=later(-60)))
    assert q.reason_counts(where.store_id, since=T0, outcome="DENY") == {"CARD_DECLINED": 2, "FALLBACK_APPLIED": 1}
    assert q.reason_counts(where.store_id, since=T0, outcome="OPEN") == {"FALLBACK_APPLIED": 1}


def test_risk_scores_are_counted_in_buckets(port):
    q, uow, where = port
    add_decisions(uow, *[decision(where, risk_score=s) for s in (3, 15, 17, 99, 100)], decision(where))
    assert sorted(q.risk_histogram(where.store_id, since=T0, bucket=10)) == [(0, 1), (10, 2), (90, 1), (100, 1)]


def test_latency_percentiles_are_nearest_rank(port):
    q, uow, where = port
    assert q.latency_percentiles(where.store_id, since=T0, percentiles=(50, 99)) == (0, {}, None)
    add_decisions(uow, *[decision(where, latency_ms=float(ms)) for ms in (7, 1, 9, 3, 10, 2, 8, 5, 4, 6)],
                  decision(where, latency_ms=500.0, decided_at=later(-1)))
    assert q.latency_percentiles(where.store_id, since=T0, percentiles=(50, 90, 95, 99)) == (
        10, {50: 5.0, 90: 9.0, 95: 10.0, 99: 10.0}, 10.0)


def test_connector_calls_and_failures_are_read_from_the_decisions(port):
    q, uow, where = port
    add_decisions(
        uow,
        decision(where, channel="QR_CODE", decided_by="RETAILER"),  # identity asked, answered
        decision(where, channel="BADGE", outcome="DENY", decided_by="FALLBACK", reasons=["CONNECTOR_UNAVAILABLE"]),
        decision(where, channel="QR_CODE", outcome="DENY", reasons=["QR_PATTERN_MISMATCH"]),  # never asked
        decision(where, channel="CREDIT_CARD", decided_by="RETAILER"),  # authorization answered
        decision(where, channel="PALM", decided_by="FALLBACK", reasons=["FALLBACK_APPLIED"]),  # failed, fallback
        decision(where, channel="CREDIT_CARD", outcome="DENY", reasons=["CONNECTOR_UNAVAILABLE"]),
        decision(where, channel="CREDIT_CARD", decided_by="PLATFORM"))  # the platform decided: no call
    assert q.connector_calls(where.store_id, since=T0) == [ConnectorCalls("identity", 2, 1),
                                                           ConnectorCalls("shopperAuthorization", 3, 2)]
    assert q.connector_calls(where.store_id, since=later(60)) == [ConnectorCalls("identity", 0, 0),
                                                                  ConnectorCalls("shopperAuthorization", 0, 0)]


def test_the_live_view_is_newest_first_filtered_and_follows_on_from_a_decision(port):
    q, uow, where = port
    records = [decision(where, decided_at=later(i), channel="QR_CODE" if i % 2 else "CREDIT_CARD",
                        outcome="DENY" if i == 3 else "OPEN") for i in range(6)]
    add_decisions(uow, *records, decision(shop(uow)))
    rows = q.live(where.store_id, filters=EVERYTHING, after_id=None, recent_since=None, limit=100)
    assert [r.event_id for r in rows] == [r.event_id for r in reversed(records)]
    assert all(a.decision_id > b.decision_id for a, b in zip(rows, rows[1:]))
    assert rows[-1].reasons == () and rows[-1].latency_ms == 1.5 and rows[-1].decided_at == later(0)
    assert [r.event_id for r in q.live(where.store_id, filters=EVERYTHING, after_id=None, recent_since=None,
                                       limit=2)] == [records[5].event_id, records[4].event_id]
    qr = q.live(where.store_id, filters=LiveFilter(channel="QR_CODE"), after_id=None, recent_since=None, limit=100)
    assert [r.event_id for r in qr] == [records[i].event_id for i in (5, 3, 1)]
    denied = q.live(where.store_id, filters=LiveFilter(outcome="DENY", gate_id="lane-1"), after_id=None,
                    recent_since=None, limit=100)
    assert [r.event_id for r in denied] == [records[3].event_id]
    assert q.live(where.store_id, filters=LiveFilter(gate_id="lane-9"), after_id=None, recent_since=None,
                  limit=100) == []
    since_third = q.live(where.store_id, filters=EVERYTHING, after_id=rows[3].decision_id, recent_since=None,
                         limit=100)
    assert [r.event_id for r in since_third] == [records[i].event_id for i in (5, 4, 3)]
    overlap = q.live(where.store_id, filters=EVERYTHING, after_id=rows[0].decision_id, recent_since=later(4),
                     limit=100)  # nothing newer, but the recent ones are read again
    assert [r.event_id for r in overlap] == [records[5].event_id, records[4].event_id]


def test_a_decision_is_found_by_its_store_and_event_id_newest_first(port):
    q, uow, where = port
    first = decision(where, event_id="evt-1")
    again_at_exit_gate = decision(where, event_id="evt-1", gate_pk=where.exit_gate.gate_pk, gate_id="exit-1",
                                  outcome="DENY")
    elsewhere = decision(shop(uow), event_id="evt-2")
    add_decisions(uow, first, again_at_exit_gate, elsewhere)
    found = q.decision_by_event(where.store_id, "evt-1")
    assert (found.event_id, found.gate_id, found.outcome) == ("evt-1", "exit-1", "DENY")
    assert q.decision_by_event(where.store_id, "evt-2") is None


def test_a_trips_decisions_and_exits_are_read_in_the_order_they_happened(port):
    q, uow, where = port
    entries = [decision(where, trip_id="trip_a", decided_at=later(i)) for i in range(3)]
    add_decisions(uow, entries[0], decision(where, trip_id="trip_b"), entries[1], entries[2])
    exits = [exit_record(where, trip_id="trip_a", result="CLOSED", decided_at=later(60)),
             exit_record(where, trip_id="trip_a", result="ALREADY_CLOSED", decided_at=later(90))]
    with uow(write=True) as u:
        for e in exits:
            u.exits.add(e)
        u.exits.add(exit_record(where, trip_id="trip_b"))
        u.commit()
    assert [r.event_id for r in q.trip_decisions("trip_a")] == [e.event_id for e in entries]
    rows = q.trip_exits("trip_a")
    assert [(r.event_id, r.decided_at, r.result) for r in rows] == [
        (exits[0].event_id, later(60), "CLOSED"), (exits[1].event_id, later(90), "ALREADY_CLOSED")]
    assert rows[1].message == "The trip was already closed; nothing changed."
    assert q.trip_decisions("trip_none") == [] and q.trip_exits("trip_none") == []


def test_outstanding_balances_are_grouped_by_card_and_currency_largest_first(port):
    q, uow, where = port
    visa = instrument(uow, card(brand="VISA", last4="4242"))
    master = instrument(uow, card(brand="MASTERCARD", last4="4444"))
    trips = {
        "visa_1": trip(where, instrument_id=visa, visitor_id="v-visa"),
        "visa_2": trip(where, instrument_id=visa, visitor_id="v-visa"),
        "visa_eur": trip(where, instrument_id=visa, visitor_id="v-visa", currency="EUR"),
        "master": trip(where, instrument_id=master, visitor_id="v-master"),
        "paid": trip(where, instrument_id=master, visitor_id="v-master"),
        "badge": trip(where, visitor_id="v-badge", channel="BADGE"),
        "elsewhere": trip(shop(uow), instrument_id=visa),
        "unreported": trip(where, instrument_id=visa),
    }
    add_trips(uow, *trips.values())
    reports = {"visa_1": ("10", "0", 10), "visa_2": ("8.50", "2", 20), "visa_eur": ("4", "0", 5),
               "master": ("30", "5", 15), "paid": ("9", "9", 15), "badge": ("3", "0", 30), "elsewhere": ("99", "0", 1)}
    with uow(write=True) as u:
        for name, (total, settled, seconds) in reports.items():
            u.trips.report_payment(trips[name].trip_id, total=Decimal(total), settled=Decimal(settled),
                                   status_time=later(seconds), at=later(seconds))
        u.commit()
    balances = q.outstanding_balances(where.store_id, limit=10)
    assert [(b.instrument_id, b.visitor_id, b.brand, b.last4, b.currency, b.amount, b.trips, b.last_reported_at)
            for b in balances] == [
        (master, "v-master", "MASTERCARD", "4444", "USD", Decimal("25"), 1, later(15)),
        (visa, "v-visa", "VISA", "4242", "USD", Decimal("16.50"), 2, later(20)),
        (visa, "v-visa", "VISA", "4242", "EUR", Decimal("4"), 1, later(5)),
        ("v-badge", "v-badge", None, None, "USD", Decimal("3"), 1, later(30)),
    ]
    assert [b.amount for b in q.outstanding_balances(where.store_id, limit=2)] == [Decimal("25"), Decimal("16.50")]


def test_outstanding_balances_count_every_store_of_the_retailer_and_no_other(port):
    q, uow, where = port
    sister = shop(uow, retailer_id=where.retailer_id)  # another store of the same retailer
    visa = instrument(uow, card(brand="VISA", last4="4242"))
    trips = {"here": trip(where, instrument_id=visa, visitor_id="v-visa"),
             "sister": trip(sister, instrument_id=visa, visitor_id="v-visa"),
             "sister_only": trip(sister, visitor_id="v-qr", channel="QR_CODE"),
             "other_retailer": trip(shop(uow), instrument_id=visa, visitor_id="v-visa")}
    add_trips(uow, *trips.values())
    with uow(write=True) as u:
        for name, (total, settled) in {"here": ("10", "4"), "sister": ("8.50", "0"), "sister_only": ("2", "0"),
                                       "other_retailer": ("99", "0")}.items():
            u.trips.report_payment(trips[name].trip_id, total=Decimal(total), settled=Decimal(settled),
                                   status_time=later(5), at=later(5))
        u.commit()
    here = q.outstanding_balances(where.store_id, limit=10)
    assert [(b.instrument_id, b.amount, b.trips, b.at_store) for b in here] == [
        (visa, Decimal("14.50"), 2, Decimal("6")), ("v-qr", Decimal("2"), 1, Decimal("0"))]
    # The sister store sees the same debts: one retailer, one balance.
    assert [(b.instrument_id, b.amount, b.at_store) for b in q.outstanding_balances(sister.store_id, limit=10)] == [
        (visa, Decimal("14.50"), Decimal("8.50")), ("v-qr", Decimal("2"), Decimal("2"))]
    assert q.outstanding_balances("store_nope", limit=10) == []


def test_hold_statuses_are_those_of_the_stored_holds(storage, engine):
    where = shop(storage)
    captured, released, untouched = (trip(where, preauth_id=f"pa_{i}") for i in range(3))
    add_trips(storage, captured, released, untouched)
    payments = MemoryPayments() if engine is None else SqlPaymentsUnitOfWorkFactory(SqlUnitOfWorkFactory(engine))
    q = MemoryDashboardQueries(storage, payments) if engine is None else SqlDashboardQueries(engine)
    for t, status in ((captured, HoldStatus.CAPTURED), (released, HoldStatus.RELEASED)):
        opened = Hold.opened(t.preauth_id, Money(Decimal(25), "USD"))
        done = replace(opened, status=status)
        step = intent(t.trip_id)
        with payments(write=True) as u:
            assert u.holds.save_intent(step, hold=opened, expected_version=0)
            assert u.holds.complete_intent(step.operation_id, hold=done, answer=HoldAnswer(t.trip_id, done.summary(),
                                                                                            None), refusal=None, at=T0)
            u.commit()
    asked = [captured.trip_id, released.trip_id, untouched.trip_id, "trip_nope"]
    assert q.hold_statuses(asked) == {captured.trip_id: HoldStatus.CAPTURED, released.trip_id: HoldStatus.RELEASED}
    assert q.hold_statuses([]) == {}
