"""The trip page's parts that need no server: money at minor units, the capture amount, refusals in words."""
from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from entrygate.adapters.clock import FixedClock
from entrygate.adapters.memory.dashboard import MemoryDashboardQueries
from entrygate.adapters.memory.payments import MemoryPayments
from entrygate.adapters.memory.storage import MemoryStore
from entrygate.console import holds
from entrygate.console.display import amount_input, money_text
from entrygate.domain.channels import TripStatus
from entrygate.domain.holds import Hold, HoldConflict, HoldEntry, HoldOperation, HoldRefusal, HoldStatus, ProcessorStep
from entrygate.domain.keys import KeyKind
from entrygate.domain.money import Money
from entrygate.domain.records import ApiKeyRecord, Retailer, Trip
from entrygate.services.auth import Principal
from entrygate.services.console.dashboard import DashboardService
from entrygate.services.errors import Conflict, InvalidRequest, NotFound
from entrygate.services.payments.holds import PreauthorizationConflict
from entrygate.services.ports.payments import HoldAnswer
from support.factories import store_config
from support.payments_storage import intent

T0 = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)


def test_money_is_shown_at_the_currencys_minor_units():
    assert money_text(Money(Decimal("1234.5"), "USD")) == "1,234.50 USD"
    assert money_text(Money(Decimal("1500"), "JPY")) == "1,500 JPY"
    assert money_text(Decimal("1.2345"), "KWD") == "1.235 KWD"  # three decimals, rounded half up
    assert money_text(Decimal("18.4"), "EUR") == "18.40 EUR"
    assert money_text(Decimal("3"), None) == "3.00"
    assert money_text(None, "USD") == "—"
    assert money_text(Decimal("2.5"), "XXX") == "2.50 XXX"  # no minor unit in ISO 4217: two, as a fallback


def test_a_form_field_holds_the_amount_without_grouping():
    assert amount_input(Money(Decimal("25"), "USD")) == "25.00"
    assert amount_input(Money(Decimal("12500"), "JPY")) == "12500"
    assert amount_input(None) == ""


@pytest.mark.parametrize("typed, why", [("", "is required"), ("  ", "is required"),
                                        ("abc", "must be a number, such as 12.50"),
                                        ("12,50", "must be a number, such as 12.50"),
                                        ("1e3", "must be a number, such as 12.50"),
                                        ("NaN", "must be a number, such as 12.50"),
                                        ("Infinity", "must be a number, such as 12.50"),
                                        ("1000000.01", "must be at most 1,000,000.00 USD")])
def test_what_is_no_amount_is_refused_before_the_use_case(typed, why):
    with pytest.raises(holds.AmountRefused) as refused:
        holds.parse_amount(typed, "USD")
    assert str(refused.value) == why
    assert holds.amount_problem(refused.value) == holds.Problem(400, f"The amount {why}.", on_amount=True)


def test_an_amount_is_read_in_the_trips_currency():
    assert holds.parse_amount(" 12.5 ", "USD") == Money(Decimal("12.5"), "USD")
    # Sign and decimals are the use case's to judge (DESIGN 10), so they reach it as typed.
    assert holds.parse_amount("-3", "JPY") == Money(Decimal("-3"), "JPY")
    assert holds.parse_amount("1.234", "JPY") == Money(Decimal("1.234"), "JPY")


def test_refusals_become_sentences_with_their_status():
    conflict = PreauthorizationConflict("ALREADY_CAPTURED", HoldConflict(HoldRefusal.ALREADY_CAPTURED).message)
    assert holds.problem(conflict) == holds.Problem(
        409, "The pre-authorization was already captured; refund it instead.")
    negative = InvalidRequest("amount.value: must not be negative", fields=["amount.value"])
    assert holds.problem(negative) == holds.Problem(400, "The amount must not be negative.", on_amount=True)
    reused = Conflict("Idempotency-Key: this key was already used for another request", fields=["Idempotency-Key"])
    assert holds.problem(reused).status == 409 and "already sent with other values" in holds.problem(reused).message
    assert "Idempotency-Key" not in holds.problem(reused).message
    assert holds.problem(InvalidRequest("trip has no pre-authorization")).message == "Trip has no pre-authorization"


def test_each_rendered_form_gets_a_key_of_its_own():
    keys = {holds.new_operation_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(k.startswith("console-") and k.isascii() and k.isprintable() and len(k) <= 255 for k in keys)


def _hold(status: HoldStatus, *history: HoldEntry, captured: str = "0") -> Hold:
    held = Hold.opened("pa_1", Money(Decimal(25), "USD"))
    return replace(held, status=status, captured=Money(Decimal(captured), "USD"), history=history)


def test_the_notice_says_what_a_done_operation_came_to():
    raise_declined = HoldEntry(HoldOperation.CAPTURE, Money(Decimal(40), "USD"), HoldStatus.CAPTURED, T0,
                               ProcessorStep.INCREMENT)
    assert holds.notice("capture", _hold(HoldStatus.CAPTURED, captured="18.4")) == "Captured 18.40 USD."
    assert holds.notice("capture", _hold(HoldStatus.CAPTURED, raise_declined, captured="25")) == (
        "Captured 25.00 USD. The processor declined raising the hold, so the held amount was captured; "
        "the rest is unpaid.")
    assert holds.notice("capture", _hold(HoldStatus.FAILED)).startswith("The processor declined the capture")
    assert holds.notice("release", None).startswith("The hold is released")
    assert holds.notice("closed", None) == "The trip is closed."
    assert holds.notice("already_closed", None) == "The trip was already closed; nothing changed."
    assert holds.notice(None, _hold(HoldStatus.HELD)) is None
    assert holds.notice("capture", _hold(HoldStatus.HELD)) is None  # a stale ?done= says nothing false


def _trip(store_id: str, *, preauth: bool = True) -> Trip:
    trip_id = "trip_" + uuid.uuid4().hex[:12]
    return Trip(trip_id=trip_id, store_id=store_id, entry_gate_id="lane-1", channel="CREDIT_CARD", visitor_id="v",
                instrument_id=None, party_size=1, status=TripStatus.OPEN, entered_at=T0, currency="USD",
                authorized_amount=Decimal(25) if preauth else None, preauth_id="pa_" + trip_id if preauth else None)


def test_hold_statuses_on_the_in_memory_ports():
    memory, payments = MemoryStore(), MemoryPayments()
    with memory(write=True) as u:
        u.retailers.add(Retailer("ret-1", "R", T0), ApiKeyRecord(uuid.uuid4().hex, "h" * 64, "ret-1"))
        u.stores.add(store_config("ret-1", store_id="store-1"), at=T0)
        u.commit()
    untouched, captured, no_hold = _trip("store-1"), _trip("store-1"), _trip("store-1", preauth=False)
    opened = Hold.opened(captured.preauth_id, Money(Decimal(25), "USD"))
    done, step = replace(opened, status=HoldStatus.CAPTURED), intent(captured.trip_id)
    with payments(write=True) as u:
        u.holds.save_intent(step, hold=opened, expected_version=0)
        u.holds.complete_intent(step.operation_id, hold=done, answer=HoldAnswer(captured.trip_id, done.summary(), None),
                                refusal=None, at=T0)
        u.commit()
    service = DashboardService(uow=memory, queries=MemoryDashboardQueries(memory, payments), clock=FixedClock(T0))
    owner = Principal(KeyKind.RETAILER, retailer_id="ret-1")
    # A hold no operation touched yet is the one the gate placed; a trip without one has none.
    assert service.hold_statuses(owner, "store-1", [untouched, captured, no_hold]) == {
        untouched.trip_id: HoldStatus.HELD, captured.trip_id: HoldStatus.CAPTURED}
    assert MemoryDashboardQueries(memory).hold_statuses([captured.trip_id]) == {}  # no payments store: none stored
    with pytest.raises(NotFound):
        service.hold_statuses(Principal(KeyKind.RETAILER, retailer_id="ret-2"), "store-1", [captured])
