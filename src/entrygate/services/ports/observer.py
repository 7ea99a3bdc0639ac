"""The decision observer port: metrics adapters listen to every recorded decision."""
from __future__ import annotations

from typing import Protocol


class DecisionObserver(Protocol):
    def decided(self, *, store_id: str, gate_id: str, channel: str, outcome: str, reasons: list[str],
                decided_by: str, latency_ms: float, risk_score: int | None) -> None: ...


class NullObserver:
    def decided(self, **_: object) -> None:
        return None
