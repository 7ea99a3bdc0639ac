"""The decisions feed use case on in-memory ports: cursors, scope, and what a decision keeps of the gate's request."""
from __future__ import annotations

import pytest

from entrygate.adapters.memory.decision_feed import MemoryDecisionFeed
from entrygate.domain.keys import KeyKind
from entrygate.services.auth import Principal
from entrygate.services.errors import InvalidRequest, NotFound
from entrygate.services.events.feed import DecisionFeedService
from support.factories import OPERATOR, World, card, event


def feed(w: World, secret: bytes = b"s" * 32) -> DecisionFeedService:
    return DecisionFeedService(uow=w.memory, feed=MemoryDecisionFeed(w.memory), secret=secret)


def test_the_feed_pages_through_every_decision_and_hands_back_the_cursor_when_empty():
    w = World()
    events = [event(card()) for _ in range(3)]
    for e in events:
        w.admit(e)
    f = feed(w)
    first = f.page(OPERATOR, w.store.store_id, after="0", limit=2)
    second = f.page(OPERATOR, w.store.store_id, after=first.next_cursor, limit=2)
    assert [d.event_id for d in first.decisions + second.decisions] == [e.event_id for e in events]
    empty = f.page(OPERATOR, w.store.store_id, after=second.next_cursor, limit=2)
    assert empty.decisions == [] and empty.next_cursor == second.next_cursor
    assert f.page(OPERATOR, w.store.store_id, after="0", limit=5000).decisions  # a limit above the most is the most


def test_only_cursors_the_feed_issued_for_this_store_are_taken():
    w = World()
    w.admit(event(card()))
    f = feed(w)
    issued = f.page(OPERATOR, w.store.store_id, after="0", limit=1).next_cursor
    for bad in ("", "00", "1.1", issued[:-1] + ("0" if issued[-1] != "0" else "1"), issued.replace(".", ",")):
        with pytest.raises(InvalidRequest) as refused:
            f.page(OPERATOR, w.store.store_id, after=bad, limit=1)
        assert refused.value.fields == ["after"]
    with pytest.raises(InvalidRequest):  # the same position under another server secret
        feed(w, b"t" * 32).page(OPERATOR, w.store.store_id, after=issued, limit=1)
    with pytest.raises(NotFound):
        f.page(Principal(KeyKind.RETAILER, retailer_id="another"), w.store.store_id, after="0", limit=1)


def test_a_decision_keeps_the_gates_request_without_its_secrets():
    w = World()
    c = card("tok_secret_token", par="VPARKEPTOUTOFTHERECORD")
    answer = w.admit(event(c))
    page = feed(w).page(OPERATOR, w.store.store_id, after="0", limit=1)
    (record,) = page.decisions
    assert record.event_id == answer["eventId"]
    sent = record.gate_request
    assert sent["channel"] == "CREDIT_CARD" and sent["credential"]["last4"] == c.last4
    assert "tok_secret_token" not in repr(sent) and "VPARKEPTOUTOFTHERECORD" not in repr(sent)
    assert sent["credential"]["parGiven"] is True
    assert [(call.name, call.outcome) for call in record.connector_calls] == [("processor", "OK")]
