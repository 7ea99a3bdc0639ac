"""The Stripe processor through the real ``stripe`` client, against a loopback server answering as Stripe does."""
from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from entrygate.adapters.processors.stripe_money import from_stripe, to_stripe
from entrygate.domain.money import Money
from entrygate.services.ports.processor import (
    HoldStateError,
    IdempotencyConflict,
    InvalidProcessorRequest,
    ProcessorConfigError,
    ProcessorUnavailable,
    UnknownHold,
)
from support import fake_stripe

# What a deadline may be overrun by: thread scheduling and one last socket wake-up on a busy CI box.
SLACK_S = 0.5


def key() -> str:
    return str(uuid.uuid4())


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


def hold(processor, amount: Money | None = None, token: str = "pm_card_visa") -> str:
    amount = amount or usd("50.00")
    result = processor.preauthorize(token=token, amount=amount, idempotency_key=key())
    assert result.approved, result
    return result.preauth_id


def test_preauthorization_is_a_confirmed_payment_intent_with_manual_capture(make_stripe, stripe_api):
    processor = make_stripe()
    result = processor.preauthorize(token="pm_card_visa", amount=usd("12.34"), idempotency_key="gate-1:ev-1")
    assert result.approved and result.preauth_id.startswith("pi_") and result.decline_code is None
    [sent] = stripe_api.posts("/v1/payment_intents")
    assert sent.params == {
        "amount": "1234", "currency": "usd", "payment_method": "pm_card_visa", "payment_method_types[0]": "card",
        "capture_method": "manual", "confirm": "true",
        "payment_method_options[card][request_incremental_authorization]": "if_available",
    }
    assert sent.idempotency_key == "gate-1:ev-1"
    assert stripe_api.intents[result.preauth_id]["status"] == "requires_capture"


@pytest.mark.parametrize(("held", "raised", "captured", "refunded", "units"), [
    (usd("12.34"), usd("20.01"), usd("19.99"), usd("0.99"), (1234, 2001, 1999, 99)),
    (Money.of("500", "JPY"), Money.of("800", "JPY"), Money.of("750", "JPY"), Money.of("1", "JPY"),
     (500, 800, 750, 1)),
    (Money.of("1.250", "KWD"), Money.of("2.5", "KWD"), Money.of("2.01", "KWD"), Money.of("0.01", "KWD"),
     (1250, 2500, 2010, 10)),
])
def test_amounts_travel_in_the_currency_minor_units(make_stripe, stripe_api, held, raised, captured, refunded,
                                                     units):
    processor = make_stripe()
    preauth_id = hold(processor, held)
    increment = processor.increment(preauth_id=preauth_id, new_amount=raised, idempotency_key=key())
    capture = processor.capture(preauth_id=preauth_id, amount=captured, idempotency_key=key())
    refund = processor.refund(preauth_id=preauth_id, amount=refunded, idempotency_key=key())
    sent = (stripe_api.posts("/v1/payment_intents")[0].params["amount"],
            stripe_api.posts("/increment_authorization")[0].params["amount"],
            stripe_api.posts("/capture")[0].params["amount_to_capture"],
            stripe_api.posts("/v1/refunds")[0].params["amount"])
    assert sent == tuple(str(u) for u in units)
    assert stripe_api.posts("/v1/payment_intents")[0].params["currency"] == held.currency.lower()
    assert (increment.approved, increment.held) == (True, raised)
    assert (capture.approved, capture.captured) == (True, captured)
    assert refund.refunded == refunded and refund.refund_id.startswith("re_")


@pytest.mark.parametrize("amount", [Money.of("1.255", "KWD"), Money.of("0.001", "USD"), Money.of("1.5", "JPY"),
                                    Money.of("0", "USD"), Money.of("-5", "USD"), Money.of("10", "XAU")])
def test_an_amount_stripe_cannot_take_exactly_is_refused_before_sending(make_stripe, stripe_api, amount):
    with pytest.raises(InvalidProcessorRequest):
        make_stripe().preauthorize(token="pm_card_visa", amount=amount, idempotency_key=key())
    assert stripe_api.seen == []


@pytest.mark.parametrize(("token", "decline_code", "block"), [
    ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds", False),
    ("pm_card_chargeDeclined", "generic", False),
    ("pm_card_chargeDeclinedLostCard", "lost_stolen", True),
    ("pm_card_chargeDeclinedStolenCard", "lost_stolen", True),
    ("pm_card_chargeDeclinedExpiredCard", "expired_card", False),
    ("pm_card_chargeDeclinedIncorrectNumber", "invalid", False),
    ("pm_card_chargeDeclinedFraudulent", "generic", False),
    ("pm_no_such_method", "invalid", False),
    ("pm_card_authenticationRequired", "generic", False),   # a gate cannot show a 3-D Secure challenge
])
def test_card_declines_map_to_the_platform_decline_codes(make_stripe, token, decline_code, block):
    result = make_stripe().preauthorize(token=token, amount=usd("50.00"), idempotency_key=key())
    assert (result.approved, result.decline_code, result.block_instrument, result.preauth_id) == (
        False, decline_code, block, None)


def test_the_hold_lifecycle_follows_stripe_states(make_stripe, stripe_api):
    processor = make_stripe()
    preauth_id = hold(processor, usd("50.00"))
    with pytest.raises(HoldStateError):       # above the hold: raise it first
        processor.capture(preauth_id=preauth_id, amount=usd("60.00"), idempotency_key=key())
    with pytest.raises(HoldStateError):       # a raise must be a raise
        processor.increment(preauth_id=preauth_id, new_amount=usd("40.00"), idempotency_key=key())
    assert processor.capture(preauth_id=preauth_id, amount=usd("30.00"), idempotency_key=key()).approved
    with pytest.raises(HoldStateError):
        processor.capture(preauth_id=preauth_id, amount=usd("1.00"), idempotency_key=key())
    with pytest.raises(HoldStateError):
        processor.release(preauth_id=preauth_id, idempotency_key=key())
    with pytest.raises(HoldStateError):
        processor.increment(preauth_id=preauth_id, new_amount=usd("80.00"), idempotency_key=key())
    processor.refund(preauth_id=preauth_id, amount=usd("20.00"), idempotency_key=key())
    with pytest.raises(HoldStateError):       # 10.00 left of the capture
        processor.refund(preauth_id=preauth_id, amount=usd("10.01"), idempotency_key=key())
    assert processor.refund(preauth_id=preauth_id, amount=usd("10.00"), idempotency_key=key()).refunded == usd("10")
    assert stripe_api.intents[preauth_id]["refunded"] == 3000


def test_a_released_hold_cannot_be_captured_or_refunded_and_releases_twice_quietly(make_stripe, stripe_api):
    processor = make_stripe()
    preauth_id = hold(processor)
    processor.release(preauth_id=preauth_id, idempotency_key=key())
    processor.release(preauth_id=preauth_id, idempotency_key=key())
    assert stripe_api.intents[preauth_id]["status"] == "canceled"
    assert stripe_api.posts("/cancel")[0].params == {"cancellation_reason": "abandoned"}
    with pytest.raises(HoldStateError):
        processor.capture(preauth_id=preauth_id, amount=usd("1.00"), idempotency_key=key())
    with pytest.raises(HoldStateError):
        processor.refund(preauth_id=preauth_id, amount=usd("1.00"), idempotency_key=key())


def test_an_unknown_payment_intent_is_an_unknown_hold(make_stripe):
    processor = make_stripe()
    for call in (lambda: processor.capture(preauth_id="pi_missing", amount=usd("1"), idempotency_key=key()),
                 lambda: processor.release(preauth_id="pi_missing", idempotency_key=key()),
                 lambda: processor.increment(preauth_id="pi_missing", new_amount=usd("9"), idempotency_key=key()),
                 lambda: processor.refund(preauth_id="pi_missing", amount=usd("1"), idempotency_key=key())):
        with pytest.raises(UnknownHold):
            call()


def test_a_raise_the_card_cannot_take_is_a_declined_raise_and_the_hold_stays(make_stripe, stripe_api):
    processor = make_stripe()
    preauth_id = hold(processor, token="pm_card_discover")
    result = processor.increment(preauth_id=preauth_id, new_amount=usd("80.00"), idempotency_key=key())
    assert (result.approved, result.held, result.decline_code) == (False, None, "generic")
    stripe_api.increment_decline = "insufficient_funds"
    other = hold(processor)
    result = processor.increment(preauth_id=other, new_amount=usd("80.00"), idempotency_key=key())
    assert (result.approved, result.decline_code) == (False, "insufficient_funds")
    assert processor.capture(preauth_id=other, amount=usd("50.00"), idempotency_key=key()).approved


def test_a_declined_capture_collects_nothing(make_stripe, stripe_api):
    processor = make_stripe()
    preauth_id = hold(processor, Money.of("500", "JPY"))
    stripe_api.capture_decline = "generic_decline"
    result = processor.capture(preauth_id=preauth_id, amount=Money.of("500", "JPY"), idempotency_key=key())
    assert (result.approved, result.captured, result.decline_code) == (False, Money.of("0", "JPY"), "generic")


def test_the_same_key_replays_stripes_first_answer_and_another_request_conflicts(make_stripe, stripe_api):
    processor = make_stripe()
    first = processor.preauthorize(token="pm_card_visa", amount=usd("50"), idempotency_key="k-1")
    again = processor.preauthorize(token="pm_card_visa", amount=usd("50"), idempotency_key="k-1")
    assert first == again and len(stripe_api.intents) == 1
    capture = processor.capture(preauth_id=first.preauth_id, amount=usd("20"), idempotency_key="k-2")
    assert processor.capture(preauth_id=first.preauth_id, amount=usd("20"), idempotency_key="k-2") == capture
    with pytest.raises(IdempotencyConflict):
        processor.preauthorize(token="pm_card_visa", amount=usd("51"), idempotency_key="k-1")
    with pytest.raises(IdempotencyConflict):   # a key belongs to one operation
        processor.refund(preauth_id=first.preauth_id, amount=usd("5"), idempotency_key="k-2")
    assert stripe_api.intents[first.preauth_id]["refunded"] == 0


def test_a_server_error_is_retried_with_the_same_key_within_the_deadline(make_stripe, stripe_api):
    stripe_api.fail_next = [(500, {}), (503, {})]
    result = make_stripe().preauthorize(token="pm_card_visa", amount=usd("50"), idempotency_key="k-retry")
    assert result.approved
    attempts = stripe_api.posts("/v1/payment_intents")
    assert [a.idempotency_key for a in attempts] == ["k-retry"] * 3 and len(stripe_api.intents) == 1


def test_stripe_saying_do_not_retry_is_honoured(make_stripe, stripe_api):
    stripe_api.fail_next = [(500, {"Stripe-Should-Retry": "false"}), (500, {})]
    with pytest.raises(ProcessorUnavailable):
        make_stripe().capture(preauth_id="pi_x", amount=usd("1"), idempotency_key=key())
    assert len(stripe_api.seen) == 1


def test_server_errors_that_persist_give_processor_unavailable(make_stripe, stripe_api):
    stripe_api.fail_next = [(500, {})] * 10
    started = time.monotonic()
    with pytest.raises(ProcessorUnavailable, match="within 1.0s"):
        make_stripe(timeout_s=1.0).preauthorize(token="pm_card_visa", amount=usd("50"), idempotency_key=key())
    assert time.monotonic() - started < 1.0 + SLACK_S
    assert len(stripe_api.seen) == 3


def test_a_stripe_that_does_not_answer_ends_at_the_deadline(make_stripe, stripe_api):
    stripe_api.stall = True
    processor = make_stripe(timeout_s=0.3)
    for call in (lambda: processor.preauthorize(token="pm_card_visa", amount=usd("50"), idempotency_key=key()),
                 lambda: processor.release(preauth_id="pi_x", idempotency_key=key())):
        started = time.monotonic()
        with pytest.raises(ProcessorUnavailable):
            call()
        assert time.monotonic() - started < 0.3 + SLACK_S


def test_a_retry_gets_only_what_is_left_of_the_deadline(make_stripe, stripe_api):
    # A slow server error, then a retry that hangs: the retry must not get a whole timeout of its own.
    stripe_api.fail_next, stripe_api.fault_delay_s, stripe_api.stall_after = [(502, {})], 0.6, 1
    started = time.monotonic()
    with pytest.raises(ProcessorUnavailable):
        make_stripe(timeout_s=1.0).preauthorize(token="pm_card_visa", amount=usd("50"), idempotency_key=key())
    assert time.monotonic() - started < 1.0 + SLACK_S
    assert len(stripe_api.seen) == 2


def test_no_server_listening_gives_processor_unavailable():
    from entrygate.adapters.processors.stripe import StripeProcessor
    processor = StripeProcessor(api_key=fake_stripe.API_KEY, api_base="http://127.0.0.1:9", timeout_s=0.5)
    started = time.monotonic()
    with pytest.raises(ProcessorUnavailable):
        processor.preauthorize(token="pm_card_visa", amount=usd("50"), idempotency_key=key())
    assert time.monotonic() - started < 0.5 + SLACK_S


def test_a_refused_api_key_is_a_configuration_error(make_stripe):
    with pytest.raises(ProcessorConfigError, match="API key"):
        make_stripe(api_key="sk_test_wrong").preauthorize(token="pm_card_visa", amount=usd("5"),
                                                          idempotency_key=key())


@pytest.mark.parametrize(("amount", "currency", "units"), [
    ("5", "ISK", 500),          # two-decimal in Stripe's API, whole krónur only
    ("1000", "MGA", 1000),      # zero-decimal at Stripe, two decimals in ISO 4217
    ("19.99", "EUR", 1999), ("1000", "KRW", 1000), ("2.010", "BHD", 2010),
])
def test_stripe_minor_units_follow_stripes_currency_rules(amount, currency, units):
    assert to_stripe(Money.of(amount, currency)) == units
    assert from_stripe(units, currency.lower()) == Money.of(amount, currency)


@pytest.mark.parametrize(("amount", "currency"), [("1000.50", "MGA"), ("2.015", "BHD")])
def test_stripe_refuses_what_its_currency_rules_refuse(amount, currency):
    with pytest.raises(InvalidProcessorRequest):
        to_stripe(Money.of(amount, currency))


def test_concurrent_holds_each_get_their_own_payment_intent(make_stripe, stripe_api):
    processor = make_stripe()
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: processor.preauthorize(token="pm_card_visa", amount=usd("5"),
                                                                 idempotency_key=f"k-{i}"), range(32), timeout=20))
    assert all(r.approved for r in results) and len({r.preauth_id for r in results}) == 32
    assert len(stripe_api.intents) == 32
    processor.close()
