"""The shadow report: the current model and the shadow candidate on the same live decisions.

Each shadowed decision holds both scores, taken by one process from one set of features at the
moment of the decision (``services/gate/strategies.py``). The report counts how often the two
agree on the risk level, how many entries the candidate would have denied that the current model
let through (open→deny: level HIGH for the candidate only) and the other way round, and sets their
score distributions side by side. Hard facts (a balance, a block) deny under either model and
are not the models' to flip, so the comparison is of the levels.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from entrygate.risk.backtest import SCORE_BINS

DENY_LEVEL = "HIGH"
QUANTILES = (0.5, 0.9, 0.99)


@dataclass(frozen=True, slots=True)
class ShadowPair:
    """One shadowed decision: the score and level that decided, and the shadow's."""

    current_score: int
    current_level: str
    shadow_score: int
    shadow_level: str


@dataclass(frozen=True)
class ShadowReport:
    version: str
    decisions: int
    agreement: float  # share of decisions on the same level (1.0 when there are none)
    open_to_deny: int
    deny_to_open: int
    levels: dict[str, dict[str, int]]  # "current" / "shadow" -> level -> count
    quantiles: dict[str, dict[str, int]]  # "current" / "shadow" -> "p50" ... -> score
    histograms: dict[str, list[int]]
    mean_difference: float  # mean of shadow score - current score

    def figures(self) -> dict[str, Any]:
        """Plain JSON data for ``--json`` and the console."""
        return {"modelVersion": self.version, "decisions": self.decisions, "agreement": round(self.agreement, 4),
                "flips": {"openToDeny": self.open_to_deny, "denyToOpen": self.deny_to_open},
                "levels": self.levels, "quantiles": self.quantiles, "scoreHistograms": self.histograms,
                "meanScoreDifference": round(self.mean_difference, 3)}


def shadow_report(version: str, pairs: Sequence[ShadowPair]) -> ShadowReport:
    """Compare the current and shadow scores of ``pairs`` (the shadowed decisions of ``version``)."""
    n = len(pairs)
    same = sum(p.current_level == p.shadow_level for p in pairs)
    to_deny = sum(p.current_level != DENY_LEVEL and p.shadow_level == DENY_LEVEL for p in pairs)
    to_open = sum(p.current_level == DENY_LEVEL and p.shadow_level != DENY_LEVEL for p in pairs)
    current = [p.current_score for p in pairs]
    shadow = [p.shadow_score for p in pairs]
    return ShadowReport(
        version=version, decisions=n, agreement=same / n if n else 1.0, open_to_deny=to_deny, deny_to_open=to_open,
        levels={"current": _levels(p.current_level for p in pairs), "shadow": _levels(p.shadow_level for p in pairs)},
        quantiles={"current": _quantiles(current), "shadow": _quantiles(shadow)},
        histograms={"current": _histogram(current), "shadow": _histogram(shadow)},
        mean_difference=(sum(shadow) - sum(current)) / n if n else 0.0)


def _levels(levels) -> dict[str, int]:  # noqa: ANN001 - any iterable of level names
    counts = {"LOW": 0, "MEDIUM": 0, "HIGH": 0}
    for level in levels:
        counts[level] = counts.get(level, 0) + 1
    return counts


def _quantiles(scores: list[int]) -> dict[str, int]:
    ordered = sorted(scores)
    if not ordered:
        return {f"p{round(q * 100)}": 0 for q in QUANTILES}
    # The nearest-rank quantile: a score some decision really had, the same on every run.
    return {f"p{round(q * 100)}": ordered[max(math.ceil(q * len(ordered)) - 1, 0)] for q in QUANTILES}


def _histogram(scores: list[int]) -> list[int]:
    counts = [0] * SCORE_BINS
    for s in scores:
        counts[min(max(s, 0) * SCORE_BINS // 100, SCORE_BINS - 1)] += 1
    return counts
