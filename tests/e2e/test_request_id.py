"""X-Request-Id on every answer and in every log line about the request (DESIGN 15), read from a real
server's own output."""
from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import httpx
import pytest

from support.server import card, entry, new_par


def log_lines(output: Path) -> list[dict]:
    return [json.loads(line) for line in output.read_text().splitlines() if line.startswith("{")]


def lines_about(output: Path, **fields: str) -> list[dict]:
    """The log lines with these fields, waiting briefly for the server to write them."""
    deadline = time.monotonic() + 5
    while True:
        found = [x for x in log_lines(output) if all(x.get(k) == v for k, v in fields.items())]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def is_new_uuid(value: str) -> bool:
    return str(uuid.UUID(value)) == value and uuid.UUID(value).version == 4


def test_the_callers_id_comes_back_and_is_on_every_log_line_about_the_request(ops_platform):
    p = ops_platform
    store = p.store()
    request_id = "lane-1.tap:" + uuid.uuid4().hex
    body = entry(card(par=new_par()))
    r = p.http.post("/v1/gates/lane-1/entries", json=body,
                    headers={"Authorization": f"Bearer {store.gates['lane-1']}", "X-Request-Id": request_id})
    assert r.status_code == 200 and r.headers["x-request-id"] == request_id
    about = lines_about(p.output, event_id=body["eventId"])
    assert [x["event"] for x in about] == ["decision"]
    assert all(x["request_id"] == request_id for x in about)
    # and no line of another request claims it
    assert {x["event"] for x in log_lines(p.output) if x.get("request_id") == request_id} == {"decision"}


def test_a_refusal_logged_for_a_retailer_carries_the_id_too(ops_platform):
    p = ops_platform
    store = p.store()
    trip_id = p.enter(store, entry(card(par=new_par()))).json()["shoppingTripId"]
    request_id = "backoffice-" + uuid.uuid4().hex[:12]
    r = p.http.post("/v1/feedback/payment-status", headers={**p.as_retailer(store), "X-Request-Id": request_id},
                    json={"storeId": store.store_id, "shoppingTripId": trip_id, "paymentStatusTime": 1796160000000,
                          "totalAmount": {"amount": 4.2, "code": "USD"}, "settledAmount": {"amount": 4.2, "code": "EUR"}})
    assert r.status_code == 200 and r.headers["x-request-id"] == request_id
    about = lines_about(p.output, trip_id=trip_id, event="payment_report_rejected")
    assert [x["request_id"] for x in about] == [request_id]


@pytest.mark.parametrize("given", ["", "has space", "x" * 129, "a/b", "semi;colon", "quote\"d"])
def test_an_id_that_is_not_well_formed_is_replaced_by_a_new_uuid(ops_platform, given):
    r = ops_platform.http.get("/healthz", headers={"X-Request-Id": given})
    assert r.status_code == 200 and is_new_uuid(r.headers["x-request-id"])


def test_an_id_of_128_allowed_characters_is_kept_and_none_given_gets_a_fresh_one_each_time(ops_platform):
    longest = ("AZaz09._:-" * 13)[:128]
    assert ops_platform.http.get("/healthz", headers={"X-Request-Id": longest}).headers["x-request-id"] == longest
    first, second = (ops_platform.http.get("/healthz").headers["x-request-id"] for _ in range(2))
    assert is_new_uuid(first) and is_new_uuid(second) and first != second


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/no/such/page", 404),                      # no route
    ("GET", "/v1/trips/not-a-trip", 401),               # no key
    ("POST", "/v1/admin/retailers", 400),               # a body that is not JSON (with the operator's key)
    ("DELETE", "/healthz", 405),
    ("GET", "/console/sign-in", 200),                   # a console page
    ("GET", "/console/static/console.css", 200),        # a static file
    ("GET", "/metrics", 200),
    ("GET", "/openapi.json", 200),
    ("GET", "/v1/admin/stores/%00", 400),               # refused before any route
])
def test_every_kind_of_answer_carries_the_id(ops_platform, method, path, status):
    headers = {"X-Request-Id": "probe-" + uuid.uuid4().hex[:8]}
    if path == "/v1/admin/retailers":
        headers |= ops_platform.op
    r = ops_platform.http.request(method, path, headers=headers, content=b"{not json" if method == "POST" else None)
    assert r.status_code == status, r.text
    assert r.headers["x-request-id"] == headers["X-Request-Id"]


def test_a_raw_socket_client_gets_the_header_too(ops_platform):
    url = httpx.URL(ops_platform.url)
    with httpx.Client() as client:
        r = client.get(url.join("/readyz"), headers={"X-Request-Id": "raw"})
    assert r.headers.get_list("x-request-id") == ["raw"]  # once, not repeated by a layer inside
