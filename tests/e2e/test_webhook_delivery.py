"""Webhook delivery against a real receiver (DESIGN 13): down, then slow, then failing, then fine.

The platform is a real ``entrygate serve`` process; the receiver a real HTTP server on loopback
that checks every signature with the official ``standardwebhooks`` package. Every event must
arrive, with the same ``webhook-id`` and body on every attempt, a fresh signature each time, and
a trip's later event never before its earlier one was answered 2xx.
"""
from __future__ import annotations

import json
import time
from collections import defaultdict

import pytest

from support.databases import drop_database, fresh_database
from support.server import Platform, operator_token, start_server, stop_server
from support.webhook_receiver import Received, Receiver, wait_for
from support.webhooks import ALL_EVENTS, FAST, a_bit_of_everything, add_endpoint, all_delivered, deliveries

SLOW_S = 10.5  # beyond the platform's 10 s deadline


@pytest.fixture
def server(backend, tmp_path):
    url = fresh_database(backend, tmp_path, name="hooks")
    base, proc = start_server(url, env=FAST)
    platform = Platform(base, operator_token(url), url, proc)
    yield platform
    platform.http.close()
    stop_server(proc)
    drop_database(url)


def down_slow_failing_fine(receiver: Receiver, got: Received) -> tuple[int, float]:
    """The first 3 requests it hears are held beyond the deadline, the next 4 answered 500, the rest 200."""
    seen = len(receiver.log)
    if seen <= 3:
        return 200, SLOW_S
    if seen <= 7:
        return 500, 0.0
    return 204, 0.0


def test_every_event_arrives_through_an_outage_a_slow_patch_and_errors(server):
    store = server.store(exit_gates=("exit-1",))
    receiver = Receiver(down_slow_failing_fine)
    endpoint_id, receiver.secret = add_endpoint(server, store, receiver.url)
    assert receiver.secret.startswith("whsec_")
    count = a_bit_of_everything(server, store)
    time.sleep(1.5)  # nothing listening: the platform's attempts are refused
    refused = deliveries(server, store, endpoint_id)
    assert len(refused) == count and all(d["status"] == "PENDING" for d in refused)
    assert any(d["attempts"] >= 2 and d["lastResponseCode"] is None for d in refused), refused
    receiver.listen()
    try:
        assert wait_for(lambda: all_delivered(server, store, endpoint_id, count), timeout=40, step=0.25), \
            deliveries(server, store, endpoint_id)
    finally:
        receiver.stop()

    log = receiver.received()
    assert log and all(r.verified for r in log), "a signature the official library does not accept"
    by_event: dict[str, list[Received]] = defaultdict(list)
    for r in log:
        by_event[r.event_id].append(r)
    stored = deliveries(server, store, endpoint_id)
    assert set(by_event) == {d["eventId"] for d in stored}
    assert {d["eventType"] for d in stored} == set(ALL_EVENTS)
    for d in stored:
        attempts = by_event[d["eventId"]]
        assert {a.webhook_id for a in attempts} == {d["webhookId"]}  # the same webhook-id every time
        assert len({a.body for a in attempts}) == 1  # and the same bytes
        assert d["lastResponseCode"] in (200, 204) and d["lastAttemptAt"] is not None
        payload = json.loads(attempts[0].body)
        assert set(payload) == {"type", "id", "createdAt", "data"} and payload["id"] == d["eventId"]
    # The slow ones: tried again after the deadline, signed afresh (a later timestamp).
    slow = [by_event[r.event_id] for r in log[:3]]
    for attempts in slow:
        assert len(attempts) >= 2 and int(attempts[-1].timestamp) > int(attempts[0].timestamp)
    assert max(d["attempts"] for d in stored) >= 4  # refused, slow, 500, then fine
    assert receiver.delivered().keys() == by_event.keys()
    _in_trip_order(stored, by_event)


def _in_trip_order(stored: list[dict], by_event: dict[str, list[Received]]) -> None:
    """Per trip, in the order the events were stored: none was first sent before the one before it got a 2xx."""
    trips: dict[str, list[str]] = defaultdict(list)
    for d in stored:
        trip_id = by_event[d["eventId"]][0].trip_id
        if trip_id is not None and d["eventType"] != "instrument.blocked":
            trips[trip_id].append(d["eventId"])
    assert len(trips) == 2 and all(len(events) >= 3 for events in trips.values()), trips
    for events in trips.values():
        for earlier, later in zip(events, events[1:]):
            ok = next(r for r in by_event[earlier] if r.status is not None and 200 <= r.status < 300)
            assert by_event[later][0].received_at >= ok.answered_at, (earlier, later)
