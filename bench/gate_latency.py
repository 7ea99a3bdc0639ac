"""Gate decision latency and throughput over HTTP on loopback (DESIGN 9).

Starts `entrygate serve` on a throw-away database, sets up a store with 32 entry gates, and
drives it with 32 concurrent simulated gates sending card taps under PLATFORM_MANAGED (or the
strategy given). In the same run it measures a do-nothing endpoint of the same stack
(`GET /healthz`) with the same client and concurrency, so the throughput ratio is free of the
machine's noise. Prints a table, writes docs/img/gate-latency.png and the figures to
docs/performance.md.

    .venv/bin/python bench/gate_latency.py [--seconds 20] [--gates 32] [--workers 1]
                                           [--database-url postgresql://…] [--strategy NONE]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.databases import drop_database, fresh_database  # noqa: E402
from support.server import Platform, card, operator_token, start_server, stop_server  # noqa: E402


def _entry(par: str) -> dict:
    return {"eventId": str(uuid.uuid4()), "timestamp": datetime.now(timezone.utc).isoformat(),
            "channel": "CREDIT_CARD", "interactionType": "TAP", "partySize": 1, "credential": card(par=par)}


async def _drive(url: str, requests: list[tuple[str, str, dict | None, dict]], seconds: float,
                 concurrency: int) -> tuple[list[float], int, float]:
    """Each worker loops over its request until time is up; returns latencies (ms), errors, elapsed."""
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10) as client:
        stop_at = time.perf_counter() + seconds

        async def worker(i: int) -> None:
            nonlocal errors
            method, path, body, headers = requests[i % len(requests)]
            while time.perf_counter() < stop_at:
                payload = body() if callable(body) else body
                t0 = time.perf_counter()
                try:
                    r = await client.request(method, path, json=payload, headers=headers)
                    ok = r.status_code == 200
                except httpx.HTTPError:
                    ok = False
                if ok:
                    latencies.append((time.perf_counter() - t0) * 1000)
                else:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        return latencies, errors, time.perf_counter() - started


def _pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=1000)[int(p * 10) - 1] if len(values) > 10 else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--gates", type=int, default=32)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--database-url", default=None, help="PostgreSQL admin URL; default a SQLite file")
    ap.add_argument("--strategy", default="PLATFORM_MANAGED")
    ap.add_argument("--no-docs", action="store_true")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="eg-bench-"))
    if args.database_url:
        os.environ["ENTRYGATE_TEST_POSTGRES_URL"] = args.database_url
    backend = "postgres" if args.database_url else "sqlite"
    db = fresh_database(backend, tmp, name="bench")
    url, proc = start_server(db, workers=args.workers, env={"ENTRYGATE_LOG_LEVEL": "ERROR"})
    try:
        p = Platform(url, operator_token(db), db, proc)
        gates = tuple(f"lane-{i}" for i in range(args.gates))
        store = p.store(gates=gates, riskStrategy=args.strategy)
        pars = [f"V001{uuid.uuid4().hex.upper()[:25]}" for _ in range(args.gates)]
        taps = [("POST", f"/v1/gates/{g}/entries", (lambda par=par: _entry(par)),
                 {"Authorization": f"Bearer {store.gates[g]}"}) for g, par in zip(gates, pars)]
        noop = [("GET", "/healthz", None, {})]
        print(f"warming up ({backend}, {args.workers} worker(s), {args.gates} gates) …", flush=True)
        asyncio.run(_drive(url, taps, 3, args.gates))
        asyncio.run(_drive(url, noop, 2, args.gates))
        base_lat, base_err, base_t = asyncio.run(_drive(url, noop, args.seconds / 2, args.gates))
        dec_lat, dec_err, dec_t = asyncio.run(_drive(url, taps, args.seconds, args.gates))
    finally:
        stop_server(proc)
        drop_database(db)

    base_rps, dec_rps = len(base_lat) / base_t, len(dec_lat) / dec_t
    rows = [
        ("do-nothing GET /healthz", base_rps, _pct(base_lat, 50), _pct(base_lat, 99), base_err),
        (f"card decision ({args.strategy}, persisted)", dec_rps, _pct(dec_lat, 50), _pct(dec_lat, 99), dec_err),
    ]
    print(f"\n{'what':<44}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for name, rps, p50, p99, err in rows:
        print(f"{name:<44}{rps:>10.0f}{p50:>10.2f}{p99:>10.2f}{err:>8}")
    ratio = dec_rps / base_rps
    print(f"\ndecision throughput = {ratio:.0%} of the do-nothing endpoint (target ≥ 40%); "
          f"decision p99 = {rows[1][3]:.1f} ms (target < 25 ms)")
    if not args.no_docs:
        _write_docs(args, backend, rows, ratio, dec_lat, base_lat)


def _write_docs(args, backend, rows, ratio, dec_lat, base_lat) -> None:  # noqa: ANN001
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    img = ROOT / "docs" / "img"
    img.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for values, label in ((base_lat, "do-nothing GET /healthz"), (dec_lat, f"card decision ({args.strategy})")):
        xs = sorted(values)
        ax.plot(xs, [i / len(xs) for i in range(len(xs))], label=label)
    ax.axvline(25, color="grey", linestyle=":", label="p99 target 25 ms")
    ax.set_xscale("log")
    ax.set_xlabel("latency (ms, log scale)")
    ax.set_ylabel("fraction of requests")
    ax.set_title(f"{args.gates} concurrent gates, {backend}, {args.workers} worker(s)")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    name = f"gate-latency-{backend}.png"
    fig.savefig(img / name, dpi=110)
    table = "\n".join(f"| {n} | {rps:.0f} | {p50:.2f} | {p99:.2f} | {err} |" for n, rps, p50, p99, err in rows)
    section = (f"<!-- gate-{backend} -->\n### {backend}, {args.gates} gates, {args.workers} worker(s), "
               f"{args.seconds:.0f} s\n\n| what | req/s | p50 ms | p99 ms | errors |\n|---|---|---|---|---|\n{table}\n\n"
               f"Decision throughput is **{ratio:.0%}** of the do-nothing endpoint. Measured on "
               f"{datetime.now(timezone.utc):%Y-%m-%d} with `{' '.join(['.venv/bin/python', *sys.argv])}`.\n\n"
               f"![latency]({'img/' + name})\n<!-- /gate-{backend} -->")
    doc = ROOT / "docs" / "performance.md"
    text = doc.read_text() if doc.exists() else "# Performance\n\nFigures from `bench/`; each run rewrites its section.\n"
    start, end = f"<!-- gate-{backend} -->", f"<!-- /gate-{backend} -->"
    if start in text:
        text = text[:text.index(start)] + section + text[text.index(end) + len(end):]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    doc.write_text(text)
    print(f"wrote docs/performance.md and docs/img/{name}")


if __name__ == "__main__":
    main()
