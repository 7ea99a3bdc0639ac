"""Shared, session-scoped risk data and models: simulated once, trained once (a few seconds)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from entrygate.domain.channels import Channel
from entrygate.risk.features import RiskFeatures
from entrygate.risk.scorer import RiskScorer
from entrygate.risk.simulate import SimulatedHistory, simulate_history
from entrygate.risk.train import train

REGULAR = RiskFeatures(
    entries_1h=0, entries_24h=0, entries_total=14, distinct_stores_24h=0, declines_24h=0,
    declines_total=0, trips_total=14, unpaid_trips=0, outstanding_balance=0.0, fraud_labels=0,
    bad_debt_labels=0, invalid_card_labels=0, days_since_first_seen=80.0, brand="VISA",
    funding="credit", foreign_issuer=False, months_to_expiry=30, channel=Channel.CREDIT_CARD,
    party_size=1, local_hour=12)


@pytest.fixture(scope="session")
def history() -> SimulatedHistory:
    return simulate_history(3000, seed=11)


@pytest.fixture(scope="session")
def holdout() -> SimulatedHistory:
    return simulate_history(1500, seed=12)


@pytest.fixture(scope="session")
def model(history):
    return train(history.X, history.y, losses=history.losses, groups=history.instruments, seed=11)


@pytest.fixture(scope="session")
def scorer(model) -> RiskScorer:
    return RiskScorer(model)


@pytest.fixture
def make_features() -> Callable[..., RiskFeatures]:
    """A factory: a long-standing regular shopper at lunchtime, with any field overridden."""
    def make(**changes) -> RiskFeatures:
        return replace(REGULAR, **changes)
    return make
