"""Prometheus metrics for decisions, served at ``/metrics``."""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

LATENCY_BUCKETS = (0.5, 1, 2, 3, 5, 7.5, 10, 15, 25, 50, 100, 250, 500, 1000, 2500)


class PrometheusObserver:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.decisions = Counter("entrygate_decisions", "Gate decisions by outcome",
                                 ["store_id", "channel", "outcome", "decided_by"], registry=self.registry)
        self.reasons = Counter("entrygate_decision_reasons", "Reasons given with decisions",
                               ["store_id", "reason"], registry=self.registry)
        self.latency = Histogram("entrygate_decision_latency_ms", "Decision latency in milliseconds",
                                 ["channel"], buckets=LATENCY_BUCKETS, registry=self.registry)

    def decided(self, *, store_id: str, gate_id: str, channel: str, outcome: str, reasons: list[str],
                decided_by: str, latency_ms: float, risk_score: int | None) -> None:
        self.decisions.labels(store_id, channel, outcome, decided_by).inc()
        for reason in reasons:
            self.reasons.labels(store_id, reason).inc()
        self.latency.labels(channel).observe(latency_ms)
