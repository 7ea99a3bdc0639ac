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
from entrygate.simulation.demo_setup import create_retailer_people
from entrygate.domain.store import ConnectorConfig
from entrygate.domain.webhooks import new_secret
from entrygate.retailer.app import Retailer, create_retailer_app
from entrygate.retailer.settings import RetailerSettings
from entrygate.simulation.gate import SimulatedGate
from entrygate.simulation.population import BadgeLane, CardLane, QrLane

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
    retailer_server, retailer = _start_retailer(data_dir)
    world = create_demo_world(container, identity=ConnectorConfig(retailer_server.url, retailer.signing_secret, 800))
    server = ServerThread(create_app(container), port=port or None).start()
    console.print(f"[bold]entrygate demo[/] serving on {server.url}")
    console.print(f"  API docs     {server.url}/docs")
    console.print(f"  console      {server.url}/console   login {DEMO_EMAIL} / {DEMO_PASSWORD}")
    console.print(f"  retailer key {world.retailer_key}")
    console.print(f"  reference retailer (QR and badge identity) {retailer_server.url}")
    console.print("Simulated gates are sending entries; Ctrl-C stops.\n")
    rng = random.Random(seed)
    gate_id, key = world.gates["card"]
    exit_id, exit_key = world.gates["exit"]
    gate = SimulatedGate(server.url, gate_id, key)
    exit_gate = SimulatedGate(server.url, exit_id, exit_key)
    lanes = [CardLane(rng)]
    people = create_retailer_people(retailer.repo, rng)
    lanes += [QrLane(rng, qr_key=retailer.settings.qr_key, shoppers=people.shoppers, associates=people.associates),
              BadgeLane(rng, badges=people.badges)]
    lane_gates = {channel: SimulatedGate(server.url, *world.gates[name])
                  for channel, name in (("QR_CODE", "qr"), ("BADGE", "badge"))}
    inside: list[str] = []
    sent = 0
    try:
        while count is None or sent < count:
            lane = rng.choice(lanes)
            shopper = lane.next()
            answer = lane_gates.get(shopper.channel, gate).enter(shopper.channel, shopper.credential,
                                                                 party_size=shopper.party_size)
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
        retailer_server.stop()
        retailer.close()
    console.print(f"\n{sent} entries decided; the database is {db}")


def _start_retailer(data_dir: Path) -> tuple[ServerThread, Retailer]:
    """The reference retailer in-process on a free port, with a fresh SQLite database."""
    db = data_dir / "retailer.db"
    for leftover in data_dir.glob("retailer.db*"):
        leftover.unlink()
    app = create_retailer_app(RetailerSettings(database_url=f"sqlite:///{db}", signing_secret=new_secret()))
    return ServerThread(app).start(), app.state.retailer


def print_decision(label: str, channel: str, answer: dict) -> None:
    decision = answer["decision"]
    colour = "green" if decision == "OPEN" else "red"
    reasons = ", ".join(r["code"] for r in answer.get("reasons", [])) or "-"
    party = f" x{answer.get('partySize')}" if answer.get("partySize", 1) > 1 else ""
    console.print(f"[{colour}]{decision:<4}[/] {channel:<11} {label:<26}{party:<3} {reasons:<40} "
                  f"{answer.get('latencyMs', 0):6.1f} ms  {answer.get('shoppingTripId') or ''}")
