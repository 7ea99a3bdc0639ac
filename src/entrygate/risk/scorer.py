"""Scoring one entry in process, inside the gate's latency budget (DESIGN 9: p99 under 0.3 ms).

``RiskScorer`` holds a loaded model, its trees compiled to numpy arrays (``compiled.py``) and its
calibrator. ``score`` turns one ``RiskFeatures`` into a calibrated probability, the 0-100 score
and, only when the probability reaches the strictest ADJUST threshold (below it no store's
policy lists reasons), the contract risk values that pushed it up most. ``recommend`` applies the
store's policy (``entrygate.domain.risk_policy``) with the model's own thresholds.

The booster stays the source of truth: the compiled walk equals ``booster.predict`` (the tests
hold it to 1e-9) and a row with NaN goes through the booster.

Explanations (DESIGN 14): ``explain`` credits each feature with its Saabas contribution along the
path the walk already took (the change of each node's expected value at the feature's splits), so
the base value (the forest's expected margin) plus every contribution is the raw score, exactly.
It costs a few vector operations on top of ``score``; ``score_explained`` does both in one walk,
which is what the gate calls. ``shap`` gives LightGBM's exact TreeSHAP values instead (about ten
scores' time), for investigations off the hot path.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from entrygate.domain.channels import RiskTolerance
from entrygate.domain.money import Money
from entrygate.domain.risk_ops import Contribution
from entrygate.domain.risk_policy import (
    NO_HARD_FACTS,
    HardFacts,
    RiskRecommendation,
    RiskThresholds,
    recommend,
    risk_score,
)
from entrygate.risk.compiled import CompiledForest
from entrygate.risk.features import FEATURE_GROUP_INDEX, FEATURE_NAMES, RISK_GROUPS, RiskFeatures, to_vector
from entrygate.risk.model import TrainedModel
from entrygate.risk.store import load_current

BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"

# Why 0.2: a group is named only when it raises the log-odds by at least 0.2 (the odds by ~22%);
# smaller pushes are the noise of a hundred trees, and naming them would dilute the real reason.
MIN_CONTRIBUTION = 0.2
MAX_RISKS = 3
MAX_EXPLANATION = 5  # DESIGN 14: at most five items in a decision's explanation


def default_model_dir() -> Path:
    """The directory of the model shipped with entrygate, so a fresh install can score."""
    return BUNDLED_DIR


@dataclass(frozen=True, slots=True)
class RiskEstimate:
    """The model's view of one entry."""

    probability: float  # calibrated probability that the entry ends in a loss
    score: int  # 0-100, the probability in percent
    risks: tuple[str, ...]  # contract risk values, strongest first; empty when not computed
    model_version: str | None


@dataclass(frozen=True, slots=True)
class Explanation:
    """One entry's log-odds of a loss taken apart: ``base_value + contributions.sum() == raw_score``."""

    base_value: float  # the forest's expected margin, before any feature is looked at
    raw_score: float  # the model's margin for this entry (log-odds, before calibration)
    values: np.ndarray  # the entry's feature values, in FEATURE_NAMES order
    contributions: np.ndarray  # each feature's contribution, in FEATURE_NAMES order

    def by_feature(self) -> dict[str, float]:
        """Every feature's contribution, by name."""
        return {name: float(v) for name, v in zip(FEATURE_NAMES, self.contributions.tolist())}

    def top(self, n: int = MAX_EXPLANATION) -> tuple[Contribution, ...]:
        """The ``n`` largest contributions by magnitude, largest first; features that did not move the score are left out."""
        c = self.contributions
        order = np.argsort(-np.abs(c), kind="stable")[:n].tolist()
        values, contributions = self.values.tolist(), c.tolist()
        return tuple(Contribution(FEATURE_NAMES[i], values[i], contributions[i]) for i in order if contributions[i] != 0.0)


class RiskScorer:
    """Scores single entries with one loaded model; safe to share across threads (read-only)."""

    def __init__(self, model: TrainedModel, *, min_contribution: float = MIN_CONTRIBUTION,
                 max_risks: int = MAX_RISKS, reasons_from: float | None = None) -> None:
        self.model = model
        self.forest = CompiledForest.from_booster(model.booster)
        if self.forest.n_features != len(FEATURE_NAMES):
            raise ValueError("the booster was not trained on FEATURE_NAMES")
        self.calibrator = model.calibrator
        self._node_group = FEATURE_GROUP_INDEX[self.forest.node_feature]  # risk group of each node's split
        self.thresholds: RiskThresholds = model.thresholds
        self.version = model.version
        # Below the strictest ADJUST threshold no store lists reasons; pass a lower ``reasons_from``
        # when applying thresholds of your own to ``entrygate.domain.risk_policy.recommend``.
        self._reasons_from = self.thresholds.low.adjust_at if reasons_from is None else reasons_from
        self._min_contribution = min_contribution
        self._max_risks = max_risks
        self._base_value = self.forest.expected_margin()

    @classmethod
    def from_directory(cls, directory: Path | str, **options: Any) -> RiskScorer:
        """A scorer for the version the directory's ``current`` pointer names."""
        return cls(load_current(directory), **options)

    @classmethod
    def bundled(cls, **options: Any) -> RiskScorer:
        """A scorer for the model shipped with entrygate."""
        return cls.from_directory(default_model_dir(), **options)

    def probability(self, features: RiskFeatures) -> float:
        """The calibrated probability of a loss; the fastest path, no reasons."""
        x = to_vector(features).astype(np.float64)
        if math.isnan(x.sum()):  # one reduction instead of isnan().any(); inf - inf lands here too
            return float(self.model.predict_proba(x[None, :].astype(np.float32))[0])
        return self.calibrator.apply_one(self.forest.margin(x))

    def score(self, features: RiskFeatures) -> RiskEstimate:
        """Probability, 0-100 score and, when risky enough to matter, the reasons."""
        x = to_vector(features).astype(np.float64)
        if math.isnan(x.sum()):
            p = float(self.model.predict_proba(x[None, :].astype(np.float32))[0])
            return RiskEstimate(p, risk_score(p), (), self.version)
        forest = self.forest
        path = forest.walk(forest.route(x))
        p = self.calibrator.apply_one(float(forest.value[path[-1]].sum()))
        risks: tuple[str, ...] = ()
        if p >= self._reasons_from:
            risks = self._risks(path)
        return RiskEstimate(p, risk_score(p), risks, self.version)

    def score_explained(self, features: RiskFeatures) -> tuple[RiskEstimate, Explanation | None]:
        """``score`` and ``explain`` from one walk of the trees; no explanation for a row with NaN."""
        x = to_vector(features).astype(np.float64)
        if math.isnan(x.sum()):
            p = float(self.model.predict_proba(x[None, :].astype(np.float32))[0])
            return RiskEstimate(p, risk_score(p), (), self.version), None
        forest = self.forest
        path = forest.walk(forest.route(x))
        margin = float(forest.value[path[-1]].sum())
        p = self.calibrator.apply_one(margin)
        risks = self._risks(path) if p >= self._reasons_from else ()
        explanation = Explanation(self._base_value, margin, x, forest.contributions(path))
        return RiskEstimate(p, risk_score(p), risks, self.version), explanation

    def recommend(self, features: RiskFeatures, *, tolerance: RiskTolerance, authorized_amount: Money,
                  facts: HardFacts = NO_HARD_FACTS, explain: bool = True) -> RiskRecommendation:
        """Score the entry and apply the store's policy with this model's thresholds.

        The recommendation carries the model's version and, with ``explain``, the top contributions.
        """
        if explain:
            estimate, explanation = self.score_explained(features)
        else:
            estimate, explanation = self.score(features), None
        out = recommend(probability=estimate.probability, tolerance=tolerance,
                        authorized_amount=authorized_amount, facts=facts,
                        model_risks=estimate.risks, thresholds=self.thresholds)
        return replace(out, model_version=self.version, explanation=explanation.top() if explanation else ())

    def contributions(self, features: RiskFeatures) -> dict[str, float]:
        """Each risk group's Saabas contribution to the log-odds (what ``score`` ranks reasons by)."""
        x = to_vector(features).astype(np.float64)
        per_feature = self.forest.margin_and_contributions(x)[1]
        groups = np.bincount(FEATURE_GROUP_INDEX, weights=per_feature, minlength=len(RISK_GROUPS))
        return {g.value: float(v) for g, v in zip(RISK_GROUPS, groups)}

    def explain(self, features: RiskFeatures) -> Explanation:
        """Each feature's contribution to this entry's log-odds (Saabas, along the walk); fast enough for the gate."""
        x = to_vector(features).astype(np.float64)
        margin, contributions = self.forest.margin_and_contributions(x)
        return Explanation(self._base_value, margin, x, contributions)

    def shap(self, features: RiskFeatures) -> dict[str, float]:
        """Exact TreeSHAP contributions per feature (LightGBM ``pred_contrib``); slow, off the hot path."""
        row = to_vector(features)[None, :]
        shap = self.model.booster.predict(row, pred_contrib=True, num_threads=1)[0]
        return {name: float(v) for name, v in zip((*FEATURE_NAMES, "expected_value"), shap)}

    def _risks(self, path: list[np.ndarray]) -> tuple[str, ...]:
        groups = self.forest.contributions(path, node_key=self._node_group, n_keys=len(RISK_GROUPS)).tolist()
        ranked = sorted(((v, i) for i, v in enumerate(groups) if v >= self._min_contribution), reverse=True)
        return tuple(RISK_GROUPS[i].value for _, i in ranked[: self._max_risks])
