"""A trained risk model: the LightGBM booster, its probability calibration and its metadata.

The booster is the source of truth; ``compiled.py`` derives the fast per-entry path from it and
the tests hold the two equal. The calibrator maps the booster's raw margin (log-odds) to the
probability that the entry ends in a loss: boosted trees rank well but their raw probabilities
are not frequencies, and the store's thresholds are read as frequencies ("deny when at least
60% of such entries cost the store money").
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import lightgbm as lgb
import numpy as np

from entrygate.domain.risk_policy import DEFAULT_THRESHOLDS, RiskThresholds
from entrygate.risk.features import FEATURE_NAMES

CalibrationKind = Literal["isotonic", "sigmoid", "none"]


@dataclass(frozen=True)
class Calibrator:
    """Raw margin -> probability: isotonic (piecewise linear through knots) or sigmoid (Platt)."""

    kind: CalibrationKind
    x: np.ndarray = field(default_factory=lambda: np.empty(0))  # isotonic knots over the margin
    y: np.ndarray = field(default_factory=lambda: np.empty(0))  # probability at each knot
    a: float = 1.0  # sigmoid: p = 1 / (1 + exp(-(a * margin + b)))
    b: float = 0.0

    def apply(self, margin: np.ndarray) -> np.ndarray:
        """Calibrated probabilities for an array of raw margins."""
        if self.kind == "isotonic":
            return np.interp(margin, self.x, self.y)
        z = self.a * np.asarray(margin, dtype=np.float64) + self.b if self.kind == "sigmoid" else margin
        return 1.0 / (1.0 + np.exp(-z))

    def apply_one(self, margin: float) -> float:
        """Calibrated probability for one raw margin, without array overhead."""
        if self.kind == "isotonic":
            return float(np.interp(margin, self.x, self.y))
        z = self.a * margin + self.b if self.kind == "sigmoid" else margin
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0

    def as_dict(self) -> dict[str, Any]:
        """Plain data (arrays and floats) for the model file."""
        return {"kind": self.kind, "x": np.asarray(self.x, dtype=np.float64), "y": np.asarray(self.y, dtype=np.float64),
                "a": float(self.a), "b": float(self.b)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibrator:
        """The calibrator ``as_dict`` wrote."""
        return cls(kind=data["kind"], x=np.asarray(data["x"], dtype=np.float64),
                   y=np.asarray(data["y"], dtype=np.float64), a=float(data["a"]), b=float(data["b"]))


@dataclass
class TrainedModel:
    """A booster, its calibrator, and what is known about how it was trained and how it did."""

    booster: lgb.Booster
    calibrator: Calibrator
    metadata: dict[str, Any]
    feature_names: tuple[str, ...] = FEATURE_NAMES

    @property
    def version(self) -> str | None:
        """``v<UTC timestamp>-<hash>`` once saved or loaded; None before."""
        return self.metadata.get("version")

    @property
    def thresholds(self) -> RiskThresholds:
        """The per-tolerance thresholds chosen on held-out data, or the documented defaults."""
        data = self.metadata.get("thresholds")
        return RiskThresholds.from_dict(data) if data else DEFAULT_THRESHOLDS

    def raw_margin(self, X: np.ndarray) -> np.ndarray:
        """The booster's raw score (log-odds) for each row; the reference the fast path must equal."""
        return self.booster.predict(np.asarray(X, dtype=np.float32), raw_score=True, num_threads=1)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Calibrated probability of a loss for each row."""
        return self.calibrator.apply(self.raw_margin(X))

    def model_string(self) -> str:
        """The booster as LightGBM's text model format."""
        return self.booster.model_to_string()
