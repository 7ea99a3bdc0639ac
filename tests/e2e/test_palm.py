"""Palm enrollment and palm entry over real HTTP against a server process, on SQLite and PostgreSQL."""
from __future__ import annotations

import base64
import struct
import time
import uuid

import numpy as np
import pytest
from sqlalchemy import create_engine, select, text

from entrygate.adapters.db import tables as t
from entrygate.domain.palm import encode_signature
from entrygate.simulation.palm_reader import PalmPopulation, read
from support.server import card, entry

POP = PalmPopulation(seed=4242)
RNG = np.random.default_rng(7)


def new_par() -> str:
    """A fresh PAR of letters after its BIN controller id: no run of digits the PAN guard could take for a card."""
    return "V001" + "".join(chr(65 + b % 26) for b in uuid.uuid4().bytes + uuid.uuid4().bytes)[:25]
T0 = int(time.time() * 1000)
_people = iter(range(10**6))  # each test process has its own session database: a counter is enough


def codes(answer: dict) -> list[str]:
    return [r["code"] for r in answer["reasons"]]


def person() -> int:
    """A palm nobody enrolled yet (the session database is shared by the tests of a backend)."""
    return next(_people)


def signature(who: int) -> str:
    return encode_signature(read(POP.person(who), RNG).signature)


def hover(who: int, *, liveness: float = 0.95, stranger: bool = False) -> dict:
    palm = POP.stranger(who) if stranger else POP.person(who)
    return {"signature": encode_signature(read(palm, RNG).signature), "liveness": liveness}


def ready(platform) -> None:  # noqa: ANN001
    deadline = time.monotonic() + 30
    while platform.http.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, platform.http.get("/readyz").text
        time.sleep(0.05)


@pytest.fixture(scope="module")
def palm_store(platform):
    ready(platform)
    return platform.store(entryMethods=["CREDIT_CARD", "PALM"], exit_gates=("exit-1",))


@pytest.fixture(scope="module")
def kiosk(platform):
    """A retailer whose enrollments all fail: none of them may leave a row."""
    ready(platform)
    return platform.store(entryMethods=["PALM"])


def enroll(platform, store, body: dict, *, key: str | None = None):  # noqa: ANN001, ANN201
    headers = {"Authorization": f"Bearer {key or store.retailer_key}"}
    return platform.http.post("/v1/palm/enrollments", json=body, headers=headers)


def good(who: int, **over) -> dict:  # noqa: ANN003
    return {"signature": signature(who), "card": card(par=new_par()), "consent": True, **over}


def rows_of(platform, retailer_id: str) -> list:  # noqa: ANN001
    engine = create_engine(platform.database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(t.palm_enrollments).where(t.palm_enrollments.c.retailer_id == retailer_id)).all()
    finally:
        engine.dispose()


def _b64(values: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()


def _card_without(field: str) -> dict:
    c = card(par=new_par())
    del c[field]
    return c


BAD_ENROLLMENTS = [
    ("consent", lambda b: b.pop("consent")),
    ("consent", lambda b: b.update(consent=False)),
    ("consent", lambda b: b.update(consent="true")),
    ("consent", lambda b: b.update(consent=1)),
    ("signature", lambda b: b.pop("signature")),
    ("signature", lambda b: b.update(signature="not base64 at all")),
    ("signature", lambda b: b.update(signature=_b64([0.1] * 64))),
    ("signature", lambda b: b.update(signature=_b64([float("nan")] * 128))),
    ("signature", lambda b: b.update(signature=_b64([0.0] * 128))),
    ("signature", lambda b: b.update(signature=["a", "b"])),
    ("card", lambda b: b.pop("card")),
    ("card", lambda b: b.update(card="tok_visa_approve")),
    ("card.paymentToken", lambda b: b.update(card=_card_without("paymentToken"))),
    ("card.expMonth", lambda b: b.update(card=card(par=new_par(), expMonth=13))),
    ("card.expYear", lambda b: b.update(card=card(par=new_par(), expYear="soon"))),
    ("card.last4", lambda b: b.update(card=card(par=new_par(), last4="42"))),
    ("card.par", lambda b: b.update(card=card(par="short"))),
    ("card.brand", lambda b: b.update(card=card(par=new_par(), brand="visa"))),
    ("card.expMonth", lambda b: b.update(card=card(par=new_par(), expMonth=1, expYear=2020))),  # expired
    ("card.paymentToken", lambda b: b.update(card=card("4242424242424242", par=new_par()))),  # a PAN
    ("note", lambda b: b.update(note="card 4242 4242 4242 4242")),  # a PAN anywhere in the body
]


@pytest.mark.parametrize("field, spoil", BAD_ENROLLMENTS, ids=[f"{f}-{i}" for i, (f, _) in enumerate(BAD_ENROLLMENTS)])
def test_a_bad_enrollment_is_refused_naming_the_field_and_nothing_is_stored(platform, kiosk, field, spoil):
    body = good(person())
    spoil(body)
    r = enroll(platform, kiosk, body)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and field in error["fields"], error
    assert "4242424242424242" not in r.text and "4242 4242 4242 4242" not in r.text
    assert rows_of(platform, kiosk.retailer_id) == []


def test_only_a_retailer_key_enrolls(platform, palm_store):
    body = good(person())
    assert platform.http.post("/v1/palm/enrollments", json=body).status_code == 401
    assert enroll(platform, palm_store, body, key=palm_store.gates["lane-1"]).status_code == 403
    assert platform.http.post("/v1/palm/enrollments", json=body, headers=platform.op).status_code == 403


def test_an_enrolled_palm_enters_on_its_card_and_strangers_and_spoofs_do_not(platform, palm_store):
    who, c = person(), card("tok_palm_" + uuid.uuid4().hex[:8], par=new_par())
    r = enroll(platform, palm_store, {"signature": signature(who), "card": c, "consent": True})
    assert r.status_code == 201, r.text
    palm_id = r.json()["palmId"]
    assert palm_id.startswith("palm_")
    answer = platform.enter(palm_store, entry(hover(who), channel="PALM")).json()
    assert answer["decision"] == "OPEN" and codes(answer) == [], answer
    tap = platform.enter(palm_store, entry(card("tok_visa_approve", par=c["par"]))).json()
    assert answer["visitor"] == tap["visitor"] == {"id": tap["visitor"]["id"], "type": "SHOPPER"}
    trip = platform.http.get(f"/v1/trips/{answer['shoppingTripId']}", headers=platform.as_retailer(palm_store)).json()
    assert trip["channel"] == "PALM" and trip["visitorId"] == tap["visitor"]["id"]

    assert codes(platform.enter(palm_store, entry(hover(who, stranger=True), channel="PALM")).json()) == [
        "PALM_NO_MATCH"]
    assert codes(platform.enter(palm_store, entry(hover(who, liveness=0.3), channel="PALM")).json()) == [
        "PALM_LIVENESS_FAILED"]
    r = platform.enter(palm_store, entry({"signature": _b64([0.5] * 100), "liveness": 0.95}, channel="PALM"))
    assert r.status_code == 400 and r.json()["error"]["fields"] == ["credential.signature"]

    leaving = {k: v for k, v in entry(hover(who), channel="PALM").items() if k != "partySize"}
    out = platform.exit(palm_store, leaving, gate="exit-1").json()
    assert out["result"] == "CLOSED"


def test_the_same_palm_cannot_be_enrolled_twice(platform, palm_store):
    who = person()
    assert enroll(platform, palm_store, good(who)).status_code == 201
    other_retailer = platform.store(entryMethods=["PALM"])
    r = enroll(platform, other_retailer, good(who))  # enrollment is platform-wide
    assert r.status_code == 409 and r.json()["error"]["message"] == "this palm is already enrolled"


def test_a_palm_enrolled_at_one_retailer_opens_at_another_stores_gate(platform, palm_store):
    who = person()
    assert enroll(platform, palm_store, good(who)).status_code == 201
    elsewhere = platform.store(entryMethods=["PALM"])
    assert platform.enter(elsewhere, entry(hover(who), channel="PALM")).json()["decision"] == "OPEN"


def test_deleting_an_enrollment_stops_the_palm_at_once_and_removes_the_row(platform, palm_store):
    who = person()
    palm_id = enroll(platform, palm_store, good(who)).json()["palmId"]
    assert platform.enter(palm_store, entry(hover(who), channel="PALM")).json()["decision"] == "OPEN"
    path = f"/v1/palm/enrollments/{palm_id}"
    someone_else = platform.store()
    assert platform.http.delete(path, headers=platform.as_retailer(someone_else)).status_code == 403
    gate = {"Authorization": f"Bearer {palm_store.gates['lane-1']}"}
    assert platform.http.delete(path, headers=gate).status_code == 403
    for unknown in ("palm_nobody", "x" * 300):
        r = platform.http.delete(f"/v1/palm/enrollments/{unknown}", headers=platform.as_retailer(palm_store))
        assert r.status_code == 404, r.text
    r = platform.http.delete("/v1/palm/enrollments/palm%00x", headers=platform.as_retailer(palm_store))
    assert r.status_code == 400, r.text  # no URL with U+0000 reaches a route
    assert platform.http.delete(path, headers=platform.as_retailer(palm_store)).status_code == 204
    assert codes(platform.enter(palm_store, entry(hover(who), channel="PALM")).json()) == ["PALM_NO_MATCH"]
    assert platform.http.delete(path, headers=platform.as_retailer(palm_store)).status_code == 404
    assert all(row.palm_id != palm_id for row in rows_of(platform, palm_store.retailer_id))
    engine = create_engine(platform.database_url)
    try:
        with engine.connect() as conn:
            ops = conn.execute(text("SELECT op FROM palm_changes WHERE palm_id = :p ORDER BY seq"), {"p": palm_id})
            assert [o for (o,) in ops] == ["add", "remove"]
    finally:
        engine.dispose()


def test_the_operator_can_delete_any_enrollment(platform, palm_store):
    palm_id = enroll(platform, palm_store, good(person())).json()["palmId"]
    assert platform.http.delete(f"/v1/palm/enrollments/{palm_id}", headers=platform.op).status_code == 204


def test_the_template_is_encrypted_at_rest(platform, palm_store):
    who = person()
    body = good(who)
    palm_id = enroll(platform, palm_store, body).json()["palmId"]
    row = next(r for r in rows_of(platform, palm_store.retailer_id) if r.palm_id == palm_id)
    raw = bytes(row.template)
    sent = base64.b64decode(body["signature"])
    unit = np.frombuffer(sent, dtype="<f4")
    unit = (unit / np.linalg.norm(unit.astype(np.float64))).astype("<f4").tobytes()
    # A version 2 blob: 2, the key id's length and the key id, then nonce, ciphertext and tag (docs/palm.md).
    key_id = raw[2:2 + raw[1]].decode()
    assert raw[0] == 2 and key_id == row.template_key_id and len(raw) == 2 + len(key_id) + 12 + 512 + 16
    for plain in (sent, unit):
        assert plain not in raw and plain[:8] not in raw
    assert row.card["par"] == body["card"]["par"] and row.dimension == 128


def test_a_palm_entry_is_stopped_by_the_cards_unpaid_trip(platform):
    store = platform.store(entryMethods=["CREDIT_CARD", "PALM"], riskStrategy="PLATFORM_MANAGED")
    par, who = new_par(), person()
    assert enroll(platform, store, {"signature": signature(who), "card": card(par=par), "consent": True}
                  ).status_code == 201
    tapped = platform.enter(store, entry(card(par=par))).json()
    r = platform.http.post("/v1/feedback/payment-status", headers=platform.as_retailer(store), json={
        "storeId": store.store_id, "shoppingTripId": tapped["shoppingTripId"],
        "totalAmount": {"amount": 18.4, "code": "USD"}, "settledAmount": {"amount": 0, "code": "USD"},
        "paymentStatusTime": T0})
    assert r.json() == {"status": "Accepted"}
    answer = platform.enter(store, entry(hover(who), channel="PALM")).json()
    assert answer["decision"] == "DENY" and codes(answer) == ["OUTSTANDING_BALANCE"]
    assert answer["visitor"]["id"] == tapped["visitor"]["id"] and answer["decidedBy"] == "PLATFORM"


def test_readiness_reports_the_palm_index(platform):
    r = platform.http.get("/readyz")
    assert r.status_code == 200
    palm = r.json()["palm"]
    assert palm["state"] == "ready" and palm["layout"] == "exact" and palm["palms"] >= 0


def test_the_enrollment_endpoints_are_in_the_openapi_document(platform):
    doc = platform.http.get("/openapi.json").json()
    assert "post" in doc["paths"]["/v1/palm/enrollments"]
    assert "delete" in doc["paths"]["/v1/palm/enrollments/{palmId}"]
    assert {"signature", "card", "consent"} <= set(doc["components"]["schemas"]["PalmEnrollmentIn"]["properties"])
