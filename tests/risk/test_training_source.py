"""Training from the platform's own record (``adapters/db/training.py``), on SQLite and PostgreSQL.

The hand-built cases go through the real services with a settable clock and capture, at each
entry's moment, what the gate's own history reader (``history.py``) reports; the replay must give
the same. The end-to-end case bulk-inserts a simulated population and trains through the CLI.
"""
from __future__ import annotations

import random
import uuid
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy import insert
from typer.testing import CliRunner

from entrygate.adapters.clock import FixedClock
from entrygate.adapters.db import tables as t
from entrygate.adapters.db.engine import make_engine
from entrygate.adapters.db.mapping import store_to_json
from entrygate.adapters.db.risk_models import SqlModelRoles
from entrygate.adapters.db.training import FRAUD_WINDOW, read_training_data, replay_entries
from entrygate.bootstrap import build
from entrygate.domain.cards import CardCredential, instrument_id
from entrygate.domain.channels import Channel, GateDirection, RiskStrategy, ShopperRisk
from entrygate.domain.decision import EntryEvent
from entrygate.domain.keys import KeyKind
from entrygate.risk import cli as risk_cli
from entrygate.risk.features import RiskFeatures, to_vector
from entrygate.risk.model_store import ModelStore
from entrygate.risk.sources import NotEnoughHistory
from entrygate.risk.store import current_version, model_path
from entrygate.services.auth import Principal
from entrygate.services.payments.feedback import PaymentReport
from entrygate.settings import Settings
from entrygate.wire.decisions import decision_answer
from support.factories import store_config

SECRET = "training-source-test-secret-" + "x" * 20
T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
OPERATOR = Principal(KeyKind.OPERATOR)
NEW_YORK = ZoneInfo("America/New_York")
runner = CliRunner()


def _card(par: str, token: str = "tok_visa_approve", **over) -> CardCredential:
    base = dict(payment_token=token, par=par, brand="VISA", last4="4242", exp_month=12, exp_year=2030,
                funding="credit", issuer_country="US")
    return CardCredential(**{**base, **over})


class Recorded:
    """A platform over a real database with a settable clock; remembers what the gate knew at each entry."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.clock = FixedClock(T0)
        self.c = build(Settings(database_url=url, secret_key=SECRET), clock=self.clock)
        retailer = self.c.admin.create_retailer(OPERATOR, name="R")
        self.stores, self.gates = [], {}
        for name in ("a", "b"):
            store = self.c.admin.create_store(OPERATOR, store_config(
                retailer.id, store_id=f"store-{name}-{uuid.uuid4().hex[:6]}", timezone="America/New_York",
                country="US", risk_strategy=RiskStrategy.NONE, entry_methods=frozenset({Channel.CREDIT_CARD})))
            self.c.admin.add_gate(OPERATOR, store.store_id, gate_id="lane-1", direction=GateDirection.ENTRY)
            with self.c.uow() as uow:
                self.gates[store.store_id] = Principal(KeyKind.GATE, gate_pk=uow.gates.find(store.store_id,
                                                                                            "lane-1").gate_pk)
            self.stores.append(store.store_id)
        self.expected: dict[tuple[str, datetime], RiskFeatures] = {}

    def enter(self, card: CardCredential, *, at: datetime, store: int = 0, party_size: int = 1) -> dict:
        self.clock.at = at
        iid = instrument_id(card, secret=SECRET.encode())
        with self.c.uow() as uow:  # what the gate's own reader says at this moment
            history = uow.history.of(iid, now=at)
        self.expected[(iid, at)] = RiskFeatures.from_parts(
            history, card=card, channel=Channel.CREDIT_CARD, party_size=party_size,
            local_hour=at.astimezone(NEW_YORK).hour, store_country="US", today=at.date())
        eid = str(uuid.uuid4())
        event = EntryEvent(event_id=eid, timestamp=at, channel=Channel.CREDIT_CARD, interaction_type="TAP",
                           party_size=party_size, credential=card, request_hash=eid)
        store_id = self.stores[store]
        return {**decision_answer(self.c.entries.admit(self.gates[store_id], "lane-1", event)), "storeId": store_id}

    def report(self, entry: dict, *, total: str, settled: str, status_time: datetime, at: datetime) -> None:
        self.clock.at = at
        status = self.c.feedback.report_payment(OPERATOR, PaymentReport(
            entry["storeId"], entry["shoppingTripId"], Decimal(total), "USD", Decimal(settled), "USD", status_time))
        assert status.status == "Accepted"

    def label(self, entry: dict, risk: ShopperRisk, *, at: datetime) -> None:
        self.clock.at = at
        assert self.c.feedback.label(OPERATOR, store_id=entry["storeId"], trip_id=entry["shoppingTripId"],
                                     risk=risk, note=None).status == "Accepted"


@pytest.fixture
def recorded(db_url):
    """Five instruments, each a case: look-ahead, declines, windows, labels, unreported trips."""
    w = Recorded(db_url)
    h = timedelta(hours=1)
    A, B, C, D = (_card("V001" + c * 25) for c in "ABCD")
    E = _card("V001" + "E" * 25, brand="AMEX", funding="prepaid", issuer_country="GB", exp_month=4, exp_year=2026)
    w.a1 = w.enter(A, at=T0)
    w.a2 = w.enter(A, at=T0 + 10 * timedelta(minutes=1), store=1, party_size=3)
    w.b1 = w.enter(_card(B.par, "tok_decline_generic"), at=T0 + 0.5 * h)
    w.b2 = w.enter(B, at=T0 + 0.7 * h)
    # The retailer reports a1 unpaid at T0+3h, with a status time of T0+1h: the gate could read it
    # only from T0+3h, so a3 (T0+2h) must not see it, and a4 (T0+4h) must.
    w.a3 = w.enter(A, at=T0 + 2 * h)
    w.report(w.a1, total="18.40", settled="0", status_time=T0 + h, at=T0 + 3 * h)
    w.a4 = w.enter(A, at=T0 + 4 * h)
    for trip in (w.a2, w.a3):
        w.report(trip, total="10.00", settled="10.00", status_time=T0 + 5 * h, at=T0 + 5 * h)
    w.report(w.b2, total="20.00", settled="5.00", status_time=T0 + 5 * h, at=T0 + 5 * h)
    w.label(w.a1, ShopperRisk.BadDebt, at=T0 + 6 * h)
    w.a5 = w.enter(A, at=T0 + 7 * h)  # a4 and a5 are never reported: unknown outcome
    # C: fraud labelled on its second trip; the first came 13 days before the label (inside the window).
    w.c1 = w.enter(C, at=T0 + h)
    w.c2 = w.enter(C, at=T0 + 11 * 24 * h)
    for trip, total in ((w.c1, "12.00"), (w.c2, "40.00")):
        w.report(trip, total=total, settled=total, status_time=T0 + 12 * 24 * h, at=T0 + 12 * 24 * h)
    w.label(w.c2, ShopperRisk.CustomerFraud, at=T0 + 14 * 24 * h)
    w.c3 = w.enter(C, at=T0 + 15 * 24 * h)  # blocked now, by the FEEDBACK item of the label
    # A list block is the store's policy, not the card's answer: stored, but no entry of the history (DESIGN 14).
    del w.expected[(w.c3["visitor"]["id"], T0 + 15 * 24 * h)]
    # D: the same, but its first trip came 21 days before the label (outside the window).
    w.d1 = w.enter(D, at=T0 + 2.5 * h)
    w.d2 = w.enter(D, at=T0 + 20 * 24 * h)
    for trip in (w.d1, w.d2):
        w.report(trip, total="7.50", settled="7.50", status_time=T0 + 21 * 24 * h, at=T0 + 21 * 24 * h)
    w.label(w.d2, ShopperRisk.CustomerFraud, at=T0 + 21 * 24 * h + h)
    # E: a foreign prepaid card in its expiry month; an InvalidCard label; then expired.
    w.e1 = w.enter(E, at=T0 + 30 * 24 * h, store=1)
    w.report(w.e1, total="3.00", settled="3.00", status_time=T0 + 31 * 24 * h, at=T0 + 31 * 24 * h)
    w.label(w.e1, ShopperRisk.InvalidCard, at=T0 + 32 * 24 * h)
    w.e2 = w.enter(E, at=T0 + 62 * 24 * h)  # May 2026: CARD_EXPIRED
    assert [w.b1["decision"], w.c3["decision"], w.e2["decision"]] == ["DENY"] * 3
    assert w.e2["reasons"][0]["code"] == "CARD_EXPIRED"
    yield w
    w.c.close()


def _replay(url: str, **options) -> list:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn, conn.begin():
            return list(replay_entries(conn, **options))
    finally:
        engine.dispose()


def test_features_equal_what_the_gate_read_at_each_moment(recorded):
    progress = []
    entries = _replay(recorded.url, chunk_rows=3, progress=lambda done, total: progress.append((done, total)))
    assert len(entries) == len(recorded.expected) == 13
    assert progress[-1] == (13, 13) and len(progress) == 5  # streamed in chunks of three
    for entry in entries:
        expected = recorded.expected[(entry.instrument_id, entry.decided_at)]
        assert entry.features is not None
        got, want = asdict(entry.features), asdict(expected)
        assert got.pop("outstanding_balance") == pytest.approx(want.pop("outstanding_balance"))
        assert got == want, entry
        np.testing.assert_allclose(to_vector(entry.features), to_vector(expected), rtol=1e-6)


def test_no_look_ahead_and_the_hand_built_cases(recorded):
    entries = _replay(recorded.url)
    by_trip = {e.trip_id: e.features for e in entries if e.trip_id}
    w = recorded
    a3, a4, a5 = (by_trip[x["shoppingTripId"]] for x in (w.a3, w.a4, w.a5))
    # a1's report was written at T0+3h (status time T0+1h): a3 at T0+2h cannot have seen it
    assert (a3.unpaid_trips, a3.outstanding_balance, a3.entries_total, a3.trips_total) == (0, 0.0, 2, 2)
    assert (a4.unpaid_trips, a4.outstanding_balance, a4.bad_debt_labels) == (1, pytest.approx(18.4), 0)
    assert (a5.unpaid_trips, a5.bad_debt_labels, a5.entries_1h, a5.entries_24h) == (1, 1, 0, 4)
    b2 = by_trip[w.b2["shoppingTripId"]]
    assert (b2.declines_24h, b2.declines_total, b2.entries_1h, b2.trips_total) == (1, 1, 1, 0)
    a2 = by_trip[w.a2["shoppingTripId"]]
    assert (a2.entries_1h, a2.distinct_stores_24h, a2.party_size, a2.local_hour) == (1, 1, 3, 9)
    e1 = by_trip[w.e1["shoppingTripId"]]
    assert (e1.foreign_issuer, e1.funding, e1.brand, e1.months_to_expiry) == (True, "prepaid", "AMEX", 0)
    at = {e.decided_at: e for e in entries}
    e2 = at[T0 + timedelta(days=62)]
    assert (e2.trip_id, e2.history.invalid_card_labels, e2.features.months_to_expiry) == (None, 1, -1)
    assert T0 + timedelta(days=15) not in at  # c3, refused by the fraud label's block item: a policy refusal


def test_labels_and_losses(recorded):
    w = recorded
    outcomes = {e.trip_id: e.outcome for e in _replay(recorded.url) if e.trip_id}

    def of(entry):
        return outcomes[entry["shoppingTripId"]]

    assert of(w.a1).why == ("unpaid", "bad_debt_label") and of(w.a1).uncollected == pytest.approx(18.4)
    assert not of(w.a2).loss and of(w.a2).trip_value == 10.0 and of(w.a2).uncollected == 0.0
    assert of(w.b2).why == ("unpaid",) and of(w.b2).uncollected == 15.0 and of(w.b2).trip_value == 20.0
    assert of(w.c1).why == ("fraud_label_on_instrument",) and of(w.c1).uncollected == 12.0  # paid, charged back
    assert of(w.c2).why == ("fraud_label",) and of(w.c2).uncollected == 40.0
    assert not of(w.d1).loss and of(w.d2).loss  # d1 came 21 days before the label: outside the window
    assert not of(w.e1).loss  # InvalidCard is not a loss
    assert of(w.a4) is None and of(w.a5) is None  # never reported: unknown outcome
    assert FRAUD_WINDOW == timedelta(days=14)


def test_training_data_and_the_minimum(recorded):
    with pytest.raises(NotEnoughHistory) as raised:
        read_training_data(recorded.url)
    assert (raised.value.entries, raised.value.losses) == (9, 5) and "at least 200" in str(raised.value)
    data = read_training_data(recorded.url, min_entries=1, min_losses=1)
    assert data.X.shape == (9, 27) and data.X.dtype == np.float32
    # time order: a1, a2, b2, c1, a3, d1, c2, d2, e1
    assert data.y.tolist() == [1, 0, 1, 1, 0, 0, 1, 1, 0]
    assert data.losses.tolist() == pytest.approx([18.4, 0, 15, 12, 0, 0, 40, 7.5, 0])
    assert data.trip_values.tolist() == pytest.approx([18.4, 10, 20, 12, 10, 7.5, 40, 7.5, 3])
    g = data.groups.tolist()
    assert g[0] == g[1] == g[4] and g[3] == g[6] and g[5] == g[7] and len(set(g)) == 5
    info = data.provenance
    assert (info["source"], info["decisions"], info["admitted"], info["unreported"], info["rows"]) == \
        ("database", 13, 11, 2, 9)
    later = read_training_data(recorded.url, min_entries=1, min_losses=1, since=T0 + timedelta(days=1))
    np.testing.assert_array_equal(later.X, data.X[-3:])  # later rows, features still from all before
    assert later.y.tolist() == [1, 1, 0]


def test_no_database_is_not_enough_history(tmp_path):
    path = tmp_path / "missing.db"
    with pytest.raises(NotEnoughHistory, match="no database"):
        read_training_data(f"sqlite:///{path}")
    assert not path.exists()


# --- end to end, on a bulk-inserted simulated population ---------------------------------------

def _seed_simulated(url: str, n_instruments: int, *, seed: int) -> int:
    """Insert the decisions, trips, payment reports and labels of a simulated population; returns reported trips."""
    from entrygate.risk.simulate import _PLAN, DEFAULT_MIX, STORES  # the population the bundled model learnt

    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows: dict[str, list[dict]] = {name: [] for name in ("instruments", "decisions", "trips", "labels")}
    stores = [f"sim-{i:02d}" for i in range(STORES)]
    risk_of = {"fraud": "CustomerFraud", "bad_debt": "BadDebt", "invalid_card": "InvalidCard"}
    reported = 0
    for i in range(n_instruments):
        card, attempts = _PLAN[rng.choices(list(DEFAULT_MIX), list(DEFAULT_MIX.values()))[0]](rng)
        attempts.sort(key=lambda a: a.t)
        iid = f"inst-{i:05d}"
        month = 2026 * 12 + card.expiry_month
        rows["instruments"].append(dict(
            instrument_id=iid, brand=card.brand, last4="4242", exp_month=month % 12 + 1, exp_year=month // 12,
            funding=card.funding, issuer_country="GB" if card.foreign else "US", blocked=False,
            first_seen_at=start + timedelta(hours=attempts[0].t), last_seen_at=start + timedelta(hours=attempts[-1].t)))
        for k, a in enumerate(attempts):
            at = start + timedelta(hours=a.t)
            expired = int(a.t // (30.4 * 24)) > card.expiry_month
            trip = None if a.declined or expired else f"trip-{i}-{k}"
            reasons = ["CARD_EXPIRED"] if expired else ["PREAUTH_DECLINED"] if a.declined else []
            store = stores[a.store]
            rows["decisions"].append(dict(
                gate_pk=f"gate-{store}", gate_id="lane-1", store_id=store, event_id=f"ev-{i}-{k}", request_hash="h",
                channel="PALM" if a.palm else "CREDIT_CARD", outcome="DENY" if trip is None else "OPEN",
                reasons=reasons, decided_by="PLATFORM", visitor_id=iid, visitor_type="SHOPPER", instrument_id=iid,
                trip_id=trip, party_size=a.party, latency_ms=1.0, event_time=at, decided_at=at))
            if trip is None:
                continue
            value = Decimal(str(a.value))
            report = None
            if rng.random() < 0.05:
                pass  # never reported
            elif a.unpaid_at is not None:
                report = (value, value, a.repaid_at) if a.repaid_at else (value, Decimal(0), a.unpaid_at)
            elif a.loss > 0:
                report = (value, Decimal(0), a.t + 48)  # charged back
            else:
                report = (value, value, a.t + 2)
            reported += report is not None
            total, settled, when = report or (None, None, None)
            rows["trips"].append(dict(
                trip_id=trip, store_id=store, entry_gate_id="lane-1", channel="CREDIT_CARD", visitor_id=iid,
                instrument_id=iid, party_size=a.party, status="CLOSED", entered_at=at, currency="USD",
                authorized_amount=Decimal(25), total_amount=total, settled_amount=settled,
                payment_status_time=start + timedelta(hours=when) if report else None,
                payment_reported_at=start + timedelta(hours=when) if report else None))
            if a.label and a.label_at != float("inf"):
                rows["labels"].append(dict(instrument_id=iid, store_id=store, trip_id=trip, risk=risk_of[a.label],
                                           created_at=start + timedelta(hours=a.label_at)))
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn, conn.begin():
            conn.execute(insert(t.retailers), [dict(retailer_id="ret-sim", name="Sim", key_id="k-sim",
                                                    secret_hash="x", created_at=start)])
            config = store_to_json(store_config("ret-sim", timezone="America/Chicago", country="US"))
            conn.execute(insert(t.stores), [dict(store_id=s, retailer_id="ret-sim", name=s, config=config,
                                                 created_at=start, updated_at=start) for s in stores])
            conn.execute(insert(t.gates), [dict(gate_pk=f"gate-{s}", gate_id="lane-1", store_id=s, direction="ENTRY",
                                                enabled=True, key_id=f"k-{s}", secret_hash="x", created_at=start)
                                           for s in stores])
            for table, name in ((t.payment_instruments, "instruments"), (t.decisions, "decisions"),
                                (t.shopping_trips, "trips"), (t.instrument_labels, "labels")):
                conn.execute(insert(table), rows[name])
    finally:
        engine.dispose()
    return reported


def test_entrygate_risk_train_from_the_database_end_to_end(db_url, tmp_path: Path):
    from entrygate.cli.main import app

    reported = _seed_simulated(db_url, 900, seed=5)
    models = tmp_path / "models"
    result = runner.invoke(app, ["risk", "train", "--database-url", db_url, "--model-dir", str(models)])
    assert result.exit_code == 0, result.output
    assert "recorded history in" in result.output and "simulated" not in result.output
    # The last line names the version, which the platform database now records as current (DESIGN 14).
    version = result.stdout.strip().splitlines()[-1].removeprefix("version: ")
    assert version == _recorded_current(db_url) and model_path(models, version).is_file()
    assert current_version(models) is None  # the directory's pointer file is for standalone use only
    trained_on = ModelStore(models).load(version).metadata["training_data"]
    assert trained_on["source"] == "database" and trained_on["rows"] == reported

    # evaluate finds the model through ENTRYGATE_MODEL_DIR, and says the entries are in-sample
    result = runner.invoke(app, ["risk", "evaluate", "--database-url", db_url],
                           env={"ENTRYGATE_MODEL_DIR": str(models)})
    assert result.exit_code == 0, result.output
    assert version in result.output and "bundled" not in result.output and "in-sample" in result.output


def test_too_little_history_falls_back_to_the_simulated_one(db_url, tmp_path: Path, monkeypatch):
    from entrygate.cli.main import app

    monkeypatch.setattr(risk_cli, "DEFAULT_SIMULATED", 600)
    _seed_simulated(db_url, 20, seed=1)
    models = tmp_path / "models"
    result = runner.invoke(app, ["risk", "train", "--database-url", db_url, "--model-dir", str(models)])
    assert result.exit_code == 0, result.output
    assert "not enough labelled history" in result.output and "simulated history of 600" in result.output
    assert ModelStore(models).load(_recorded_current(db_url)).metadata["training_data"]["source"] == "simulated"


def _recorded_current(db_url: str) -> str | None:
    engine = make_engine(db_url, pool_size=1)
    try:
        return SqlModelRoles(engine).read().current
    finally:
        engine.dispose()


def test_an_unreachable_database_is_an_error_without_the_password(tmp_path: Path):
    from entrygate.cli.main import app

    url = "postgresql+psycopg://eg:s3cret-pw@127.0.0.1:1/entrygate"
    result = runner.invoke(app, ["risk", "train", "--database-url", url, "--model-dir", str(tmp_path)])
    assert result.exit_code == 1 and "cannot read" in result.output
    assert "s3cret-pw" not in result.output and current_version(tmp_path) is None
