"""Webhook delivery across processes (DESIGN 13): kill -9 mid-delivery loses nothing, and two
processes on one database never send the same delivery at once.

One platform process starts delivering to a receiver that holds every request for a while; it is
killed with SIGKILL while a request is in flight, so that delivery stays claimed by a process that
no longer exists. Two fresh processes then share the database: between them every event is
delivered, the killed one's delivery included once its lease runs out, and the receiver never
has two requests of one ``webhook-id`` in flight at once.
"""
from __future__ import annotations

import signal
import time

import pytest

from support.databases import drop_database, fresh_database
from support.server import Platform, operator_token, start_server, stop_server
from support.webhook_receiver import Received, Receiver, wait_for
from support.webhooks import FAST, add_endpoint, all_delivered, deliveries, tap

TAPS = 6  # 12 events: decision.created and trip.opened each


HOLD_S = 2.0


def held(receiver: Receiver, got: Received) -> tuple[int, float]:
    return 200, HOLD_S


@pytest.fixture
def database(backend, tmp_path):
    url = fresh_database(backend, tmp_path, name="hookprocs")
    yield url
    drop_database(url)


def test_a_killed_process_loses_no_event_and_two_processes_never_send_one_delivery_at_once(database):
    base, first = start_server(database, env=FAST)
    platform = Platform(base, operator_token(database), database, first)
    others: list = []
    receiver = Receiver(held)
    receiver.listen()
    try:
        store = platform.store()
        endpoint_id, receiver.secret = add_endpoint(platform, store, receiver.url, ["decision.created", "trip.opened"])
        for _ in range(TAPS):
            tap(platform, store)
        def sending() -> list[str]:
            """Requests held for another second at least: the killed process cannot have heard their answer."""
            now = time.monotonic()
            return [r.webhook_id for r in receiver.received() if r.status is None and now - r.received_at < HOLD_S - 1]
        assert wait_for(lambda: sending() != [], timeout=10), "nothing was sent"
        in_flight = sending()
        stop_server(first, sig=signal.SIGKILL)  # mid-delivery: its claims stay leased to a dead process
        killed_at = time.monotonic()
        for _ in range(2):
            base, proc = start_server(database, env=FAST)
            others.append(proc)
        platform.http.close()
        platform = Platform(base, operator_token(database), database, others[-1])
        assert wait_for(lambda: all_delivered(platform, store, endpoint_id, 2 * TAPS), timeout=45, step=0.25), \
            deliveries(platform, store, endpoint_id)
        final = deliveries(platform, store, endpoint_id)
        took = time.monotonic() - killed_at
    finally:
        receiver.stop()
        platform.http.close()
        for proc in others:
            stop_server(proc)
        stop_server(first, sig=signal.SIGKILL)

    log = receiver.received()
    assert all(r.verified for r in log)
    for webhook_id in in_flight:  # what the killed process was sending came again, from another process
        again = [r for r in log if r.webhook_id == webhook_id and r.received_at > killed_at]
        assert again and again[0].received_at - killed_at < 60
    assert {r.event_id for r in log} == {d["eventId"] for d in final}
    assert took < 60, took
    assert max(receiver.max_in_flight.values()) == 1  # never two attempts of one delivery at once
