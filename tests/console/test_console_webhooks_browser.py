"""The console's webhook pages in a real headless Chromium: add an endpoint with the secret shown once,
see its delivery log, retry a delivery, delete the endpoint; each page passes the accessibility checks."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from consolekit import A11Y_PROBLEMS, tap

pytestmark = pytest.mark.browser


def test_add_an_endpoint_retry_a_delivery_and_delete_it(signed_page, shared_login, platform):
    page = signed_page
    page.goto("/console/stores")
    page.get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Webhooks")
    assert page.evaluate(A11Y_PROBLEMS) == []
    page.get_by_label("URL").fill("https://hooks.example/in")
    page.get_by_label("trip.closed").uncheck()
    page.get_by_role("button", name="Add endpoint").click()
    secret = page.get_by_label("Signing secret")
    expect(secret).to_have_value(re.compile(r"^whsec_[A-Za-z0-9+/=]{44}$"))
    assert page.evaluate(A11Y_PROBLEMS) == []

    store = platform.store(retailer=(shared_login.retailer_id, shared_login.retailer_key))
    tap(platform, store)
    page.locator("a[href^='/console/webhooks/we_']").first.click()
    rows = page.locator("#deliveries tbody tr")
    expect(rows).to_have_count(2)  # decision.created and trip.opened
    expect(rows.first).to_contain_text("trip.opened")
    assert page.evaluate(A11Y_PROBLEMS) == []
    rows.first.get_by_role("button", name="Retry").click()
    expect(page.get_by_role("status")).to_contain_text("will be sent again")

    page.goto("/console/webhooks")
    expect(page.get_by_label("Signing secret")).to_have_count(0)  # shown once
    page.get_by_role("button", name="Delete").first.click()
    expect(page.get_by_role("status")).to_contain_text("The endpoint was deleted")
