"""Palm enrollment, identification and the index's sync, on in-memory ports: no database, no HTTP."""
from __future__ import annotations

import base64
import concurrent.futures
import struct
import threading
import time
from dataclasses import replace

import numpy as np
import pytest

from entrygate.adapters.memory.palm import MemoryPalmStore
from entrygate.adapters.palm_index import PalmIndex
from entrygate.adapters.processors.sandbox import SandboxProcessor
from entrygate.adapters.template_crypto import TemplateCipher
from entrygate.domain.cards import instrument_id
from entrygate.domain.channels import Channel
from entrygate.domain.credentials import PalmRead
from entrygate.domain.keys import KeyKind
from entrygate.domain.palm import encode_signature
from entrygate.services.auth import Principal
from entrygate.services.errors import Conflict, Forbidden, InvalidRequest, NotFound, Unavailable
from entrygate.services.gate.admit import EntryService
from entrygate.services.gate.card import CardHandler
from entrygate.services.gate.exits import ExitEvent, ExitService
from entrygate.services.palm import enrollment as enrollment_module
from entrygate.services.palm.gate import PalmHandler
from entrygate.services.palm.service import PalmService
from entrygate.services.ports.palm import PalmChange
from entrygate.simulation.palm_reader import PalmPopulation, read
from entrygate.wire.decisions import exit_answer
from support.factories import NOW, OPERATOR, SECRET, World, card, event
from support.palms import HeldIndex

POP = PalmPopulation(seed=11)
CIPHER_SECRET = "palm-service-test-secret-" + "x" * 16


def codes(answer):
    return [r["code"] for r in answer["reasons"]]


def new_service(store: MemoryPalmStore, clock, *, loaded: bool = True) -> PalmService:  # noqa: ANN001
    service = PalmService(store=store, index=PalmIndex(dimension=128), cipher=lambda: TemplateCipher(CIPHER_SECRET),
                          clock=clock, secret=SECRET, dimension=128, liveness_threshold=0.8, sync_interval_s=0.05)
    if loaded:
        service.load()
    return service


class PalmWorld(World):
    """The factories' world, with palm entry at its store and one process's palm service."""

    def __init__(self, **store_over) -> None:  # noqa: ANN003
        super().__init__(**{"entry_methods": frozenset({Channel.CREDIT_CARD, Channel.PALM}), **store_over})
        self.palms = MemoryPalmStore(self.memory)
        self.palm = new_service(self.palms, self.clock)
        handlers = {Channel.CREDIT_CARD: CardHandler(secret=SECRET), Channel.PALM: PalmHandler(self.palm)}
        self.entries = EntryService(uow=self.memory, catalog=self.catalog, clock=self.clock,
                                    processor=SandboxProcessor(timeout_s=0.01), handlers=handlers)
        self.exits = ExitService(uow=self.memory, catalog=self.catalog, clock=self.clock, handlers=handlers)
        self.kiosk = Principal(KeyKind.RETAILER, retailer_id=self.retailer_id)
        self.rng = np.random.default_rng(5)

    def signature(self, person: int) -> str:
        return encode_signature(read(POP.person(person), self.rng).signature)

    def enroll(self, person: int, c=None) -> str:  # noqa: ANN001
        return self.palm.enroll(self.kiosk, signature=self.signature(person), card=c or card(), consent=True)

    def hover(self, person: int, *, liveness: float = 0.95, stranger: bool = False) -> dict:
        who = POP.stranger(person) if stranger else POP.person(person)
        return self.admit(event(PalmRead(encode_signature(read(who, self.rng).signature), liveness),
                                channel=Channel.PALM))


def _b64(values: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()


# --- enrollment ----------------------------------------------------------------------------------


@pytest.mark.parametrize("consent", [None, False, "true", 1, "yes"])
def test_enrollment_needs_consent_that_is_literally_true(consent):
    w = PalmWorld()
    with pytest.raises(InvalidRequest) as err:
        w.palm.enroll(w.kiosk, signature=w.signature(1), card=card(), consent=consent)
    assert err.value.fields == ["consent"]
    assert w.palms.enrollments == {} and w.palms.changes == []


@pytest.mark.parametrize("signature, says", [
    ("not base64!", "not valid base64"),
    (_b64([0.1] * 127), "expected 512"),
    (_b64([0.1] * 129), "expected 512"),
    (_b64([float("nan")] + [0.1] * 127), "non-finite"),
    (_b64([float("inf")] + [0.1] * 127), "non-finite"),
    (_b64([0.0] * 128), "all zeros"),
    ("", "expected 512"),
    (12345, "must be a base64 string"),
    ("A" * 10_000, "characters"),
])
def test_enrollment_refuses_an_unusable_signature_naming_it(signature, says):
    w = PalmWorld()
    with pytest.raises(InvalidRequest) as err:
        w.palm.enroll(w.kiosk, signature=signature, card=card(), consent=True)
    assert err.value.fields == ["signature"] and says in err.value.message
    assert w.palms.enrollments == {}


def test_an_expired_card_cannot_be_enrolled():
    w = PalmWorld()
    with pytest.raises(InvalidRequest) as err:
        w.palm.enroll(w.kiosk, signature=w.signature(1), card=card(exp_month=10, exp_year=2026), consent=True)
    assert err.value.fields == ["card.expMonth", "card.expYear"]
    assert w.palms.enrollments == {}


@pytest.mark.parametrize("who", [OPERATOR, Principal(KeyKind.GATE, gate_pk="gpk_x")])
def test_only_a_retailer_enrolls(who):
    w = PalmWorld()
    with pytest.raises(Forbidden):
        w.palm.enroll(who, signature=w.signature(1), card=card(), consent=True)


def test_an_enrollment_stores_the_template_encrypted_with_its_instrument_and_change():
    w = PalmWorld()
    c = card()
    palm_id = w.enroll(1, c)
    stored = w.palms.enrollments[palm_id]
    assert stored.instrument_id == instrument_id(c, secret=SECRET) and stored.retailer_id == w.retailer_id
    assert stored.card == c and stored.dimension == 128
    assert len(stored.template) == 1 + 12 + 512 + 16  # version, nonce, ciphertext, tag
    vec = TemplateCipher(CIPHER_SECRET).decrypt_vector(stored.template, palm_id=palm_id)
    assert vec.tobytes() not in stored.template and float(vec @ POP.person(1).signature) > 0.8
    assert w.palms.changes == [PalmChange(1, palm_id, "add")]
    with w.memory() as uow:
        assert uow.instruments.get(stored.instrument_id).last4 == "4242"


def test_a_palm_that_is_already_enrolled_is_refused():
    w = PalmWorld()
    w.enroll(1)
    with pytest.raises(Conflict) as err:
        w.enroll(1, card())  # the same hand, another read, another card
    assert err.value.message == "this palm is already enrolled"
    assert len(w.palms.enrollments) == 1
    w.enroll(2)  # somebody else is welcome


# --- entry ---------------------------------------------------------------------------------------


def test_an_enrolled_palm_enters_on_its_card():
    w = PalmWorld()
    c = card()
    w.enroll(3, c)
    answer = w.hover(3)
    assert answer["decision"] == "OPEN" and codes(answer) == []
    assert answer["visitor"] == {"id": instrument_id(c, secret=SECRET), "type": "SHOPPER"}
    tap = w.admit(event(card("tok_other", par=c.par)))  # the card itself, at the same store
    assert tap["visitor"]["id"] == answer["visitor"]["id"]
    with w.memory() as uow:
        trip = uow.trips.get(answer["shoppingTripId"])
    assert trip.instrument_id == answer["visitor"]["id"] and trip.channel == "PALM"


def test_a_stranger_gets_no_match_and_a_spoof_fails_liveness_before_any_matching():
    w = PalmWorld()
    w.enroll(4)
    assert codes(w.hover(0, stranger=True)) == ["PALM_NO_MATCH"]
    w.palms.fail = True  # liveness is judged without reading a single enrollment
    assert codes(w.hover(4, liveness=0.5)) == ["PALM_LIVENESS_FAILED"]
    assert codes(w.hover(4, liveness=0.79)) == ["PALM_LIVENESS_FAILED"]


def test_a_malformed_signature_at_the_gate_is_a_bad_request():
    w = PalmWorld()
    for bad in (_b64([0.1] * 64), _b64([float("nan")] * 128), _b64([0.0] * 128)):
        with pytest.raises(InvalidRequest) as err:
            w.admit(event(PalmRead(bad, 0.95), channel=Channel.PALM))
        assert err.value.fields == ["credential.signature"]
    with w.memory() as uow:
        assert uow.decisions.list(w.store.store_id) == []


def test_a_palm_is_refused_where_the_store_does_not_take_palms():
    w = PalmWorld(entry_methods=frozenset({Channel.CREDIT_CARD}))
    w.enroll(5)
    assert codes(w.hover(5)) == ["ENTRY_METHOD_DISABLED"]


def test_the_palm_exits_by_its_trip():
    w = PalmWorld()
    w.enroll(6)
    trip = w.hover(6)["shoppingTripId"]
    exit_read = PalmRead(w.signature(6), 0.95)
    out = exit_answer(w.exits.exit(w.exit_principal, "exit-1", ExitEvent(
        "x1", NOW, "h", entry=event(exit_read, channel=Channel.PALM))))
    assert out["result"] == "CLOSED" and out["shoppingTripId"] == trip


def test_until_the_index_is_loaded_a_palm_gets_no_decision():
    w = PalmWorld()
    w.palm = new_service(w.palms, w.clock, loaded=False)
    w.entries.handlers[Channel.PALM] = PalmHandler(w.palm)
    with pytest.raises(Unavailable):
        w.hover(1)
    with w.memory() as uow:
        assert uow.decisions.list(w.store.store_id) == []


def test_enrollment_waits_for_the_index_then_gives_up(monkeypatch):
    monkeypatch.setattr(enrollment_module, "READY_WAIT_S", 0.05)
    w = PalmWorld()
    w.palm = new_service(w.palms, w.clock, loaded=False)
    with pytest.raises(Unavailable):
        w.enroll(1)
    assert w.palms.enrollments == {}


def test_the_store_failing_at_the_gate_is_no_decision():
    w = PalmWorld()
    w.enroll(1)
    w.palms.fail = True
    with pytest.raises(Unavailable):
        w.hover(1)


# --- deletion ------------------------------------------------------------------------------------


def test_deletion_is_for_the_enrolling_retailer_or_the_operator():
    w = PalmWorld()
    palm_id = w.enroll(7)
    with pytest.raises(Forbidden):
        w.palm.delete(Principal(KeyKind.RETAILER, retailer_id="ret_other"), palm_id)
    with pytest.raises(Forbidden):
        w.palm.delete(Principal(KeyKind.GATE, gate_pk="gpk_x"), palm_id)
    with pytest.raises(NotFound):
        w.palm.delete(w.kiosk, "palm_unknown")
    for odd in ("x" * 300, "palm\x00", "../palm", ""):
        with pytest.raises(NotFound):
            w.palm.delete(w.kiosk, odd)
    assert w.hover(7)["decision"] == "OPEN"
    w.palm.delete(OPERATOR, palm_id)
    assert codes(w.hover(7)) == ["PALM_NO_MATCH"]


def test_a_deleted_palm_is_gone_at_once_from_the_store_and_the_index():
    w = PalmWorld()
    palm_id = w.enroll(8)
    w.palm.delete(w.kiosk, palm_id)
    assert palm_id not in w.palms.enrollments
    assert [c.op for c in w.palms.changes] == ["add", "remove"]
    assert w.palm.status()["palms"] == 0
    assert codes(w.hover(8)) == ["PALM_NO_MATCH"]
    with pytest.raises(NotFound):
        w.palm.delete(w.kiosk, palm_id)
    w.enroll(8)  # the same hand may enroll again afterwards


# --- two processes over one store ----------------------------------------------------------------


def test_another_process_follows_enrollments_and_never_admits_a_deleted_palm():
    w = PalmWorld()
    other = new_service(w.palms, w.clock)  # a second process, loaded before the enrollment
    palm_id = w.enroll(9)
    probe = read(POP.person(9), w.rng).signature
    assert other.identify(probe) is None  # not yet in its index
    assert other.sync() == 1
    assert other.identify(probe).palm_id == palm_id
    w.palm.delete(w.kiosk, palm_id)
    assert other.status()["palms"] == 1  # its index still holds the palm...
    assert other.identify(probe) is None  # ...but the row is gone, so it is no match
    other.sync()
    assert other.status()["palms"] == 0 and other.status()["syncedSeq"] == 2


def test_a_change_that_commits_late_below_the_watermark_is_still_applied():
    w = PalmWorld()
    other = new_service(w.palms, w.clock)
    w.enroll(10)
    late_id = w.enroll(11)
    w.enroll(12)
    # On PostgreSQL the transaction that took position 2 may commit after 3 was read: hide it.
    late_change, late_row = w.palms.changes.pop(1), w.palms.enrollments.pop(late_id)
    other.sync()
    assert other.status()["syncedSeq"] == 3 and other.status()["palms"] == 2
    w.palms.changes.insert(1, late_change)
    w.palms.enrollments[late_id] = late_row
    assert other.sync() == 1
    assert other.identify(read(POP.person(11), w.rng).signature).palm_id == late_id


def test_a_restarted_process_loads_every_enrolled_palm_and_skips_one_it_cannot_read():
    w = PalmWorld()
    ids = [w.enroll(p) for p in (20, 21, 22)]
    w.palm.delete(w.kiosk, ids[0])
    w.palms.enrollments[ids[1]] = replace(w.palms.enrollments[ids[1]], template=b"\x01" + bytes(40))
    restarted = new_service(w.palms, w.clock)
    assert restarted.status()["palms"] == 1 and restarted.status()["unreadableTemplates"] == 1
    assert restarted.status()["syncedSeq"] == 4
    assert restarted.identify(read(POP.person(22), w.rng).signature).palm_id == ids[2]


def test_the_background_thread_loads_then_follows_the_change_log():
    w = PalmWorld()
    w.enroll(30)
    follower = new_service(w.palms, w.clock, loaded=False)
    follower.start()
    try:
        assert follower.wait_ready(5)
        palm_id = w.enroll(31)
        until = time.monotonic() + 5
        while follower.status()["palms"] < 2 and time.monotonic() < until:
            time.sleep(0.01)
        assert follower.identify(read(POP.person(31), w.rng).signature).palm_id == palm_id
    finally:
        follower.stop()


# --- one palm enrolled at two processes at once --------------------------------------------------


def test_a_palm_enrolled_at_another_process_is_refused_before_this_index_hears_of_it():
    w = PalmWorld()
    other = new_service(w.palms, w.clock)  # a second process, loaded before anything was enrolled
    first = w.enroll(1)
    with pytest.raises(Conflict) as err:  # its index does not hold the palm: the store's log does
        other.enroll(w.kiosk, signature=w.signature(1), card=card(), consent=True)
    assert err.value.message == "this palm is already enrolled" and err.value.fields == ["signature"]
    assert list(w.palms.enrollments) == [first]
    assert other.status()["syncedSeq"] == 0  # it learned nothing from the check: the poll does that
    w.palm.delete(w.kiosk, first)  # deleted: enrolled after the position, but no longer enrolled
    again = other.enroll(w.kiosk, signature=w.signature(1), card=card(), consent=True)
    assert list(w.palms.enrollments) == [again]


def test_an_enrollment_waits_for_one_in_its_check_at_another_process():
    w = PalmWorld()
    held = HeldIndex()
    a = PalmService(store=w.palms, index=held, cipher=lambda: TemplateCipher(CIPHER_SECRET), clock=w.clock,
                    secret=SECRET, dimension=128, liveness_threshold=0.8)
    a.load()
    held.arm()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        try:
            at_a = pool.submit(a.enroll, w.kiosk, signature=w.signature(2), card=card(), consent=True)
            assert held.checking.wait(5)
            at_b = pool.submit(w.palm.enroll, w.kiosk, signature=w.signature(2), card=card(), consent=True)
            done, _ = concurrent.futures.wait([at_b], timeout=0.3)
            assert not done, "the second enrollment ran its check while the first was in the middle of its own"
        finally:
            held.release.set()
        palm_id = at_a.result(5)
        with pytest.raises(Conflict):
            at_b.result(5)
    assert list(w.palms.enrollments) == [palm_id]


def race(services: list[PalmService], kiosk: Principal, signatures: list[str]) -> list[str]:
    """Every service enrolls its read of one hand at the same instant; the palm ids, or "conflict"."""
    start = threading.Barrier(len(services))

    def enroll(service: PalmService, signature: str) -> str:
        start.wait(5)
        try:
            return service.enroll(kiosk, signature=signature, card=card(), consent=True)
        except Conflict:
            return "conflict"

    with concurrent.futures.ThreadPoolExecutor(len(services)) as pool:
        return list(pool.map(enroll, services, signatures))


def test_the_same_palm_enrolled_at_two_processes_at_once_is_enrolled_once():
    w = PalmWorld()
    other = new_service(w.palms, w.clock)
    for person in range(40, 45):  # four reads of one hand, two at each process, at once
        outcomes = race([w.palm, other, w.palm, other], w.kiosk, [w.signature(person) for _ in range(4)])
        assert outcomes.count("conflict") == 3, outcomes
    assert len(w.palms.enrollments) == 5
