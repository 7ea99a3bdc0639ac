"""HARD anti-passback under a race: one card tapped at two entry gates at the same moment.

Starts `entrygate serve` (one process, or one per gate with ``--processes 2``) on a throw-away
database of each backend, makes a HARD anti-passback store with two entry gates, and in each
round taps new cards at both gates at once (one thread per tap, released together by a
barrier). Counts the gates opened, the OPEN trips stored, the cards that got in twice, and from
the sandbox's ledger (ENTRYGATE_SANDBOX_LEDGER) the holds still kept and those released. A
correct platform opens exactly once per card and keeps one hold per open trip.

    ENTRYGATE_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/passback_race.py [--cards 20] [--rounds 3] [--processes 1|2]
                                                [--backend sqlite --backend postgres]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.databases import drop_database, fresh_database  # noqa: E402
from support.server import Platform, card, entry, new_par, operator_token, start_server, stop_server  # noqa: E402


def _holds(ledger: Path) -> tuple[str, str]:
    """(holds kept, holds released), as the sandbox's ledger tells; n/a for a sandbox that writes none."""
    if not ledger.exists():
        return "n/a", "n/a"
    lines = [json.loads(x) for x in ledger.read_text().splitlines() if x.strip()]
    held = {x["preauthId"] for x in lines if x["op"] == "hold"}
    released = {x["preauthId"] for x in lines if x["op"] == "release"}
    return str(len(held - released)), str(len(released))

GATES = ("lane-1", "lane-2")


def _round(urls: list[str], store, cards: int) -> tuple[int, int]:  # noqa: ANN001
    """One round of new cards, each tapped at both gates at once: (opens, cards that got in twice)."""
    pars = [new_par() for _ in range(cards)]
    barrier = threading.Barrier(cards * len(GATES))
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def tap(par: str, i: int) -> None:
        gate = GATES[i]
        with httpx.Client(base_url=urls[i % len(urls)], timeout=30) as http:
            body = entry(card(par=par))
            barrier.wait(timeout=30)
            r = http.post(f"/v1/gates/{gate}/entries", json=body,
                          headers={"Authorization": f"Bearer {store.gates[gate]}"})
        r.raise_for_status()
        if r.json()["decision"] == "OPEN":
            with lock:
                outcomes[par] += 1

    threads = [threading.Thread(target=tap, args=(par, i)) for par in pars for i in range(len(GATES))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return sum(outcomes.values()), sum(1 for n in outcomes.values() if n > 1)


def run(backend: str, *, cards: int, rounds: int, processes: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_database(backend, Path(tmp), name="race")
        ledger = Path(tmp) / "sandbox-ledger.jsonl"
        servers = [start_server(url, env={"ENTRYGATE_SANDBOX_LEDGER": str(ledger)}) for _ in range(processes)]
        try:
            platform = Platform(servers[0][0], operator_token(url), url, servers[0][1])
            store = platform.store(gates=GATES, antiPassback="HARD")
            opens = doubles = 0
            for _ in range(rounds):
                o, d = _round([u for u, _ in servers], store, cards)
                opens, doubles = opens + o, doubles + d
            trips = platform.http.get(f"/v1/stores/{store.store_id}/trips", params={"status": "OPEN", "limit": 1000},
                                      headers=platform.as_retailer(store)).json()["trips"]
            platform.http.close()
            kept, released = _holds(ledger)
        finally:
            for _, proc in servers:
                stop_server(proc)
            drop_database(url)
    return {"backend": backend, "processes": processes, "cards": cards * rounds, "opens": opens,
            "open_trips": len(trips), "double_entries": doubles, "holds_kept": kept,
            "released": released}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--processes", type=int, default=1, choices=(1, 2))
    parser.add_argument("--backend", action="append", choices=("sqlite", "postgres"))
    args = parser.parse_args()
    print(f"{'backend':<10}{'processes':>10}{'cards':>7}{'opens':>7}{'open trips':>12}{'double entries':>16}"
          f"{'holds kept':>12}{'released':>10}")
    for backend in args.backend or ["sqlite", "postgres"]:
        r = run(backend, cards=args.cards, rounds=args.rounds, processes=args.processes)
        print(f"{r['backend']:<10}{r['processes']:>10}{r['cards']:>7}{r['opens']:>7}{r['open_trips']:>12}"
              f"{r['double_entries']:>16}{r['holds_kept']:>12}{r['released']:>10}")


if __name__ == "__main__":
    main()
