"""RequestContext on the platform's app: the id also on an unexpected 500 and in its log line, and each
request measured by route template, never by raw path."""
from __future__ import annotations

import logging
from types import SimpleNamespace

import httpx
import pytest
import structlog
from prometheus_client.parser import text_string_to_metric_families

from entrygate.adapters.metrics import PrometheusObserver
from entrygate.api import errors
from entrygate.cli.serverthread import ServerThread
from entrygate.web import PlatformApp


class RecordingLog:
    """Stands in for the API's logger: what each line would carry from structlog's context."""

    def __init__(self) -> None:
        self.lines: list[dict] = []

    def exception(self, event: str, **fields: object) -> None:
        self.lines.append({"event": event, **structlog.contextvars.get_contextvars(), **fields})

    error = exception


@pytest.fixture
def app_and_log(monkeypatch):
    recording = RecordingLog()
    monkeypatch.setattr(errors, "log", recording)
    observer = PrometheusObserver()
    app = PlatformApp()
    app.state.container = SimpleNamespace(observer=observer)
    errors.install(app)

    @app.get("/items/{itemId}")
    def item(itemId: str) -> dict[str, str]:
        return {"itemId": itemId, **structlog.contextvars.get_contextvars()}

    @app.get("/bug")
    def bug() -> None:
        raise RuntimeError("a bug")

    server = ServerThread(app).start()
    with httpx.Client(base_url=server.url, timeout=5) as client:
        yield client, recording, observer
    server.stop()


def test_an_unexpected_500_carries_the_id_and_its_one_log_line_does_too(app_and_log, caplog):
    client, recording, _ = app_and_log
    with caplog.at_level(logging.DEBUG):
        r = client.get("/bug", headers={"X-Request-Id": "crash-1"})
    assert r.status_code == 500 and r.json()["error"]["code"] == "INTERNAL"
    assert r.headers["x-request-id"] == "crash-1"
    assert [(x["event"], x["request_id"]) for x in recording.lines] == [("unhandled_error", "crash-1")]
    assert not [rec for rec in caplog.records if "Exception in ASGI application" in rec.getMessage()], \
        "the server logged the error again, without the request's id"
    assert client.get("/items/1").status_code == 200  # the connection and the app carry on


def test_the_context_holds_the_id_while_the_request_runs_and_not_after(app_and_log):
    client, _, _ = app_and_log
    assert client.get("/items/a", headers={"X-Request-Id": "one"}).json() == {"itemId": "a", "request_id": "one"}
    assert client.get("/items/b", headers={"X-Request-Id": "two"}).json() == {"itemId": "b", "request_id": "two"}
    assert "request_id" not in structlog.contextvars.get_contextvars()


def test_requests_are_counted_by_route_template_and_status(app_and_log):
    client, _, observer = app_and_log
    for item in ("a", "b", "c"):
        client.get(f"/items/{item}")
    client.get("/bug")
    client.get("/nowhere/at/all")
    for method in ("BREW", "WHEN"):  # made-up methods: one series, not one each
        client.request(method, "/items/d")
    counts = {(s.labels["method"], s.labels["route"], s.labels["status"]): s.value
              for f in text_string_to_metric_families(observer.exposition().decode())
              if f.name == "entrygate_http_request_duration_seconds"
              for s in f.samples if s.name.endswith("_count")}
    assert counts == {("GET", "/items/{itemId}", "200"): 3, ("GET", "/bug", "500"): 1,
                      ("GET", "unmatched", "404"): 1, ("OTHER", "/items/{itemId}", "405"): 2}
