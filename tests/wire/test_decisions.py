"""The gate's answers rendered from stored facts: every field of the contract, from its column."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from entrygate.domain.decision import ExitOutcome, GateDecision
from entrygate.domain.records import DecisionRecord, ExitRecord
from entrygate.wire.decisions import decision_answer, decision_view, exit_answer

T0 = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)


def stored(**over) -> DecisionRecord:  # noqa: ANN003
    values = dict(gate_pk="gpk_1", gate_id="lane-1", store_id="store-1", event_id="e-1", request_hash="h",
                  channel="CREDIT_CARD", outcome="OPEN", reasons=["PREAUTH_ADJUSTED"], decided_by="PLATFORM",
                  visitor_id="pi_1", visitor_type="SHOPPER", instrument_id="pi_1", trip_id="trip_1", party_size=2,
                  risk_score=41, risk_level="MEDIUM", authorized_amount=Decimal("50.0000"), currency="USD",
                  latency_ms=3.217, event_time=T0, decided_at=T0)
    values.update(over)
    return DecisionRecord(**values)


def test_an_entry_answer_comes_from_the_records_facts():
    assert decision_answer(GateDecision.of(stored())) == {
        "eventId": "e-1", "decision": "OPEN", "shoppingTripId": "trip_1",
        "visitor": {"id": "pi_1", "type": "SHOPPER"},
        "reasons": [{"code": "PREAUTH_ADJUSTED", "message": "The pre-authorized amount was adjusted for this entry."}],
        "risk": {"score": 41, "level": "MEDIUM"}, "authorizedAmount": {"value": 50.0, "currencyCode": "USD"},
        "decidedBy": "PLATFORM", "latencyMs": 3.217, "partySize": 2}


def test_a_denial_without_a_visitor_risk_or_amount_says_null():
    answer = decision_answer(GateDecision.of(stored(
        outcome="DENY", reasons=["CONNECTOR_UNAVAILABLE", "FALLBACK_APPLIED"], decided_by="FALLBACK", visitor_id=None,
        visitor_type=None, trip_id=None, risk_score=None, risk_level=None, authorized_amount=None, currency=None)))
    assert [r["code"] for r in answer["reasons"]] == ["CONNECTOR_UNAVAILABLE", "FALLBACK_APPLIED"]
    assert answer["visitor"] is answer["risk"] is answer["authorizedAmount"] is answer["shoppingTripId"] is None
    assert (answer["decision"], answer["decidedBy"]) == ("DENY", "FALLBACK")


def test_the_retailers_list_shows_the_gates_answer_and_where_it_was_given():
    record = stored()
    assert decision_view(record) == {**decision_answer(GateDecision.of(record)), "storeId": "store-1",
                                     "gateId": "lane-1", "channel": "CREDIT_CARD", "decidedAt": "2026-11-27T18:00:00Z"}


def test_an_exit_answer_says_what_became_of_the_trip():
    closed = ExitOutcome.of(ExitRecord("gpk_x", "x-1", "h", "trip_1", "CLOSED", T0))
    assert exit_answer(closed) == {"eventId": "x-1", "shoppingTripId": "trip_1", "result": "CLOSED",
                                   "message": "The trip is closed.", "tripStatus": "CLOSED"}
    again = exit_answer(ExitOutcome.of(ExitRecord("gpk_x", "x-2", "h", "trip_1", "ALREADY_CLOSED", T0)))
    assert again["message"] == "The trip was already closed; nothing changed." and again["tripStatus"] == "CLOSED"
    nobody = exit_answer(ExitOutcome.of(ExitRecord("gpk_x", "x-3", "h", None, "NO_OPEN_TRIP", T0)))
    assert nobody == {"eventId": "x-3", "shoppingTripId": None, "result": "NO_OPEN_TRIP",
                      "message": "This credential has no open trip at this store.", "tripStatus": None}
