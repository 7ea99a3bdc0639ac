"""Palm lanes after a restart: how long until a restarted process can identify palms again.

    .venv/bin/python bench/palm_restart.py --sizes 100000 1000000

For each size N it enrolls N simulated palms into a SQLite database (templates encrypted as the
platform stores them, one bulk transaction), then measures, in the same run:

- rebuild: the start without a snapshot (read and decrypt every template, build the index): the
  baseline, what every start cost before the index was kept on disk;
- save: writing the snapshot file, and its size;
- restore: a new process's start with the snapshot, after ``--changes`` enrollments and a tenth as
  many deletions made while it was down (read and verify the file, install it, apply the change log,
  check it against the database), until it is ready for palms;
- accuracy: genuine probes (fresh reads of enrolled palms) whose best match is the palm exact
  search ranks first, for the restored index and for one rebuilt from the database.

Figures go to stdout and to docs/palm.md between the restart markers.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from rich.progress import track
from sqlalchemy import insert

from entrygate.adapters.db import tables as t
from entrygate.adapters.db.engine import make_engine, upgrade
from entrygate.adapters.db.palm_store import SqlPalmStore
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.adapters.palm_index import PalmIndex
from entrygate.adapters.palm_snapshot import PalmSnapshotFile, binding_for, snapshot_key
from entrygate.adapters.template_crypto import TemplateCipher
from entrygate.bootstrap import build
from entrygate.domain.keys import KeyKind
from entrygate.services.auth import Principal
from entrygate.services.palm.sync import PalmIndexSync
from entrygate.settings import Settings
from entrygate.simulation.palm_reader import PalmPopulation, read_signatures

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- palm-restart:begin -->", "<!-- palm-restart:end -->"
SECRET = "bench-secret-" + "s" * 32
NOW = datetime(2026, 12, 1, tzinfo=UTC)
CARD = {"paymentToken": "tok_visa_approve", "par": None, "brand": "VISA", "last4": "4242", "expMonth": 12,
        "expYear": 2030, "funding": "credit", "issuerCountry": "US"}


def new_retailer(url: str) -> str:
    """A retailer made the way the admin API makes one."""
    c = build(Settings(database_url=url, secret_key=SECRET, palm_snapshot="off"), background_sweep=False)
    try:
        return c.admin.create_retailer(Principal(KeyKind.OPERATOR), name="Bench").id
    finally:
        c.close()


def seed(url: str, n: int, first: int, pop: PalmPopulation, rng: np.random.Generator, cipher: TemplateCipher,
         retailer_id: str) -> None:
    """Enroll palms [first, first + n) in bulk: enrollment rows and their ``add`` changes."""
    engine = make_engine(url)
    with engine.begin() as conn:
        if first == 0:
            conn.execute(insert(t.payment_instruments), [{"instrument_id": "ins_bench", "brand": "VISA", "last4": "4242",
                                                          "exp_month": 12, "exp_year": 2030, "blocked": False,
                                                          "first_seen_at": NOW, "last_seen_at": NOW}])
        step = 20_000
        for start in track(range(first, first + n, step), description=f"enrolling {n:,} palms"):
            ids = np.arange(start, min(start + step, first + n))
            vecs = read_signatures(pop.signatures(ids), rng)
            rows = [{"palm_id": f"palm_{i:07d}", "instrument_id": "ins_bench", "retailer_id": retailer_id,
                     "template": cipher.encrypt_vector(v, palm_id=f"palm_{i:07d}"), "dimension": len(v), "card": CARD,
                     "created_at": NOW} for i, v in zip(ids, vecs)]
            conn.execute(insert(t.palm_enrollments), rows)
            conn.execute(insert(t.palm_changes), [{"palm_id": r["palm_id"], "op": "add", "changed_at": NOW} for r in rows])
    engine.dispose()


def delete(url: str, palm_ids: list[str]) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(t.palm_enrollments.delete().where(t.palm_enrollments.c.palm_id.in_(palm_ids)))
        conn.execute(insert(t.palm_changes), [{"palm_id": p, "op": "remove", "changed_at": NOW} for p in palm_ids])
    engine.dispose()


def process(url: str, snapshot: PalmSnapshotFile | None, dimension: int) -> tuple[PalmIndexSync, float]:
    """A process's palm index started the way ``serve`` starts it; seconds until it is ready."""
    store = SqlPalmStore(SqlUnitOfWorkFactory(make_engine(url)))
    sync = PalmIndexSync(store=store, index=PalmIndex(dimension=dimension), cipher=lambda: TemplateCipher(SECRET),
                         dimension=dimension, snapshot=snapshot)
    started = time.perf_counter()
    sync.load()
    return sync, time.perf_counter() - started


def run(n: int, args: argparse.Namespace, workdir: Path) -> dict:
    print(f"\n== N = {n:,} ==", flush=True)
    pop, rng = PalmPopulation(seed=args.seed), np.random.default_rng(args.seed)
    url = f"sqlite:///{workdir}/palms-{n}.db"
    upgrade(url)
    cipher, retailer_id, dimension = TemplateCipher(SECRET), new_retailer(url), pop.dimension
    seed(url, n, 0, pop, rng, cipher, retailer_id)
    snapshot = PalmSnapshotFile(workdir / f"palms-{n}.palm-index", key=snapshot_key(SECRET.encode()),
                                binding=binding_for(url, dimension))

    first, rebuild_s = process(url, None, dimension)
    print(f"rebuild (decrypt and build {n:,}): {rebuild_s:.1f} s, layout {first.index.kind}", flush=True)
    first._snapshot = snapshot  # noqa: SLF001 - the same process, now writing its file
    started = time.perf_counter()
    first.save_snapshot()
    save_s, size_mb = time.perf_counter() - started, snapshot.path.stat().st_size / 2**20
    print(f"save: {save_s:.1f} s, {size_mb:.0f} MiB", flush=True)
    del first

    seed(url, args.changes, n, pop, rng, cipher, retailer_id)  # made while the process was down
    removed = [f"palm_{i:07d}" for i in range(0, n, max(1, n // max(1, args.changes // 10)))][: args.changes // 10]
    delete(url, removed)
    restored, restore_s = process(url, snapshot, dimension)
    print(f"restore (+{args.changes:,} enrolled, -{len(removed):,} deleted meanwhile): {restore_s:.2f} s", flush=True)
    rebuilt, rebuild_after_s = process(url, None, dimension)
    probes = read_signatures(pop.signatures(rng.choice(n + args.changes, args.probes, replace=False)), rng)
    truth = [m[0].palm_id for m in (rebuilt.index.exact_search(q, k=1) for q in probes)]
    agree = {name: float(np.mean([sync.index.search(q)[0].palm_id == best for q, best in zip(probes, truth)]))
             for name, sync in (("restored", restored), ("rebuilt", rebuilt))}
    assert len(restored.index) == len(rebuilt.index) == n + args.changes - len(removed)
    print(f"rank-1 agreement with exact search: restored {agree['restored']:.4f}, rebuilt {agree['rebuilt']:.4f} "
          f"over {args.probes} probes", flush=True)
    return {"n": n, "rebuild_s": rebuild_s, "rebuild_after_s": rebuild_after_s, "save_s": save_s, "size_mb": size_mb,
            "restore_s": restore_s, "changes": args.changes, "removed": len(removed), "agree": agree,
            "probes": args.probes}


def table(rows: list[dict]) -> str:
    lines = ["| palms | start without the file (decrypt + build) | start with the file (+ changes since) | "
             "speed-up | file | writing it | rank-1 = exact, restored / rebuilt |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {r['n']:,} | {r['rebuild_after_s']:.1f} s | {r['restore_s']:.2f} s "
                     f"(+{r['changes']:,} / -{r['removed']:,}) | {r['rebuild_after_s'] / r['restore_s']:.0f}x | "
                     f"{r['size_mb']:.0f} MiB | {r['save_s']:.1f} s | {r['agree']['restored']:.2%} / "
                     f"{r['agree']['rebuilt']:.2%} of {r['probes']:,} |")
    return "\n".join(lines)


def write_doc(rows: list[dict], started: str, load: str) -> None:
    doc = ROOT / "docs" / "palm.md"
    text = doc.read_text()
    block = (f"{BEGIN}\nMeasured {started} by `make bench-palm-restart` (`bench/palm_restart.py`) on "
             f"{os.cpu_count()} CPUs, Python {platform.python_version()}, SQLite; load average at start {load}. "
             f"Both starts are measured in the same run on the same database, after the changes.\n\n"
             f"{table(rows)}\n{END}")
    if BEGIN in text:
        text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    doc.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--changes", type=int, default=2_000, help="palms enrolled while the process is down")
    parser.add_argument("--probes", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-doc", action="store_true", help="print only; leave docs/palm.md as it is")
    args = parser.parse_args()
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="palm-restart-") as tmp:
        rows = [run(n, args, Path(tmp)) for n in args.sizes]
    print("\n" + table(rows))
    if not args.no_doc:
        write_doc(rows, started, load)


if __name__ == "__main__":
    main()
