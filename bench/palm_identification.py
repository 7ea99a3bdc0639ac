"""Palm 1:N identification at scale: latency, accuracy against exact search, false accepts, memory.

    .venv/bin/python bench/palm_identification.py --sizes 100000 1000000

For each size N it enrolls N simulated palms (one enrollment read each), encrypts the templates the
way the database keeps them, then measures: the time to decrypt them all (load) and to build the
index (build), the index's resident memory, the latency of PalmIndex.search (approximate search +
exact re-score) for genuine probes (a fresh read of an enrolled palm) and strangers, rank-1
agreement with exact search, false accepts at MATCH_THRESHOLD, and exact brute force on a subset of
the same probes as the baseline. Results go to stdout, to docs/palm.md between the bench markers,
and to docs/img/palm-latency.png.
"""
from __future__ import annotations

import argparse
import gc
import os
import platform
import re
import sys
import threading
import time
from pathlib import Path

import numpy as np

from entrygate.adapters.palm_index import PalmIndex
from entrygate.adapters.template_crypto import TemplateCipher
from entrygate.domain.palm import MATCH_THRESHOLD
from entrygate.simulation.palm_reader import PalmPopulation, read_signatures

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- palm-bench:begin -->", "<!-- palm-bench:end -->"


def rss_mb() -> float:
    """Resident set size of this process, in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def timed(fn, items, cpu: list[float] | None = None) -> tuple[np.ndarray, list]:
    """Per-call latency in milliseconds and results of fn over items (and CPU ms into ``cpu``)."""
    times, results = np.empty(len(items)), []
    for i, item in enumerate(items):
        start, start_cpu = time.perf_counter(), time.thread_time()
        results.append(fn(item))
        times[i] = (time.perf_counter() - start) * 1e3
        if cpu is not None:
            cpu.append((time.thread_time() - start_cpu) * 1e3)
    return times, results


def exact_top(queries: np.ndarray, enrolled: np.ndarray, *, qs: int = 1024, es: int = 32768) -> tuple[np.ndarray, np.ndarray]:
    """Exact rank-1 row and score for many queries (blocked matrix products, a running maximum)."""
    rows = np.zeros(len(queries), dtype=np.int64)
    scores = np.full(len(queries), -np.inf, dtype=np.float32)
    for e in range(0, len(enrolled), es):
        block_t = np.ascontiguousarray(enrolled[e : e + es].T)
        for s in range(0, len(queries), qs):
            block = queries[s : s + qs] @ block_t
            best = np.argmax(block, axis=1)
            value = block[np.arange(len(best)), best]
            better = value > scores[s : s + qs]
            scores[s : s + qs][better] = value[better]
            rows[s : s + qs][better] = best[better] + e
    return rows, scores


def concurrent_latency(index: PalmIndex, queries: np.ndarray, threads: int) -> tuple[np.ndarray, float]:
    """Latencies with ``threads`` gate workers searching at once, and searches per second."""
    parts: list[np.ndarray] = [np.empty(0)] * threads
    share = np.array_split(queries, threads)

    def worker(i: int) -> None:
        parts[i] = timed(lambda q: index.search(q, k=5), share[i])[0]

    start = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return np.concatenate(parts), len(queries) / (time.perf_counter() - start)


def run(n: int, args: argparse.Namespace) -> dict:
    """Measure one size."""
    print(f"\n== N = {n:,} ==", flush=True)
    pop, rng = PalmPopulation(seed=args.seed), np.random.default_rng(args.seed)
    enrolled = read_signatures(pop.signatures(np.arange(n)), rng)
    ids = [f"palm_{i}" for i in range(n)]
    people = rng.choice(n, args.genuine, replace=False)
    genuine = read_signatures(pop.signatures(people), rng)
    strangers = read_signatures(pop.strangers(args.strangers), rng)

    cipher = TemplateCipher("bench-secret-" + "s" * 32)
    blobs = [cipher.encrypt(v.tobytes(), palm_id=p) for p, v in zip(ids, enrolled)]
    start = time.perf_counter()
    items = [(p, cipher.decrypt_vector(b, palm_id=p)) for p, b in zip(ids, blobs)]
    load_s = time.perf_counter() - start
    del blobs
    gc.collect()
    print(f"load (decrypt {n:,} templates): {load_s:.1f} s", flush=True)

    before = rss_mb()
    index = PalmIndex(build_threads=args.build_threads)
    start = time.perf_counter()
    index.build(items)
    build_s = time.perf_counter() - start
    index_mb = rss_mb() - before  # the decrypted items are still held: this is the index alone
    del items
    gc.collect()
    print(f"build: {build_s:.1f} s, layout {index.kind}, index RSS +{index_mb:.0f} MiB", flush=True)

    queries = np.concatenate([genuine, strangers])
    order = np.random.default_rng(1).permutation(len(queries))  # genuine and strangers interleaved
    for q in queries[order[:200]]:
        index.search(q)  # warm-up
    cpu: list[float] = []
    lat, found = timed(lambda q: index.search(q, k=5), queries[order], cpu)
    results = [None] * len(queries)
    for i, r in zip(order, found):
        results[i] = r
    lat_two, throughput = concurrent_latency(index, queries[order[:4000]], 2)
    print(f"search p50 {np.percentile(lat, 50):.2f} ms p99 {np.percentile(lat, 99):.2f} ms", flush=True)

    exact_rows, exact_scores = exact_top(genuine, enrolled)
    stranger_rows, stranger_scores = exact_top(strangers, enrolled)
    g_res, s_res = results[: args.genuine], results[args.genuine :]
    agree = np.mean([r[0].palm_id == f"palm_{e}" for r, e in zip(g_res, exact_rows)])
    identified = np.mean([r[0].palm_id == f"palm_{p}" and r[0].score >= MATCH_THRESHOLD for r, p in zip(g_res, people)])
    exact_identified = np.mean((exact_rows == people) & (exact_scores >= MATCH_THRESHOLD))
    false_accepts = sum(r[0].score >= MATCH_THRESHOLD for r in s_res)
    exact_false_accepts = int(np.sum(stranger_scores >= MATCH_THRESHOLD))

    subset = queries[order[: args.exact_probes]]
    exact_lat, _ = timed(lambda q: index.exact_search(q, k=5), subset)
    print(f"exact brute force ({len(subset)} probes) p50 {np.percentile(exact_lat, 50):.2f} ms", flush=True)
    return {
        "n": n, "kind": index.kind, "load_s": load_s, "build_s": build_s, "index_mb": index_mb,
        "lat": lat, "cpu": np.array(cpu), "lat_two": lat_two,
        "throughput_two": throughput, "exact_lat": exact_lat, "rank1_agreement": agree,
        "identified": identified, "exact_identified": exact_identified,
        "false_accepts": false_accepts, "exact_false_accepts": exact_false_accepts,
        "max_stranger": max(r[0].score for r in s_res), "exact_max_stranger": float(stranger_scores.max()),
        "genuine": args.genuine, "strangers": args.strangers,
    }


def table(rows: list[dict]) -> str:
    """The results as a Markdown table, one column per size."""
    p = np.percentile
    lines = [
        ("layout", lambda r: f"`{r['kind']}`"),
        ("search p50 / p99 (ms), 1 thread", lambda r: f"{p(r['lat'], 50):.2f} / {p(r['lat'], 99):.2f}"),
        ("CPU time per search p50 / p99 (ms)", lambda r: f"{p(r['cpu'], 50):.2f} / {p(r['cpu'], 99):.2f}"),
        ("search p99.9 / max (ms)", lambda r: f"{p(r['lat'], 99.9):.2f} / {r['lat'].max():.2f}"),
        ("search p50 / p99 (ms), 2 threads at once", lambda r: f"{p(r['lat_two'], 50):.2f} / {p(r['lat_two'], 99):.2f}"),
        ("searches per second, 2 threads", lambda r: f"{r['throughput_two']:,.0f}"),
        ("exact brute force p50 / p99 (ms)", lambda r: f"{p(r['exact_lat'], 50):.2f} / {p(r['exact_lat'], 99):.2f} ({len(r['exact_lat'])} probes)"),
        ("rank-1 agreement with exact search", lambda r: f"{r['rank1_agreement']:.2%} of {r['genuine']:,}"),
        ("genuine identified at threshold (index / exact)", lambda r: f"{r['identified']:.2%} / {r['exact_identified']:.2%}"),
        (f"false accepts at {MATCH_THRESHOLD} (index / exact)", lambda r: f"{r['false_accepts']} / {r['exact_false_accepts']} of {r['strangers']:,}"),
        ("best stranger score (index / exact)", lambda r: f"{r['max_stranger']:.3f} / {r['exact_max_stranger']:.3f}"),
        ("load: decrypt all templates (s)", lambda r: f"{r['load_s']:.1f}"),
        ("build (s)", lambda r: f"{r['build_s']:.1f}"),
        ("index memory, RSS delta (MiB)", lambda r: f"{r['index_mb']:,.0f}"),
    ]
    out = ["| | " + " | ".join(f"N = {r['n']:,}" for r in rows) + " |", "|---|" + "---|" * len(rows)]
    out += [f"| {name} | " + " | ".join(fn(r) for r in rows) + " |" for name, fn in lines]
    return "\n".join(out)


def plot(rows: list[dict], path: Path) -> None:
    """Latency distributions, index against exact brute force, one curve per size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for r, color in zip(rows, ["tab:blue", "tab:orange", "tab:green", "tab:red"]):
        for data, style, label in ((r["lat"], "-", "index"), (r["exact_lat"], "--", "exact brute force")):
            xs = np.sort(data)
            ax.plot(xs, np.arange(1, len(xs) + 1) / len(xs), style, color=color, label=f"N = {r['n']:,}: {label}")
    ax.axvline(10, color="grey", linestyle=":", label="DESIGN 9: p99 < 10 ms")
    ax.axhline(0.99, color="grey", linewidth=0.5)
    ax.set_xscale("log")
    ax.set_xlabel("identification latency, ms (log scale)")
    ax.set_ylabel("fraction of probes")
    ax.set_title("Palm 1:N identification latency (one search thread)")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def write_doc(rows: list[dict], args: argparse.Namespace, started: str, load: str) -> None:
    """Put the table between the bench markers of docs/palm.md."""
    doc = ROOT / "docs" / "palm.md"
    text = doc.read_text() if doc.exists() else f"# Palm identification\n\n{BEGIN}\n{END}\n"
    block = (
        f"{BEGIN}\nMeasured {started} with `{' '.join(['.venv/bin/python', 'bench/palm_identification.py'] + sys.argv[1:])}`"
        f" on {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__},"
        f" faiss {__import__('faiss').__version__}; load average at start {load}.\n\n{table(rows)}\n\n"
        f"![latency](img/palm-latency.png)\n{END}"
    )
    doc.write_text(re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--genuine", type=int, default=5_000)
    parser.add_argument("--strangers", type=int, default=10_000)
    parser.add_argument("--exact-probes", type=int, default=300)
    parser.add_argument("--build-threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-doc", action="store_true", help="print only; leave docs/ alone")
    args = parser.parse_args()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    rows = []
    for n in args.sizes:
        rows.append(run(n, args))
        gc.collect()
    print("\n" + table(rows))
    if not args.no_doc:
        plot(rows, ROOT / "docs" / "img" / "palm-latency.png")
        write_doc(rows, args, started, load)
        print("\nwrote docs/palm.md and docs/img/palm-latency.png")


if __name__ == "__main__":
    main()
