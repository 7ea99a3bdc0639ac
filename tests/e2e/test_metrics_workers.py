"""`/metrics` under `entrygate serve --workers 2` counts every worker's decisions, whichever worker
answers the scrape (DESIGN 15; issue 9, finding 7)."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from support.server import Platform, card, entry, new_par, operator_token, start_server, stop_server

CLOSE = {"Connection": "close"}  # every request on a new connection, so the kernel hands them to both workers


def decisions(text: str) -> Counter[str]:
    """Decisions by outcome, summed over every other label."""
    totals: Counter[str] = Counter()
    for family in text_string_to_metric_families(text):
        if family.name == "entrygate_decisions":
            for sample in family.samples:
                if sample.name == "entrygate_decisions_total":
                    totals[sample.labels["outcome"]] += int(sample.value)
    return totals


def latency_count(text: str) -> int:
    return sum(int(s.value) for f in text_string_to_metric_families(text) if f.name == "entrygate_decision_latency_seconds"
               for s in f.samples if s.name == "entrygate_decision_latency_seconds_count")


def workers_that_decided(server_pid: int) -> set[str]:
    """Worker pids with samples in the shared metrics directory, found in the workers' environment."""
    pids: set[str] = set()
    for child in Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split():
        environ = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
        for directory in (v.split(b"=", 1)[1].decode() for v in environ if v.startswith(b"PROMETHEUS_MULTIPROC_DIR=")):
            pids |= {f.stem.rsplit("_", 1)[1] for f in Path(directory).glob("counter_*.db")}
    return pids


def test_every_scrape_with_two_workers_shows_the_totals_of_both(db_url):
    url, proc = start_server(db_url, workers=2)
    try:
        p = Platform(url, operator_token(db_url), db_url, proc)
        store = p.store()
        key = {"Authorization": f"Bearer {store.gates['lane-1']}", **CLOSE}
        sent: Counter[str] = Counter()
        with httpx.Client(base_url=url, timeout=30) as client:
            for _ in range(20):  # batches until both workers have decided (one may still be starting)
                for token in ["tok_visa_approve"] * 10 + ["tok_decline_generic"] * 5:
                    r = client.post("/v1/gates/lane-1/entries", json=entry(card(token, par=new_par())), headers=key)
                    assert r.status_code == 200, r.text
                    sent[r.json()["decision"]] += 1
                if len(workers_that_decided(proc.pid)) == 2:
                    break
            scrapes = [client.get("/metrics", headers=CLOSE).text for _ in range(10)]
        assert sent["OPEN"] and sent["DENY"]
        assert [decisions(text) for text in scrapes] == [sent] * 10
        assert [latency_count(text) for text in scrapes] == [sum(sent.values())] * 10
        assert len(workers_that_decided(proc.pid)) == 2, "one worker answered every request: the test proved nothing"
    finally:
        stop_server(proc)
