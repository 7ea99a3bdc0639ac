"""Investigating a decision in a real headless Chromium, against the real server, on SQLite and PostgreSQL:
the decision's page, the search, the CSV downloads and the live page's lines and silent gates."""
from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from investigation import mine, past_decision
from playwright.sync_api import expect

from consolekit import A11Y_PROBLEMS
from entrygate.console.exports import DECISION_COLUMNS, TRIP_COLUMNS
from support.server import card, entry, new_par

pytestmark = pytest.mark.browser


def test_a_decisions_page_shows_what_the_gate_sent_the_answer_and_every_call(signed_page, shared_login, platform):
    page = signed_page
    # The retailer's connector is down: the store falls back to ALLOW, and the processor holds the money.
    store = mine(platform, shared_login, riskStrategy="RETAILER_MANAGED", fallbackDecision="ALLOW",
                 timezone="America/New_York",
                 connectors={"shopperAuthorization": {"url": "http://127.0.0.1:9/entry", "timeoutMs": 300}})
    par = new_par()
    r = platform.enter(store, entry(card(par=par, last4="1896")))
    assert r.json()["decision"] == "OPEN" and r.json()["decidedBy"] == "FALLBACK", r.text
    page.goto(f"/console/stores/{store.store_id}/live")
    page.locator("#live-rows tr").first.get_by_title("Decision details").click()
    expect(page).to_have_url(re.compile(r"/decisions/\d+$"))
    expect(page.locator("#decision-visitor")).to_contain_text("Visa •••• 1896")
    expect(page.locator("#decision-decided-by")).to_have_text("FALLBACK")
    expect(page.locator("#decision-time")).to_contain_text(re.compile(r"E[SD]T"))  # the store's clock
    expect(page.locator("#store-clock")).to_contain_text("America/New_York")
    sent = page.locator("#gate-request-fields")
    expect(sent).to_contain_text("1896")
    expect(sent).to_contain_text("credential.brand")
    html = page.content()
    assert "tok_visa_approve" not in html and par not in html  # no token, no PAR
    calls = page.locator("#connector-calls tbody tr")
    expect(calls).to_have_count(2)
    expect(calls.nth(0)).to_contain_text("shopperAuthorization")
    expect(calls.nth(0)).to_contain_text("connect_error")
    expect(calls.nth(1)).to_contain_text("processor")
    expect(calls.nth(1)).to_contain_text("OK")
    expect(page.locator("#answer-json")).to_contain_text('"decidedBy": "FALLBACK"')
    expect(page.locator("#answer-json")).to_contain_text("FALLBACK_APPLIED")
    expect(page.locator("#risk-explanation")).to_have_count(1)  # the place the model's explanation goes
    assert page.evaluate(A11Y_PROBLEMS) == []


def test_search_by_last4_visitor_trip_reason_and_dates_then_download(signed_page, shared_login, platform):
    page = signed_page
    store = mine(platform, shared_login)
    opened = platform.enter(store, entry(card(par=new_par(), last4="5678"))).json()
    declined = platform.enter(store, entry(card("tok_decline_insufficient_funds", par=new_par(), last4="0005"))).json()
    page.goto(f"/console/stores/{store.store_id}/decisions")
    results = page.locator("#decision-results tbody tr")
    expect(results).to_have_count(2)
    page.get_by_label("Last 4").fill("5678")
    page.get_by_role("button", name="Search").click()
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("Visa •••• 5678")
    page.get_by_label("Last 4").fill("")
    page.get_by_label("Reason", exact=True).select_option("PREAUTH_DECLINED")
    page.get_by_role("button", name="Search").click()
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("Visa •••• 0005")
    expect(results.first.locator(".chip code")).to_have_text("PREAUTH_DECLINED")
    page.get_by_label("Reason", exact=True).select_option("")
    page.get_by_label("Visitor id").fill(declined["visitor"]["id"])
    page.get_by_role("button", name="Search").click()
    expect(results).to_have_count(1)
    page.get_by_label("Visitor id").fill("")
    page.get_by_label("Trip id").fill(opened["shoppingTripId"])
    page.get_by_role("button", name="Search").click()
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text(opened["shoppingTripId"])
    # A day range in the store's time zone (UTC here): today has both, a day long past has none.
    page.get_by_label("Trip id").fill("")
    today = datetime.now(UTC).date().isoformat()
    page.get_by_label("From (UTC)").fill(today)
    page.get_by_label("To (UTC)").fill(today)
    page.get_by_role("button", name="Search").click()
    expect(results).to_have_count(2)

    with page.expect_download() as got:
        page.locator("#download-decisions").click()
    rows = list(csv.reader(io.StringIO(got.value.path().read_text(encoding="utf-8"))))
    assert tuple(rows[0]) == DECISION_COLUMNS
    assert {r[DECISION_COLUMNS.index("card_last4")] for r in rows[1:]} == {"5678", "0005"}
    assert got.value.suggested_filename == f"decisions-{store.store_id}.csv"
    with page.expect_download() as got:
        page.locator("#download-trips").click()
    trips = list(csv.reader(io.StringIO(got.value.path().read_text(encoding="utf-8"))))
    assert tuple(trips[0]) == TRIP_COLUMNS
    assert [r[0] for r in trips[1:]] == [opened["shoppingTripId"]]

    page.get_by_label("From (UTC)").fill("1999-01-01")
    page.get_by_label("To (UTC)").fill("1999-01-02")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#no-decisions")).to_be_visible()
    page.goto(f"/console/stores/{store.store_id}/decisions?last4=12")
    expect(page.locator("#err-last4")).to_contain_text("four digits")


def test_the_live_page_shows_one_line_per_decision_and_a_gate_gone_silent(signed_page, shared_login, platform):
    page = signed_page
    store = mine(platform, shared_login, gates=("lane-1", "lane-2", "lane-3"))
    past_decision(platform, store, gate="lane-2", minutes_ago=25)  # sent a while ago, nothing since: silent
    platform.enter(store, entry(card("tok_decline_insufficient_funds", par=new_par(), last4="4444")))
    page.goto(f"/console/stores/{store.store_id}/live")
    expect(page.locator('#gate-status-list [data-gate="lane-2"]')).to_have_attribute("data-state", "silent")
    expect(page.locator('#gate-status-list [data-gate="lane-1"]')).to_have_attribute("data-state", "sending")
    expect(page.locator('#gate-status-list [data-gate="lane-3"]')).to_have_attribute("data-state", "idle")
    first = page.locator("#live-rows tr").first
    expect(first.locator(".chip code")).to_have_text(["PREAUTH_DECLINED"])
    expect(first).to_contain_text("Visa •••• 4444")
    # One line per decision: the row is no taller than a single line of its cells.
    height = first.evaluate("tr => tr.getBoundingClientRect().height")
    line = first.locator("td").first.evaluate("td => parseFloat(getComputedStyle(td).lineHeight)")
    assert height < line * 2.2, (height, line)
    # A new decision arrives; the status says when, on the store's clock, never the browser's.
    platform.enter(store, entry(card(par=new_par(), last4="7777")))
    expect(page.locator("#live-rows tr").first).to_contain_text("Visa •••• 7777", timeout=8000)
    expect(page.locator("#live-status")).to_contain_text(re.compile(r"Live: updated \d\d:\d\d:\d\d UTC \(store time, UTC\)"))
    assert page.evaluate(A11Y_PROBLEMS) == []
