"""How good a risk model is, in the model's terms and in the store's money.

Ranking: ROC AUC and PR AUC (average precision; the honest measure when bad entries are a few
percent). Calibration: Brier score, beside the Brier score of always answering the base rate,
and a reliability curve. Business, per store tolerance at the thresholds the model carries:

- *loss avoided*: the uncollected value of the bad entries the model would have denied;
- *good shoppers turned away*: how many, and the margin their trips would have earned
  (``margin_rate`` of the basket; why 30%: a typical gross margin of convenience and grocery
  retail). It is a floor: a shopper turned away may not come back.

ADJUST is reported as a count only: what a larger hold recovers depends on the issuer.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from entrygate.domain.channels import RiskTolerance

if TYPE_CHECKING:
    from entrygate.risk.model import TrainedModel

DEFAULT_MARGIN_RATE = 0.30
DEFAULT_TRIP_VALUE = 25.0  # when trip values are unknown: the contract's example store amount


@dataclass(frozen=True)
class ToleranceResult:
    """What a store of one tolerance would have seen on the evaluated entries."""

    tolerance: str
    adjust_at: float
    deny_at: float
    denied_bad: int
    denied_good: int
    adjusted_bad: int
    adjusted_good: int
    precision: float  # of the denials, the share that were bad
    recall: float  # of the bad entries, the share denied
    adjust_recall: float  # of the bad entries, the share denied or adjusted
    loss_avoided: float
    lost_margin: float

    @property
    def net(self) -> float:
        """Loss avoided less margin lost: what denying at this tolerance earned."""
        return self.loss_avoided - self.lost_margin


@dataclass(frozen=True)
class EvaluationReport:
    """Ranking, calibration and business figures of one model on one set of labelled entries."""

    model_version: str | None
    rows: int
    positives: int
    roc_auc: float
    pr_auc: float
    brier: float
    brier_base_rate: float
    total_loss: float
    tolerances: tuple[ToleranceResult, ...]
    y: np.ndarray = field(repr=False)
    probability: np.ndarray = field(repr=False)

    @property
    def base_rate(self) -> float:
        """The share of evaluated entries that ended in a loss."""
        return self.positives / self.rows if self.rows else 0.0

    def summary(self) -> dict[str, Any]:
        """The JSON-ready figures (no per-row arrays), as stored in a model's metadata."""
        return {
            "rows": self.rows, "positives": self.positives, "base_rate": round(self.base_rate, 5),
            "roc_auc": round(self.roc_auc, 5), "pr_auc": round(self.pr_auc, 5),
            "brier": round(self.brier, 6), "brier_base_rate": round(self.brier_base_rate, 6),
            "total_loss": round(self.total_loss, 2),
            "tolerances": {t.tolerance: {k: (round(v, 5) if isinstance(v, float) else v)
                                         for k, v in t.__dict__.items() if k != "tolerance"}
                           for t in self.tolerances},
        }


def evaluate(model: TrainedModel, X: np.ndarray, y: np.ndarray, losses: np.ndarray | None = None, *,
             trip_values: np.ndarray | None = None, margin_rate: float = DEFAULT_MARGIN_RATE,
             default_trip_value: float = DEFAULT_TRIP_VALUE) -> EvaluationReport:
    """Score ``X`` with ``model`` and measure it against labels ``y`` and the ``losses`` of bad rows."""
    y = np.asarray(y).astype(bool)
    if len(y) == 0 or y.all() or not y.any():
        raise ValueError("evaluation needs both good and bad entries")
    p = model.predict_proba(X)
    loss = np.zeros(len(y)) if losses is None else np.asarray(losses, dtype=np.float64)
    trips = np.full(len(y), default_trip_value) if trip_values is None else np.asarray(trip_values, dtype=np.float64)
    base = float(y.mean())
    results = []
    for tolerance in (RiskTolerance.LOW, RiskTolerance.MEDIUM, RiskTolerance.HIGH):
        band = model.thresholds.for_tolerance(tolerance)
        deny, adjust = p >= band.deny_at, (p >= band.adjust_at) & (p < band.deny_at)
        denied_bad, denied_good = int((deny & y).sum()), int((deny & ~y).sum())
        results.append(ToleranceResult(
            tolerance=tolerance.value, adjust_at=band.adjust_at, deny_at=band.deny_at,
            denied_bad=denied_bad, denied_good=denied_good,
            adjusted_bad=int((adjust & y).sum()), adjusted_good=int((adjust & ~y).sum()),
            precision=denied_bad / max(denied_bad + denied_good, 1), recall=denied_bad / int(y.sum()),
            adjust_recall=int(((deny | adjust) & y).sum()) / int(y.sum()),
            loss_avoided=float(loss[deny & y].sum()),
            lost_margin=float(trips[deny & ~y].sum() * margin_rate)))
    return EvaluationReport(
        model_version=model.version, rows=len(y), positives=int(y.sum()),
        roc_auc=float(roc_auc_score(y, p)), pr_auc=float(average_precision_score(y, p)),
        brier=float(brier_score_loss(y, p)), brier_base_rate=base * (1 - base),
        total_loss=float(loss[y].sum()), tolerances=tuple(results), y=y, probability=p)


def plot_report(report: EvaluationReport, out_dir: Path | str) -> list[Path]:
    """Write the ROC, precision-recall, calibration and score-distribution PNGs; return their paths."""
    from matplotlib.figure import Figure  # Agg through Figure.savefig: no pyplot, no global backend
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import precision_recall_curve, roc_curve

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    y, p = report.y, report.probability
    title = f"risk model {report.model_version or ''}".strip()
    paths: list[Path] = []

    def save(fig: Figure, name: str) -> None:
        fig.suptitle(title, fontsize=9)
        fig.tight_layout()
        path = out / f"risk-{name}.png"
        fig.savefig(path, dpi=110)
        paths.append(path)

    fig = Figure(figsize=(5, 4.5))
    ax = fig.add_subplot()
    fpr, tpr, _ = roc_curve(y, p)
    ax.plot(fpr, tpr, label=f"model (AUC {report.roc_auc:.3f})")
    ax.plot([0, 1], [0, 1], "--", color="grey", label="chance")
    for t in report.tolerances:
        fp = t.denied_good / max(report.rows - report.positives, 1)
        ax.plot(fp, t.recall, "o", label=f"deny, {t.tolerance} tolerance")
    ax.set(xlabel="good shoppers denied (false positive rate)", ylabel="bad entries denied (recall)",
           title="ROC")
    ax.legend(loc="lower right", fontsize=8)
    save(fig, "roc")

    fig = Figure(figsize=(5, 4.5))
    ax = fig.add_subplot()
    precision, recall, _ = precision_recall_curve(y, p)
    ax.plot(recall, precision, label=f"model (AP {report.pr_auc:.3f})")
    ax.axhline(report.base_rate, ls="--", color="grey", label=f"base rate {report.base_rate:.3f}")
    for t in report.tolerances:
        ax.plot(t.recall, t.precision, "o", label=f"deny, {t.tolerance} tolerance")
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall", ylim=(0, 1.02))
    ax.legend(loc="upper right", fontsize=8)
    save(fig, "pr")

    fig = Figure(figsize=(5, 5.5))
    ax, hist = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    frac, mean = calibration_curve(y, p, n_bins=10, strategy="uniform")
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect")
    ax.plot(mean, frac, "o-", label=f"model (Brier {report.brier:.4f})")
    ax.set(ylabel="observed loss rate", title="Calibration (bins of 0.1)")
    ax.legend(loc="upper left", fontsize=8)
    hist.hist(p, bins=50, range=(0, 1), color="grey")
    hist.set(xlabel="predicted probability of a loss", ylabel="entries", yscale="log")
    save(fig, "calibration")

    fig = Figure(figsize=(6, 4.2))
    ax = fig.add_subplot()
    scores = np.clip(np.floor(p * 100 + 0.5), 0, 100)
    bins = np.arange(0, 102, 2)
    ax.hist(scores[~y], bins=bins, alpha=0.6, density=True, label="good entries")
    ax.hist(scores[y], bins=bins, alpha=0.6, density=True, label="bad entries")
    medium = next(t for t in report.tolerances if t.tolerance == "MEDIUM")
    ax.axvline(medium.adjust_at * 100, ls=":", color="black", label="MEDIUM: adjust from")
    ax.axvline(medium.deny_at * 100, ls="--", color="black", label="MEDIUM: deny from")
    ax.set(xlabel="risk score (0-100)", ylabel="density", yscale="log", title="Score distribution")
    ax.legend(fontsize=8)
    save(fig, "scores")
    return paths
