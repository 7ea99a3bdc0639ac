import numpy as np
import pytest

from entrygate.risk.evaluate import evaluate, plot_report


@pytest.fixture(scope="module")
def report(model, holdout):
    return evaluate(model, holdout.X, holdout.y, holdout.losses, trip_values=holdout.trip_values)


def test_report_measures_ranking_calibration_and_money(report, holdout):
    assert report.rows == len(holdout.y) and report.positives == int(holdout.y.sum())
    assert 0 < report.brier < report.brier_base_rate
    assert report.total_loss == pytest.approx(holdout.losses.sum())
    low, medium, high = report.tolerances
    assert (low.tolerance, medium.tolerance, high.tolerance) == ("LOW", "MEDIUM", "HIGH")
    # A stricter store denies more, catches more loss and turns away more good shoppers.
    assert low.denied_bad >= medium.denied_bad >= high.denied_bad
    assert low.denied_good >= medium.denied_good >= high.denied_good
    assert low.loss_avoided >= medium.loss_avoided >= high.loss_avoided
    for t in report.tolerances:
        assert 0 <= t.precision <= 1 and 0 <= t.recall <= t.adjust_recall <= 1
        assert 0 <= t.loss_avoided <= report.total_loss
        assert t.net == pytest.approx(t.loss_avoided - t.lost_margin)
    assert low.loss_avoided > low.lost_margin  # the model pays for itself on this population


def test_lost_margin_without_trip_values_uses_the_default_basket(model, holdout):
    r = evaluate(model, holdout.X, holdout.y, holdout.losses, margin_rate=0.5, default_trip_value=10.0)
    assert all(t.lost_margin == pytest.approx(t.denied_good * 5.0) for t in r.tolerances)


def test_summary_is_plain_json(report):
    import json

    summary = json.loads(json.dumps(report.summary()))
    assert set(summary["tolerances"]) == {"LOW", "MEDIUM", "HIGH"}
    assert summary["roc_auc"] == pytest.approx(report.roc_auc, abs=1e-5)


def test_plots_are_written(report, tmp_path):
    paths = plot_report(report, tmp_path / "plots")
    assert sorted(p.name for p in paths) == ["risk-calibration.png", "risk-pr.png", "risk-roc.png", "risk-scores.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)


def test_one_class_cannot_be_evaluated(model, holdout):
    with pytest.raises(ValueError):
        evaluate(model, holdout.X[:10], np.zeros(10))
