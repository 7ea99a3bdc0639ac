"""QR and badge entry on in-memory ports, with the scripted identity connector (no HTTP)."""
from __future__ import annotations

import base64
import time
import uuid

import pytest

from entrygate.adapters.memory.connectors import ScriptedIdentity
from entrygate.domain.channels import AntiPassback, Channel, FallbackDecision, VisitorType
from entrygate.domain.credentials import BadgeRead, QrScan
from entrygate.domain.decision import Visitor
from entrygate.domain.store import ConnectorConfig
from entrygate.services.errors import InvalidRequest
from entrygate.services.gate.exits import ExitEvent
from entrygate.services.gate.qr_badge import BadgeHandler, QrHandler
from entrygate.services.ports.connectors import AuthEvent, ConnectorFailed, FailureKind, KeyChannel, identity_request
from entrygate.wire.decisions import exit_answer
from support.factories import NOW, World, event

ALICE = Visitor("v-alice", VisitorType.SHOPPER)
BOB = Visitor("v-bob", VisitorType.ASSOCIATE)
CODE = "EG1.alice.89790290.C2M2XMFc3CqKV7PCrWz0WQ"


def world(answers=None, **store) -> tuple[World, ScriptedIdentity]:
    store.setdefault("entry_methods", frozenset({Channel.CREDIT_CARD, Channel.QR_CODE, Channel.BADGE}))
    store.setdefault("badge_formats", ("H10301", "C1K35", "CSN"))
    store.setdefault("connectors", {"identity": ConnectorConfig("https://retailer.test", "whsec_" + "A" * 44)})
    w = World(**store)
    fake = ScriptedIdentity(answers)
    handlers = {Channel.QR_CODE: QrHandler(identity=fake), Channel.BADGE: BadgeHandler(identity=fake)}
    w.entries.handlers.update(handlers)
    w.exits.handlers.update(handlers)
    return w, fake


def qr(value: str = CODE, **kw):
    return event(QrScan(value), channel=Channel.QR_CODE, **kw)


def badge(**read):
    return event(BadgeRead(**read), channel=Channel.BADGE)


def codes(answer):
    return [r["code"] for r in answer["reasons"]]


# --- QR codes ---------------------------------------------------------------------------------


def test_a_shopper_s_qr_code_opens_with_a_trip_decided_by_the_retailer():
    w, fake = world({CODE.encode(): ALICE})
    ev = qr()
    answer = w.admit(ev)
    assert answer["decision"] == "OPEN" and codes(answer) == []
    assert answer["visitor"] == {"id": "v-alice", "type": "SHOPPER"}
    assert answer["decidedBy"] == "RETAILER"
    assert answer["shoppingTripId"].startswith("trip_")
    [(key, channel, auth)] = fake.calls
    assert key == CODE.encode() and channel is KeyChannel.OPTICAL
    assert auth == AuthEvent(ev.event_id, NOW, "ENTRY")
    with w.memory() as uow:
        trip = uow.trips.get(answer["shoppingTripId"])
    assert trip.visitor_id == "v-alice" and trip.instrument_id is None and trip.channel == "QR_CODE"


def test_the_connector_receives_the_scanned_value_base64_encoded():
    body = identity_request(request_id=str(uuid.uuid4()), identity_key=CODE.encode(), store_id="s",
                            auth_event=AuthEvent(str(uuid.uuid4()), NOW, "ENTRY"), key_channel=KeyChannel.OPTICAL)
    assert base64.b64decode(body["identityKey"], validate=True) == CODE.encode()
    assert body["authEvent"]["timestamp"] == "2026-11-27T18:00:00.000Z"


def test_an_associate_enters_with_no_trip_and_no_preauthorization():
    w, _ = world({CODE.encode(): BOB})
    answer = w.admit(qr())
    assert answer["decision"] == "OPEN"
    assert answer["visitor"] == {"id": "v-bob", "type": "ASSOCIATE"}
    assert answer["shoppingTripId"] is None and answer["authorizedAmount"] is None
    with w.memory() as uow:
        assert uow.trips.list(w.store.store_id) == []


def test_a_code_off_the_store_pattern_is_refused_without_asking_the_retailer():
    w, fake = world({b"HELLO": ALICE})
    for value in ("HELLO", "EG1.alice.123", "xEG1.a.1.b", CODE + " "):
        answer = w.admit(qr(value))
        assert answer["decision"] == "DENY" and codes(answer) == ["QR_PATTERN_MISMATCH"]
        assert answer["decidedBy"] == "PLATFORM"
    assert fake.calls == []


def test_an_unanchored_pattern_matches_anywhere_in_the_code():
    w, _ = world({b"shop:MBR-1234": ALICE}, qr_pattern=r"MBR-\d{4}")
    assert w.admit(qr("shop:MBR-1234"))["decision"] == "OPEN"
    assert codes(w.admit(qr("shop:MBR-12"))) == ["QR_PATTERN_MISMATCH"]


def test_a_code_too_long_for_the_contract_is_refused_without_asking():
    w, fake = world(qr_pattern=r"^EG1\.")
    answer = w.admit(qr("EG1." + "a" * 800))
    assert codes(answer) == ["INVALID_CREDENTIAL"] and fake.calls == []


def test_an_unknown_code_is_rejected_by_the_retailer():
    w, _ = world({})
    answer = w.admit(qr())
    assert answer["decision"] == "DENY" and codes(answer) == ["IDENTITY_REJECTED"]
    assert answer["decidedBy"] == "RETAILER" and answer["shoppingTripId"] is None


@pytest.mark.parametrize("fallback", list(FallbackDecision))
@pytest.mark.parametrize("kind", [FailureKind.TIMEOUT, FailureKind.CIRCUIT_OPEN, FailureKind.MALFORMED])
def test_without_the_retailer_identity_falls_back_to_deny_whatever_the_store_says(fallback, kind):
    w, _ = world({CODE.encode(): ConnectorFailed(kind, "down")}, fallback_decision=fallback)
    answer = w.admit(qr())
    assert answer["decision"] == "DENY"
    assert codes(answer) == ["CONNECTOR_UNAVAILABLE", "FALLBACK_APPLIED"]
    assert answer["decidedBy"] == "FALLBACK"


def test_a_gate_event_id_that_is_not_a_uuid_gets_a_stable_derived_one():
    w, fake = world({CODE.encode(): ALICE})
    w.admit(qr(event_id="gate-42-0001"))
    w2_event = qr(event_id="gate-42-0001")
    w.entries.handlers[Channel.QR_CODE].identify(_ctx(w, w2_event))
    first, second = fake.calls[0][2].id, fake.calls[1][2].id
    assert first == second and uuid.UUID(first)


def _ctx(w: World, ev):
    from entrygate.services.gate.context import EntryContext

    return EntryContext(store=w.store, gate=w.gate, event=ev, now=NOW)


def test_hard_anti_passback_applies_to_qr_shoppers():
    w, _ = world({CODE.encode(): ALICE}, anti_passback=AntiPassback.HARD)
    assert w.admit(qr())["decision"] == "OPEN"
    again = w.admit(qr())
    assert again["decision"] == "DENY" and codes(again) == ["ALREADY_INSIDE"]


def test_a_qr_code_at_the_exit_closes_the_trip_and_tells_the_retailer_it_is_an_exit():
    w, fake = world({CODE.encode(): ALICE, b"EG1.alice.89790291.C2M2XMFc3CqKV7PCrWz0WQ": ALICE})
    trip = w.admit(qr())["shoppingTripId"]
    exit_event = ExitEvent(event_id=str(uuid.uuid4()), timestamp=NOW, request_hash="h",
                           entry=qr("EG1.alice.89790291.C2M2XMFc3CqKV7PCrWz0WQ"))
    out = exit_answer(w.exits.exit(w.exit_principal, "exit-1", exit_event))
    assert out["result"] == "CLOSED" and out["shoppingTripId"] == trip
    assert fake.calls[-1][2].location == "EXIT"


# --- badges -----------------------------------------------------------------------------------


@pytest.mark.parametrize("read, canonical", [
    (dict(bits="00110010100000101001110011"), "H10301:101:1337"),
    (dict(hex="CA0A73", bit_length=26), "H10301:101:1337"),
    (dict(hex="2006f623ae", bit_length=26), "H10301:123:4567"),  # a reader's preamble above the frame
    (dict(bits="10111110100000111101000010010000001"), "C1K35:4000:1000000"),
    (dict(csn="04:a1:b2:c3:d4:e5:f6"), "CSN:04A1B2C3D4E5F6"),
])
def test_a_badge_is_decoded_and_its_canonical_id_sent_over_rfid(read, canonical):
    w, fake = world({canonical.encode(): ALICE})
    answer = w.admit(badge(**read))
    assert answer["decision"] == "OPEN" and answer["decidedBy"] == "RETAILER"
    [(key, channel, _)] = fake.calls
    assert key == canonical.encode() and channel is KeyChannel.RFID


def test_an_associate_badge_opens_without_a_trip():
    w, _ = world({b"H10301:7:12": BOB})
    answer = w.admit(badge(bits="10000011100000000000011001"))
    assert answer["decision"] == "OPEN" and answer["visitor"]["type"] == "ASSOCIATE"
    assert answer["shoppingTripId"] is None


@pytest.mark.parametrize("read, reason", [
    (dict(bits="0000000000110010100000101001110011"), "BADGE_FORMAT_UNSUPPORTED"),  # H10306, not enabled
    (dict(hex="6500A73", bit_length=37), "BADGE_FORMAT_UNSUPPORTED"),  # H10304, not enabled
    (dict(bits="00110010100000101001110010"), "BADGE_PARITY_ERROR"),  # H10301, last bit flipped
    (dict(bits="10111110100000111101000010010000000"), "BADGE_PARITY_ERROR"),  # C1K35, last bit flipped
])
def test_badges_the_store_cannot_read_are_refused_without_asking(read, reason):
    w, fake = world()
    answer = w.admit(badge(**read))
    assert answer["decision"] == "DENY" and codes(answer) == [reason] and answer["decidedBy"] == "PLATFORM"
    assert fake.calls == []


def test_a_serial_number_is_refused_where_csn_is_not_enabled():
    w, fake = world(badge_formats=("H10301",))
    assert codes(w.admit(badge(csn="04A1B2C3D4E5F6"))) == ["BADGE_FORMAT_UNSUPPORTED"]
    assert fake.calls == []


@pytest.mark.parametrize("read, field", [
    (dict(csn="04A1B"), "credential.csn"),  # half a byte
    (dict(csn="0411"), "credential.csn"),  # too short for a UID
    (dict(bits="1" * 300), "credential.bits"),
    (dict(hex="zz", bit_length=26), "credential.hex"),
    (dict(hex="CA0A73"), "credential.bitLength"),
    (dict(), "credential"),
])
def test_a_malformed_read_is_a_400_that_names_the_field(read, field):
    w, fake = world()
    with pytest.raises(InvalidRequest) as err:
        w.admit(badge(**read))
    assert err.value.fields == [field]
    assert fake.calls == []


def test_an_unknown_badge_is_rejected_by_the_retailer():
    w, _ = world({})
    answer = w.admit(badge(bits="00110010100000101001110011"))
    assert codes(answer) == ["IDENTITY_REJECTED"] and answer["decidedBy"] == "RETAILER"


def _admit_time(w, value: str) -> float:
    started = time.perf_counter()
    assert codes(w.admit(qr(value))) == ["QR_PATTERN_MISMATCH"]
    return time.perf_counter() - started


def test_a_backtracking_pattern_is_judged_in_linear_time_at_the_gate():
    w, fake = world({b"a" * 30: ALICE}, qr_pattern=r"^(a+)+$")
    _admit_time(w, "warm")
    baseline = min(_admit_time(w, "HELLO") for _ in range(5))
    # Python's re backtracks 2**22 ways here (a tenth of a second); RE2 reads 23 characters.
    assert min(_admit_time(w, "a" * 22 + "b") for _ in range(5)) < 10 * baseline + 0.02
    assert _admit_time(w, "a" * 4095 + "b") < 20 * baseline + 0.05  # the longest a gate may send
    assert fake.calls == []
    assert w.admit(qr("a" * 30))["decision"] == "OPEN"


def test_a_pattern_saved_before_the_rules_fails_closed_without_asking_the_retailer():
    w, fake = world({b"aa": ALICE})
    with w.memory() as uow:  # as if written by an older release: the service would refuse it now
        uow.stores.update(w.store.with_changes(qr_pattern=r"^(a)\1$"), at=NOW)
        uow.commit()
    assert w.catalog.store(w.store.store_id).qr_pattern == r"^(a)\1$"
    answer = w.admit(qr("aa"))
    assert answer["decision"] == "DENY" and codes(answer) == ["QR_PATTERN_MISMATCH"] and fake.calls == []


def test_each_identity_call_is_kept_on_its_decision_with_its_outcome():
    """What the console's decision page lists: the call, its outcome and status; and the QR code never whole."""
    down = b"EG1.down.89790290.C2M2XMFc3CqKV7PCrWz0WQ"
    w, _ = world({CODE.encode(): ALICE, down: ConnectorFailed(FailureKind.TIMEOUT, "no answer in 800 ms")})
    known = w.admit(qr())
    unknown = w.admit(qr("EG1.nobody.89790290.C2M2XMFc3CqKV7PCrWz0WQ"))
    failed = w.admit(qr(down.decode()))
    with w.memory() as uow:
        kept = {a["eventId"]: uow.decisions.get_by_event(w.gate.gate_pk, a["eventId"]) for a in (known, unknown, failed)}
    calls = {e: [(c.name, c.outcome, c.status) for c in r.connector_calls] for e, r in kept.items()}
    assert calls[known["eventId"]] == [("identity", "OK", 200)]
    assert calls[unknown["eventId"]] == [("identity", "REJECTED", 401)]
    assert calls[failed["eventId"]] == [("identity", "timeout", None)]
    assert all(c.elapsed_ms >= 0 for r in kept.values() for c in r.connector_calls)
    sent = kept[known["eventId"]].gate_request["credential"]
    assert sent == {"scanStart": "EG1.", "scanChars": len(CODE)} and CODE not in repr(kept[known["eventId"]].gate_request)
