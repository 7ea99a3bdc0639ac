"""Killing the server mid-load loses no decision a gate received (DESIGN 9)."""
from __future__ import annotations

import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import create_engine, text

from support.server import Platform, card, entry, new_par, operator_token, start_server, stop_server


def test_every_answered_decision_survives_a_kill(db_url):
    url, proc = start_server(db_url)
    p = Platform(url, operator_token(db_url), db_url, proc)
    store = p.store(gates=tuple(f"lane-{i}" for i in range(8)))
    answered: list[tuple[str, str]] = []
    bodies: dict[str, tuple[dict, dict]] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def gate(i: int) -> None:
        client = httpx.Client(base_url=url, timeout=5)
        key = {"Authorization": f"Bearer {store.gates[f'lane-{i}']}"}
        while not stop.is_set():
            body = entry(card(par=new_par()))
            try:
                r = client.post(f"/v1/gates/lane-{i}/entries", json=body, headers=key)
            except httpx.HTTPError:
                return  # the server is gone: this request got no answer, so it needs no record
            if r.status_code == 200:
                with lock:
                    answered.append((f"lane-{i}", body["eventId"]))
                    bodies[body["eventId"]] = (body, r.json())

    with ThreadPoolExecutor(8) as pool:
        for i in range(8):
            pool.submit(gate, i)
        deadline = time.monotonic() + 20
        while len(answered) < 150 and time.monotonic() < deadline:
            time.sleep(0.05)
        stop_server(proc, sig=signal.SIGKILL)  # no shutdown, no flush: a crash
        stop.set()
    assert len(answered) >= 50, "the load did not get going"

    engine = create_engine(db_url)
    with engine.connect() as conn:
        stored = {(g, e) for g, e in conn.execute(text("SELECT gate_id, event_id FROM decisions"))}
    engine.dispose()
    missing = [a for a in answered if a not in stored]
    assert not missing, f"{len(missing)} of {len(answered)} answered decisions were lost"

    # After a restart the same events are replayed from the record, not decided again.
    url2, proc2 = start_server(db_url)
    try:
        for gate_id, event_id in answered[-5:]:
            body, first = bodies[event_id]
            r = httpx.post(f"{url2}/v1/gates/{gate_id}/entries", json=body,
                           headers={"Authorization": f"Bearer {store.gates[gate_id]}"})
            assert r.status_code == 200 and r.json() == first
    finally:
        stop_server(proc2)
