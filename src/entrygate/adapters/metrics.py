"""Prometheus metrics, served at ``/metrics``: decisions, HTTP requests, the process (docs/deploy.md).

Names are in base units (``_seconds``, ``_bytes``); docs/deploy.md lists every series and the
names they replace. HTTP requests are labelled by route template (``/v1/gates/{gateId}/entries``),
never by raw path, so ids do not multiply the series.

With ``entrygate serve --workers N`` each worker counts for itself and a scrape reaches one of
them; serve then gives the workers a shared directory (``PROMETHEUS_MULTIPROC_DIR``, prometheus_client's
multiprocess mode): every worker writes its samples there and any worker's ``/metrics`` sums them
all, and lists each live worker's process metrics with a ``pid`` label. One process counts in
memory, as tests and the demo do.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, PlatformCollector, ProcessCollector, generate_latest
from prometheus_client.core import Metric

# Decision latency, seconds: fine below the 25 ms target (DESIGN 9), coarse above it.
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_SAMPLE_FILE = re.compile(r"_(\d+)\.db$")


class PrometheusObserver:
    def __init__(self, registry: CollectorRegistry | None = None, *, multiprocess_dir: str | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        # prometheus_client reads the same variable when it is imported, to store samples in files.
        self.multiprocess_dir = multiprocess_dir or os.environ.get(MULTIPROC_ENV) or None
        self.decisions = Counter("entrygate_decisions", "Gate decisions by outcome",
                                 ["store_id", "channel", "outcome", "decided_by"], registry=self.registry)
        self.reasons = Counter("entrygate_decision_reasons", "Reasons given with decisions",
                               ["store_id", "reason"], registry=self.registry)
        # Replaces entrygate_decision_latency_ms (milliseconds).
        self.latency = Histogram("entrygate_decision_latency_seconds", "Decision latency in seconds",
                                 ["channel"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.http = Histogram("entrygate_http_request_duration_seconds",
                              "HTTP requests by method, route template and status: count and seconds to answer",
                              ["method", "route", "status"], buckets=HTTP_BUCKETS, registry=self.registry)
        if self.multiprocess_dir is None:  # in multiprocess mode each scrape collects the live workers instead
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)

    def decided(self, *, store_id: str, gate_id: str, channel: str, outcome: str, reasons: list[str],
                decided_by: str, latency_ms: float, risk_score: int | None) -> None:
        self.decisions.labels(store_id, channel, outcome, decided_by).inc()
        for reason in reasons:
            self.reasons.labels(store_id, reason).inc()
        self.latency.labels(channel).observe(latency_ms / 1000)

    def http_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.http.labels(method, route, str(status)).observe(seconds)

    def exposition(self) -> bytes:
        """Every series in the text format: this process's, or in multiprocess mode all workers' summed."""
        if self.multiprocess_dir is None:
            return generate_latest(self.registry)
        from prometheus_client.multiprocess import MultiProcessCollector

        registry = CollectorRegistry()  # a fresh one per scrape, as the files change under it
        MultiProcessCollector(registry, path=self.multiprocess_dir)
        registry.register(WorkerProcesses(self.multiprocess_dir))
        PlatformCollector(registry=registry)
        return generate_latest(registry)


class WorkerProcesses:
    """The process metrics (CPU, memory, open files) of every live worker, each labelled with its ``pid``.

    The workers are those with sample files in the shared directory, and this one; a pid whose
    process has exited is left out.
    """

    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)

    def pids(self) -> list[int]:
        found = {int(m.group(1)) for f in self.directory.glob("*.db") if (m := _SAMPLE_FILE.search(f.name))}
        return sorted(pid for pid in found | {os.getpid()} if Path(f"/proc/{pid}").exists())

    def collect(self) -> Iterable[Metric]:
        families: dict[str, Metric] = {}
        for pid in self.pids():
            for family in ProcessCollector(pid=lambda pid=pid: pid, registry=None).collect():
                merged = families.setdefault(family.name, Metric(family.name, family.documentation, family.type))
                for sample in family.samples:
                    merged.add_sample(sample.name, {**sample.labels, "pid": str(pid)}, sample.value)
        return list(families.values())
