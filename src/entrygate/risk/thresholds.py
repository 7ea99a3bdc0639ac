"""Choosing each tolerance's ADJUST and DENY thresholds from held-out, calibrated predictions.

Why precision for DENY: it is the number a retailer can weigh ("of the shoppers we turn away,
at least 70% would have cost us money"). Why recall for ADJUST, bounded by how many honest
shoppers it touches: a larger hold is cheap for an honest shopper, so the band reaches for most
of the bad entries, but no further than a share of good shoppers the store would accept.

| Tolerance | DENY: precision at least | ADJUST: recall of bad entries | ADJUST: good shoppers at most |
| --- | --- | --- | --- |
| LOW (strict) | 0.50 | 0.80 | 15% |
| MEDIUM | 0.70 | 0.65 | 8% |
| HIGH (lenient) | 0.85 | 0.50 | 4% |

Where held-out data cannot reach a target (too few bad entries above the threshold), that
threshold keeps its default from ``DEFAULT_THRESHOLDS``, and the metadata says so.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from entrygate.domain.channels import RiskTolerance
from entrygate.domain.risk_policy import DEFAULT_THRESHOLDS, Band, RiskThresholds

MIN_DENIED = 20  # why: a precision measured on fewer denials is mostly noise


@dataclass(frozen=True, slots=True)
class ToleranceTarget:
    """What one tolerance's thresholds must achieve on held-out data."""

    deny_precision: float
    adjust_recall: float
    adjust_max_good_share: float


TARGETS: dict[RiskTolerance, ToleranceTarget] = {
    RiskTolerance.LOW: ToleranceTarget(0.50, 0.80, 0.15),
    RiskTolerance.MEDIUM: ToleranceTarget(0.70, 0.65, 0.08),
    RiskTolerance.HIGH: ToleranceTarget(0.85, 0.50, 0.04),
}


def choose_thresholds(probability: np.ndarray, y: np.ndarray, *, source: str,
                      targets: dict[RiskTolerance, ToleranceTarget] | None = None) -> RiskThresholds:
    """Per-tolerance bands that meet ``targets`` on held-out ``probability`` and labels ``y``."""
    targets = targets or TARGETS
    p = np.asarray(probability, dtype=np.float64)
    bad = np.asarray(y).astype(bool)
    order = np.argsort(-p, kind="stable")
    p_sorted, bad_sorted = p[order], bad[order]
    # For each distinct probability t: how many bad and good entries have p >= t.
    cut = np.flatnonzero(np.r_[p_sorted[1:] != p_sorted[:-1], True])
    t_values = p_sorted[cut]
    bad_at = np.cumsum(bad_sorted)[cut]
    good_at = (cut + 1) - bad_at
    n_bad, n_good = max(int(bad.sum()), 1), max(int((~bad).sum()), 1)

    bands: dict[RiskTolerance, Band] = {}
    for tolerance in (RiskTolerance.LOW, RiskTolerance.MEDIUM, RiskTolerance.HIGH):
        target, default = targets[tolerance], DEFAULT_THRESHOLDS.for_tolerance(tolerance)
        precision = bad_at / (cut + 1)
        ok = (precision >= target.deny_precision) & (cut + 1 >= MIN_DENIED)
        # The lowest threshold that still meets the precision target (thresholds descend).
        deny_at = float(t_values[np.flatnonzero(ok)[-1]]) if ok.any() else default.deny_at
        recall_ok = np.flatnonzero(bad_at / n_bad >= target.adjust_recall)
        share_ok = np.flatnonzero(good_at / n_good <= target.adjust_max_good_share)
        if len(recall_ok) and len(share_ok):
            # Reach for the recall, but never past the honest-shopper budget.
            adjust_at = float(max(t_values[recall_ok[0]], t_values[share_ok[-1]]))
        else:
            adjust_at = default.adjust_at
        bands[tolerance] = Band(min(adjust_at, deny_at), deny_at)
    return _monotone(bands, source=source)


def _monotone(bands: dict[RiskTolerance, Band], *, source: str) -> RiskThresholds:
    """Make a more tolerant store's thresholds at least as high as a stricter store's."""
    low, medium, high = bands[RiskTolerance.LOW], bands[RiskTolerance.MEDIUM], bands[RiskTolerance.HIGH]
    medium = Band(max(medium.adjust_at, low.adjust_at), max(medium.deny_at, low.deny_at))
    high = Band(max(high.adjust_at, medium.adjust_at), max(high.deny_at, medium.deny_at))
    return RiskThresholds(low=low, medium=medium, high=high, source=source)
