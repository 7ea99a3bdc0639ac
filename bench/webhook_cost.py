"""What webhooks add to a gate's decision: latency and throughput with and without an endpoint.

In one run, on fresh databases, four servers in turn: this code for a store whose retailer has
no webhook endpoint (the gate's path only looks the store up in the subscription cache), the same
code for a store whose retailer subscribed to every event (each tap also writes decision.created
and trip.opened to the outbox), once with the delivery worker idle (the taps' own cost) and once
delivering to a local receiver while the gates tap, and, with
``--baseline-src``, the same tree before webhooks existed. Each drives ``--gates`` gates
concurrently, one keep-alive connection each, with card taps of new cards.

    .venv/bin/python bench/webhook_cost.py [--taps 300] [--gates 8] [--database sqlite|postgres]
                                           [--baseline-src /path/to/old/src]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import httpx  # noqa: E402

from support.databases import drop_database, fresh_database  # noqa: E402
from support.server import Platform, card, entry, new_par, operator_token, start_server, stop_server  # noqa: E402

EVENTS = ["decision.created", "trip.opened", "trip.closed", "preauthorization.updated", "instrument.blocked"]


class _Sink(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers["content-length"]))
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()


def drive(platform: Platform, store, gates: list[str], taps: int) -> tuple[list[float], float]:  # noqa: ANN001
    latencies: list[float] = []
    lock = threading.Lock()

    def lane(gate: str) -> None:
        with httpx.Client(base_url=platform.url, timeout=30,
                          headers={"Authorization": f"Bearer {store.gates[gate]}"}) as client:
            mine = []
            for _ in range(taps):
                body = entry(card("tok_bench", par=new_par()))
                started = time.perf_counter()
                r = client.post(f"/v1/gates/{gate}/entries", json=body)
                mine.append((time.perf_counter() - started) * 1000)
                assert r.status_code == 200, r.text
        with lock:
            latencies.extend(mine)
    started = time.perf_counter()
    threads = [threading.Thread(target=lane, args=(g,)) for g in gates]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return latencies, len(gates) * taps / (time.perf_counter() - started)


def run(name: str, backend: str, tmp: Path, *, taps: int, gates: int, subscribe: bool, src: str | None,
        sink_url: str, deliver: bool = True) -> dict:
    slug = "".join(c for c in name if c.isalnum())
    (tmp / slug).mkdir()
    url = fresh_database(backend, tmp / slug, name=slug)
    env = {"ENTRYGATE_SWEEP_INTERVAL_S": "0"}
    if not deliver:  # the worker looks once at start, then not for a minute: the taps' own cost alone
        env["ENTRYGATE_WEBHOOK_POLL_INTERVAL_S"] = "60"
    if src is not None:
        env["PYTHONPATH"] = src
    base, proc = start_server(url, env=env)
    platform = Platform(base, operator_token(url), url, proc)
    try:
        lanes = [f"lane-{i}" for i in range(gates)]
        store = platform.store(gates=tuple(lanes))
        if subscribe:
            r = platform.http.post("/v1/webhook-endpoints", json={"url": sink_url, "events": EVENTS},
                                   headers=platform.as_retailer(store))
            assert r.status_code == 201, r.text
        drive(platform, store, lanes, max(taps // 5, 20))  # warm-up
        latencies, rate = drive(platform, store, lanes, taps)
    finally:
        platform.http.close()
        stop_server(proc)
        drop_database(url)
    latencies.sort()
    return {"name": name, "p50": statistics.median(latencies), "p99": latencies[int(len(latencies) * 0.99) - 1],
            "rate": rate}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--taps", type=int, default=300, help="taps per gate")
    parser.add_argument("--gates", type=int, default=8)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--baseline-src", help="the src folder of the code before webhooks, run first")
    args = parser.parse_args()
    sink = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    sink.daemon_threads = True
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    sink_url = f"http://127.0.0.1:{sink.server_address[1]}/hooks"
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        configs = [("before webhooks", False, args.baseline_src, True)] if args.baseline_src else []
        configs += [("no endpoint", False, None, True), ("endpoint, not delivering", True, None, False),
                    ("endpoint, delivering", True, None, True)]
        for name, subscribe, src, deliver in configs:
            results.append(run(name, args.database, Path(tmp), taps=args.taps, gates=args.gates, subscribe=subscribe,
                               src=src or os.environ.get("PYTHONPATH"), sink_url=sink_url, deliver=deliver))
    sink.shutdown()
    print(f"{args.database}, {args.gates} gates x {args.taps} taps")
    print(f"{'':24} {'p50 ms':>8} {'p99 ms':>8} {'taps/s':>8}")
    for r in results:
        print(f"{r['name']:24} {r['p50']:8.2f} {r['p99']:8.2f} {r['rate']:8.0f}")


if __name__ == "__main__":
    main()
