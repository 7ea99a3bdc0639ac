import math
import time

import lightgbm as lgb
import numpy as np
import pytest

from entrygate.domain.channels import RiskTolerance
from entrygate.domain.money import Money
from entrygate.domain.risk_policy import HardFacts, RiskLevel
from entrygate.risk.compiled import CompiledForest, UnsupportedModel
from entrygate.risk.features import FEATURE_NAMES, to_vector


def test_compiled_walk_equals_the_booster(model, holdout):
    forest = CompiledForest.from_booster(model.booster)
    fast = forest.margins(holdout.X)
    reference = model.raw_margin(holdout.X)
    assert len(fast) > 5000
    np.testing.assert_allclose(fast, reference, rtol=0, atol=1e-9)


def test_scorer_probability_equals_the_calibrated_booster(scorer, model, holdout):
    rows = holdout.features[:2000]
    fast = np.array([scorer.probability(f) for f in rows])
    np.testing.assert_allclose(fast, model.predict_proba(holdout.X[:2000]), rtol=0, atol=1e-9)
    estimates = [scorer.score(f) for f in rows[:300]]
    assert [e.probability for e in estimates] == pytest.approx(fast[:300].tolist(), abs=1e-12)
    assert all(e.score == min(100, math.floor(e.probability * 100 + 0.5)) for e in estimates)


def test_contributions_add_up_to_the_margin(scorer, holdout):
    forest = scorer.forest
    for row in holdout.X[:200].astype(np.float64):
        margin, contributions = forest.margin_and_contributions(row)
        assert margin == pytest.approx(forest.margin(row), abs=1e-12)
        assert forest.expected_margin() + contributions.sum() == pytest.approx(margin, abs=1e-9)


def test_treeshap_explanation_adds_up(scorer, make_features):
    f = make_features(entries_1h=4, declines_24h=3, funding="prepaid")
    shap = scorer.shap(f)
    assert set(shap) == {*FEATURE_NAMES, "expected_value"}
    assert sum(shap.values()) == pytest.approx(scorer.forest.margin(to_vector(f).astype(np.float64)), abs=1e-6)


def test_an_ordinary_regular_scores_low_without_reasons(scorer, make_features):
    estimate = scorer.score(make_features())
    assert estimate.probability < scorer.thresholds.low.adjust_at
    assert estimate.risks == () and estimate.score <= 10
    assert estimate.model_version == scorer.version


def test_reasons_name_the_risk_that_pushed_the_score(scorer, make_features):
    tester = scorer.score(make_features(entries_1h=6, entries_24h=9, entries_total=9, distinct_stores_24h=4,
                                        declines_24h=5, declines_total=5, trips_total=3, days_since_first_seen=0.1,
                                        funding="prepaid", foreign_issuer=True, months_to_expiry=1))
    assert tester.probability >= scorer.thresholds.medium.adjust_at
    assert {"HighVelocity", "InvalidCard"} & set(tester.risks)
    debtor = scorer.score(make_features(unpaid_trips=4, outstanding_balance=85.0, bad_debt_labels=2,
                                        funding="debit", entries_total=6, trips_total=5,
                                        days_since_first_seen=20.0))
    assert debtor.risks and debtor.risks[0] == "BadDebt"
    assert len(tester.risks) <= 3


def test_recommend_applies_policy_with_the_models_thresholds(scorer, make_features):
    amount = Money.of("25.00", "USD")
    ok = scorer.recommend(make_features(), tolerance=RiskTolerance.MEDIUM, authorized_amount=amount)
    assert ok.shopper_authorized and ok.adjust_to is None and ok.level is RiskLevel.LOW
    owed = scorer.recommend(make_features(), tolerance=RiskTolerance.HIGH, authorized_amount=amount,
                            facts=HardFacts(outstanding_balance=amount.amount))
    assert not owed.shopper_authorized and owed.shopper_risks[0] == "BadDebt"


def test_a_row_with_nan_takes_the_booster_path(scorer, model, make_features):
    f = make_features(outstanding_balance=float("nan"))
    expected = float(model.predict_proba(to_vector(f)[None, :])[0])
    assert scorer.probability(f) == pytest.approx(expected, abs=1e-12)
    assert scorer.score(f).probability == pytest.approx(expected, abs=1e-12)


def test_categorical_splits_are_refused():
    rng = np.random.default_rng(0)
    X = np.c_[rng.integers(0, 5, 500), rng.normal(size=500)]
    y = (X[:, 0] == 2).astype(int)
    booster = lgb.train({"objective": "binary", "verbosity": -1, "min_data_in_leaf": 5},
                        lgb.Dataset(X, y, categorical_feature=[0]), num_boost_round=3)
    with pytest.raises(UnsupportedModel):
        CompiledForest.from_booster(booster)


def test_scoring_one_entry_is_fast(scorer, holdout):
    """A smoke test far below the budget; bench/risk_scoring.py measures p99 properly."""
    rows = holdout.features[:2000]
    for f in rows[:100]:
        scorer.score(f)
    timings = []
    for f in rows:
        start = time.perf_counter_ns()
        scorer.score(f)
        timings.append(time.perf_counter_ns() - start)
    assert np.median(timings) < 300_000
