"""The risk model records port: what the console's model page reads (DESIGN 14).

``adapters/db/risk_models.py`` implements it on the platform database: the decisions a shadow
scored (for the shadow report) and the backtests ``entrygate risk backtest`` recorded.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from entrygate.risk.shadow_report import ShadowPair


@dataclass(frozen=True, slots=True)
class BacktestRun:
    """A recorded backtest: when, against what, its figures; the plot is read apart (``latest_plot``)."""

    backtest_id: int
    ran_at: datetime
    candidate: str
    figures: dict[str, Any]
    has_plot: bool


class ModelRecords(Protocol):
    def shadow_pairs(self, version: str) -> list[ShadowPair]:
        """The decisions the shadow ``version`` scored, oldest first, with the scores that decided them."""
        ...

    def latest_backtest(self) -> BacktestRun | None:
        """The newest recorded backtest."""
        ...

    def latest_plot(self) -> bytes | None:
        """The newest backtest's PNG, when it wrote one."""
        ...
