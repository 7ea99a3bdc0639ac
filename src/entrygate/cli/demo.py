"""``entrygate demo``: the platform on SQLite with a demo retailer and simulated gates."""
from __future__ import annotations

import os
import random
import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from entrygate.adapters.db.engine import upgrade
from entrygate.api.app import create_app
from entrygate.bootstrap import build
from entrygate.cli.serverthread import ServerThread
from entrygate.logs import configure
from entrygate.settings import DEMO_SECRET, Settings
from entrygate.simulation.demo_setup import DEMO_EMAIL, DEMO_PASSWORD, create_demo_world
from entrygate.simulation.gate import SimulatedGate
from entrygate.simulation.population import CardLane

console = Console(highlight=False)


def demo(port: int = typer.Option(8000, help="Port for the platform (0 picks a free one)."),
         data_dir: Path = typer.Option(Path("var/demo"), help="Where the demo keeps its databases."),
         rate: float = typer.Option(2.0, min=0.1, max=200, help="Entries per second."),
         count: Optional[int] = typer.Option(None, help="Stop after this many entries (default: until Ctrl-C)."),
         seed: int = typer.Option(7, help="Seed of the simulated shoppers.")) -> None:
    """Run the platform with a demo retailer and simulated gates, printing a line per decision."""
    data_dir.mkdir(parents=True, exist_ok=True)
    db = data_dir / "entrygate.db"
    for leftover in data_dir.glob("entrygate.db*"):
        leftover.unlink()
    os.environ.setdefault("ENTRYGATE_SECRET_KEY", DEMO_SECRET)
    settings = Settings(database_url=f"sqlite:///{db}", demo=True, log_json=False, log_level="WARNING")
    configure(level=settings.log_level, json=False)
    upgrade(settings.sqlalchemy_url)
    container = build(settings)
    world = create_demo_world(container)
    server = ServerThread(create_app(container), port=port or None).start()
    console.print(f"[bold]entrygate demo[/] serving on {server.url}")
    console.print(f"  API docs     {server.url}/docs")
    console.print(f"  console      {server.url}/console   login {DEMO_EMAIL} / {DEMO_PASSWORD}")
    console.print(f"  retailer key {world.retailer_key}")
    console.print("Simulated gates are sending entries; Ctrl-C stops.\n")
    rng = random.Random(seed)
    gate_id, key = world.gates["card"]
    exit_id, exit_key = world.gates["exit"]
    gate = SimulatedGate(server.url, gate_id, key)
    exit_gate = SimulatedGate(server.url, exit_id, exit_key)
    lanes = [CardLane(rng)]
    inside: list[str] = []
    sent = 0
    try:
        while count is None or sent < count:
            lane = rng.choice(lanes)
            shopper = lane.next()
            answer = gate.enter(shopper.channel, shopper.credential, party_size=shopper.party_size)
            sent += 1
            print_decision(shopper.label, shopper.channel, answer)
            if answer.get("shoppingTripId"):
                inside.append(answer["shoppingTripId"])
            if len(inside) > 6 or (inside and rng.random() < 0.3):
                exit_gate.exit(inside.pop(0))
            time.sleep(1 / rate)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        container.close()
    console.print(f"\n{sent} entries decided; the database is {db}")


def print_decision(label: str, channel: str, answer: dict) -> None:
    decision = answer["decision"]
    colour = "green" if decision == "OPEN" else "red"
    reasons = ", ".join(r["code"] for r in answer.get("reasons", [])) or "-"
    party = f" x{answer.get('partySize')}" if answer.get("partySize", 1) > 1 else ""
    console.print(f"[{colour}]{decision:<4}[/] {channel:<11} {label:<26}{party:<3} {reasons:<40} "
                  f"{answer.get('latencyMs', 0):6.1f} ms  {answer.get('shoppingTripId') or ''}")
