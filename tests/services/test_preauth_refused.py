"""A processor that answers a pre-authorization with an error, not a decline, still gets the gate a decision.

A refused API key, a currency the processor cannot take, a refusal it gives no decline code for:
the entry fails closed (DENY ``PREAUTH_DECLINED``, on record and replayed like any decision),
never a 500 at the gate.
"""
from __future__ import annotations

import pytest

from entrygate.domain.channels import Channel
from entrygate.services.gate.admit import EntryService
from entrygate.services.gate.card import CardHandler
from entrygate.services.ports.processor import (
    IdempotencyConflict,
    InvalidProcessorRequest,
    ProcessorConfigError,
    ProcessorError,
)
from support.factories import SECRET, World, card, event


class RefusingProcessor:
    """Raises ``error`` for every pre-authorization."""

    def __init__(self, error: ProcessorError) -> None:
        self.error = error

    def preauthorize(self, **_: object) -> None:
        raise self.error


@pytest.mark.parametrize("error", [
    ProcessorConfigError("the processor refused the API key"),
    InvalidProcessorRequest("the processor cannot take 1000.50 MGA"),
    IdempotencyConflict("the key was used for another request"),
    ProcessorError("an answer the adapter does not know"),
], ids=lambda e: type(e).__name__)
def test_a_processor_error_on_the_hold_is_a_recorded_denial(error):
    w = World()
    w.entries = EntryService(uow=w.memory, catalog=w.catalog, clock=w.clock, processor=RefusingProcessor(error),
                             handlers={Channel.CREDIT_CARD: CardHandler(secret=SECRET)})
    ev = event(card())
    answer = w.admit(ev)
    assert answer["decision"] == "DENY"
    assert [r["code"] for r in answer["reasons"]] == ["PREAUTH_DECLINED"]
    assert w.admit(ev) == answer  # on record: the retry is a replay
    with w.memory() as uow:
        assert uow.trips.list(w.store.store_id) == []
