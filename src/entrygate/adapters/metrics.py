"""Prometheus metrics for decisions, served at ``/metrics``.

With ``entrygate serve --workers N`` each worker counts for itself and a scrape reaches one of
them; serve then gives the workers a shared directory (``PROMETHEUS_MULTIPROC_DIR``, prometheus_client's
multiprocess mode): every worker writes its samples there and any worker's ``/metrics`` sums them
all. One process counts in memory, as tests and the demo do.
"""
from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

LATENCY_BUCKETS = (0.5, 1, 2, 3, 5, 7.5, 10, 15, 25, 50, 100, 250, 500, 1000, 2500)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class PrometheusObserver:
    def __init__(self, registry: CollectorRegistry | None = None, *, multiprocess_dir: str | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        # prometheus_client reads the same variable when it is imported, to store samples in files.
        self.multiprocess_dir = multiprocess_dir or os.environ.get(MULTIPROC_ENV) or None
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

    def exposition(self) -> bytes:
        """Every series in the text format: this process's, or in multiprocess mode all workers' summed."""
        if self.multiprocess_dir is None:
            return generate_latest(self.registry)
        from prometheus_client.multiprocess import MultiProcessCollector

        registry = CollectorRegistry()  # a fresh one per scrape, as the files change under it
        MultiProcessCollector(registry, path=self.multiprocess_dir)
        return generate_latest(registry)
