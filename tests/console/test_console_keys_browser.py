"""The console's keys pages in Chromium: rotate a gate's key and create an API key, each shown once with
a working copy button, the pages readable by a screen reader and free of CSP violations."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from consolekit import A11Y_PROBLEMS, sign_in

pytestmark = __import__("pytest").mark.browser


def test_a_gate_key_is_rotated_and_an_api_key_created_in_the_browser(page, login, platform):
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    store = platform.store(retailer=(login.retailer_id, login.retailer_key))
    sign_in(page, login)
    page.goto(f"/console/stores/{store.store_id}")
    page.get_by_role("link", name="Keys of gate lane-1").click()
    expect(page.get_by_role("heading", name="Keys of gate lane-1")).to_be_visible()
    assert page.evaluate(A11Y_PROBLEMS) == []
    page.get_by_label("The current keys keep working for").select_option("3600")
    page.get_by_role("button", name="Rotate: give the gate a new key").click()
    shown = page.locator("#new-gate-key")
    expect(shown).to_have_text(re.compile(r"^eggk_[0-9a-f]{16}_"))
    expect(page.get_by_text("Replaced", exact=True)).to_be_visible()
    assert page.evaluate(A11Y_PROBLEMS) == []

    page.get_by_role("link", name="API keys").click()
    expect(page.get_by_role("heading", name="API keys", level=1)).to_be_visible()
    page.get_by_label("Name of a new key").fill("kiosk")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("#new-api-key")).to_have_text(re.compile(r"^egrk_[0-9a-f]{16}_"))
    expect(page.get_by_role("row", name=re.compile("kiosk"))).to_contain_text("Active")
    assert page.evaluate(A11Y_PROBLEMS) == []
    page.get_by_role("button", name="Revoke key initial key").click()
    expect(page.get_by_role("row", name=re.compile("initial key"))).to_contain_text("Revoked")
    page.get_by_role("button", name="Revoke key kiosk").click()
    expect(page.get_by_role("alert")).to_contain_text("last active key")
    assert violations == []
