"""HARD anti-passback when one visitor taps at two entry gates at once, on the in-memory ports."""
from __future__ import annotations

from collections import Counter

from entrygate.adapters.memory.connectors import ScriptedIdentity
from entrygate.adapters.memory.processor import ScriptedProcessor
from entrygate.adapters.memory.storage import MemoryStore
from entrygate.domain.channels import AntiPassback, Channel, TripStatus
from entrygate.domain.credentials import BadgeRead, QrScan
from entrygate.domain.decision import GateDecision
from entrygate.services.gate.decision_log import DirectDecisionLog
from entrygate.wire.decisions import decision_answer
from support.factories import card, event
from support.passback import GATES, MeetingLog, at_once, codes, race_world, release_fails, shopper

QR = "EG1.alice.89790290.C2M2XMFc3CqKV7PCrWz0WQ"


def meeting(parties: int):  # noqa: ANN201
    return lambda uow: MeetingLog(DirectDecisionLog(uow), parties)


def open_trips(world, visitor_id: str) -> list:  # noqa: ANN001
    with world.uow() as u:
        return [t for t in u.trips.list(world.store_id, status=TripStatus.OPEN.value) if t.visitor_id == visitor_id]


def test_a_card_at_two_gates_at_once_opens_one_and_the_other_hold_is_released():
    w = race_world(MemoryStore(), meeting(2))
    c = card()
    answers = at_once([lambda g=g: w.admit(g, event(c)) for g in GATES])
    assert sorted(a["decision"] for a in answers) == ["DENY", "OPEN"]
    won, lost = sorted(answers, key=lambda a: a["decision"] != "OPEN")
    assert codes(lost) == ["ALREADY_INSIDE"]
    assert lost["shoppingTripId"] is None and lost["authorizedAmount"] is None
    assert lost["visitor"] == won["visitor"]
    [trip] = open_trips(w, won["visitor"]["id"])
    assert trip.trip_id == won["shoppingTripId"]
    with w.uow() as u:  # the loser's denial is what was stored, with the hold it gave back
        stored = u.decisions.get_by_event(w.gates[GATES[answers.index(lost)]].gate_pk, lost["eventId"])
    assert decision_answer(GateDecision.of(stored)) == lost and stored.outcome == "DENY" and stored.trip_id is None
    assert stored.preauth_id is not None and stored.preauth_id != trip.preauth_id
    assert set(w.processor.released) == {stored.preauth_id}


def test_many_cards_at_two_gates_at_once_each_open_once():
    cards = [card() for _ in range(8)]
    w = race_world(MemoryStore(), meeting(2 * len(cards)))
    answers = at_once([lambda c=c, g=g: (c.par, w.admit(g, event(c))) for c in cards for g in GATES])
    opened = Counter(par for par, a in answers if a["decision"] == "OPEN")
    assert opened == Counter({c.par: 1 for c in cards})
    assert all(codes(a) == ["ALREADY_INSIDE"] for _, a in answers if a["decision"] == "DENY")
    with w.uow() as u:
        assert len(u.trips.list(w.store_id, status="OPEN")) == len(cards)
    assert len(w.processor.released) == len(cards)


def test_a_qr_shopper_and_a_badge_shopper_get_in_once_each():
    identity = ScriptedIdentity({QR.encode(): shopper("v-alice"), b"CSN:04A1B2C3D4E5F6": shopper("v-bob")})
    w = race_world(MemoryStore(), meeting(4), identity=identity)
    qr = lambda: event(QrScan(QR), channel=Channel.QR_CODE)  # noqa: E731
    badge = lambda: event(BadgeRead(csn="04A1B2C3D4E5F6"), channel=Channel.BADGE)  # noqa: E731
    answers = at_once([lambda g=g, make=make: w.admit(g, make()) for make in (qr, badge) for g in GATES])
    by_visitor = Counter((a["visitor"]["id"], a["decision"], tuple(codes(a))) for a in answers)
    assert by_visitor == Counter({("v-alice", "OPEN", ()): 1, ("v-alice", "DENY", ("ALREADY_INSIDE",)): 1,
                                  ("v-bob", "OPEN", ()): 1, ("v-bob", "DENY", ("ALREADY_INSIDE",)): 1})
    assert len(open_trips(w, "v-alice")) == len(open_trips(w, "v-bob")) == 1
    assert w.processor.released == {}  # retailer-identified entries hold nothing


def test_a_group_and_a_single_entry_of_one_card_share_the_rule():
    w = race_world(MemoryStore(), meeting(2))
    c = card()
    answers = at_once([lambda: w.admit("lane-1", event(c, party_size=3)), lambda: w.admit("lane-2", event(c))])
    assert sorted(a["decision"] for a in answers) == ["DENY", "OPEN"]
    assert len(open_trips(w, answers[0]["visitor"]["id"])) == 1


def test_the_losers_retry_hears_its_stored_denial_again():
    w = race_world(MemoryStore(), meeting(2))
    c = card()
    events = {g: event(c) for g in GATES}
    answers = dict(zip(GATES, at_once([lambda g=g: w.admit(g, events[g]) for g in GATES])))
    [loser] = [g for g, a in answers.items() if a["decision"] == "DENY"]
    assert w.admit(loser, events[loser]) == answers[loser]
    assert len(open_trips(w, answers[loser]["visitor"]["id"])) == 1


def test_a_release_that_fails_leaves_the_denial_and_the_hold_on_record():
    w = race_world(MemoryStore(), meeting(2), processor=release_fails())
    c = card()
    answers = at_once([lambda g=g: w.admit(g, event(c)) for g in GATES])
    [lost] = [a for a in answers if a["decision"] == "DENY"]
    assert codes(lost) == ["ALREADY_INSIDE"]
    with w.uow() as u:
        [stored] = [d for d in u.decisions.list(w.store_id) if d.outcome == "DENY"]
    assert stored.preauth_id is not None  # for a later release


def test_a_visitor_already_inside_is_denied_before_any_hold():
    class Counting(ScriptedProcessor):
        holds = 0

        def preauthorize(self, **kw):  # noqa: ANN003, ANN201
            Counting.holds += 1
            return super().preauthorize(**kw)

    w = race_world(MemoryStore(), DirectDecisionLog, processor=Counting())
    c = card()
    assert w.admit("lane-1", event(c))["decision"] == "OPEN"
    assert codes(w.admit("lane-2", event(c))) == ["ALREADY_INSIDE"]
    assert Counting.holds == 1


def test_soft_anti_passback_still_lets_both_in():
    w = race_world(MemoryStore(), meeting(2), anti_passback=AntiPassback.SOFT)
    c = card()
    answers = at_once([lambda g=g: w.admit(g, event(c)) for g in GATES])
    assert [a["decision"] for a in answers] == ["OPEN", "OPEN"]
    assert len(open_trips(w, answers[0]["visitor"]["id"])) == 2
