"""The console's main pages under its Content-Security-Policy, in a real Chromium: no violation is
reported on any of them, and the pages' scripts still do their work (the QR tester, the live view)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from consolekit import tap

pytestmark = pytest.mark.browser

# Runs before any page script (Playwright injects it; the page's CSP does not apply to it).
COLLECT_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sourceFile || ""));
});
"""


def test_the_main_pages_work_under_the_csp_without_a_violation(signed_page, shared_login, platform):
    page = signed_page
    page.add_init_script(COLLECT_VIOLATIONS)
    logged: list[str] = []
    page.on("console", lambda msg: logged.append(msg.text))
    page.on("pageerror", lambda exc: logged.append(f"page error: {exc}"))
    store = platform.store(retailer=(shared_login.retailer_id, shared_login.retailer_key), entryMethods=["CREDIT_CARD"])
    trip_id = tap(platform, store)
    base = f"/console/stores/{store.store_id}"
    seen: dict[str, list[str]] = {}

    def visit(path: str) -> None:
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        assert "'unsafe-inline'" not in response.headers["content-security-policy"].split("script-src")[1].split(";")[0]
        page.wait_for_load_state("networkidle")
        seen[path] = page.evaluate("window.__csp")

    for path in ("/console/stores", "/console/new-store", base, f"{base}/setup", f"{base}/dashboard",
                 f"{base}/trips", f"{base}/trips/{trip_id}", f"{base}/balances", "/console/audit", "/console/users",
                 "/console/account"):
        visit(path)

    # The scripts run: the QR tester answers as one types (a fetch from console.js) ...
    visit(f"{base}/setup")
    page.get_by_label("QR pattern").fill("^EG1")
    page.get_by_label("Test a scanned value").fill("EG1.abc")
    expect(page.locator("#qr-result")).to_contain_text("Match.")
    seen["setup, QR tester"] = page.evaluate("window.__csp")
    # ... and the live view polls for new decisions.
    visit(f"{base}/live")
    expect(page.locator("#live-status")).to_contain_text("Live: updated", timeout=8000)
    seen["live, polled"] = page.evaluate("window.__csp")

    assert {path: found for path, found in seen.items() if found} == {}
    assert [line for line in logged if "Content Security Policy" in line or "page error" in line] == []

    # The watch itself works: an inline script added now is refused and reported.
    page.evaluate("() => { const s = document.createElement('script'); s.textContent = 'window.ran = 1';"
                  " document.body.appendChild(s); }")
    page.wait_for_function("window.__csp.length > 0")
    assert page.evaluate("window.ran") is None
    assert any(line.startswith("script-src") for line in page.evaluate("window.__csp"))
