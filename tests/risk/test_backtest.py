"""``entrygate risk backtest`` (DESIGN 14) on decisions recorded through the real services, on SQLite
and PostgreSQL; and the backtest's figures on a simulated history."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from entrygate.adapters.clock import FixedClock
from entrygate.adapters.db import tables as t
from entrygate.bootstrap import build
from entrygate.cli.main import app as entrygate_cli
from entrygate.domain.cards import CardCredential
from entrygate.domain.channels import Channel, GateDirection, RiskStrategy, RiskTolerance
from entrygate.domain.decision import EntryEvent
from entrygate.domain.keys import KeyKind
from entrygate.domain.money import Money
from entrygate.domain.risk_policy import NO_HARD_FACTS
from entrygate.risk.backtest import BacktestEntry, Candidate, run_backtest
from entrygate.risk.model_store import ModelStore
from entrygate.services.auth import Principal
from entrygate.services.payments.feedback import PaymentReport
from entrygate.settings import Settings
from entrygate.wire.decisions import decision_answer
from support.factories import store_config
from support.risk_models import bundled_version, save_always_high

SECRET = "backtest-test-secret-" + "x" * 20
T0 = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
OPERATOR = Principal(KeyKind.OPERATOR)
runner = CliRunner()


def _card(par: str) -> CardCredential:
    return CardCredential(payment_token="tok_visa_approve", par=par, brand="VISA", last4="4242", exp_month=12,
                          exp_year=2030, funding="credit", issuer_country="US")


@pytest.fixture
def recorded(db_url):
    """Six admitted entries of three regular cards, each trip reported: two left unpaid (18.40 and 5.00).

    The card that owes 5.00 from its first visit comes back owing it: the current configuration denies
    that entry by the balance, whatever the model says (a hard fact, the same under any candidate).
    """
    clock = FixedClock(T0)
    c = build(Settings(database_url=db_url, secret_key=SECRET), clock=clock, background_sweep=False)
    retailer = c.admin.create_retailer(OPERATOR, name="R")
    store = c.admin.create_store(OPERATOR, store_config(
        retailer.id, store_id=f"store-{uuid.uuid4().hex[:6]}", country="US", risk_strategy=RiskStrategy.NONE,
        entry_methods=frozenset({Channel.CREDIT_CARD})))
    c.admin.add_gate(OPERATOR, store.store_id, gate_id="lane-1", direction=GateDirection.ENTRY)
    with c.uow() as uow:
        gate = Principal(KeyKind.GATE, gate_pk=uow.gates.find(store.store_id, "lane-1").gate_pk)
    unpaid = {(0, 1): "18.40", (2, 0): "5.00"}
    for k, par in enumerate("V001" + ch * 25 for ch in "PQR"):
        for visit in range(2):
            clock.at = T0 + timedelta(days=visit, hours=k)
            eid = str(uuid.uuid4())
            answer = decision_answer(c.entries.admit(gate, "lane-1", EntryEvent(
                event_id=eid, timestamp=clock.at, channel=Channel.CREDIT_CARD, interaction_type="TAP", party_size=1,
                credential=_card(par), request_hash=eid)))
            assert answer["decision"] == "OPEN"
            clock.at += timedelta(hours=1)
            total = Decimal("20.00")
            settled = total - Decimal(unpaid.get((k, visit), "0"))
            assert c.feedback.report_payment(OPERATOR, PaymentReport(
                store.store_id, answer["shoppingTripId"], total, "USD", settled, "USD", clock.at)).status == "Accepted"
    yield c
    c.close()


def backtest(url: str, models, *args: str):
    return runner.invoke(entrygate_cli, ["risk", "backtest", *args, "--database-url", url, "--model-dir", str(models)])


def test_backtest_on_recorded_decisions(recorded, tmp_path):
    url, models = recorded.settings.database_url, tmp_path / "models"
    candidate = save_always_high(models)
    plot = tmp_path / "out" / "bt.png"

    # An unknown version exits 1 and records nothing, writes no plot.
    unknown = backtest(url, models, "--candidate", "v20990101T000000Z-00000000", "--plot", str(plot))
    assert unknown.exit_code == 1 and "unknown candidate" in unknown.output
    assert recorded.risk_records.latest_backtest() is None and not plot.exists()

    runs = [backtest(url, models, "--candidate", candidate, "--json", "--plot", str(plot)) for _ in range(2)]
    assert [r.exit_code for r in runs] == [0, 0], runs[0].output
    first, second = (json.loads(r.stdout) for r in runs)
    assert first == second  # the same data gives the same figures
    assert first["currentVersion"] == bundled_version() and first["candidate"] == candidate
    assert first["entries"] == 6 and first["losses"] == 2 and first["denied"] == {"current": 1, "candidate": 6}
    assert first["flips"] == {"openToDeny": 5, "denyToOpen": 0}
    assert first["unpaidAvoided"] == {"USD": "23.40"} and first["goodShoppersTurnedAway"] == 3
    assert plot.read_bytes().startswith(b"\x89PNG") and first["plot"] == str(plot)
    latest = recorded.risk_records.latest_backtest()
    assert latest.candidate == candidate and latest.figures == first and latest.has_plot

    text = backtest(url, models, "--candidate", candidate, "--plot", str(plot))
    assert text.exit_code == 0, text.output
    assert "flips: 5 open→deny, 0 deny→open" in text.stdout and "unpaid avoided: 23.40 USD" in text.stdout
    assert "good shoppers turned away: 3" in text.stdout and f"plot: {plot}" in text.stdout

    # --since keeps the later entries (the second visits); a tolerance is a candidate too.
    later = backtest(url, models, "--candidate", "LOW", "--json", "--plot", str(tmp_path / "low.png"),
                     "--since", (T0 + timedelta(hours=20)).strftime("%Y-%m-%dT%H:%M:%S"))
    assert later.exit_code == 0, later.output
    figures = json.loads(later.stdout)
    assert figures["candidate"] == "LOW" and figures["entries"] == 3
    assert figures["flips"]["denyToOpen"] == 0  # a stricter tolerance never lets in more
    with recorded.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.risk_backtests)).scalar_one() == 4


def test_the_figures_on_a_simulated_history(history):
    store = ModelStore()
    current = store.load(bundled_version())
    entries = [BacktestEntry(decision_id=i, store_id="s", tolerance=RiskTolerance.MEDIUM,
                             authorized_amount=Money(Decimal(25), "USD"), features=history.X[i], facts=NO_HARD_FACTS,
                             loss=bool(history.y[i]), uncollected=Decimal(str(round(float(history.losses[i]), 2))))
               for i in range(len(history.y))]
    strict = run_backtest(entries, current=current, candidate=Candidate("LOW", tolerance=RiskTolerance.LOW))
    again = run_backtest(list(reversed(entries)), current=current, candidate=Candidate("LOW", tolerance=RiskTolerance.LOW))
    assert strict.figures() == again.figures()  # order of the input does not matter: decision order decides
    assert strict.deny_to_open == 0 and strict.open_to_deny > 0
    assert strict.open_to_deny == strict.denied_candidate - strict.denied_current
    flipped = [e for e, p in zip(entries, current.predict_proba(np.stack([e.features for e in entries])))
               if current.thresholds.medium.deny_at > p >= current.thresholds.low.deny_at]
    assert strict.open_to_deny == len(flipped)
    assert strict.unpaid_avoided["USD"] == sum((e.uncollected for e in flipped if e.loss), Decimal(0))
    assert strict.good_turned_away == sum(not e.loss for e in flipped)
    lenient = run_backtest(entries, current=current, candidate=Candidate("HIGH", tolerance=RiskTolerance.HIGH))
    assert lenient.open_to_deny == 0 and lenient.deny_to_open > 0 and lenient.unpaid_avoided["USD"] <= 0
