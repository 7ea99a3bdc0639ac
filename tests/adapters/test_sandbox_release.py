"""The sandbox processor's release, and the ledger that shows its holds from outside the process."""
from __future__ import annotations

from entrygate.adapters.processors.sandbox import SandboxProcessor, read_ledger
from entrygate.domain.money import Money


def test_a_release_is_idempotent_and_every_hold_and_release_is_on_the_ledger(tmp_path):
    ledger = tmp_path / "ledger.jsonl"
    assert read_ledger(ledger) == []
    one, other = SandboxProcessor(timeout_s=0, ledger=ledger), SandboxProcessor(timeout_s=0, ledger=ledger)
    hold = one.preauthorize(token="tok_visa", amount=Money.of(25, "USD"), idempotency_key="g:e1")
    kept = other.preauthorize(token="tok_visa", amount=Money.of(25, "USD"), idempotency_key="g:e2")
    one.release(preauth_id=hold.preauth_id, idempotency_key="g:e1:release")
    one.release(preauth_id=hold.preauth_id, idempotency_key="g:e1:release")  # again: nothing more happens
    assert one.released == {hold.preauth_id: "g:e1:release"}
    assert [(x["op"], x["preauthId"]) for x in read_ledger(ledger)] == [
        ("hold", hold.preauth_id), ("hold", kept.preauth_id), ("release", hold.preauth_id)]


def test_without_a_ledger_nothing_is_written(tmp_path):
    sandbox = SandboxProcessor(timeout_s=0)
    hold = sandbox.preauthorize(token="tok_visa", amount=Money.of(25, "USD"), idempotency_key="k")
    sandbox.release(preauth_id=hold.preauth_id, idempotency_key="k:release")
    assert list(tmp_path.iterdir()) == [] and hold.preauth_id in sandbox.released
