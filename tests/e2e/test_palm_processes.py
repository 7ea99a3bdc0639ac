"""Two ``entrygate serve`` processes sharing one database: each keeps its own palm index in step
with the change log, neither admits a deleted palm (DESIGN 8), and one palm enrolled at both at once
is enrolled once; a restarted process brings its index back from its file on disk and the change
log, never trusting a file that does not verify; on SQLite and PostgreSQL."""
from __future__ import annotations

import concurrent.futures
import json
import threading
import time
import uuid

import httpx
import numpy as np
from sqlalchemy import create_engine, text

from entrygate.bootstrap import build
from entrygate.domain.cards import CardCredential
from entrygate.domain.channels import Channel, GateDirection
from entrygate.domain.keys import KeyKind
from entrygate.domain.palm import encode_signature
from entrygate.services.auth import Principal
from entrygate.settings import Settings
from entrygate.simulation.palm_reader import PalmPopulation, read
from support.factories import store_config
from support.server import TEST_SECRET, Platform, StoreHandle, card, entry, start_server, stop_server

SYNC_S = 0.25
POP = PalmPopulation(seed=99)
RNG = np.random.default_rng(3)


def new_par() -> str:
    """A fresh PAR of letters after its BIN controller id: no run of digits the PAN guard could take for a card."""
    return "V001" + "".join(chr(65 + b % 26) for b in uuid.uuid4().bytes + uuid.uuid4().bytes)[:25]


def hover(who: int) -> dict:
    return {"signature": encode_signature(read(POP.person(who), RNG).signature), "liveness": 0.95}


def codes(p: Platform, store: StoreHandle, who: int) -> list[str]:
    r = p.enter(store, entry(hover(who), channel="PALM"))
    assert r.status_code == 200, r.text
    answer = r.json()
    return ["OPEN"] if answer["decision"] == "OPEN" else [x["code"] for x in answer["reasons"]]


def until(check, *, within: float) -> None:  # noqa: ANN001
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < within, "did not happen in time"
        time.sleep(0.02)


def palms(p: Platform) -> int:
    return p.http.get("/readyz").json()["palm"]["palms"]


def seed_world(db_url: str) -> StoreHandle:
    """A retailer, a palm store with a gate, and person 1's palm enrolled, before any server starts."""
    c = build(Settings(database_url=db_url, secret_key=TEST_SECRET))
    try:
        operator = Principal(KeyKind.OPERATOR)
        retailer = c.admin.create_retailer(operator, name="R")
        store = c.admin.create_store(operator, store_config(
            retailer.id, entry_methods=frozenset({Channel.CREDIT_CARD, Channel.PALM})))
        gate = c.admin.add_gate(operator, store.store_id, gate_id="lane-1", direction=GateDirection.ENTRY)
        assert c.palm.wait_ready(10)
        c.palm.enroll(Principal(KeyKind.RETAILER, retailer_id=retailer.id), signature=hover(1)["signature"],
                      card=CardCredential("tok_visa_approve", new_par(), "VISA", "4242", 12, 2030), consent=True)
    finally:
        c.close()
    return StoreHandle(store.store_id, retailer.id, retailer.api_key, {"lane-1": gate.api_key})


def test_a_second_process_follows_enrollments_and_deletions(db_url):
    store = seed_world(db_url)
    # A polls the change log only at start (so what it still holds is known); B every SYNC_S.
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        started = [pool.submit(start_server, db_url, env={"ENTRYGATE_PALM_SYNC_INTERVAL_S": str(interval)})
                   for interval in (3600, SYNC_S)]
        a, b = [Platform(s.result()[0], "", db_url, s.result()[1]) for s in started]
    try:
        for p in (a, b):
            until(lambda p=p: p.http.get("/readyz").status_code == 200, within=30)
            assert palms(p) == 1 and codes(p, store, 1) == ["OPEN"]  # loaded from the database at start
        palm_1 = _only_palm(db_url)

        r = a.http.post("/v1/palm/enrollments", headers=a.as_retailer(store),
                        json={"signature": hover(2)["signature"], "card": card(par=new_par()), "consent": True})
        assert r.status_code == 201, r.text
        palm_2 = r.json()["palmId"]
        assert codes(a, store, 2) == ["OPEN"]  # at once where it was enrolled
        until(lambda: palms(b) == 2, within=20 * SYNC_S)  # within the sync interval elsewhere
        assert codes(b, store, 2) == ["OPEN"]

        assert a.http.delete(f"/v1/palm/enrollments/{palm_1}", headers=a.as_retailer(store)).status_code == 204
        assert codes(a, store, 1) == ["PALM_NO_MATCH"]  # gone from A's index at once
        assert codes(b, store, 1) == ["PALM_NO_MATCH"]  # and never admitted by B...
        until(lambda: palms(b) == 1, within=20 * SYNC_S)  # ...which drops it within the sync interval

        assert b.http.delete(f"/v1/palm/enrollments/{palm_2}", headers=b.as_retailer(store)).status_code == 204
        assert palms(a) == 1  # A has not polled since it started: its index still holds palm 2...
        assert codes(a, store, 2) == ["PALM_NO_MATCH"]  # ...but finds no enrollment row behind it
        assert codes(b, store, 2) == ["PALM_NO_MATCH"]
    finally:
        for p in (a, b):
            p.http.close()
            stop_server(p.process)


def test_one_palm_enrolled_at_two_processes_at_once_is_enrolled_once(db_url):
    store = seed_world(db_url)
    # Neither process polls after its start: only the database can tell one of the other's enrollments.
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        started = [pool.submit(start_server, db_url, env={"ENTRYGATE_PALM_SYNC_INTERVAL_S": "3600"})
                   for _ in range(2)]
        a, b = [Platform(s.result()[0], "", db_url, s.result()[1]) for s in started]
    try:
        for p in (a, b):
            until(lambda p=p: p.http.get("/readyz").status_code == 200, within=30)
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            for who in range(10, 15):
                at_once = threading.Barrier(2)
                bodies = [{"signature": hover(who)["signature"], "card": card(par=new_par()), "consent": True}
                          for _ in (a, b)]

                def enroll(p: Platform, body: dict, at_once: threading.Barrier = at_once) -> httpx.Response:
                    at_once.wait(10)
                    return p.http.post("/v1/palm/enrollments", headers=p.as_retailer(store), json=body)

                answers = list(pool.map(enroll, (a, b), bodies))
                assert sorted(r.status_code for r in answers) == [201, 409], [r.text for r in answers]
                refused = next(r for r in answers if r.status_code == 409).json()["error"]
                assert refused["message"] == "this palm is already enrolled" and refused["fields"] == ["signature"]
                winner = (a, b)[[r.status_code for r in answers].index(201)]
                assert codes(winner, store, who) == ["OPEN"]
        assert _enrolled(db_url) == 1 + 5  # person 1, seeded, and one enrollment for each hand
    finally:
        for p in (a, b):
            p.http.close()
            stop_server(p.process)


def _enrolled(db_url: str) -> int:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM palm_enrollments")).scalar_one()
    finally:
        engine.dispose()


def _only_palm(db_url: str) -> str:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT palm_id FROM palm_enrollments")).scalar_one()
    finally:
        engine.dispose()


# -- restarts with the index on disk --------------------------------------------------------


def served(db_url: str, snapshot) -> Platform:  # noqa: ANN001
    url, proc = start_server(db_url, env={"ENTRYGATE_PALM_SNAPSHOT": str(snapshot), "ENTRYGATE_LOG_LEVEL": "INFO",
                                          "ENTRYGATE_PALM_SYNC_INTERVAL_S": "0.2"})
    p = Platform(url, "", db_url, proc)
    until(lambda: p.http.get("/readyz").status_code == 200, within=30)
    return p


def stopped(p: Platform) -> list[str]:
    """Stop the server; the events of its log lines."""
    p.http.close()
    stop_server(p.process)
    events = []
    for line in p.process.stderr.read().decode().splitlines():
        try:
            events.append(json.loads(line)["event"])
        except (ValueError, KeyError):
            continue
    return events


def enroll_elsewhere(db_url: str, store, who: int) -> None:  # noqa: ANN001
    """An enrollment made by another process while this one is down (writing no file of its own)."""
    c = build(Settings(database_url=db_url, secret_key=TEST_SECRET, palm_snapshot="off"))
    try:
        assert c.palm.wait_ready(10)
        c.palm.enroll(Principal(KeyKind.RETAILER, retailer_id=store.retailer_id), signature=hover(who)["signature"],
                      card=CardCredential("tok_visa_approve", new_par(), "VISA", "4242", 12, 2030), consent=True)
    finally:
        c.close()


def test_a_restart_restores_the_index_and_catches_up_and_a_tampered_file_is_rebuilt(db_url, tmp_path):
    store = seed_world(db_url)
    snapshot = tmp_path / "palm-index"
    first = served(db_url, snapshot)
    until(snapshot.exists, within=20)  # written after the first build
    assert codes(first, store, 1) == ["OPEN"]
    assert "palm_index_loaded" in stopped(first)

    enroll_elsewhere(db_url, store, 2)
    second = served(db_url, snapshot)
    assert codes(second, store, 1) == ["OPEN"] and codes(second, store, 2) == ["OPEN"]
    events = stopped(second)
    assert "palm_index_restored" in events and "palm_index_loaded" not in events

    raw = bytearray(snapshot.read_bytes())
    raw[-20] ^= 0x01
    snapshot.write_bytes(bytes(raw))
    third = served(db_url, snapshot)
    assert codes(third, store, 1) == ["OPEN"] and codes(third, store, 2) == ["OPEN"]
    events = stopped(third)
    assert "palm_index_snapshot_refused" in events and "palm_index_loaded" in events
