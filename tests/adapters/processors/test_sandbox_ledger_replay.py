"""The sandbox keeps its word on idempotency beyond one process, and its ``tok_slow_capture`` fault."""
from __future__ import annotations

from decimal import Decimal

import pytest

from entrygate.adapters.processors import holds_id
from entrygate.adapters.processors.sandbox import SandboxProcessor, read_ledger
from entrygate.domain.money import Money
from entrygate.services.ports.processor import HoldStateError, IdempotencyConflict, ProcessorUnavailable


def usd(value: str) -> Money:
    return Money(Decimal(value), "USD")


def _ops(ledger) -> list[str]:
    return [line["op"] for line in read_ledger(ledger)]


def test_a_slow_capture_is_taken_then_given_up_on_and_the_same_key_replays_it(tmp_path):
    ledger = tmp_path / "ledger.jsonl"
    sandbox = SandboxProcessor(timeout_s=0.01, ledger=ledger)
    hold = sandbox.preauthorize(token="tok_slow_capture", amount=usd("25"), idempotency_key="g:1").preauth_id
    assert holds_id.decode(hold).kind == holds_id.SLOW_CAPTURE
    with pytest.raises(ProcessorUnavailable):
        sandbox.capture(preauth_id=hold, amount=usd("18.40"), idempotency_key="c")
    assert _ops(ledger) == ["hold", "capture"]  # the money moved before the answer was lost
    again = sandbox.capture(preauth_id=hold, amount=usd("18.40"), idempotency_key="c")
    assert again.approved and again.captured == usd("18.40")
    with pytest.raises(HoldStateError):
        sandbox.capture(preauth_id=hold, amount=usd("1"), idempotency_key="c2")
    assert _ops(ledger) == ["hold", "capture"]


def test_a_restarted_sandbox_answers_a_key_from_the_ledger_instead_of_moving_money_again(tmp_path):
    ledger = tmp_path / "ledger.jsonl"
    before = SandboxProcessor(timeout_s=0, ledger=ledger)
    hold = before.preauthorize(token="tok_visa", amount=usd("25"), idempotency_key="g:1").preauth_id
    before.increment(preauth_id=hold, new_amount=usd("40"), idempotency_key="i")
    captured = before.capture(preauth_id=hold, amount=usd("35"), idempotency_key="c")
    refunded = before.refund(preauth_id=hold, amount=usd("5"), idempotency_key="r")

    after = SandboxProcessor(timeout_s=0, ledger=ledger)  # a new process: nothing in memory
    assert after.increment(preauth_id=hold, new_amount=usd("40"), idempotency_key="i").approved
    assert after.capture(preauth_id=hold, amount=usd("35"), idempotency_key="c") == captured
    assert after.refund(preauth_id=hold, amount=usd("5"), idempotency_key="r") == refunded
    assert _ops(ledger) == ["hold", "increment", "capture", "refund"]
    with pytest.raises(IdempotencyConflict):
        after.capture(preauth_id=hold, amount=usd("36"), idempotency_key="c")
    # What the ledger told it stands: the hold is captured, 30 of the 35 still refundable.
    with pytest.raises(HoldStateError):
        after.capture(preauth_id=hold, amount=usd("1"), idempotency_key="c-other")
    with pytest.raises(HoldStateError):
        after.refund(preauth_id=hold, amount=usd("30.01"), idempotency_key="r-other")
    after.refund(preauth_id=hold, amount=usd("30"), idempotency_key="r-rest")
    assert _ops(ledger) == ["hold", "increment", "capture", "refund", "refund"]


def test_a_declined_capture_and_a_release_are_replayed_too(tmp_path):
    ledger = tmp_path / "ledger.jsonl"
    one = SandboxProcessor(timeout_s=0, ledger=ledger)
    declining = one.preauthorize(token="tok_capture_decline", amount=usd("10"), idempotency_key="g:1").preauth_id
    assert not one.capture(preauth_id=declining, amount=usd("10"), idempotency_key="c").approved
    released = one.preauthorize(token="tok_visa", amount=usd("10"), idempotency_key="g:2").preauth_id
    one.release(preauth_id=released, idempotency_key="rel")
    other = SandboxProcessor(timeout_s=0, ledger=ledger)
    replayed = other.capture(preauth_id=declining, amount=usd("10"), idempotency_key="c")
    assert not replayed.approved and replayed.decline_code == "generic"
    other.release(preauth_id=released, idempotency_key="rel")
    assert other.released == {released: "rel"}
    with pytest.raises(HoldStateError):
        other.capture(preauth_id=released, amount=usd("10"), idempotency_key="late")
    assert _ops(ledger) == ["hold", "capture", "hold", "release"]


def test_without_a_ledger_a_new_process_cannot_know_what_an_old_one_did(tmp_path):
    before, after = SandboxProcessor(timeout_s=0), SandboxProcessor(timeout_s=0)
    hold = before.preauthorize(token="tok_visa", amount=usd("25"), idempotency_key="g:1").preauth_id
    before.capture(preauth_id=hold, amount=usd("10"), idempotency_key="c")
    # The documented limit: memory is all it has, so the adopted hold reads as held.
    assert after.capture(preauth_id=hold, amount=usd("10"), idempotency_key="c").approved
