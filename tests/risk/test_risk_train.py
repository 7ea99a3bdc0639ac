import numpy as np
import pytest

from entrygate.risk.evaluate import evaluate
from entrygate.risk.train import fit_calibrator, split_rows, train


def test_model_ranks_well_but_not_perfectly_on_unseen_shoppers(model, holdout):
    report = evaluate(model, holdout.X, holdout.y, holdout.losses)
    assert 0.82 < report.roc_auc < 0.99
    assert report.pr_auc > 3 * report.base_rate
    assert 0.80 < model.metadata["metrics"]["roc_auc"] < 0.99


def test_probabilities_are_calibrated(model, history):
    test = split_rows(len(history.y), seed=11, groups=history.instruments, y=history.y).test  # never used to fit
    X, y = history.X[test], history.y[test]
    p = model.predict_proba(X)
    report = evaluate(model, X, y)
    assert report.brier < 0.85 * report.brier_base_rate
    assert p.mean() == pytest.approx(y.mean(), rel=0.25)
    assert ((p >= 0) & (p <= 1)).all()
    risky = p >= 0.3
    assert y[risky].mean() == pytest.approx(p[risky].mean(), abs=0.15)


def test_thresholds_come_from_held_out_data_and_tighten_with_tolerance(model):
    t = model.thresholds
    assert t.source == "model"
    assert t.low.deny_at <= t.medium.deny_at <= t.high.deny_at
    assert t.low.adjust_at <= t.medium.adjust_at <= t.high.adjust_at
    assert all(b.adjust_at < b.deny_at for b in (t.low, t.medium, t.high))


def test_metadata_records_how_the_model_was_made(model, history):
    meta = model.metadata
    assert meta["rows"] == len(history.y) and meta["positives"] == int(history.y.sum())
    assert meta["trees"] == model.booster.num_trees() > 10
    assert meta["calibration"] == "isotonic" and meta["libraries"]["lightgbm"]
    assert sum(meta["split"].values()) == meta["rows"]


def test_split_keeps_each_instrument_on_one_side():
    groups = np.repeat(np.arange(500), 4)
    split = split_rows(len(groups), seed=1, groups=groups)
    parts = [set(groups[idx]) for idx in (split.fit, split.stop, split.calibrate, split.test)]
    assert sum(len(p) for p in parts) == 500
    assert all(a.isdisjoint(b) for i, a in enumerate(parts) for b in parts[i + 1:])
    assert 0.15 < len(split.test) / len(groups) < 0.25


def test_split_deals_out_bad_instruments_evenly():
    rng = np.random.default_rng(3)
    groups = np.repeat(np.arange(400), 5)
    y = np.repeat(rng.random(400) < 0.1, 5) & (rng.random(2000) < 0.6)
    split = split_rows(len(groups), seed=4, groups=groups, y=y)
    bad_groups = set(groups[y])
    for idx, share in zip((split.fit, split.stop, split.calibrate, split.test), (0.55, 0.10, 0.15, 0.20)):
        assert abs(len(bad_groups & set(groups[idx])) / len(bad_groups) - share) < 0.03


def test_same_seed_same_model(history):
    X, y = history.X[:6000], history.y[:6000]
    a, b = train(X, y, seed=3, max_rounds=60), train(X, y, seed=3, max_rounds=60)
    assert a.model_string() == b.model_string()


def test_training_refuses_unusable_data(history):
    with pytest.raises(ValueError):
        train(history.X[:, :5], history.y)
    with pytest.raises(ValueError):
        train(history.X[:100], np.zeros(100))


def test_sigmoid_calibration_is_monotone():
    rng = np.random.default_rng(0)
    margins = rng.normal(size=4000)
    y = (rng.random(4000) < 1 / (1 + np.exp(-(2 * margins - 1)))).astype(int)
    cal = fit_calibrator(margins, y, kind="sigmoid")
    assert cal.a == pytest.approx(2, abs=0.3) and cal.b == pytest.approx(-1, abs=0.3)
    grid = np.linspace(-3, 3, 50)
    assert (np.diff(cal.apply(grid)) > 0).all()
    assert cal.apply_one(0.5) == pytest.approx(float(cal.apply(np.array([0.5]))[0]))
