"""Explanations (DESIGN 14): every feature's contribution plus the base value is the model's raw score."""
from __future__ import annotations

import numpy as np
import pytest

from entrygate.domain.channels import RiskTolerance
from entrygate.domain.money import Money
from entrygate.risk.features import FEATURE_NAMES, to_vector
from entrygate.risk.scorer import RiskScorer


def test_contributions_and_the_base_value_sum_to_the_raw_score(scorer, model, holdout):
    rows = holdout.features[:300]
    raw = model.raw_margin(holdout.X[:300])
    for f, margin in zip(rows, raw):
        explanation = scorer.explain(f)
        assert explanation.raw_score == pytest.approx(margin, abs=1e-6)
        assert explanation.base_value + sum(explanation.by_feature().values()) == pytest.approx(margin, abs=1e-6)
        assert set(explanation.by_feature()) == set(FEATURE_NAMES)


def test_the_bundled_model_explains_too():
    scorer = RiskScorer.bundled()
    from entrygate.risk.simulate import simulate_history

    sample = simulate_history(60, seed=5)
    raw = scorer.model.raw_margin(sample.X)
    for f, margin in zip(sample.features, raw):
        e = scorer.explain(f)
        assert e.base_value + e.contributions.sum() == pytest.approx(margin, abs=1e-6)


def test_the_top_five_are_the_largest_by_magnitude_with_the_entry_s_values(scorer, make_features):
    f = make_features(entries_1h=5, declines_24h=3, funding="prepaid", foreign_issuer=True)
    explanation = scorer.explain(f)
    top = explanation.top()
    assert 1 <= len(top) <= 5
    magnitudes = [abs(c.contribution) for c in top]
    assert magnitudes == sorted(magnitudes, reverse=True)
    everything = sorted((abs(v) for v in explanation.by_feature().values()), reverse=True)
    assert magnitudes == pytest.approx(everything[:len(top)])
    values = dict(zip(FEATURE_NAMES, to_vector(f).tolist()))
    assert all(c.value == values[c.feature] for c in top)
    assert {c.feature for c in top} <= set(FEATURE_NAMES)


def test_score_explained_agrees_with_score_and_recommend_carries_the_version(scorer, holdout):
    for f in holdout.features[:200]:
        estimate, explanation = scorer.score_explained(f)
        plain = scorer.score(f)
        assert estimate == plain
        assert explanation is not None and np.allclose(explanation.contributions, scorer.explain(f).contributions)
    r = scorer.recommend(holdout.features[0], tolerance=RiskTolerance.MEDIUM, authorized_amount=Money.of(25, "USD"))
    assert r.model_version == scorer.version and 1 <= len(r.explanation) <= 5
    quiet = scorer.recommend(holdout.features[0], tolerance=RiskTolerance.MEDIUM,
                             authorized_amount=Money.of(25, "USD"), explain=False)
    assert quiet.explanation == () and quiet.score == r.score
