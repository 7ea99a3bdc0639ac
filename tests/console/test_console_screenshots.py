"""Screenshots of the console's main pages for the docs (``docs/img/console-*.png``).

The pages are real: a retailer with two stores, gates, a morning's worth of simulated card taps,
exits and payment reports, all sent through the public API. Taken once, on SQLite.
"""
from __future__ import annotations

import random
import time

import pytest
from playwright.sync_api import expect

from consolekit import DOCS_IMG, new_login, sign_in
from entrygate.simulation.gate import SimulatedGate
from entrygate.simulation.population import CardLane

pytestmark = pytest.mark.browser


def _world(platform):  # noqa: ANN001, ANN202
    login = new_login(platform, name="Demo Market")
    retailer = (login.retailer_id, login.retailer_key)
    platform.store(retailer=retailer, storeId="airport-t2", name="Airport T2", gates=("lane-1",),
                   entryMethods=["CREDIT_CARD", "PALM"], timezone="America/New_York")
    downtown = platform.store(retailer=retailer, storeId="downtown", name="Downtown", gates=("lane-1", "lane-2"),
                              exit_gates=("exit-1",), timezone="America/New_York", antiPassback="SOFT",
                              riskStrategy="PLATFORM_MANAGED",
                              entryMethods=["CREDIT_CARD", "QR_CODE", "BADGE"], badgeFormats=["H10301", "CSN"],
                              connectors={"identity": {"url": "http://127.0.0.1:9/entry", "timeoutMs": 500}})
    rng = random.Random(11)
    lane = CardLane(rng, good=25)
    gates = [SimulatedGate(platform.url, g, downtown.gates[g]) for g in ("lane-1", "lane-2")]
    exit_gate = SimulatedGate(platform.url, "exit-1", downtown.gates["exit-1"])
    trips = []
    for i in range(45):
        shopper = lane.next()
        answer = gates[i % 2].enter(shopper.channel, shopper.credential, party_size=shopper.party_size)
        if answer.get("shoppingTripId"):
            trips.append(answer["shoppingTripId"])
    for n, trip in enumerate(trips[:12]):
        exit_gate.exit(trip)
        total = round(rng.uniform(4, 60), 2)
        settled = total if n % 4 else 0.0  # every fourth basket is still unpaid
        r = platform.http.post("/v1/feedback/payment-status", headers=login.api, json={
            "storeId": "downtown", "shoppingTripId": trip, "totalAmount": {"amount": total, "code": "USD"},
            "settledAmount": {"amount": settled, "code": "USD"}, "paymentStatusTime": int(time.time() * 1000)})
        assert r.status_code == 200, r.text
    for i in range(25):  # later taps: some of them by shoppers who still owe
        shopper = lane.next()
        gates[i % 2].enter(shopper.channel, shopper.credential, party_size=shopper.party_size)
    return login, trips


def test_screenshots_of_the_main_pages(page, platform, backend):
    if backend != "sqlite":
        pytest.skip("screenshots are taken once, on SQLite")
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    login, trips = _world(platform)

    def shot(name: str, *, full: bool = False) -> None:
        page.screenshot(path=str(DOCS_IMG / f"console-{name}.png"), full_page=full, animations="disabled")

    page.goto("/console/sign-in")
    shot("sign-in")
    sign_in(page, login)
    shot("stores")

    page.goto("/console/stores/downtown")
    page.get_by_label("New gate id").fill("lane-3")
    page.get_by_role("button", name="Add gate").click()
    expect(page.locator("#gate-key")).to_be_visible()
    shot("store", full=True)

    page.goto("/console/stores/downtown/setup")
    shot("setup")
    page.get_by_label("Test a scanned value").fill("EG1.shopper-42.88123456.Xq3Lw9Vt2PZ0aYbCdEfGhI")
    expect(page.locator("#qr-result")).to_contain_text("Match.")
    page.locator("#f-qrPattern").evaluate("e => e.closest('fieldset').scrollIntoView()")
    shot("setup-qr")

    page.goto("/console/stores/downtown")
    page.get_by_label("Test card").select_option(label="Visa 9995 — insufficient funds")
    page.get_by_role("button", name="Run simulated entry").click()
    expect(page.locator(".simulated")).to_contain_text("DENY")
    shot("live")

    page.goto(f"/console/stores/downtown/trips/{trips[3]}")
    shot("trip")
    page.goto("/console/stores/downtown/balances")
    shot("balances")
    page.goto("/console/stores/downtown/dashboard?window=15")
    shot("dashboard", full=True)
