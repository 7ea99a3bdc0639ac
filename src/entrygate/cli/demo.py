"""``entrygate demo``: the platform on SQLite, the reference retailer, and simulated gates.

A demo retailer has a store of every kind (one per risk strategy); simulated gates send a
realistic mix of shoppers — good, declined, indebted, fraudulent; card, palm, QR, badge — and the
reference retailer's back office reports how each trip's payment ended, so the demo shows
shoppers stopped for debt and let in again once they pay.
"""
from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console

from entrygate.cli.serverthread import ServerThread
from entrygate.domain.store import ConnectorConfig
from entrygate.domain.webhooks import new_secret
from entrygate.logs import configure
from entrygate.retailer.reporting import PlatformFeedback
from entrygate.settings import DEMO_SECRET, Settings
from entrygate.simulation.demo_setup import (DEMO_EMAIL, DEMO_PASSWORD, DemoWorld, create_demo_world,
                                             create_retailer_people, enroll_demo_palms)
from entrygate.simulation.gate import SimulatedGate
from entrygate.simulation.palm_reader import PalmPopulation
from entrygate.simulation.population import NON_PAYER, BadgeLane, CardLane, PalmLane, QrLane, Shopper

console = Console(highlight=False, soft_wrap=True)


def demo(port: int = typer.Option(8000, help="Port for the platform (0 picks a free one)."),
         data_dir: Path = typer.Option(Path("var/demo"), help="Where the demo keeps its databases."),
         rate: float = typer.Option(2.0, min=0.1, max=200, help="Entries per second."),
         count: Optional[int] = typer.Option(None, help="Stop after this many entries (default: until Ctrl-C)."),
         debt_seconds: float = typer.Option(30.0, min=1, help="Seconds before a non-payer settles a debt."),
         seed: int = typer.Option(7, help="Seed of the simulated shoppers.")) -> None:
    """Run the platform with a demo retailer and simulated gates, printing a line per decision."""
    # Imported here, not at the top: `entrygate --help` should not load the whole platform.
    from entrygate.adapters.db.engine import upgrade
    from entrygate.bootstrap import build
    from entrygate.web import create_app

    data_dir.mkdir(parents=True, exist_ok=True)
    db = data_dir / "entrygate.db"
    for leftover in data_dir.glob("entrygate.db*"):
        leftover.unlink()
    os.environ.setdefault("ENTRYGATE_SECRET_KEY", DEMO_SECRET)
    # The reference retailer listens on loopback, a private address the platform otherwise refuses.
    settings = Settings(database_url=f"sqlite:///{db}", demo=True, log_json=False, log_level="WARNING",
                        allow_private_urls=True)
    configure(level=settings.log_level, json=False)
    upgrade(settings.sqlalchemy_url)
    container = build(settings)
    container.risk_model()
    retailer_server, retailer = _start_retailer(data_dir)
    connector = ConnectorConfig(retailer_server.url, retailer.signing_secret, 800)
    world = create_demo_world(container, identity=connector, authorization=connector)
    palms = PalmPopulation(seed=seed, dimension=settings.palm_dimension)
    enroll_demo_palms(container, world, random.Random(seed), palms=palms)
    if port and not _port_free(port):
        console.print(f"[yellow]port {port} is in use; serving on a free port instead[/]")
        port = 0
    server = ServerThread(create_app(container), port=port or None).start()
    console.print(f"[bold]entrygate demo[/] serving on {server.url}")
    console.print(f"  API docs     {server.url}/docs")
    console.print(f"  console      {server.url}/console   login {DEMO_EMAIL} / {DEMO_PASSWORD}")
    console.print(f"  retailer key {world.retailer_key}")
    console.print(f"  reference retailer (identity, shopper authorization) {retailer_server.url}")
    console.print(f"  stores       {', '.join(world.stores)}")
    console.print(f"  palm lane    {len(world.palms)} palms enrolled at the kiosk, entering at demo-downtown lane-palm")
    console.print("Simulated gates are sending entries; Ctrl-C stops.\n")
    run = DemoRun(server.url, world, retailer, random.Random(seed), debt_s=debt_seconds, palms=palms)
    try:
        while count is None or run.sent < count:
            run.step()
            time.sleep(1 / rate)
    except KeyboardInterrupt:
        pass
    finally:
        run.close()
        server.stop()
        container.close()
        retailer_server.stop()
        retailer.close()
    console.print(f"\n{run.sent} entries decided; the database is {db}")


@dataclass
class DemoRun:
    url: str
    world: DemoWorld
    retailer: Any  # entrygate.retailer.app.Retailer
    rng: random.Random
    debt_s: float = 30.0
    palms: PalmPopulation | None = None  # the people of world.palms, and the strangers
    sent: int = 0
    inside: list[tuple[str, str, str]] = field(default_factory=list)  # (trip, store, who)
    debts: list[tuple[float, str, str, Decimal]] = field(default_factory=list)  # (due, store, trip, total)

    def __post_init__(self) -> None:
        people = create_retailer_people(self.retailer.repo, self.rng)
        # Many distinct shoppers: a real one comes by once a day, not every few seconds.
        self.cards = CardLane(self.rng, good=2000)
        self.qr = QrLane(self.rng, qr_key=self.retailer.settings.qr_key, shoppers=people.shoppers,
                         associates=people.associates)
        self.badges = BadgeLane(self.rng, badges=people.badges)
        self.card_gates = {s: SimulatedGate(self.url, *g) for s, g in self.world.card_gates.items()}
        self.exit_gates = {s: SimulatedGate(self.url, *g) for s, g in self.world.exit_gates.items()}
        self.lane_gates = {"QR_CODE": SimulatedGate(self.url, *self.world.gates["qr"]),
                           "BADGE": SimulatedGate(self.url, *self.world.gates["badge"])}
        self.lanes: list[Any] = [self.cards, self.qr, self.badges]
        self.weights = [4.0, 1.0, 1.0]
        if self.palms is not None and "palm" in self.world.gates:
            self.lanes.append(PalmLane(self.rng, palms=self.palms, enrolled=self.world.palms))
            self.weights.append(1.0)
            self.lane_gates["PALM"] = SimulatedGate(self.url, *self.world.gates["palm"])
        self.back_office = PlatformFeedback(self.url, self.world.retailer_key)

    def step(self) -> None:
        lane = self.rng.choices(self.lanes, weights=self.weights)[0]
        shopper: Shopper = lane.next()
        if shopper.channel == "CREDIT_CARD":
            store = self.rng.choice(self.world.stores)
            gate = self.card_gates[store]
        else:
            store, gate = "demo-downtown", self.lane_gates[shopper.channel]
        answer = gate.enter(shopper.channel, shopper.credential, party_size=shopper.party_size)
        self.sent += 1
        print_decision(shopper.label, shopper.channel, store, answer)
        if answer.get("shoppingTripId"):
            self.inside.append((answer["shoppingTripId"], store, shopper.label))
        if len(self.inside) > 6 or (self.inside and self.rng.random() < 0.3):
            self._leave(*self.inside.pop(0))
        self._collect_debts()

    def _leave(self, trip: str, store: str, who: str) -> None:
        """The shopper walks out; the back office charges the basket and reports how it went."""
        self.exit_gates[store].exit(trip)
        total = Decimal(self.rng.randrange(300, 6000)) / 100
        if who == NON_PAYER:
            self.back_office.report_payment(store_id=store, trip_id=trip, total=total, settled=Decimal(0),
                                            currency="USD")
            self.debts.append((time.monotonic() + self.debt_s, store, trip, total))
            console.print(f"[yellow]DEBT[/] {store:<14} {who:<26} {total:>6} USD unpaid  {trip}")
        else:
            self.back_office.report_payment(store_id=store, trip_id=trip, total=total, settled=total,
                                            currency="USD")

    def _collect_debts(self) -> None:
        now = time.monotonic()
        for due in [d for d in self.debts if d[0] <= now]:
            self.debts.remove(due)
            _, store, trip, total = due
            self.back_office.report_payment(store_id=store, trip_id=trip, total=total, settled=total,
                                            currency="USD")
            console.print(f"[cyan]PAID[/] {store:<14} {NON_PAYER:<26} {total:>6} USD settled; access restored  {trip}")

    def close(self) -> None:
        self.back_office.close()


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _start_retailer(data_dir: Path) -> tuple[ServerThread, Any]:
    """The reference retailer in-process on a free port, with a fresh SQLite database."""
    from entrygate.retailer.app import create_retailer_app
    from entrygate.retailer.settings import RetailerSettings

    db = data_dir / "retailer.db"
    for leftover in data_dir.glob("retailer.db*"):
        leftover.unlink()
    app = create_retailer_app(RetailerSettings(database_url=f"sqlite:///{db}", signing_secret=new_secret()))
    return ServerThread(app).start(), app.state.retailer


def print_decision(label: str, channel: str, store: str, answer: dict[str, Any]) -> None:
    decision = answer["decision"]
    colour = "green" if decision == "OPEN" else "red"
    reasons = ", ".join(r["code"] for r in answer.get("reasons", [])) or "-"
    party = f"x{answer.get('partySize')}" if answer.get("partySize", 1) > 1 else ""
    risk = f"risk {answer['risk']['score']:>3}" if answer.get("risk") else " " * 8
    console.print(f"[{colour}]{decision:<4}[/] {store:<14} {channel:<11} {label:<26}{party:<3} {reasons:<38} "
                  f"{risk} {answer.get('decidedBy', ''):<8} {answer.get('latencyMs', 0):6.1f} ms")
