"""The sandbox processor: 6a's token outcomes and the life of a hold, as a card network keeps it."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest

from entrygate.adapters.processors import holds_id
from entrygate.adapters.processors.sandbox import SandboxProcessor, from_settings, read_ledger
from entrygate.domain.money import Money
from entrygate.services.ports.processor import (
    HoldStateError,
    IdempotencyConflict,
    InvalidProcessorRequest,
    ProcessorUnavailable,
    UnknownHold,
)


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


@pytest.mark.parametrize(("token", "approved", "decline_code", "block"), [
    ("tok_visa", True, None, False),
    ("tok_capture_decline", True, None, False),
    ("tok_no_increment", True, None, False),
    ("tok_decline_insufficient_funds", False, "insufficient_funds", False),
    ("tok_decline_generic", False, "generic", False),
    ("tok_decline_lost_stolen", False, "lost_stolen", True),
    ("tok_expired_card", False, "expired_card", False),
    ("card_4242", False, "invalid", False),
    # A decline the sandbox has no rule for is refused, never approved as "any other token".
    ("tok_visa_decline", False, "invalid", False),
    ("tok_decline_cvc_check", False, "invalid", False),
    ("tok_mastercard_DECLINED", False, "invalid", False),
    ("tok_" + "x" * 252, False, "invalid", False),
])
def test_the_token_sets_the_preauthorization_outcome(token, approved, decline_code, block):
    result = SandboxProcessor().preauthorize(token=token, amount=usd("50.00"), idempotency_key="k")
    assert (result.approved, result.decline_code, result.block_instrument) == (approved, decline_code, block)
    assert (result.preauth_id is not None) == approved
    assert result.preauth_id is None or len(result.preauth_id) <= 64   # trips.preauth_id is a String(64)


def test_an_unavailable_processor_gives_up_at_its_deadline():
    started = time.monotonic()
    with pytest.raises(ProcessorUnavailable):
        SandboxProcessor(timeout_s=0.05).preauthorize(token="tok_processor_unavailable", amount=usd("5"),
                                                      idempotency_key="k")
    assert 0.05 <= time.monotonic() - started < 1


# Each step: (operation, amount or None, idempotency key, expected: a result field value or an exception)
LIFECYCLES = {
    "capture within the hold": ("tok_visa", [("capture", "30.00", "k1", True)]),
    "capture of the whole hold": ("tok_visa", [("capture", "50.00", "k1", True)]),
    "capture above the hold needs a raise first": ("tok_visa", [("capture", "60.00", "k1", HoldStateError)]),
    "a raise then a capture up to it": ("tok_visa", [("increment", "70.00", "k1", True),
                                                     ("capture", "70.00", "k2", True)]),
    "a raise must be above the hold": ("tok_visa", [("increment", "50.00", "k1", HoldStateError)]),
    "tok_no_increment declines every raise": ("tok_no_increment", [("increment", "60.00", "k1", False),
                                                                   ("capture", "60.00", "k2", HoldStateError),
                                                                   ("capture", "50.00", "k3", True)]),
    "tok_capture_decline declines every capture": ("tok_capture_decline", [("capture", "10.00", "k1", False),
                                                                           ("capture", "10.00", "k2", False),
                                                                           ("release", None, "k3", None)]),
    "a hold is captured once": ("tok_visa", [("capture", "20.00", "k1", True),
                                             ("capture", "20.00", "k2", HoldStateError)]),
    "the same key replays the capture": ("tok_visa", [("capture", "20.00", "k1", True),
                                                      ("capture", "20.00", "k1", True),
                                                      ("refund", "20.00", "k2", "20.00")]),
    "the same key for another request conflicts": ("tok_visa", [("capture", "20.00", "k1", True),
                                                                ("capture", "25.00", "k1", IdempotencyConflict),
                                                                ("refund", "5.00", "k1", IdempotencyConflict)]),
    "a released hold cannot be captured": ("tok_visa", [("release", None, "k1", None),
                                                        ("capture", "10.00", "k2", HoldStateError),
                                                        ("increment", "60.00", "k3", HoldStateError)]),
    "a release twice changes nothing": ("tok_visa", [("release", None, "k1", None),
                                                     ("release", None, "k2", None)]),
    "a captured hold cannot be released": ("tok_visa", [("capture", "10.00", "k1", True),
                                                        ("release", None, "k2", HoldStateError)]),
    "no refund before a capture": ("tok_visa", [("refund", "10.00", "k1", HoldStateError)]),
    "refunds add up to the capture at most": ("tok_visa", [("capture", "30.00", "k1", True),
                                                           ("refund", "20.00", "k2", "20.00"),
                                                           ("refund", "10.01", "k3", HoldStateError),
                                                           ("refund", "10.00", "k4", "10.00"),
                                                           ("refund", "0.01", "k5", HoldStateError)]),
    "a refund replayed counts once": ("tok_visa", [("capture", "30.00", "k1", True),
                                                   ("refund", "30.00", "k2", "30.00"),
                                                   ("refund", "30.00", "k2", "30.00")]),
    "amounts must be positive": ("tok_visa", [("capture", "0", "k1", InvalidProcessorRequest),
                                              ("refund", "-1", "k2", InvalidProcessorRequest)]),
    "amounts no finer than the currency": ("tok_visa", [("capture", "10.001", "k1", InvalidProcessorRequest)]),
}


def run(processor: SandboxProcessor, preauth_id: str, step: tuple) -> object:
    operation, amount, key, _ = step
    if operation == "release":
        return processor.release(preauth_id=preauth_id, idempotency_key=key)
    money = usd(amount)
    if operation == "increment":
        return processor.increment(preauth_id=preauth_id, new_amount=money, idempotency_key=key).approved
    if operation == "capture":
        return processor.capture(preauth_id=preauth_id, amount=money, idempotency_key=key).approved
    refund = processor.refund(preauth_id=preauth_id, amount=money, idempotency_key=key)
    return f"{refund.refunded.amount:.2f}"


@pytest.mark.parametrize("name", list(LIFECYCLES))
def test_hold_lifecycle(name):
    token, steps = LIFECYCLES[name]
    processor = SandboxProcessor()
    preauth_id = processor.preauthorize(token=token, amount=usd("50.00"), idempotency_key="k0").preauth_id
    for step in steps:
        expected = step[3]
        if isinstance(expected, type) and issubclass(expected, Exception):
            with pytest.raises(expected):
                run(processor, preauth_id, step)
        else:
            assert run(processor, preauth_id, step) == expected, step


def test_results_carry_the_amounts():
    processor = SandboxProcessor()
    preauth_id = processor.preauthorize(token="tok_visa", amount=usd("50"), idempotency_key="k0").preauth_id
    assert processor.increment(preauth_id=preauth_id, new_amount=usd("80"), idempotency_key="k1").held == usd("80")
    capture = processor.capture(preauth_id=preauth_id, amount=usd("75"), idempotency_key="k2")
    assert capture.captured == usd("75") and capture.decline_code is None
    first = processor.refund(preauth_id=preauth_id, amount=usd("5"), idempotency_key="k3")
    second = processor.refund(preauth_id=preauth_id, amount=usd("5"), idempotency_key="k4")
    assert first.refund_id != second.refund_id
    declined = SandboxProcessor()
    other = declined.preauthorize(token="tok_capture_decline", amount=usd("5"), idempotency_key="k").preauth_id
    assert declined.capture(preauth_id=other, amount=usd("5"), idempotency_key="c").captured == usd("0")


def test_the_same_key_gives_the_same_preauthorization_even_after_a_restart():
    first = SandboxProcessor().preauthorize(token="tok_visa", amount=usd("50"), idempotency_key="gate:ev")
    again = SandboxProcessor().preauthorize(token="tok_visa", amount=usd("50"), idempotency_key="gate:ev")
    assert first == again
    processor = SandboxProcessor()
    processor.preauthorize(token="tok_visa", amount=usd("50"), idempotency_key="gate:ev")
    with pytest.raises(IdempotencyConflict):
        processor.preauthorize(token="tok_visa", amount=usd("60"), idempotency_key="gate:ev")


def held_elsewhere(token: str, amount: str = "50.00", currency: str = "USD") -> str:
    """A hold made by another process (or before a restart): this one has never seen it."""
    return SandboxProcessor().preauthorize(token=token, amount=Money.of(amount, currency),
                                           idempotency_key="k0").preauth_id


@pytest.mark.parametrize(("token", "step", "expected"), [
    ("tok_visa", ("capture", "50.00", "k1", None), True),
    # The raise it needs may have been approved before the restart: the platform's ledger says so.
    ("tok_visa", ("capture", "70.00", "k1", None), True),
    ("tok_no_increment", ("capture", "70.00", "k1", None), HoldStateError),
    ("tok_no_increment", ("capture", "50.00", "k1", None), True),
    ("tok_capture_decline", ("capture", "10.00", "k1", None), False),
    ("tok_visa", ("release", None, "k1", None), None),
    ("tok_visa", ("refund", "10.00", "k1", None), "10.00"),
    ("tok_visa", ("increment", "60.00", "k1", None), True),
    ("tok_no_increment", ("increment", "60.00", "k1", None), False),
])
def test_a_hold_from_before_a_restart_is_adopted_from_its_id(token, step, expected):
    preauth_id = held_elsewhere(token)
    processor = SandboxProcessor()
    if isinstance(expected, type):
        with pytest.raises(expected):
            run(processor, preauth_id, step)
    else:
        assert run(processor, preauth_id, step) == expected


def test_an_adopted_hold_keeps_the_rules_from_then_on():
    preauth_id = held_elsewhere("tok_visa")
    processor = SandboxProcessor()
    assert processor.capture(preauth_id=preauth_id, amount=usd("40"), idempotency_key="k1").approved
    with pytest.raises(HoldStateError):
        processor.capture(preauth_id=preauth_id, amount=usd("40"), idempotency_key="k2")
    with pytest.raises(HoldStateError):
        processor.refund(preauth_id=preauth_id, amount=usd("40.01"), idempotency_key="k3")
    with pytest.raises(InvalidProcessorRequest):     # the id says USD
        SandboxProcessor().capture(preauth_id=held_elsewhere("tok_visa"), amount=Money.of("5", "EUR"),
                                   idempotency_key="k")


@pytest.mark.parametrize("preauth_id", [
    "pi_3MtwBwLkdIwHu7ix28a3tqPa",
    "pa_nUSD5000_0123456789abcdef00000000",          # the check does not match
    "pa_nusd5000_0123456789abcdef00000000",
    "",
])
def test_an_id_the_sandbox_never_issued_is_an_unknown_hold(preauth_id):
    with pytest.raises(UnknownHold):
        SandboxProcessor().capture(preauth_id=preauth_id, amount=usd("1"), idempotency_key="k")


def test_a_tampered_amount_is_an_unknown_hold():
    preauth_id = held_elsewhere("tok_visa")
    forged = preauth_id.replace("USD5000_", "USD9000_")
    with pytest.raises(UnknownHold):
        SandboxProcessor().capture(preauth_id=forged, amount=usd("90"), idempotency_key="k")


def test_ids_of_the_first_sandbox_are_still_released_and_captured():
    legacy = "pa_" + "0123456789abcdef01234567"
    processor = SandboxProcessor()
    processor.release(preauth_id=legacy, idempotency_key="k1")
    other = "pa_" + "fedcba9876543210fedcba98"
    assert processor.capture(preauth_id=other, amount=Money.of("500", "JPY"), idempotency_key="k2").approved


@pytest.mark.parametrize(("amount", "currency"), [("500", "JPY"), ("1.250", "KWD"), ("12.34", "USD")])
def test_ids_carry_the_held_amount_in_minor_units(amount, currency):
    preauth_id = held_elsewhere("tok_no_increment", amount, currency)
    processor = SandboxProcessor()
    over = Money.of(amount, currency) + Money.of(1, currency)
    with pytest.raises(HoldStateError):
        processor.capture(preauth_id=preauth_id, amount=over, idempotency_key="k1")
    assert processor.capture(preauth_id=preauth_id, amount=Money.of(amount, currency), idempotency_key="k2").approved


def test_concurrent_captures_and_refunds_never_move_more_than_the_hold():
    processor = SandboxProcessor()
    holds = [processor.preauthorize(token="tok_visa", amount=usd("50"), idempotency_key=f"h{n}").preauth_id
             for n in range(50)]

    def capture(job: tuple[str, int]) -> bool:
        preauth_id, i = job
        try:
            key = f"c{preauth_id}{i}"
            return processor.capture(preauth_id=preauth_id, amount=usd("50"), idempotency_key=key).approved
        except HoldStateError:
            return False

    def refund(job: tuple[str, int]) -> int:
        preauth_id, i = job
        try:
            processor.refund(preauth_id=preauth_id, amount=usd("10"), idempotency_key=f"r{preauth_id}{i}")
            return 1
        except HoldStateError:
            return 0

    jobs = [(preauth_id, i) for preauth_id in holds for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        captured = list(pool.map(capture, jobs, timeout=20))
        refunded = list(pool.map(refund, jobs, timeout=20))
    for n in range(len(holds)):
        assert sum(captured[n * 8:(n + 1) * 8]) == 1      # one capture per hold
        assert sum(refunded[n * 8:(n + 1) * 8]) == 5      # 50 captured, 10 a refund


def test_a_second_capture_waits_for_the_first_to_finish(monkeypatch):
    """The first capture is held inside the sandbox (adopting the hold); a second one must not slip past it."""
    preauth_id = held_elsewhere("tok_visa")
    processor = SandboxProcessor()
    entered, go = threading.Semaphore(0), threading.Event()
    decode = holds_id.decode

    def slow_decode(value: str):
        entered.release()
        go.wait(5)
        return decode(value)

    monkeypatch.setattr(holds_id, "decode", slow_decode)
    outcomes: list[object] = []

    def capture(key: str) -> None:
        try:
            outcomes.append(processor.capture(preauth_id=preauth_id, amount=usd("50"), idempotency_key=key).approved)
        except HoldStateError as exc:
            outcomes.append(exc)

    first = threading.Thread(target=capture, args=("c1",))
    first.start()
    assert entered.acquire(timeout=5)
    second = threading.Thread(target=capture, args=("c2",))
    second.start()
    second_got_in = entered.acquire(timeout=0.2)     # only without the lock would it get this far
    go.set()
    first.join(5), second.join(5)
    assert not second_got_in
    assert outcomes[0] is True and isinstance(outcomes[1], HoldStateError)


def test_the_ledger_records_each_step_once_and_released_lists_the_releases(tmp_path):
    ledger = tmp_path / "sandbox.jsonl"
    here, elsewhere = SandboxProcessor(ledger=ledger), SandboxProcessor(ledger=ledger)
    kept = here.preauthorize(token="tok_visa", amount=usd("50"), idempotency_key="g:1").preauth_id
    let_go = here.preauthorize(token="tok_visa", amount=usd("50"), idempotency_key="g:2").preauth_id
    here.increment(preauth_id=kept, new_amount=usd("60"), idempotency_key="i")
    here.capture(preauth_id=kept, amount=usd("55"), idempotency_key="c")
    here.capture(preauth_id=kept, amount=usd("55"), idempotency_key="c")     # a replay: no new line
    here.refund(preauth_id=kept, amount=usd("5"), idempotency_key="r")
    elsewhere.release(preauth_id=let_go, idempotency_key="rel-1")            # another worker releases it
    elsewhere.release(preauth_id=let_go, idempotency_key="rel-2")
    lines = read_ledger(ledger)
    assert [(x["op"], x["preauthId"]) for x in lines] == [
        ("hold", kept), ("hold", let_go), ("increment", kept), ("capture", kept), ("refund", kept),
        ("release", let_go)]
    assert lines[0] == {"op": "hold", "preauthId": kept, "idempotencyKey": "g:1", "amount": "50",
                        "currency": "USD"}
    assert lines[3]["approved"] is True and lines[3]["amount"] == "55"
    assert elsewhere.released == {let_go: "rel-1"} and here.released == {}
    assert read_ledger(tmp_path / "none.jsonl") == []


def test_the_plugin_factory_reads_the_timeout_and_the_ledger(tmp_path):
    processor = from_settings(SimpleNamespace(processor_timeout_ms=250, sandbox_ledger=str(tmp_path / "l.jsonl")))
    processor.preauthorize(token="tok_visa", amount=usd("5"), idempotency_key="k")
    assert processor._timeout_s == 0.25 and len(read_ledger(tmp_path / "l.jsonl")) == 1
