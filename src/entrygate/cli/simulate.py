"""``entrygate simulate``: drive a running platform with simulated gate traffic."""
from __future__ import annotations

import random
import statistics
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from entrygate.simulation.gate import SimulatedGate
from entrygate.simulation.population import CardLane

console = Console()


def simulate(url: str = typer.Option("http://127.0.0.1:8000", help="The platform's address."),
             gate_id: str = typer.Option(..., help="The entry gate to send to."),
             gate_key: str = typer.Option(..., envvar="ENTRYGATE_GATE_KEY", help="That gate's API key."),
             count: int = typer.Option(200, min=1, help="How many entries to send."),
             rate: float = typer.Option(10.0, min=0.1, help="Entries per second, all on the one gate key (the "
                                                          "platform's ENTRYGATE_RATE_LIMIT_GATE, 20/second by "
                                                          "default, answers 429 beyond it)."),
             concurrency: int = typer.Option(4, min=1, max=256, help="Gates sending at once."),
             seed: int = typer.Option(1, help="Seed of the simulated shoppers.")) -> None:
    """Send simulated card taps at a rate, with a progress bar and a summary table."""
    rng = random.Random(seed)
    lane = CardLane(rng)
    shoppers = [lane.next() for _ in range(count)]
    client = httpx.Client(base_url=url, timeout=10.0, limits=httpx.Limits(max_connections=concurrency))
    gate = SimulatedGate(url, gate_id, gate_key, client=client)
    outcomes: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    started = time.monotonic()

    def send(i: int) -> None:
        delay = started + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        s = shoppers[i]
        t0 = time.perf_counter()
        try:
            answer = gate.enter(s.channel, s.credential, party_size=s.party_size)
        except httpx.HTTPStatusError as exc:  # 429: beyond the gate key's rate limit (ENTRYGATE_RATE_LIMIT_GATE)
            errors[f"HTTP {exc.response.status_code} {exc.response.reason_phrase}"] += 1
            return
        except httpx.HTTPError as exc:
            errors[type(exc).__name__] += 1
            return
        latencies.append((time.perf_counter() - t0) * 1000)
        outcomes[answer["decision"]] += 1
        for r in answer["reasons"]:
            reasons[r["code"]] += 1

    with Progress(console=console) as progress, ThreadPoolExecutor(concurrency) as pool:
        task = progress.add_task("entries", total=count)
        for _ in pool.map(send, range(count)):
            progress.advance(task)
    elapsed = time.monotonic() - started
    table = Table(title=f"{count} entries in {elapsed:.1f} s ({count / elapsed:.1f}/s)")
    table.add_column("what")
    table.add_column("count", justify="right")
    for k, v in sorted(outcomes.items()):
        table.add_row(k, str(v))
    for k, v in reasons.most_common():
        table.add_row(f"  {k}", str(v))
    for k, v in errors.items():
        table.add_row(f"error {k}", str(v))
    if latencies:
        q = statistics.quantiles(latencies, n=100)
        table.add_row("latency p50 / p99 (ms)", f"{q[49]:.1f} / {q[98]:.1f}")
    console.print(table)
