"""The rule editor's test box, the review queue's buttons and the lists page in a real headless Chromium
(no inline script: the console's CSP has no 'unsafe-inline'), on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from consolekit import A11Y_PROBLEMS
from support.server import card, entry, new_par

pytestmark = pytest.mark.browser


def test_write_a_rule_test_it_save_it_and_give_a_verdict(signed_page, shared_login, platform):
    page = signed_page
    store = platform.store(retailer=(shared_login.retailer_id, shared_login.retailer_key))
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"/console/stores/{store.store_id}/rules")
    assert page.evaluate(A11Y_PROBLEMS) == []
    page.get_by_label("Name of rule 1").fill("look at groups")
    page.get_by_label("Condition of rule 1").fill("partySize >= 2")
    page.get_by_label("Action of rule 1").select_option("REVIEW")
    facts = page.get_by_label("Facts (JSON)")
    facts.fill(facts.input_value().replace('"partySize": 1', '"partySize": 3'))
    page.get_by_role("button", name="Test").click()
    expect(page.locator("#test-result")).to_contain_text("Outcome: REVIEW, by rule “look at groups”")
    page.get_by_role("button", name="Save rules").click()
    expect(page.get_by_role("status")).to_have_text("Rules saved.")
    expect(page.get_by_label("Name of rule 1")).to_have_value("look at groups")

    assert platform.enter(store, entry(card(par=new_par()), party_size=2)).json()["decision"] == "OPEN"
    page.get_by_role("link", name="Reviews").click()
    page.wait_for_url("**/reviews")
    assert page.evaluate(A11Y_PROBLEMS) == []
    page.get_by_role("button", name="Bad debt").click()
    expect(page.get_by_role("status")).to_have_text("Verdict recorded.")
    expect(page.locator("tbody tr").first).to_contain_text("Bad debt")
    expect(page.get_by_role("button", name="Bad debt")).to_have_count(0)

    page.get_by_role("link", name="Allow and block lists").click()
    page.wait_for_url("**/console/lists")
    assert page.evaluate(A11Y_PROBLEMS) == []
    page.get_by_label("List", exact=True).select_option("allow")
    page.get_by_label("Type", exact=True).select_option("VISITOR")
    page.get_by_label("Value", exact=True).fill("member-42")
    page.get_by_label("Note").fill("our regular")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("status")).to_have_text("Item added.")
    row = page.locator("tr", has_text="member-42")
    expect(row).to_contain_text("our regular")
    row.get_by_role("button", name="Remove").click()
    expect(page.get_by_role("status")).to_have_text("Item removed.")
    expect(page.locator("tr", has_text="member-42")).to_have_count(0)
    assert blocked == []
