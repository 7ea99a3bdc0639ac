"""The composition root wires the payments use cases and one background sweep per process."""
from __future__ import annotations

import threading

import pytest
from pydantic import ValidationError

from entrygate.bootstrap import build
from entrygate.services.payments.closing import TripClosingService
from entrygate.services.payments.holds import HoldService
from entrygate.services.payments.sweeps import SweepReport, TripSweeper
from entrygate.services.trips.views import TripViews
from entrygate.settings import Settings

SECRET = "s" * 40


def _sweep_threads() -> int:
    return sum(t.name == "entrygate-trip-sweep" and t.is_alive() for t in threading.enumerate())


def test_the_container_holds_the_payments_use_cases_and_a_sweep_thread_until_closed(db_url):
    before = _sweep_threads()
    c = build(Settings(database_url=db_url, secret_key=SECRET))
    try:
        assert isinstance(c.holds, HoldService) and isinstance(c.trip_closing, TripClosingService)
        assert isinstance(c.sweeper, TripSweeper) and isinstance(c.trip_views, TripViews)
        assert _sweep_threads() == before + 1
        assert c.sweeper.sweep() == SweepReport()  # an empty platform: nothing to do
    finally:
        c.close()
    assert _sweep_threads() == before


def test_no_sweep_thread_when_asked_for_none_or_when_the_interval_is_zero(db_url):
    before = _sweep_threads()
    for c in (build(Settings(database_url=db_url, secret_key=SECRET), background_sweep=False),
              build(Settings(database_url=db_url, secret_key=SECRET, sweep_interval_s=0))):
        try:
            assert _sweep_threads() == before
        finally:
            c.close()


def test_the_interval_keeps_the_sixty_seconds_of_design_10():
    assert Settings(secret_key=SECRET).sweep_interval_s == 30
    with pytest.raises(ValidationError):
        Settings(secret_key=SECRET, sweep_interval_s=50)
    with pytest.raises(ValidationError):
        Settings(secret_key=SECRET, sweep_interval_s=-1)
