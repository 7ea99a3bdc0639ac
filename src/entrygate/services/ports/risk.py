"""The risk model port: a scorer that turns an entry's features into the platform's recommendation.

``adapters/risk_model.py`` loads the model (``entrygate.risk.scorer.RiskScorer``) on first use;
the gate's strategies take a callable that returns the scorer in service.
"""
from __future__ import annotations

from typing import Protocol

from entrygate.domain.channels import RiskTolerance
from entrygate.domain.money import Money
from entrygate.domain.risk_policy import HardFacts, RiskRecommendation
from entrygate.risk.features import RiskFeatures


class Scorer(Protocol):
    def recommend(self, features: RiskFeatures, *, tolerance: RiskTolerance, authorized_amount: Money,
                  facts: HardFacts = ...) -> RiskRecommendation:
        """Score the entry and apply the store's policy (its tolerance, the hard facts) to the score."""
        ...


class ShadowScorer(Scorer, Protocol):
    """A candidate model scored beside the current one (DESIGN 14); its version names it."""

    version: str | None
