"""Entries and exits answer with typed results, the first time and on a retry alike."""
from __future__ import annotations

import orjson
import pytest

from entrygate.adapters.memory import storage as memory_storage
from entrygate.domain.channels import Channel, DecidedBy, DecisionOutcome, TripStatus, VisitorType
from entrygate.domain.credentials import QrScan
from entrygate.domain.decision import ExitOutcome, ExitResult, GateDecision, Visitor
from entrygate.domain.money import Money
from entrygate.domain.reasons import ReasonCode
from entrygate.domain.store import ConnectorConfig
from entrygate.services.errors import Conflict, Unavailable
from entrygate.services.gate.context import EntryContext, Presentation
from entrygate.services.gate.exits import ExitEvent
from entrygate.services.ports.storage import StorageError
from entrygate.wire.decisions import decision_answer, exit_answer
from support.factories import NOW, World, card, event


def test_an_entry_is_a_typed_decision_and_its_retry_the_same_one():
    w = World()
    ev = event(card(), party_size=2)
    first = w.entries.admit(w.gate_principal, "lane-1", ev)
    assert isinstance(first, GateDecision)
    assert (first.outcome, first.reasons, first.decided_by) == (DecisionOutcome.OPEN, (), DecidedBy.PLATFORM)
    assert first.visitor is not None and first.visitor.type is VisitorType.SHOPPER
    assert first.authorized_amount == Money.of(25, "USD") and first.party_size == 2
    again = w.entries.admit(w.gate_principal, "lane-1", ev)
    assert again == first
    assert orjson.dumps(decision_answer(again)) == orjson.dumps(decision_answer(first))


def test_a_denial_is_typed_with_its_reasons():
    w = World()
    denied = w.entries.admit(w.gate_principal, "lane-1", event(card("tok_expired_card")))
    assert denied.outcome is DecisionOutcome.DENY and denied.reasons == (ReasonCode.CARD_EXPIRED,)
    assert denied.trip_id is None and denied.authorized_amount is None


def test_an_exit_is_a_typed_outcome_and_its_retry_the_same_one():
    w = World()
    trip_id = w.entries.admit(w.gate_principal, "lane-1", event(card())).trip_id
    ex = ExitEvent("x-1", NOW, "h", trip_id=trip_id)
    first = w.exits.exit(w.exit_principal, "exit-1", ex)
    assert first == ExitOutcome("x-1", trip_id, ExitResult.CLOSED) and first.trip_status is TripStatus.CLOSED
    assert w.exits.exit(w.exit_principal, "exit-1", ex) == first
    later = w.exits.exit(w.exit_principal, "exit-1", ExitEvent("x-2", NOW, "h", trip_id=trip_id))
    assert later.result is ExitResult.ALREADY_CLOSED
    assert exit_answer(later)["message"] == "The trip was already closed; nothing changed."


def test_an_exit_event_id_reused_with_another_body_conflicts():
    w = World()
    trip_id = w.entries.admit(w.gate_principal, "lane-1", event(card())).trip_id
    w.exits.exit(w.exit_principal, "exit-1", ExitEvent("x-1", NOW, "h", trip_id=trip_id))
    with pytest.raises(Conflict) as refused:
        w.exits.exit(w.exit_principal, "exit-1", ExitEvent("x-1", NOW, "other", trip_id=trip_id))
    assert refused.value.fields == ["eventId"]


def test_an_exit_whose_record_cannot_be_read_gets_no_answer(monkeypatch):
    w = World()

    def down(self, gate_pk, event_id):  # noqa: ANN001, ANN202
        raise StorageError("connection lost")

    monkeypatch.setattr(memory_storage._Exits, "get_by_event", down)
    with pytest.raises(Unavailable):
        w.exits.exit(w.exit_principal, "exit-1", ExitEvent("x-1", NOW, "h", trip_id="trip_any"))


def qr_world() -> World:
    return World(entry_methods=frozenset({Channel.CREDIT_CARD, Channel.QR_CODE}),
                 connectors={"identity": ConnectorConfig("https://retailer.test", "whsec_" + "A" * 44)})


class Seen:
    """A channel handler that names one visitor and remembers what it was shown."""

    def __init__(self, visitor_id: str | None) -> None:
        self.visitor_id = visitor_id
        self.shown: list[Presentation] = []

    def identify(self, p: Presentation) -> None:
        self.shown.append(p)
        if self.visitor_id is None:
            p.refuse(ReasonCode.IDENTITY_REJECTED, by=DecidedBy.RETAILER)
            return
        p.named(Visitor(self.visitor_id, VisitorType.SHOPPER), by=DecidedBy.RETAILER)


def test_an_exit_asks_the_channel_who_it_is_without_an_entry_decision():
    w = qr_world()
    alice = Seen("v-alice")
    w.entries.handlers[Channel.QR_CODE] = w.exits.handlers[Channel.QR_CODE] = alice
    trip_id = w.entries.admit(w.gate_principal, "lane-1", event(QrScan("EG1.a"), channel=Channel.QR_CODE)).trip_id
    out = w.exits.exit(w.exit_principal, "exit-1",
                       ExitEvent("x-1", NOW, "h", entry=event(QrScan("EG1.a"), channel=Channel.QR_CODE)))
    assert out == ExitOutcome("x-1", trip_id, ExitResult.CLOSED)
    at_entry, at_exit = alice.shown
    assert isinstance(at_entry, EntryContext) and not isinstance(at_exit, EntryContext)


def test_a_credential_that_names_no_one_at_the_exit_has_no_open_trip():
    w = World()
    w.exits.handlers[Channel.QR_CODE] = Seen(None)
    out = w.exits.exit(w.exit_principal, "exit-1",
                       ExitEvent("x-1", NOW, "h", entry=event(QrScan("EG1.b"), channel=Channel.QR_CODE)))
    assert out == ExitOutcome("x-1", None, ExitResult.NO_OPEN_TRIP) and out.trip_status is None


def test_a_refusal_carries_its_reasons_and_who_decided_into_the_entry_decision():
    w = qr_world()
    w.entries.handlers[Channel.QR_CODE] = Seen(None)
    denied = w.entries.admit(w.gate_principal, "lane-1", event(QrScan("EG1.c"), channel=Channel.QR_CODE))
    assert denied.outcome is DecisionOutcome.DENY and denied.reasons == (ReasonCode.IDENTITY_REJECTED,)
    assert denied.decided_by is DecidedBy.RETAILER and denied.visitor is None
