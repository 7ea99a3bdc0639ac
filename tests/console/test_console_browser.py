"""The console in a real headless Chromium, against the real server, on SQLite and PostgreSQL."""
from __future__ import annotations

import re
import uuid

import httpx
import pytest
from playwright.sync_api import expect

from consolekit import A11Y_PROBLEMS, sign_in
from support.server import card, entry, new_par

pytestmark = pytest.mark.browser


def _store_id() -> str:
    return "store-" + uuid.uuid4().hex[:8]


def _create_store(page, store_id: str, name: str = "Corner Shop") -> None:  # noqa: ANN001
    page.get_by_role("link", name="New store").click()
    page.get_by_label("Store id").fill(store_id)
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Time zone").fill("Europe/Berlin")
    page.get_by_label("Currency").fill("EUR")
    page.get_by_label("Authorized amount").fill("30.00")
    page.get_by_role("button", name="Create store").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)


def _save(page) -> None:  # noqa: ANN001
    page.locator(".actions").get_by_role("button", name="Save").click()


def test_sign_in_and_sign_out(page, login):
    page.goto("/console")
    expect(page).to_have_url(re.compile(r"/console/sign-in"))
    sign_in(page, login)
    expect(page.get_by_role("heading", name="Stores")).to_be_visible()
    expect(page.get_by_text(login.email)).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.goto("/console/stores")
    expect(page).to_have_url(re.compile(r"/console/sign-in\?next="))


def test_wrong_password_gets_a_plain_message(page, login):
    page.goto("/console/sign-in")
    page.get_by_label("Email").fill(login.email)
    page.get_by_label("Password").fill("not my password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    expect(page.get_by_label("Email")).to_have_value(login.email)
    expect(page.get_by_label("Password")).to_have_value("")


def test_create_a_store_and_configure_every_entry_method_and_strategy(signed_page, shared_login, platform):
    page, login = signed_page, shared_login
    store_id = _store_id()
    page.goto("/console/stores")
    _create_store(page, store_id)
    page.get_by_role("link", name="Setup", exact=True).click()

    # QR and badge entry need an identity connector: the error appears next to its address.
    for method in ("Credit card (CREDIT_CARD)", "Palm (PALM)", "QR code (QR_CODE)", "Badge (BADGE)"):
        page.get_by_label(method, exact=True).check()
    _save(page)
    expect(page.locator("#err-connectors-identity-url")).to_contain_text("required when QR_CODE or BADGE")
    expect(page.locator("#f-connectors-identity-url")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert").first).to_contain_text("Please correct the following")
    page.locator("#f-connectors-identity-url").fill("http://127.0.0.1:9/entry")
    _save(page)
    # The connector's signing secret is made now and shown once.
    expect(page.locator(".key-once")).to_contain_text("whsec_")
    page.goto(f"/console/stores/{store_id}/setup")
    expect(page.locator(".key-once")).to_have_count(0)
    assert "whsec_" not in page.content()

    api = platform.http.get(f"/v1/admin/stores/{store_id}", headers=login.api).json()
    assert api["entryMethods"] == ["BADGE", "CREDIT_CARD", "PALM", "QR_CODE"]
    assert api["connectors"]["identity"] == {"url": "http://127.0.0.1:9/entry", "secretSet": True, "timeoutMs": 800}

    strategies = [("Platform managed", "PLATFORM_MANAGED"), ("Platform recommendation", "PLATFORM_RECOMMENDATION"),
                  ("Retailer managed", "RETAILER_MANAGED"), ("Baseline only", "NONE")]
    for label, value in strategies:  # each save lands back on the setup page; labels carry the API's name
        page.get_by_label(f"{label} ({value})", exact=True).check()
        if value == "PLATFORM_RECOMMENDATION":
            page.locator("#f-connectors-shopperAuthorization-url").fill("http://127.0.0.1:9/entry")
            page.get_by_label("Use the recommendation").check()
        _save(page)
        if value == "RETAILER_MANAGED":
            # No recommendation to fall back on under this strategy: the fallback field says so.
            expect(page.locator("#err-fallbackDecision")).to_contain_text("USE_RECOMMENDATION")
            page.get_by_label("Deny (DENY)", exact=True).check()
            _save(page)
        expect(page.get_by_role("status").first).to_contain_text("Saved")
        assert platform.http.get(f"/v1/admin/stores/{store_id}", headers=login.api).json()["riskStrategy"] == value

    page.get_by_label("Risk tolerance").select_option("HIGH")
    page.get_by_label("Largest party on one credential").fill("6")
    page.get_by_label("Hard (HARD)", exact=True).check()
    page.get_by_label("CSN", exact=True).check()
    page.get_by_label("QR pattern").fill(r"^SHOP-[0-9]{6}$")
    _save(page)
    expect(page.get_by_role("status").first).to_contain_text("Saved")
    api = platform.http.get(f"/v1/admin/stores/{store_id}", headers=login.api).json()
    assert (api["riskTolerance"], api["maxPartySize"], api["antiPassback"]) == ("HIGH", 6, "HARD")
    assert set(api["badgeFormats"]) == {"H10301", "CSN"} and api["qrPattern"] == r"^SHOP-[0-9]{6}$"

    # The QR tester answers as you type, with the server's own regex semantics (once the page's script
    # has run: until then the field is a plain form field, tested by its button).
    page.wait_for_load_state("load")
    tester = page.get_by_label("Test a scanned value")
    tester.fill("SHOP-123456")
    expect(page.locator("#qr-result")).to_contain_text("Match.")
    tester.fill("SHOP-12")
    expect(page.locator("#qr-result")).to_contain_text("No match.")
    page.get_by_label("QR pattern").fill("^SHOP-[")
    expect(page.locator("#qr-result")).to_contain_text("not a valid regular expression")


def test_add_a_gate_see_its_key_once_and_disable_it(signed_page, shared_login, platform):
    page, login = signed_page, shared_login
    store = platform.store(retailer=(login.retailer_id, login.retailer_key), gates=())
    page.goto(f"/console/stores/{store.store_id}")
    page.get_by_label("New gate id").fill("lane-7")
    page.get_by_role("button", name="Add gate").click()
    key = page.locator("#gate-key").inner_text()
    assert key.startswith("eggk_")
    # The key works at the gate API, once copied into a gate.
    r = httpx.post(f"{platform.url}/v1/gates/lane-7/entries", json=entry(card(par=new_par())),
                   headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200 and r.json()["decision"] == "OPEN"
    page.goto(f"/console/stores/{store.store_id}")  # coming back: the key is gone for good
    expect(page.locator("#gate-key")).to_have_count(0)
    assert key not in page.content()

    page.get_by_role("button", name="Disable gate lane-7").click()
    row = page.get_by_role("row", name=re.compile("lane-7"))
    expect(row).to_contain_text("Disabled")
    r = httpx.post(f"{platform.url}/v1/gates/lane-7/entries", json=entry(card(par=new_par())),
                   headers={"Authorization": f"Bearer {key}"})
    assert [x["code"] for x in r.json()["reasons"]] == ["GATE_DISABLED"]
    page.get_by_role("button", name="Enable gate lane-7").click()
    expect(page.get_by_role("row", name=re.compile("lane-7"))).to_contain_text("Enabled")


def test_a_simulated_entry_appears_live_with_its_reasons(signed_page, shared_login, platform):
    page, login = signed_page, shared_login
    store = platform.store(retailer=(login.retailer_id, login.retailer_key))
    page.goto(f"/console/stores/{store.store_id}/live")
    expect(page.locator("#live-status")).to_contain_text("Live", timeout=5000)

    other = page.context.new_page()
    other.goto(f"/console/stores/{store.store_id}")
    other.get_by_label("Test card").select_option(label="Visa 9995 — insufficient funds")
    other.get_by_role("button", name="Run simulated entry").click()
    banner = other.locator(".simulated")
    expect(banner).to_contain_text("DENY")
    expect(banner).to_contain_text("The card issuer declined the pre-authorization.")

    # The live view that was already open picks it up by itself.
    newest = page.locator("#live-rows tr").first
    expect(newest).to_contain_text("PREAUTH_DECLINED", timeout=8000)
    expect(newest).to_contain_text("The card issuer declined the pre-authorization.")

    # An approved card opens a trip, whose page shows the entry, no exit yet, and no payment report.
    other.goto(f"/console/stores/{store.store_id}")
    other.get_by_label("Test card").select_option(label="Visa 4242 — approves")
    other.get_by_role("button", name="Run simulated entry").click()
    expect(other.locator(".simulated")).to_contain_text("OPEN")
    other.locator(".simulated").get_by_role("link", name="a trip").click()
    expect(other.get_by_role("heading", name=re.compile("Trip trip_"))).to_be_visible()
    expect(other.get_by_text("still inside")).to_be_visible()
    expect(other.get_by_text("Not reported by the retailer yet")).to_be_visible()

    # Filters: only denials, only this gate.
    page.goto(f"/console/stores/{store.store_id}/live?decision=DENY&gate=lane-1")
    expect(page.locator("#live-rows tr")).to_have_count(1)
    expect(page.locator("#live-rows tr").first).to_contain_text("DENY")


def test_connectivity_test_shows_each_check(signed_page, shared_login, platform):
    page, login = signed_page, shared_login
    store = platform.store(retailer=(login.retailer_id, login.retailer_key), entryMethods=["CREDIT_CARD", "QR_CODE"],
                           connectors={"identity": {"url": "http://127.0.0.1:9/entry", "timeoutMs": 300}})
    page.goto(f"/console/stores/{store.store_id}/setup")
    page.locator("#connector-identity").get_by_role("button", name="Run connectivity test").click()
    results = page.locator("#connectivity-identity")
    expect(results.locator("table, .test-result")).to_be_visible(timeout=15000)
    if "not available" not in results.inner_text():
        expect(results.locator("caption")).to_contain_text("checks passed")
        expect(results.locator("tbody tr").first).to_contain_text("Fail")  # nothing listens on port 9


def test_a_form_without_the_right_csrf_token_is_refused(signed_page, shared_login, platform):
    page, login = signed_page, shared_login
    store = platform.store(retailer=(login.retailer_id, login.retailer_key))
    page.goto(f"/console/stores/{store.store_id}")
    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(i => i.value = 'forged')")
    page.get_by_label("New gate id").fill("lane-forged")
    with page.expect_response(lambda r: r.url.endswith("/gates")) as answer:
        page.get_by_role("button", name="Add gate").click()
    assert answer.value.status == 403
    expect(page.get_by_role("heading", name="Form refused")).to_be_visible()
    gates = platform.http.get(f"/v1/admin/stores/{store.store_id}/gates", headers=login.api).json()["gates"]
    assert "lane-forged" not in [g["gateId"] for g in gates]


def test_another_retailers_store_is_not_visible(signed_page, shared_login, platform):
    page, login = signed_page, shared_login
    theirs = platform.store(retailer=platform.retailer("Someone Else"))
    mine = platform.store(retailer=(login.retailer_id, login.retailer_key))
    page.goto("/console/stores")
    expect(page.get_by_text(mine.store_id)).to_be_visible()
    expect(page.get_by_text(theirs.store_id)).to_have_count(0)
    page.goto(f"/console/stores/{theirs.store_id}/dashboard")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()


def test_pages_have_landmarks_labels_and_names(signed_page, shared_login, platform):
    page = signed_page
    store = platform.store(retailer=(shared_login.retailer_id, shared_login.retailer_key), exit_gates=("exit-1",))
    base = f"/console/stores/{store.store_id}"
    for path in ("/console/stores", "/console/new-store", base, base + "/setup", base + "/live", base + "/trips",
                 base + "/balances", base + "/dashboard"):
        page.goto(path)
        assert page.evaluate(A11Y_PROBLEMS) == [], path
