"""HARD anti-passback over real HTTP: one card tapped at two entry gates at the same moment.

Every card is tapped at both gates of a HARD store at once (one thread per tap, released by a
barrier), against one server process and against two processes sharing the database. Exactly
one tap per card opens; the other is denied ``ALREADY_INSIDE``; the database holds one open
trip per card; and the sandbox, which writes every hold and release to its ledger, has let go of
every hold but the open trips' own.
"""
from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, select

from entrygate.adapters.db import tables as t
from entrygate.adapters.processors.sandbox import read_ledger
from support.databases import drop_database, fresh_database
from support.server import Platform, card, entry, new_par, operator_token, start_server, stop_server

GATES = ("lane-1", "lane-2")
CARDS = 16


@pytest.fixture(scope="module")
def servers(backend, tmp_path_factory):
    """Two server processes on one fresh database, both writing to one sandbox ledger."""
    tmp = tmp_path_factory.mktemp("passback-race")
    url = fresh_database(backend, tmp, name="race")
    ledger = tmp / "sandbox-ledger.jsonl"
    started = []
    try:
        with ThreadPoolExecutor(3) as pool:  # the processes start side by side
            token = pool.submit(operator_token, url)
            for server in [pool.submit(start_server, url, env={"ENTRYGATE_SANDBOX_LEDGER": str(ledger)})
                           for _ in range(2)]:
                started.append(server.result(timeout=120))
            platform = Platform(started[0][0], token.result(timeout=120), url, started[0][1])
        yield platform, [u for u, _ in started], ledger
        platform.http.close()
    finally:
        for _, proc in started:
            stop_server(proc)
        drop_database(url)


def tap_everywhere_at_once(urls: list[str], store, pars: list[str]) -> list[tuple[str, dict]]:  # noqa: ANN001
    """Each card at each gate (gate i on server i), all released together; (par, answer) per tap."""
    calls = [(par, gate, urls[i % len(urls)]) for par in pars for i, gate in enumerate(GATES)]
    for _par, gate, url in calls[:len(GATES)]:  # each process warmed up for its gate: a declined card, no trip
        assert httpx.post(f"{url}/v1/gates/{gate}/entries", json=entry(card("tok_decline_generic", par=new_par())),
                          headers={"Authorization": f"Bearer {store.gates[gate]}"}, timeout=20).status_code == 200
    start = threading.Barrier(len(calls))
    answers: list[tuple[str, dict]] = []
    lock = threading.Lock()

    def tap(par: str, gate: str, url: str) -> None:
        with httpx.Client(base_url=url, timeout=20) as http:
            http.get("/healthz")  # connected before the start
            body = entry(card(par=par))
            start.wait(20)
            r = http.post(f"/v1/gates/{gate}/entries", json=body,
                          headers={"Authorization": f"Bearer {store.gates[gate]}"})
        assert r.status_code == 200, r.text
        with lock:
            answers.append((par, r.json()))

    threads = [threading.Thread(target=tap, args=c) for c in calls]
    for th in threads:
        th.start()
    for th in threads:
        th.join(40)
    assert len(answers) == len(calls), "a tap did not finish"
    return answers


def check_one_entry_per_card(platform: Platform, store, answers, ledger: Path) -> None:  # noqa: ANN001
    opened = Counter(par for par, a in answers if a["decision"] == "OPEN")
    assert sorted(opened.values()) == [1] * CARDS, opened
    denied = [a for _, a in answers if a["decision"] == "DENY"]
    assert len(denied) == CARDS
    assert all([r["code"] for r in a["reasons"]] == ["ALREADY_INSIDE"] for a in denied)
    assert all(a["shoppingTripId"] is None and a["authorizedAmount"] is None for a in denied)

    engine = create_engine(platform.database_url)
    try:
        with engine.connect() as conn:
            trips, decisions = t.shopping_trips.c, t.decisions.c
            per_visitor = dict(conn.execute(select(trips.visitor_id, func.count())
                                            .where(trips.store_id == store.store_id, trips.status == "OPEN")
                                            .group_by(trips.visitor_id)).all())
            kept = set(conn.execute(select(trips.preauth_id).where(trips.store_id == store.store_id)).scalars())
            losers = set(conn.execute(select(decisions.preauth_id).where(
                decisions.store_id == store.store_id, decisions.outcome == "DENY",
                decisions.preauth_id.is_not(None))).scalars())
            gate_pks = set(conn.execute(select(t.gates.c.gate_pk).where(t.gates.c.store_id == store.store_id))
                           .scalars())
    finally:
        engine.dispose()
    assert sorted(per_visitor.values()) == [1] * CARDS
    assert len(kept) == CARDS

    # The ledger's lines for this store: the platform's idempotency keys start with the gate's key.
    lines = [x for x in read_ledger(ledger) if x["idempotencyKey"].split(":")[0] in gate_pks]
    held = {x["preauthId"] for x in lines if x["op"] == "hold"}
    released = {x["preauthId"] for x in lines if x["op"] == "release"}
    assert losers <= released  # every loser's hold that it obtained, let go
    assert held - released == kept  # nothing held but the open trips' holds
    assert not kept & released


def test_one_card_at_two_gates_of_one_process(servers):
    platform, urls, ledger = servers
    store = platform.store(gates=GATES, antiPassback="HARD")
    answers = tap_everywhere_at_once(urls[:1], store, [new_par() for _ in range(CARDS)])
    check_one_entry_per_card(platform, store, answers, ledger)


def test_one_card_at_two_gates_served_by_two_processes(servers):
    platform, urls, ledger = servers
    store = platform.store(gates=GATES, antiPassback="HARD")
    answers = tap_everywhere_at_once(urls, store, [new_par() for _ in range(CARDS)])
    check_one_entry_per_card(platform, store, answers, ledger)
