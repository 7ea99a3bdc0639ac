"""A trip's pre-authorization in a real headless Chromium, against the real server, on SQLite and PostgreSQL."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from consolekit import A11Y_PROBLEMS, tap, trip_path
from support.server import card, entry, new_par

pytestmark = pytest.mark.browser


def _mine(platform, login, **config):  # noqa: ANN001, ANN202
    return platform.store(retailer=(login.retailer_id, login.retailer_key), **config)


def test_capture_a_tapped_trip_then_close_it(signed_page, shared_login, platform):
    page = signed_page
    store = _mine(platform, shared_login)
    trip_id = tap(platform, store)
    page.goto(f"/console/stores/{store.store_id}/trips")
    page.get_by_role("link", name=trip_id).click()
    expect(page.locator("#hold-status")).to_have_text("HELD")
    expect(page.locator("#hold-held")).to_have_text("25.00 USD")
    expect(page.get_by_label("Amount to capture (USD)")).to_have_value("25.00")
    # A second tab, opened before the capture, still offers one.
    stale = page.context.new_page()
    stale.goto(trip_path(store, trip_id))

    page.get_by_label("Amount to capture (USD)").fill("18.40")
    page.get_by_role("button", name="Capture").click()
    expect(page.get_by_role("status")).to_have_text("Captured 18.40 USD.")
    expect(page.locator("#hold-status")).to_have_text("CAPTURED")
    expect(page.locator("#hold-captured")).to_have_text("18.40 USD")
    line = page.locator("#hold-history tbody tr")
    expect(line).to_have_count(1)
    expect(line.first).to_contain_text("Capture")
    expect(line.first).to_contain_text("18.40 USD")
    expect(line.first).to_contain_text("CAPTURED")
    expect(page.locator("#trip-settled")).to_have_text("18.40 USD")
    expect(page.get_by_role("button", name="Capture")).to_have_count(0)  # nothing left to capture

    # The stale tab's capture is refused in words, and nothing more is taken.
    stale.get_by_role("button", name="Capture").click()
    expect(stale.get_by_role("alert")).to_contain_text("The pre-authorization was already captured")
    expect(stale.locator("#hold-captured")).to_have_text("18.40 USD")
    expect(stale.locator("#hold-history tbody tr")).to_have_count(1)

    page.get_by_role("button", name="Close trip").click()
    expect(page.get_by_role("status")).to_have_text("The trip is closed.")
    expect(page.locator("#trip-status")).to_have_text("CLOSED")
    expect(page.locator("#trip-closed-by")).to_contain_text("RETAILER")
    expect(page.get_by_role("button", name="Close trip")).to_have_count(0)
    view = platform.http.get(f"/v1/trips/{trip_id}", headers=platform.as_retailer(store)).json()
    assert view["closedBy"] == "RETAILER" and view["settledAmount"]["value"] == 18.4


def test_release_another_trip(signed_page, shared_login, platform):
    page = signed_page
    store = _mine(platform, shared_login)
    captured, released = tap(platform, store), tap(platform, store)
    page.goto(trip_path(store, released))
    page.get_by_role("button", name="Release hold").click()
    expect(page.get_by_role("status")).to_contain_text("The hold is released")
    expect(page.locator("#hold-status")).to_have_text("RELEASED")
    expect(page.locator("#hold-history tbody tr").first).to_contain_text("Release (by the retailer)")
    expect(page.locator("#trip-total")).to_have_text("0.00 USD")
    expect(page.get_by_role("button", name="Release hold")).to_have_count(0)
    # The other trip's hold is untouched, and the list tells them apart.
    page.goto(f"/console/stores/{store.store_id}/trips")
    expect(page.get_by_role("row", name=re.compile(released))).to_contain_text("RELEASED")
    expect(page.get_by_role("row", name=re.compile(captured))).to_contain_text("HELD")


def test_a_refused_amount_is_explained_next_to_the_field(signed_page, shared_login, platform):
    page = signed_page
    store = _mine(platform, shared_login)
    trip_id = tap(platform, store)
    page.goto(trip_path(store, trip_id))
    page.get_by_label("Amount to capture (USD)").fill("12.345")
    page.get_by_role("button", name="Capture").click()
    expect(page.get_by_role("alert")).to_have_text("The amount has more decimals than USD has (2).")
    amount = page.get_by_label("Amount to capture (USD)")
    expect(amount).to_have_value("12.345")
    expect(amount).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#hold-status")).to_have_text("HELD")


def test_a_soft_passback_violation_is_marked(signed_page, shared_login, platform):
    page = signed_page
    store = _mine(platform, shared_login, antiPassback="SOFT")
    par = new_par()
    first = platform.enter(store, entry(card(par=par))).json()["shoppingTripId"]
    again = platform.enter(store, entry(card(par=par))).json()["shoppingTripId"]
    page.goto(trip_path(store, again))
    expect(page.locator("#passback-violation")).to_have_text("Passback violation")
    page.goto(trip_path(store, first))
    expect(page.locator("#passback-violation")).to_have_count(0)


def test_trip_pages_have_landmarks_labels_and_names(signed_page, shared_login, platform):
    page = signed_page
    store = _mine(platform, shared_login)
    held, captured = tap(platform, store), tap(platform, store)
    page.goto(trip_path(store, captured))
    page.get_by_role("button", name="Capture").click()
    expect(page.locator("#hold-status")).to_have_text("CAPTURED")
    for trip_id in (held, captured):
        page.goto(trip_path(store, trip_id))
        assert page.evaluate(A11Y_PROBLEMS) == [], trip_id
