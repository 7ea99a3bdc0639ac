"""``entrygate demo``: the platform on SQLite, the reference retailer, and simulated gates.

A demo retailer has a store of every kind (one per risk strategy); simulated gates send a
realistic mix of shoppers — good, declined, indebted, fraudulent; card, palm, QR, badge — and the
retailer's back office settles each trip the way a store would (simulation/back_office.py):
capturing the basket through the trip's hold, cancelling it for an empty basket, or reporting
the payment through the feedback API; so the demo shows shoppers stopped for debt and let in
again once they pay.
"""
from __future__ import annotations

import math
import os
import random
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.console import Console
from rich.markup import escape

from entrygate.cli.demo_lines import decision_line, header, money_line
from entrygate.cli.serverthread import ServerThread
from entrygate.domain.store import ConnectorConfig
from entrygate.domain.webhooks import new_secret
from entrygate.logs import configure
from entrygate.retailer.reporting import PlatformFeedback
from entrygate.retailer.settlement import PlatformSettlement
from entrygate.settings import DEMO_SECRET, Settings
from entrygate.simulation.back_office import BackOffice, EndedTrip, Step
from entrygate.simulation.demo_setup import (
    DEMO_EMAIL,
    DEMO_PASSWORD,
    SHORT_TRIP_STORE,
    DemoWorld,
    create_demo_world,
    create_retailer_people,
    enroll_demo_palms,
)
from entrygate.simulation.gate import SimulatedGate
from entrygate.simulation.palm_reader import PalmPopulation
from entrygate.simulation.population import BadgeLane, CardLane, PalmLane, QrLane, Shopper

console = Console(highlight=False, soft_wrap=True)

# Why so often: the demo's kiosk closes trips after 5 minutes, and a close should show within
# seconds of that, not the up to 36 s of the default interval.
DEMO_SWEEP_INTERVAL_S = 5.0
NO_EXIT_SCAN_ODDS = 0.35  # at the kiosk, shoppers who walk out without scanning
RETURN_STORE = "demo-downtown"  # where a debtor who paid comes back: its strategy denies debt


def demo(port: int = typer.Option(8000, help="Port for the platform (0 picks a free one)."),
         data_dir: Path = typer.Option(Path("var/demo"), help="Where the demo keeps its databases."),
         rate: float = typer.Option(2.0, min=0.1, max=200, help="Entries per second."),
         count: int | None = typer.Option(None, help="Stop after this many entries (default: until Ctrl-C)."),
         debt_seconds: float = typer.Option(30.0, min=1, help="Seconds before a non-payer settles a debt."),
         seed: int = typer.Option(7, help="Seed of the simulated shoppers.")) -> None:
    """Run the platform with a demo retailer and simulated gates, printing a line per decision and per payment.

    The back office captures most baskets through the trip's hold (CAPT; a card that declines the
    capture leaves a debt, DECL), cancels the hold of an empty basket (VOID), and at demo-campus
    reports payments through the feedback API (RPRT, or DEBT when unpaid). A debtor pays later
    (PAID) and is let in again.

    At demo-kiosk (maxTripMinutes 5, the least a store may set) about a third of shoppers leave
    without scanning out. Their trips are really closed by the platform's sweeper, which the demo
    runs every 5 seconds: CLOSE lines appear once a run passes its fifth minute, each followed by
    the trip's settlement. A shorter run (--count) ends first and says which trips are still open
    and when they close; nothing is closed early.
    """
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
    # The demo's few simulated lanes (one exit gate, one back office) stand for a chain's many, each
    # carrying up to --rate taps a second: their keys' budgets grow with it (docs/deploy.md, rate limits).
    gate_budget, retailer_budget = max(20, math.ceil(rate * 2)), max(50, math.ceil(rate * 4))
    settings = Settings(database_url=f"sqlite:///{db}", demo=True, log_json=False, log_level="WARNING",
                        allow_private_urls=True, sweep_interval_s=DEMO_SWEEP_INTERVAL_S,
                        rate_limit_gate=f"{gate_budget}/second", rate_limit_retailer=f"{retailer_budget}/second")
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
    console.print(f"  trip timeout {SHORT_TRIP_STORE} closes trips nobody scans out after "
                  f"{world.max_trip_minutes[SHORT_TRIP_STORE]} min (the platform sweeps every "
                  f"{DEMO_SWEEP_INTERVAL_S:g} s)")
    console.print("Simulated gates are sending entries; Ctrl-C stops.\n")
    console.print(header())
    run = DemoRun(server.url, world, retailer, random.Random(seed), debt_s=debt_seconds, palms=palms)
    try:
        while count is None or run.sent < count:
            try:
                run.step()
            except httpx.HTTPError as exc:  # one refused or lost request must not end a demo left running
                console.print(f"[red]FAIL[/]  {escape(str(exc) or type(exc).__name__)}")
            time.sleep(1 / rate)
    except KeyboardInterrupt:
        pass
    finally:
        run.close()
        # The platform (its sweeper with it) stops before the server: no trip closes after the
        # demo's last look, so what it says is still open is still open.
        container.close()
        server.stop()
        retailer_server.stop()
        retailer.close()
    console.print(f"\n{run.sent} entries decided; the database is {db}")
    _summary(run)


@dataclass
class DemoRun:
    url: str
    world: DemoWorld
    retailer: Any  # entrygate.retailer.app.Retailer
    rng: random.Random
    debt_s: float = 30.0
    palms: PalmPopulation | None = None  # the people of world.palms, and the strangers
    sent: int = 0
    inside: list[tuple[str, str, Shopper, bool, float]] = field(default_factory=list)  # trip, store, who, held, entered
    returning: list[Shopper] = field(default_factory=list)  # debtors who paid, coming back to the gate
    seen: dict[str, Shopper] = field(default_factory=dict)  # person -> how they last came to a gate
    came_back: set[str] = field(default_factory=set)  # debtors shown coming back after paying (once each)

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
        self.back_office = BackOffice(PlatformSettlement(self.url, self.world.retailer_key),
                                      PlatformFeedback(self.url, self.world.retailer_key), self.rng,
                                      debt_s=self.debt_s, feedback_stores=self.world.feedback_stores)

    def step(self) -> None:
        shopper, store, gate = self._next()
        answer = gate.enter(shopper.channel, shopper.credential, party_size=shopper.party_size)
        self.sent += 1
        console.print(decision_line(shopper.label, shopper.channel, store, answer))
        if shopper.person:
            self.seen[shopper.person] = shopper
        if answer.get("shoppingTripId"):
            held = answer.get("authorizedAmount") is not None
            self.inside.append((answer["shoppingTripId"], store, shopper, held, time.time()))
        if len(self.inside) > 6 or (self.inside and self.rng.random() < 0.3):
            self._leave(*self.inside.pop(0))
        self._show(self.back_office.closed_by_time())
        steps, restored = self.back_office.collect_debts()
        again = self._again(restored)
        self._show([_restored(s, shown={a.person for a in again}) for s in steps])
        self.returning += again

    def _next(self) -> tuple[Shopper, str, SimulatedGate]:
        """A debtor who just paid comes back first; otherwise whoever the lanes send."""
        if self.returning:
            shopper = self.returning.pop(0)
            gate = self.card_gates[RETURN_STORE] if shopper.channel == "CREDIT_CARD" else self.lane_gates["PALM"]
            return shopper, RETURN_STORE, gate
        lane = self.rng.choices(self.lanes, weights=self.weights)[0]
        shopper = lane.next()
        if shopper.channel == "CREDIT_CARD":
            store = self.rng.choice(self.world.stores)
            return shopper, store, self.card_gates[store]
        return shopper, "demo-downtown", self.lane_gates[shopper.channel]

    def _again(self, restored: list[EndedTrip]) -> list[Shopper]:
        """The debtors who paid, as they come back: the same card again, or a fresh read of the same palm.

        Each comes back once: the demo runs hours of a store in seconds, and a card back at the gate every
        few seconds is velocity, which the model rightly weighs (taps refused for the debt are not counted).
        """
        lanes = {lane.channel: lane for lane in self.lanes if hasattr(lane, "again")}
        again = [lanes[self.seen[t.person].channel].again(self.seen[t.person]) for t in restored
                 if t.person in self.seen and t.person not in self.came_back and self.seen[t.person].channel in lanes]
        self.came_back.update(a.person for a in again if a.person)
        return again

    def _leave(self, trip: str, store: str, shopper: Shopper, held: bool, entered: float) -> None:
        """The shopper walks out: through the exit gate, or at the kiosk maybe without scanning."""
        ended = EndedTrip(trip, store, shopper.channel, shopper.label, shopper.person, held, entered)
        if store == SHORT_TRIP_STORE and self.rng.random() < NO_EXIT_SCAN_ODDS:
            self.back_office.watch(ended, max_trip_minutes=self.world.max_trip_minutes[store])
            return
        self.exit_gates[store].exit(trip)
        self._show(self.back_office.settle(ended))

    def _show(self, steps: list[Step]) -> None:
        for s in steps:
            console.print(money_line(s.kind, s.trip.store, s.trip.channel, s.trip.label, s.detail, s.trip.trip_id))

    def close(self) -> None:
        """The last look at the trips waiting for their timeout, while the platform still runs; then the clients."""
        try:
            self._show(self.back_office.closed_by_time(last=True))
        finally:
            self.back_office.close()
            for gate in [*self.card_gates.values(), *self.exit_gates.values(), *self.lane_gates.values()]:
                gate.close()


def _summary(run: DemoRun) -> None:
    """What the back office did, the balance left unpaid, and the trips still waiting for their timeout."""
    ledger = run.back_office.ledger
    console.print(f"back office: {ledger.captured} captured ({ledger.captured_amount:.2f} USD), "
                  f"{ledger.declined} declined, {ledger.cancelled} cancelled, {ledger.reported} reported "
                  f"through feedback, {ledger.timed_out} closed by TIMEOUT; unpaid now "
                  f"{ledger.outstanding:.2f} USD on {_count(len(ledger.unpaid), 'trip')}")
    waiting = run.back_office.still_open()
    if waiting:
        first = min(at for _, at in waiting)
        console.print(f"still open at {SHORT_TRIP_STORE}, never scanned out: {_count(len(waiting), 'trip')}; the "
                      f"platform closes each by TIMEOUT {run.world.max_trip_minutes[SHORT_TRIP_STORE]} minutes "
                      f"after its entry while it runs (the next at {datetime.fromtimestamp(first):%H:%M:%S}); "
                      "this run ended first")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


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


def _restored(step: Step, *, shown: set[str | None]) -> Step:
    """A paid debt says "access restored" where the demo shows the shopper coming back, next."""
    if step.kind == "PAID" and step.trip.person not in shown:
        return Step(step.kind, step.trip, step.detail.removesuffix("; access restored"))
    return step
