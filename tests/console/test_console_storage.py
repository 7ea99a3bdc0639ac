"""The console's SQL: dashboard and live queries, sessions, the sign-in backoff; SQLite and PostgreSQL."""
from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from entrygate.adapters.clock import FixedClock
from entrygate.adapters.db.console_store import SqlConsoleSessions, SqlSignInFailures
from entrygate.bootstrap import build
from entrygate.console.simulate import simulate_entry
from entrygate.domain.channels import Channel, GateDirection
from entrygate.domain.holds import HoldStatus
from entrygate.domain.keys import KeyKind
from entrygate.domain.money import Money
from entrygate.domain.records import DecisionRecord
from entrygate.domain.store import ConnectorConfig, StoreConfig
from entrygate.services.auth import Principal
from entrygate.services.console.auth import lockout_seconds
from entrygate.services.errors import NotFound
from entrygate.services.gate.exits import ExitEvent
from entrygate.services.ports.console import ConsoleSession, LiveFilter
from entrygate.settings import Settings
from support.server import TEST_SECRET

T0 = datetime(2026, 11, 27, 18, 0, 5, tzinfo=UTC)
OPERATOR = Principal(KeyKind.OPERATOR)


@pytest.fixture
def world(db_url):
    clock = FixedClock(T0)
    c = build(Settings(database_url=db_url, secret_key=TEST_SECRET, cache_ttl_s=0, allow_private_urls=True),
              clock=clock)
    retailer = c.admin.create_retailer(OPERATOR, name="R")
    store = StoreConfig(store_id="s-" + uuid.uuid4().hex[:6], retailer_id=retailer.id, name="S", timezone="UTC",
                        currency="USD", authorized_amount=Money.of(25, "USD"),
                        entry_methods=frozenset({Channel.CREDIT_CARD, Channel.QR_CODE}),
                        connectors={"identity": ConnectorConfig("http://127.0.0.1:9/", "whsec_" + "A" * 44)})
    c.admin.create_store(OPERATOR, store)
    c.admin.add_gate(OPERATOR, store.store_id, gate_id="lane-1", direction=GateDirection.ENTRY)
    c.admin.add_gate(OPERATOR, store.store_id, gate_id="exit-1", direction=GateDirection.EXIT)
    me = Principal(KeyKind.RETAILER, retailer_id=retailer.id)
    yield c, clock, store, me
    c.close()


def _tap(c, me, store, number: str, *, party: int = 1) -> dict:  # noqa: ANN001
    return simulate_entry(c, me, store.store_id, gate_id="lane-1", card_number=number, party_size=party)


def _record(c, store, **over) -> None:  # noqa: ANN001
    """A decision written straight through the repository, for shapes the card path cannot make."""
    with c.uow() as uow:
        gate = uow.gates.find(store.store_id, "lane-1")
    values = dict(gate_pk=gate.gate_pk, gate_id="lane-1", store_id=store.store_id, event_id=str(uuid.uuid4()),
                  request_hash="x", channel="QR_CODE", outcome="OPEN", reasons=[], decided_by="RETAILER",
                  visitor_id="v", visitor_type="SHOPPER", instrument_id=None, trip_id=None, party_size=1,
                  risk_score=None, risk_level=None, authorized_amount=None, currency=None, latency_ms=1.0,
                  event_time=T0, decided_at=T0)
    values.update(over)
    with c.uow(write=True) as uow:
        uow.decisions.add(DecisionRecord(**values))
        uow.commit()


def test_dashboard_counts_what_was_decided(world):
    c, clock, store, me = world
    answers = [_tap(c, me, store, n) for n in
               ("4242424242424242", "5555555555554444", "4000000000009995", "4000000000000002")]
    answers.append(_tap(c, me, store, "4242424242424242", party=9))  # larger than the store admits
    for score in (3, 15, 17, 100):
        _record(c, store, channel="CREDIT_CARD", decided_by="PLATFORM", risk_score=score, risk_level="LOW")
    _record(c, store, reasons=["CONNECTOR_UNAVAILABLE"], outcome="DENY", decided_by="FALLBACK")
    _record(c, store, reasons=["QR_PATTERN_MISMATCH"], outcome="DENY")  # never reached the connector
    _record(c, store)  # a QR entry the identity connector answered
    clock.advance(minutes=2)
    board = c.dashboard.dashboard(me, store.store_id, window_minutes=15)

    assert board.decisions == 12 == board.opened + board.denied
    assert board.denied == 5
    assert sum(m.opened + m.denied for m in board.per_minute) == 12
    assert len(board.per_minute) == 15 and board.per_minute[-3].minute == T0.replace(second=0)
    reasons = {code: n for code, _, n in board.denial_reasons}
    assert reasons == {"PREAUTH_DECLINED": 2, "PARTY_TOO_LARGE": 1, "CONNECTOR_UNAVAILABLE": 1,
                       "QR_PATTERN_MISMATCH": 1}
    assert dict(board.risk_buckets) == {0: 1, 10: 2, 20: 0, 30: 0, 40: 0, 50: 0, 60: 0, 70: 0, 80: 0, 90: 1}
    assert list(board.latency) == [50, 90, 95, 99]
    assert list(board.latency.values()) == sorted(board.latency.values()) and board.latency_max >= board.latency[99]
    connectors = {k.name: (k.calls, k.failures) for k in board.connectors}
    assert connectors == {"identity": (2, 1), "shopperAuthorization": (0, 0)}
    assert answers[0]["decision"] == "OPEN"


def test_live_view_pages_forward_and_filters(world):
    c, clock, store, me = world
    first = _tap(c, me, store, "4242424242424242")
    _tap(c, me, store, "4000000000009995")
    rows = c.dashboard.live(me, store.store_id, filters=LiveFilter())
    assert [r.outcome for r in rows] == ["DENY", "OPEN"]  # newest first
    assert rows[0].reason_list == [("PREAUTH_DECLINED", "The card issuer declined the pre-authorization.")]
    assert [r.outcome for r in c.dashboard.live(me, store.store_id, filters=LiveFilter(outcome="OPEN"))] == ["OPEN"]
    assert c.dashboard.live(me, store.store_id, filters=LiveFilter(gate_id="exit-1")) == []
    assert c.dashboard.live(me, store.store_id, filters=LiveFilter(channel="PALM")) == []
    newest = rows[0].decision_id
    # Within the overlap the poll re-reads recent decisions (the browser skips those it shows) ...
    assert len(c.dashboard.live(me, store.store_id, filters=LiveFilter(), after_id=newest)) == 2
    # ... and after it, only newer ones come back.
    clock.advance(minutes=1)
    assert c.dashboard.live(me, store.store_id, filters=LiveFilter(), after_id=newest) == []
    third = _tap(c, me, store, "5555555555554444")
    assert [r.event_id for r in c.dashboard.live(me, store.store_id, filters=LiveFilter(), after_id=newest)] == \
        [third["eventId"]]
    assert c.dashboard.decision(me, store.store_id, first["eventId"]).trip_id == first["shoppingTripId"]


def test_trips_and_outstanding_balances(world):
    c, clock, store, me = world
    opened = _tap(c, me, store, "4242424242424242")
    trip_id = opened["shoppingTripId"]
    with c.uow() as uow:
        exit_gate = uow.gates.find(store.store_id, "exit-1")
    c.exits.exit(Principal(KeyKind.GATE, gate_pk=exit_gate.gate_pk), "exit-1",
                 ExitEvent(event_id=str(uuid.uuid4()), timestamp=T0, request_hash="h", trip_id=trip_id))
    with c.uow(write=True) as uow:
        uow.trips.report_payment(trip_id, total=Decimal("18.40"), settled=Decimal("5.00"), status_time=T0, at=T0)
        uow.commit()
    trip = c.queries.trip(me, trip_id)
    decisions, exits = c.dashboard.trip_history(me, trip)
    assert [d.event_id for d in decisions] == [opened["eventId"]]
    assert [e.result for e in exits] == ["CLOSED"]
    [owed] = c.dashboard.balances(me, store.store_id)
    assert (owed.amount, owed.currency, owed.trips, owed.brand, owed.last4) == (Decimal("13.4"), "USD", 1, "VISA",
                                                                                "4242")
    assert owed.instrument_id == opened["visitor"]["id"]


def test_a_captured_hold_counts_at_every_store_of_the_retailer(world):
    c, _, store, me = world
    sister = replace(store, store_id="s-" + uuid.uuid4().hex[:6], name="Sister")
    c.admin.create_store(OPERATOR, sister)
    c.admin.add_gate(OPERATOR, sister.store_id, gate_id="lane-2", direction=GateDirection.ENTRY)
    here, kept, released = (_tap(c, me, store, "4242424242424242")["shoppingTripId"] for _ in range(3))
    there = simulate_entry(c, me, sister.store_id, gate_id="lane-2", card_number="4242424242424242",
                           party_size=1)["shoppingTripId"]
    # A capture and a payment-status report feed the same balance (DESIGN 10): the later one stands.
    c.holds.capture(me, here, amount=Money.of("18.40", "USD"), idempotency_key="k-here")
    c.holds.cancel(me, released, idempotency_key="k-released")
    with c.uow(write=True) as uow:
        uow.trips.report_payment(there, total=Decimal("7"), settled=Decimal("0"), status_time=T0, at=T0)
        uow.trips.report_payment(here, total=Decimal("18.40"), settled=Decimal("8.40"), status_time=T0, at=T0)
        uow.commit()
    trips = c.queries.trips(me, store.store_id, status=None, limit=10)
    assert c.dashboard.hold_statuses(me, store.store_id, trips) == {
        here: HoldStatus.CAPTURED, kept: HoldStatus.HELD, released: HoldStatus.RELEASED}
    [owed] = c.dashboard.balances(me, store.store_id)
    assert (owed.amount, owed.at_store, owed.trips) == (Decimal("17"), Decimal("10"), 2)
    [seen_there] = c.dashboard.balances(me, sister.store_id)
    assert (seen_there.amount, seen_there.at_store) == (Decimal("17"), Decimal("7"))


def test_another_retailer_sees_nothing(world):
    c, _, store, _ = world
    stranger = Principal(KeyKind.RETAILER, retailer_id="ret_someone_else")
    for call in (lambda: c.dashboard.dashboard(stranger, store.store_id),
                 lambda: c.dashboard.live(stranger, store.store_id, filters=LiveFilter()),
                 lambda: c.dashboard.balances(stranger, store.store_id)):
        with pytest.raises(NotFound):
            call()


def test_sessions_and_failures_are_stored(world):
    c, _, store, _ = world
    user = c.admin.create_user(OPERATOR, store.retailer_id, email=f"{uuid.uuid4().hex[:6]}@x.example",
                               password="long enough password")
    sessions, failures = SqlConsoleSessions(c.engine), SqlSignInFailures(c.engine)
    live = ConsoleSession("a" * 64, user.user_id, user.retailer_id, user.email, T0, T0 + timedelta(hours=1))
    stale = ConsoleSession("b" * 64, user.user_id, user.retailer_id, user.email, T0, T0 - timedelta(seconds=1))
    sessions.create(live)
    sessions.create(stale)
    assert sessions.get("a" * 64) == live
    assert sessions.purge_expired(now=T0) == 1 and sessions.get("b" * 64) is None
    sessions.delete("a" * 64)
    assert sessions.get("a" * 64) is None

    forget = timedelta(hours=24)
    counts = [failures.record_failure("k", now=T0, forget_after=forget, lockout=lockout_seconds) for _ in range(4)]
    assert [r.failures for r in counts] == [1, 2, 3, 4]
    assert counts[1].locked_until is None and counts[3].locked_until == T0 + timedelta(seconds=2)
    assert failures.get("k").failures == 4
    later = failures.record_failure("k", now=T0 + timedelta(days=2), forget_after=forget, lockout=lockout_seconds)
    assert later.failures == 1  # old failures are forgotten
    failures.clear("k")
    assert failures.get("k") is None
    failures.record_failure("old", now=T0 - timedelta(days=2), forget_after=forget, lockout=lockout_seconds)
    failures.record_failure("new", now=T0, forget_after=forget, lockout=lockout_seconds)
    assert failures.purge_stale(before=T0 - forget) == 1
    assert failures.get("old") is None and failures.get("new") is not None
