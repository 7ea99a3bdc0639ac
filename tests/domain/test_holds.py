"""The rules of a trip's pre-authorization (DESIGN 10), as pure functions: no fixtures, no processor."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from entrygate.domain.holds import (
    REFUND_WINDOW,
    Hold,
    HoldConflict,
    HoldInvalid,
    HoldOperation,
    HoldRefusal,
    HoldStatus,
    PaymentOutcome,
    ProcessorStep,
    apply_adjust,
    apply_cancel,
    apply_capture,
    apply_refund,
    apply_refused,
    apply_release,
    capture_amount,
    check_amount,
    plan_adjust,
    plan_cancel,
    plan_capture,
    plan_refund,
    plan_release,
)
from entrygate.domain.money import Money

AT = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)


def usd(value: str | int) -> Money:
    return Money(Decimal(str(value)), "USD")


def held(amount: str | int = 25) -> Hold:
    return Hold.opened("pa_test", usd(amount))


def captured(amount: str | int = 20, *, at: datetime = AT) -> Hold:
    hold = held()
    plan = plan_capture(hold, usd(amount))
    return apply_capture(hold, plan, raised=None, collected=usd(amount), at=at).hold


def in_status(status: HoldStatus) -> Hold:
    hold = held()
    if status is HoldStatus.CAPTURED:
        return captured()
    if status is HoldStatus.RELEASED:
        return apply_cancel(hold, plan_cancel(hold), at=AT).hold
    if status is HoldStatus.FAILED:
        return apply_capture(hold, plan_capture(hold, usd(20)), raised=None, collected=None, at=AT).hold
    return hold


@pytest.mark.parametrize("amount, currency, field", [
    (None, "USD", "amount"),
    (Money(Decimal("-1"), "USD"), "USD", "amount.value"),
    (Money(Decimal("0"), "USD"), "USD", "amount.value"),
    (Money(Decimal("5"), "EUR"), "USD", "amount.currencyCode"),
    (Money(Decimal("0.001"), "USD"), "USD", "amount.value"),
    (Money(Decimal("1.5"), "JPY"), "JPY", "amount.value"),
    (Money(Decimal("1.2345"), "KWD"), "KWD", "amount.value"),
])
def test_an_amount_the_operation_cannot_take_names_its_field(amount, currency, field):
    with pytest.raises(HoldInvalid) as caught:
        check_amount(amount, currency)
    assert caught.value.field == field and caught.value.message.startswith(field + ":")


@pytest.mark.parametrize("value, currency", [("18.40", "USD"), ("1.234", "KWD"), ("500", "JPY"), ("1.0", "JPY"),
                                             ("1E+2", "JPY")])
def test_amounts_within_the_currencys_minor_units_are_accepted(value, currency):
    amount = Money(Decimal(value), currency)
    assert check_amount(amount, currency) == amount


# status, operation, the refusal (None: allowed)
STATE_RULES = [
    (HoldStatus.HELD, "capture", None),
    (HoldStatus.HELD, "cancel", None),
    (HoldStatus.HELD, "adjust", None),
    (HoldStatus.HELD, "adjust_closed", HoldRefusal.TRIP_CLOSED),
    (HoldStatus.HELD, "refund", HoldRefusal.NOT_CAPTURED),
    (HoldStatus.CAPTURED, "capture", HoldRefusal.ALREADY_CAPTURED),
    (HoldStatus.CAPTURED, "cancel", HoldRefusal.ALREADY_CAPTURED),
    (HoldStatus.CAPTURED, "adjust", HoldRefusal.ALREADY_CAPTURED),
    (HoldStatus.CAPTURED, "refund", None),
    (HoldStatus.RELEASED, "capture", HoldRefusal.RELEASED),
    (HoldStatus.RELEASED, "cancel", None),
    (HoldStatus.RELEASED, "adjust", HoldRefusal.RELEASED),
    (HoldStatus.RELEASED, "refund", HoldRefusal.NOT_CAPTURED),
    (HoldStatus.FAILED, "capture", None),
    (HoldStatus.FAILED, "cancel", None),
    (HoldStatus.FAILED, "adjust", HoldRefusal.CAPTURE_FAILED),
    (HoldStatus.FAILED, "refund", HoldRefusal.CAPTURE_FAILED),
]


def _plan(hold: Hold, operation: str):
    if operation == "capture":
        return plan_capture(hold, usd(10))
    if operation == "cancel":
        return plan_cancel(hold)
    if operation == "adjust":
        return plan_adjust(hold, usd(30), trip_open=True)
    if operation == "adjust_closed":
        return plan_adjust(hold, usd(30), trip_open=False)
    return plan_refund(hold, usd(5), at=AT)


@pytest.mark.parametrize("status, operation, refusal", STATE_RULES)
def test_what_each_state_allows(status, operation, refusal):
    hold = in_status(status)
    assert hold.status is status
    if refusal is None:
        assert _plan(hold, operation).operation.value == operation.split("_")[0].upper()
        return
    with pytest.raises(HoldConflict) as caught:
        _plan(hold, operation)
    assert caught.value.refusal is refusal and caught.value.reason == refusal.value
    assert caught.value.message.startswith(refusal.message)


@pytest.mark.parametrize("status, releases", [(HoldStatus.HELD, True), (HoldStatus.FAILED, True),
                                              (HoldStatus.CAPTURED, False), (HoldStatus.RELEASED, False)])
def test_the_platform_releases_only_a_hold_still_kept(status, releases):
    plan = plan_release(in_status(status))
    assert (plan is not None) is releases
    if plan is not None:
        step = apply_release(in_status(status), plan, at=AT)
        assert step.hold.status is HoldStatus.RELEASED and step.outcome is None


def test_a_capture_within_the_hold_needs_no_raise_and_settles_what_it_asks():
    hold = held(25)
    plan = plan_capture(hold, usd("18.40"))
    assert plan.raise_to is None and capture_amount(hold, plan, raised=None) == usd("18.40")
    step = apply_capture(hold, plan, raised=None, collected=usd("18.40"), at=AT)
    assert step.hold.status is HoldStatus.CAPTURED and step.hold.captured == usd("18.40")
    assert step.hold.captured_at == AT and step.declined is None
    assert step.outcome == PaymentOutcome(usd("18.40"), usd("18.40"))


# raise answered, capture approved -> captured, (total, settled), declined step
CAPTURES_ABOVE_THE_HOLD = [
    (True, True, HoldStatus.CAPTURED, "30", ("30", "30"), None),
    (False, True, HoldStatus.CAPTURED, "25", ("30", "25"), ProcessorStep.INCREMENT),
    (True, False, HoldStatus.FAILED, "0", ("30", "0"), ProcessorStep.CAPTURE),
    (False, False, HoldStatus.FAILED, "0", ("30", "0"), ProcessorStep.CAPTURE),
]


@pytest.mark.parametrize("raised, approved, status, taken, outcome, declined", CAPTURES_ABOVE_THE_HOLD)
def test_a_capture_above_the_hold_raises_first_and_a_declined_raise_leaves_the_rest_unpaid(
        raised, approved, status, taken, outcome, declined):
    hold = held(25)
    plan = plan_capture(hold, usd(30))
    assert plan.raise_to == usd(30)
    asked = capture_amount(hold, plan, raised=raised)
    assert asked == (usd(30) if raised else usd(25))
    step = apply_capture(hold, plan, raised=raised, collected=asked if approved else None, at=AT)
    assert step.hold.status is status and step.hold.captured == usd(taken)
    assert step.outcome == PaymentOutcome(usd(outcome[0]), usd(outcome[1]))
    assert step.declined is declined
    assert step.hold.held == (usd(30) if raised else usd(25))


def test_a_hold_lowered_then_captured_up_to_what_the_processor_holds_needs_no_raise():
    hold = held(25)
    lowered = apply_adjust(hold, plan_adjust(hold, usd(10), trip_open=True), raised=None, at=AT).hold
    assert lowered.held == usd(10) and lowered.authorized == usd(25)
    plan = plan_capture(lowered, usd(20))
    assert plan.raise_to is None
    step = apply_capture(lowered, plan, raised=None, collected=usd(20), at=AT)
    assert step.hold.captured == usd(20) and step.hold.held == usd(20)
    assert plan_capture(lowered, usd(26)).raise_to == usd(26)


def test_adjusting_up_raises_and_a_declined_raise_leaves_the_hold_as_it_was():
    hold = held(25)
    plan = plan_adjust(hold, usd(40), trip_open=True)
    assert plan.raise_to == usd(40)
    up = apply_adjust(hold, plan, raised=True, at=AT)
    assert up.hold.held == up.hold.authorized == usd(40) and up.outcome is None and up.declined is None
    kept = apply_adjust(hold, plan, raised=False, at=AT)
    assert kept.hold.held == usd(25) and kept.hold.authorized == usd(25) and kept.declined is ProcessorStep.INCREMENT
    assert kept.hold.history[-1].declined is ProcessorStep.INCREMENT


def test_a_cancel_empties_the_basket_and_a_released_hold_can_still_say_so():
    hold = held()
    plan = plan_cancel(hold)
    assert plan.release
    step = apply_cancel(hold, plan, at=AT)
    zero = usd(0)
    assert step.hold.status is HoldStatus.RELEASED and step.outcome == PaymentOutcome(zero, zero)
    again = plan_cancel(step.hold)
    assert not again.release
    assert apply_cancel(step.hold, again, at=AT).outcome == PaymentOutcome(zero, zero)


def test_refunds_add_up_to_at_most_the_capture_and_each_lowers_total_and_settled():
    hold = captured(20)
    current = PaymentOutcome(usd(20), usd(20))
    first = apply_refund(hold, plan_refund(hold, usd(15), at=AT), refunded=usd(15), at=AT, current=current)
    assert first.hold.refunded == usd(15) and first.hold.status is HoldStatus.CAPTURED
    assert first.outcome == PaymentOutcome(usd(5), usd(5))
    with pytest.raises(HoldConflict) as caught:
        plan_refund(first.hold, usd("5.01"), at=AT)
    assert caught.value.refusal is HoldRefusal.REFUND_ABOVE_CAPTURE and "5.00 USD" in caught.value.message
    rest = apply_refund(first.hold, plan_refund(first.hold, usd(5), at=AT), refunded=usd(5), at=AT,
                        current=first.outcome)
    assert rest.hold.refunded == usd(20) and rest.outcome == PaymentOutcome(usd(0), usd(0))
    with pytest.raises(HoldConflict):
        plan_refund(rest.hold, usd("0.01"), at=AT)


def test_a_refund_lowers_the_payment_as_it_now_stands():
    hold = captured(20)
    # The retailer reported a larger basket after the capture: 30 total, 20 settled.
    step = apply_refund(hold, plan_refund(hold, usd(5), at=AT), refunded=usd(5), at=AT,
                        current=PaymentOutcome(usd(30), usd(20)))
    assert step.outcome == PaymentOutcome(usd(25), usd(15))
    fallback = apply_refund(hold, plan_refund(hold, usd(5), at=AT), refunded=usd(5), at=AT, current=None)
    assert fallback.outcome == PaymentOutcome(usd(15), usd(15))


@pytest.mark.parametrize("after, allowed", [(timedelta(0), True), (REFUND_WINDOW, True),
                                            (REFUND_WINDOW + timedelta(seconds=1), False)])
def test_refunds_are_accepted_for_thirty_days_after_the_capture(after, allowed):
    hold = captured(20)
    if allowed:
        assert plan_refund(hold, usd(1), at=AT + after).amount == usd(1)
        return
    with pytest.raises(HoldConflict) as caught:
        plan_refund(hold, usd(1), at=AT + after)
    assert caught.value.refusal is HoldRefusal.REFUND_WINDOW_CLOSED


def test_a_capture_may_be_tried_again_after_a_decline():
    failed = in_status(HoldStatus.FAILED)
    step = apply_capture(failed, plan_capture(failed, usd(20)), raised=None, collected=usd(20), at=AT)
    assert step.hold.status is HoldStatus.CAPTURED and step.outcome == PaymentOutcome(usd(20), usd(20))


def test_the_history_keeps_every_finished_operation_in_order():
    hold = held(25)
    hold = apply_adjust(hold, plan_adjust(hold, usd(30), trip_open=True), raised=True, at=AT).hold
    later = AT + timedelta(minutes=5)
    hold = apply_capture(hold, plan_capture(hold, usd(28)), raised=None, collected=usd(28), at=later).hold
    hold = apply_refund(hold, plan_refund(hold, usd(3), at=later), refunded=usd(3), at=later, current=None).hold
    assert [(e.operation, e.amount, e.status) for e in hold.history] == [
        (HoldOperation.ADJUST, usd(30), HoldStatus.HELD),
        (HoldOperation.CAPTURE, usd(28), HoldStatus.CAPTURED),
        (HoldOperation.REFUND, usd(3), HoldStatus.CAPTURED),
    ]
    assert hold.summary().refunded == usd(3) and hold.summary().captured == usd(28)


def test_a_refusal_by_the_processor_moves_nothing_but_an_approved_raise_before_it():
    hold = held(25)
    plan = plan_capture(hold, usd(30))
    step = apply_refused(hold, plan, step=ProcessorStep.CAPTURE, raised=True, at=AT, refusal="no")
    assert step.hold.status is HoldStatus.HELD and step.hold.held == usd(30) and step.hold.captured == usd(0)
    assert step.outcome is None and step.refusal == "no" and step.hold.history[-1].declined is ProcessorStep.CAPTURE


def test_the_amount_is_checked_before_the_state():
    with pytest.raises(HoldInvalid):
        plan_capture(captured(), Money(Decimal("-1"), "USD"))
