"""The trip sweeps (DESIGN 10): trips nobody scanned out close by TIMEOUT, holds nobody settled are released.

Time is moved by writing a trip's entry or close into the past in the database, then running
``entrygate trips sweep`` (the server's own background sweep is off here), so nothing waits on a
clock. The last test turns the background sweep on, in two servers at once, and watches them do it.
"""
from __future__ import annotations

import concurrent.futures
import subprocess
import time
from datetime import timedelta

import pytest

from support.server import Platform, operator_token, start_server, stop_server
from support.trips import (
    SWEPT,
    backdate,
    close,
    ledger_ops,
    settle,
    sweep,
    sweep_command,
    sweep_env,
    tap,
    trip,
    usd,
    visit,
    world_fixtures,
)

# One server per module: keep the module's tests on one worker of `pytest -n`.
pytestmark = pytest.mark.xdist_group("trip_sweeps")


world, platform = world_fixtures("sweeps")


def test_a_trip_past_max_trip_minutes_is_closed_by_timeout_and_a_younger_one_is_not(platform, world):
    store = platform.store(maxTripMinutes=5)
    overdue, young = visit(platform, store), visit(platform, store)
    backdate(world.database_url, overdue, entered=timedelta(minutes=5, seconds=30))
    backdate(world.database_url, young, entered=timedelta(minutes=4))
    closed, _ = sweep(world)
    assert closed == 1
    shown = trip(platform, store, overdue)
    assert shown["status"] == "CLOSED" and shown["closedBy"] == "TIMEOUT" and shown["exitedAt"]
    assert trip(platform, store, young)["status"] == "OPEN"
    assert shown["preauthorization"]["status"] == "HELD"  # 24 h until its release
    assert sweep(world) == (0, 0)  # nothing more is due
    assert close(platform, overdue, platform.as_retailer(store)).json()["closedBy"] == "TIMEOUT"


def test_the_default_is_three_hours(platform, world):
    store = platform.store()
    assert platform.http.get(f"/v1/admin/stores/{store.store_id}", headers=platform.op).json()["maxTripMinutes"] == 180
    two_hours, four_hours = visit(platform, store), visit(platform, store)
    backdate(world.database_url, two_hours, entered=timedelta(hours=2))
    backdate(world.database_url, four_hours, entered=timedelta(hours=4))
    sweep(world)
    assert trip(platform, store, two_hours)["status"] == "OPEN"
    assert trip(platform, store, four_hours)["closedBy"] == "TIMEOUT"


def test_a_timeout_ends_hard_anti_passback(platform, world):
    store = platform.store(maxTripMinutes=5, antiPassback="HARD")
    par = "VTSTHARDPASSBACK" + "A" * 13
    trip_id = visit(platform, store, par=par)
    inside = tap(platform, store, par=par)
    assert inside["decision"] == "DENY" and [r["code"] for r in inside["reasons"]] == ["ALREADY_INSIDE"]
    backdate(world.database_url, trip_id, entered=timedelta(minutes=10))
    sweep(world)
    assert tap(platform, store, par=par)["decision"] == "OPEN"


def test_with_release_hours_zero_a_hold_is_released_when_its_trip_closes(platform, world):
    store = platform.store(preauthReleaseHours=0)
    trip_id = visit(platform, store)
    close(platform, trip_id, platform.as_retailer(store))
    _, released = sweep(world)
    assert released == 1
    hold = trip(platform, store, trip_id)["preauthorization"]
    assert hold["status"] == "RELEASED"
    assert [op for op, _, _ in ledger_ops(world, hold["id"])] == ["hold", "release"]
    assert trip(platform, store, trip_id)["totalAmount"] is None  # the retailer's report, if any, stands


def test_a_hold_is_kept_until_its_window_has_passed(platform, world):
    store = platform.store(preauthReleaseHours=2)
    trip_id = visit(platform, store)
    close(platform, trip_id, platform.as_retailer(store))
    backdate(world.database_url, trip_id, exited=timedelta(hours=1, minutes=59))
    sweep(world)
    assert trip(platform, store, trip_id)["preauthorization"]["status"] == "HELD"
    backdate(world.database_url, trip_id, exited=timedelta(hours=2, minutes=1))
    assert sweep(world)[1] == 1
    assert trip(platform, store, trip_id)["preauthorization"]["status"] == "RELEASED"


def test_no_hold_is_left_held_after_its_window(platform, world):
    store = platform.store(maxTripMinutes=5, preauthReleaseHours=0)
    retailer = platform.as_retailer(store)
    nobody_left = visit(platform, store)              # open, past maxTripMinutes
    declined = visit(platform, store, token="tok_capture_decline")
    assert settle(platform, store, declined, "capture", usd(9)).json()["preauthorization"]["status"] == "FAILED"
    adjusted = visit(platform, store)
    settle(platform, store, adjusted, "adjust", usd(40))
    captured = visit(platform, store)
    settle(platform, store, captured, "capture", usd(7))
    cancelled = visit(platform, store)
    settle(platform, store, cancelled, "cancel")
    backdate(world.database_url, nobody_left, entered=timedelta(minutes=6))
    for trip_id in (declined, adjusted, captured, cancelled):
        close(platform, trip_id, retailer)
    closed, released = sweep(world)
    assert (closed, released) == (1, 3)  # the timed-out, the declined and the adjusted holds
    statuses = {t: trip(platform, store, t)["preauthorization"]["status"]
                for t in (nobody_left, declined, adjusted, captured, cancelled)}
    assert statuses == {nobody_left: "RELEASED", declined: "RELEASED", adjusted: "RELEASED",
                        captured: "CAPTURED", cancelled: "RELEASED"}
    listed = platform.http.get(f"/v1/stores/{store.store_id}/trips", headers=retailer).json()["trips"]
    assert listed and all(t["preauthorization"]["status"] in ("CAPTURED", "RELEASED") for t in listed)
    # A hold released by the platform can still be cancelled: the basket was empty after all.
    assert settle(platform, store, adjusted, "cancel").json()["preauthorization"]["status"] == "RELEASED"


def test_sweeps_run_at_once_close_each_trip_and_release_each_hold_once(platform, world):
    store = platform.store(maxTripMinutes=5, preauthReleaseHours=0)
    trips = [visit(platform, store) for _ in range(12)]
    for trip_id in trips:
        backdate(world.database_url, trip_id, entered=timedelta(minutes=30))
    procs = [subprocess.Popen(sweep_command(world), env=sweep_env(world), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outputs]
    counts = [tuple(int(x) for x in SWEPT.match(out.strip()).groups()) for out, _ in outputs]
    assert sum(c for c, _ in counts) == len(trips) and sum(r for _, r in counts) == len(trips), counts
    for trip_id in trips:
        shown = trip(platform, store, trip_id)
        assert shown["closedBy"] == "TIMEOUT" and shown["preauthorization"]["status"] == "RELEASED"
        assert [op for op, _, _ in ledger_ops(world, shown["preauthorization"]["id"])] == ["hold", "release"]


def test_the_command_stops_on_a_schema_that_is_behind(world, tmp_path):
    env = {**sweep_env(world), "ENTRYGATE_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}
    run = subprocess.run(sweep_command(world), env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "entrygate db upgrade" in run.stderr and run.stdout == ""


def test_servers_sweep_by_themselves_and_two_on_one_database_close_each_trip_once(world):
    """With ENTRYGATE_SWEEP_INTERVAL_S=1, overdue trips close and their holds go within seconds, nobody asking."""
    servers = [start_server(world.database_url, env={**world.env, "ENTRYGATE_SWEEP_INTERVAL_S": "1"})
               for _ in range(2)]
    try:
        platform = Platform(servers[0][0], operator_token(world.database_url), world.database_url, servers[0][1])
        store = platform.store(maxTripMinutes=5, preauthReleaseHours=0)
        trips = [visit(platform, store) for _ in range(6)]
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            list(pool.map(lambda t: backdate(world.database_url, t, entered=timedelta(minutes=9)), trips))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(
                trip(platform, store, t)["preauthorization"]["status"] != "RELEASED" for t in trips):
            time.sleep(0.2)  # polling what the servers do on their own clocks; the deadline bounds the test
        for trip_id in trips:
            shown = trip(platform, store, trip_id)
            assert shown["closedBy"] == "TIMEOUT"
            assert [op for op, _, _ in ledger_ops(world, shown["preauthorization"]["id"])] == ["hold", "release"]
        platform.http.close()
    finally:
        for _, proc in servers:
            stop_server(proc)
