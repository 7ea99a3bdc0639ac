"""The entry use case on in-memory ports: no database, no HTTP."""
from __future__ import annotations

import pytest

from entrygate.domain.channels import AntiPassback
from entrygate.domain.keys import KeyKind
from entrygate.services.auth import Principal
from entrygate.services.errors import Conflict, Forbidden, NotFound, Unavailable
from entrygate.services.gate.exits import ExitEvent
from entrygate.wire.decisions import exit_answer
from support.factories import NOW, World, card, event


def codes(answer):
    return [r["code"] for r in answer["reasons"]]


def test_an_approved_card_opens_with_a_trip():
    w = World()
    answer = w.admit(event(card()))
    assert answer["decision"] == "OPEN" and codes(answer) == []
    with w.memory() as uow:
        trip = uow.trips.get(answer["shoppingTripId"])
    assert trip.visitor_id == answer["visitor"]["id"] == trip.instrument_id
    assert trip.authorized_amount == 25


def test_a_decision_is_replayed_for_a_retried_event():
    w = World()
    ev = event(card())
    assert w.admit(ev) == w.admit(ev)
    with w.memory() as uow:
        assert len(uow.trips.list(w.store.store_id)) == 1


def test_an_event_id_reused_with_another_body_conflicts():
    w = World()
    ev = event(card(), event_id="e-1", request_hash="a")
    w.admit(ev)
    with pytest.raises(Conflict):
        w.admit(event(card(), event_id="e-1", request_hash="b"))


def test_when_the_decision_cannot_be_stored_the_gate_gets_no_decision():
    w = World()
    w.memory.fail_writes = True
    ev = event(card())
    with pytest.raises(Unavailable):
        w.admit(ev)
    w.memory.fail_writes = False
    with w.memory() as uow:
        assert uow.decisions.get_by_event(w.gate.gate_pk, ev.event_id) is None
        assert uow.trips.list(w.store.store_id) == []


def test_lost_card_blocks_the_instrument():
    w = World()
    c = card("tok_decline_lost_stolen")
    assert codes(w.admit(event(c))) == ["PREAUTH_DECLINED"]
    ok_token_same_card = card("tok_visa_approve", par=c.par)
    assert codes(w.admit(event(ok_token_same_card))) == ["INSTRUMENT_BLOCKED"]


def test_checks_come_in_order_and_stop_at_the_first_denial():
    w = World(max_party_size=2)
    expired = card("tok_decline_generic", exp_year=2020)
    assert codes(w.admit(event(expired, party_size=3))) == ["PARTY_TOO_LARGE"]
    assert codes(w.admit(event(expired))) == ["CARD_EXPIRED"]


def test_hard_anti_passback_until_exit():
    w = World(anti_passback=AntiPassback.HARD)
    c = card()
    first = w.admit(event(c))
    assert codes(w.admit(event(c))) == ["ALREADY_INSIDE"]
    out = exit_answer(w.exits.exit(w.exit_principal, "exit-1",
                                   ExitEvent("x1", NOW, "h", trip_id=first["shoppingTripId"])))
    assert out["result"] == "CLOSED"
    assert w.admit(event(c))["decision"] == "OPEN"


def test_soft_anti_passback_allows_but_opens_a_new_trip():
    w = World(anti_passback=AntiPassback.SOFT)
    c = card()
    a, b = w.admit(event(c)), w.admit(event(c))
    assert a["decision"] == b["decision"] == "OPEN" and a["shoppingTripId"] != b["shoppingTripId"]


def test_a_gate_key_only_works_for_its_gate():
    w = World()
    with pytest.raises(Forbidden):
        w.entries.admit(w.exit_principal, "lane-1", event(card()))
    with pytest.raises(NotFound):
        w.entries.admit(w.gate_principal, "no-such-gate", event(card()))
    with pytest.raises(NotFound):
        w.entries.admit(Principal(KeyKind.GATE, gate_pk="gpk_unknown"), "lane-1", event(card()))


def test_entries_at_an_exit_gate_are_refused():
    w = World()
    with pytest.raises(Conflict):
        w.entries.admit(w.exit_principal, "exit-1", event(card()))
