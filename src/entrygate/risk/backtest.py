"""Backtest: replay recorded entries whose payment is known under the current model and a candidate.

The candidate is another model version (each store keeps its own tolerance) or another tolerance
for every store (the current model). Each entry is decided twice by the platform's own policy
(``domain.risk_policy.recommend``, with the hard facts the gate knew then), and the figures say
what would change:

- ``flips``: entries the current configuration opens and the candidate denies (open→deny), and
  the other way round;
- ``unpaid avoided``: what the open→deny flips left unpaid (the unpaid amount, the whole basket
  for fraud: ``adapters/db/training.outcome_of``), less what the deny→open flips left unpaid, per
  currency; negative when the candidate lets in more loss than it keeps out;
- ``good shoppers turned away``: open→deny flips whose trip was paid in full.

Deterministic: entries are taken in decision order, the scores are LightGBM's batch prediction
(single-threaded), the sums are decimal; the same data gives the same figures, to the cent.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from entrygate.domain.channels import RiskTolerance
from entrygate.domain.currencies import UnknownCurrency, minor_units
from entrygate.domain.money import Money
from entrygate.domain.risk_policy import HardFacts, recommend, risk_score
from entrygate.risk.model import TrainedModel

SCORE_BINS = 20  # the score histograms: 0-4, 5-9, ..., 95-100


@dataclass(frozen=True, slots=True)
class BacktestEntry:
    """One recorded admitted entry with a payment outcome, as the gate knew it at that moment."""

    decision_id: int
    store_id: str
    tolerance: RiskTolerance
    authorized_amount: Money
    features: np.ndarray  # ``to_vector`` of the entry's features
    facts: HardFacts
    loss: bool
    uncollected: Decimal  # what the entry cost (0 when paid)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A model version, or a tolerance applied to every store with the current model."""

    label: str
    model: TrainedModel | None = None
    tolerance: RiskTolerance | None = None


@dataclass(frozen=True)
class BacktestResult:
    current_version: str
    candidate: str
    entries: int
    losses: int
    open_to_deny: int
    deny_to_open: int
    unpaid_avoided: dict[str, Decimal]
    good_turned_away: int
    good_let_in: int
    losses_let_in: int
    denied_current: int
    denied_candidate: int
    score_histograms: dict[str, list[int]]
    since: str | None = None

    def figures(self) -> dict[str, Any]:
        """Plain JSON data (amounts as strings), what ``--json`` prints and the console shows."""
        return {"currentVersion": self.current_version, "candidate": self.candidate, "since": self.since,
                "entries": self.entries, "losses": self.losses,
                "flips": {"openToDeny": self.open_to_deny, "denyToOpen": self.deny_to_open},
                "unpaidAvoided": {c: str(a) for c, a in sorted(self.unpaid_avoided.items())},
                "goodShoppersTurnedAway": self.good_turned_away, "goodShoppersLetIn": self.good_let_in,
                "lossesLetIn": self.losses_let_in,
                "denied": {"current": self.denied_current, "candidate": self.denied_candidate},
                "scoreHistograms": self.score_histograms}


def run_backtest(entries: Sequence[BacktestEntry], *, current: TrainedModel, candidate: Candidate,
                 since: str | None = None) -> BacktestResult:
    """Decide every entry under the current configuration and under the candidate; count what changes."""
    ordered = sorted(entries, key=lambda e: e.decision_id)
    n = len(ordered)
    p_current = _probabilities(current, ordered)
    other = candidate.model or current
    p_candidate = p_current if other is current else _probabilities(other, ordered)
    flips = [0, 0]
    good_away = good_in = losses_in = denied_cur = denied_cand = losses = 0
    avoided: dict[str, Decimal] = {}
    for entry, pc, pk in zip(ordered, p_current, p_candidate):
        losses += entry.loss
        opens_now = _authorized(entry, float(pc), current, entry.tolerance)
        opens_then = _authorized(entry, float(pk), other, candidate.tolerance or entry.tolerance)
        denied_cur += not opens_now
        denied_cand += not opens_then
        currency = entry.authorized_amount.currency
        if opens_now and not opens_then:
            flips[0] += 1
            good_away += not entry.loss
            avoided[currency] = avoided.get(currency, Decimal(0)) + entry.uncollected
        elif opens_then and not opens_now:
            flips[1] += 1
            good_in += not entry.loss
            losses_in += entry.loss
            avoided[currency] = avoided.get(currency, Decimal(0)) - entry.uncollected
    return BacktestResult(
        current_version=str(current.version), candidate=candidate.label, entries=n, losses=losses,
        open_to_deny=flips[0], deny_to_open=flips[1],
        unpaid_avoided={c: _at_minor(a, c) for c, a in avoided.items()},
        good_turned_away=good_away, good_let_in=good_in, losses_let_in=losses_in,
        denied_current=denied_cur, denied_candidate=denied_cand,
        score_histograms={"current": _histogram(p_current), "candidate": _histogram(p_candidate)}, since=since)


def amount_text(amounts: dict[str, Decimal] | dict[str, str]) -> str:
    """``12.40 USD, 3.00 EUR``; ``0`` when nothing changed."""
    if not amounts:
        return "0"
    return ", ".join(f"{a} {c}" for c, a in sorted(amounts.items()))


def _probabilities(model: TrainedModel, entries: Sequence[BacktestEntry]) -> np.ndarray:
    if not entries:
        return np.empty(0)
    return model.predict_proba(np.stack([e.features for e in entries]).astype(np.float32))


def _authorized(entry: BacktestEntry, probability: float, model: TrainedModel, tolerance: RiskTolerance) -> bool:
    return recommend(probability=probability, tolerance=tolerance, authorized_amount=entry.authorized_amount,
                     facts=entry.facts, thresholds=model.thresholds).shopper_authorized


def _histogram(probabilities: np.ndarray) -> list[int]:
    counts = [0] * SCORE_BINS
    for p in probabilities:
        counts[min(risk_score(float(p)) * SCORE_BINS // 100, SCORE_BINS - 1)] += 1
    return counts


def _at_minor(amount: Decimal, currency: str) -> Decimal:
    try:
        digits = minor_units(currency)
    except UnknownCurrency:
        digits = 2
    return amount.quantize(Decimal(1).scaleb(-digits))
