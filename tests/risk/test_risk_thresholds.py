import numpy as np

from entrygate.domain.channels import RiskTolerance
from entrygate.domain.risk_policy import DEFAULT_THRESHOLDS
from entrygate.risk.thresholds import TARGETS, choose_thresholds


def calibrated(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities like a risk model's (mostly small, a long tail) and labels drawn from them."""
    rng = np.random.default_rng(seed)
    p = rng.beta(0.5, 4.0, n)
    return p, (rng.random(n) < p).astype(int)


def test_chosen_thresholds_meet_their_targets():
    p, y = calibrated(40_000, 1)
    thresholds = choose_thresholds(p, y, source="test")
    bad = y == 1
    for tolerance, target in TARGETS.items():
        band = thresholds.for_tolerance(tolerance)
        denied = p >= band.deny_at
        assert bad[denied].mean() >= target.deny_precision - 1e-9
        flagged = p >= band.adjust_at
        met_recall = bad[flagged].sum() / bad.sum() >= target.adjust_recall
        within_budget = (~bad & flagged).sum() / (~bad).sum() <= target.adjust_max_good_share + 1e-9
        assert within_budget and (met_recall or band.adjust_at > 0)
    assert thresholds.source == "test"
    assert thresholds.low.deny_at < thresholds.medium.deny_at < thresholds.high.deny_at


def test_unreachable_targets_keep_the_defaults():
    rng = np.random.default_rng(2)
    p, y = rng.random(5000) * 0.2, (rng.random(5000) < 0.05).astype(int)  # no signal, low risk
    thresholds = choose_thresholds(p, y, source="test")
    for tolerance in RiskTolerance:
        assert thresholds.for_tolerance(tolerance).deny_at == DEFAULT_THRESHOLDS.for_tolerance(tolerance).deny_at
