"""The decisions feed under load: 8 gates tapping through two ``entrygate serve`` processes on one
database while a reader follows ``nextCursor``; the reader misses nothing and sees nothing twice
(DESIGN 13), on SQLite and PostgreSQL."""
from __future__ import annotations

import concurrent.futures
import threading
import time

import httpx

from support.server import Platform, card, entry, new_par, operator_token, start_server, stop_server

GATES = 8
TAPS_PER_GATE = 25


def test_eight_gates_over_two_processes_and_a_polling_reader(db_url):
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        servers = [f.result() for f in [pool.submit(start_server, db_url) for _ in range(2)]]
    token = operator_token(db_url)
    platforms = [Platform(url, token, db_url, proc) for url, proc in servers]
    try:
        store = platforms[0].store(gates=tuple(f"lane-{i}" for i in range(GATES)))
        sent: list[str] = []
        sent_lock = threading.Lock()
        done = threading.Event()

        def gate(i: int) -> None:
            gate_id, key = f"lane-{i}", store.gates[f"lane-{i}"]
            with httpx.Client(base_url=platforms[i % 2].url, timeout=30) as http:
                for _ in range(TAPS_PER_GATE):
                    body = entry(card(par=new_par()))
                    r = http.post(f"/v1/gates/{gate_id}/entries", json=body, headers={"Authorization": f"Bearer {key}"})
                    assert r.status_code == 200, r.text
                    with sent_lock:
                        sent.append(body["eventId"])

        seen: list[str] = []
        expected = GATES * TAPS_PER_GATE

        def reader() -> None:
            cursor, polls, quiet_after_done = "0", 0, 0
            clients = [httpx.Client(base_url=p.url, timeout=30) for p in platforms]
            try:
                # Once the gates are done, read on until every decision came (on PostgreSQL the feed waits for
                # the server's oldest writing transaction, which on a shared test server may be anyone's),
                # then a few polls more: a decision seen twice would come then.
                deadline = None
                while quiet_after_done < 3:
                    finished = done.is_set()
                    if finished and deadline is None:
                        deadline = time.monotonic() + 30
                    r = clients[polls % 2].get(f"/v1/stores/{store.store_id}/decisions",
                                               params={"after": cursor, "limit": 50},
                                               headers={"Authorization": f"Bearer {store.retailer_key}"})
                    polls += 1
                    assert r.status_code == 200, r.text
                    page = r.json()
                    seen.extend(d["eventId"] for d in page["decisions"])
                    cursor = page["nextCursor"]
                    if finished and not page["decisions"] and (len(seen) >= expected or time.monotonic() >= deadline):
                        quiet_after_done += 1
                    time.sleep(0.01)
            finally:
                for c in clients:
                    c.close()

        read = threading.Thread(target=reader)
        read.start()
        with concurrent.futures.ThreadPoolExecutor(GATES) as pool:
            for f in [pool.submit(gate, i) for i in range(GATES)]:
                f.result()
        done.set()
        read.join(60)
        assert not read.is_alive()
        assert len(sent) == GATES * TAPS_PER_GATE
        assert len(seen) == len(set(seen)), "a decision was seen twice"
        assert set(seen) == set(sent), f"missed {len(set(sent) - set(seen))} decisions"
    finally:
        for p in platforms:
            p.http.close()
            stop_server(p.process)
