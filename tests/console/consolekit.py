"""Helpers for the console tests: console logins, a plain HTTP console client, browser sign-in, trip pages."""
from __future__ import annotations

import html
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from support.server import Platform, StoreHandle, card, entry, new_par

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "correct-horse-battery"
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
# What a page must have for a screen reader (run in the page): the problems found, none when it is fine.
A11Y_PROBLEMS = """() => {
  const problems = [];
  if (!document.documentElement.lang) problems.push("no lang on <html>");
  if (document.querySelectorAll("main").length !== 1) problems.push("not exactly one <main>");
  if (document.querySelectorAll("h1").length !== 1) problems.push("not exactly one <h1>");
  for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
    if (el.closest("[aria-hidden=true]")) continue;
    if (!(el.labels && el.labels.length) && !el.getAttribute("aria-label"))
      problems.push("unlabelled " + (el.name || el.id));
  }
  for (const b of document.querySelectorAll("button")) {
    if (!b.textContent.trim() && !b.getAttribute("aria-label")) problems.push("button without a name");
  }
  for (const svg of document.querySelectorAll("svg[role=img]")) {
    const ids = (svg.getAttribute("aria-labelledby") || "").split(" ").filter(Boolean);
    if (!ids.length || ids.some((id) => !document.getElementById(id))) problems.push("chart without a name");
  }
  const ids = [...document.querySelectorAll("[id]")].map((e) => e.id);
  const dupes = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (dupes.length) problems.push("duplicate ids " + dupes.join(","));
  return problems;
}"""


@dataclass
class ConsoleLogin:
    email: str
    password: str
    retailer_id: str
    retailer_key: str

    @property
    def api(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.retailer_key}"}


def new_login(platform: Platform, *, name: str = "Console Retailer") -> ConsoleLogin:
    retailer_id, key = platform.retailer(name)
    email = f"user-{uuid.uuid4().hex[:10]}@example.com"
    r = platform.http.post(f"/v1/admin/retailers/{retailer_id}/users", json={"email": email, "password": PASSWORD},
                           headers=platform.op)
    assert r.status_code == 201, r.text
    return ConsoleLogin(email, PASSWORD, retailer_id, key)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


class ConsoleClient:
    """A plain HTTP client that signs in like a browser does."""

    def __init__(self, platform: Platform) -> None:
        self.http = httpx.Client(base_url=platform.url, follow_redirects=False, timeout=30.0)

    def sign_in(self, email: str, password: str, *, next_path: str = "/console/stores") -> httpx.Response:
        page = self.http.get("/console/sign-in")
        return self.http.post("/console/sign-in", data={"csrf_token": csrf_of(page.text), "email": email,
                                                        "password": password, "next": next_path})

    def csrf(self, path: str = "/console/stores") -> str:
        r = self.http.get(path)
        assert r.status_code == 200, r.text
        return csrf_of(r.text)

    def close(self) -> None:
        self.http.close()


def sign_in(page, login: ConsoleLogin) -> None:  # noqa: ANN001
    page.goto("/console/sign-in")
    page.get_by_label("Email").fill(login.email)
    page.get_by_label("Password").fill(login.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/console/stores")


# -- the store setup form -----------------------------------------------------------------------

def setup_form(store: dict[str, Any], **over: Any) -> dict[str, Any]:
    """The setup form as the page would post it for ``store`` (the API's view of it), with ``over`` typed in."""
    form: dict[str, Any] = {
        "name": store["name"], "timezone": store["timezone"], "country": store["country"] or "",
        "currency": store["currency"], "authorizedAmount": f"{store['authorizedAmount']['value']:.2f}",
        "entryMethods": store["entryMethods"], "riskStrategy": store["riskStrategy"],
        "riskTolerance": store["riskTolerance"], "fallbackDecision": store["fallbackDecision"],
        "qrPattern": store["qrPattern"], "badgeFormats": store["badgeFormats"],
        "maxPartySize": str(store["maxPartySize"]), "antiPassback": store["antiPassback"],
        "maxTripMinutes": str(store["maxTripMinutes"]), "preauthReleaseHours": str(store["preauthReleaseHours"]),
    }
    for name, c in store["connectors"].items():
        form[f"connectors.{name}.url"] = c["url"]
        form[f"connectors.{name}.timeoutMs"] = str(c["timeoutMs"])
    form.update(over)
    return form


def post_setup(client: ConsoleClient, store_id: str, form: dict[str, Any]) -> httpx.Response:
    """The setup form posted to the store's setup page, with the page's CSRF token."""
    setup = f"/console/stores/{store_id}/setup"
    return client.http.post(setup, data=form | {"csrf_token": client.csrf(setup)})


# -- trip pages ----------------------------------------------------------------------------------

T0_MS = 1764266400000  # a paymentStatusTime for feedback reports


def tap(platform: Platform, store: StoreHandle, *, par: str | None = None, token: str = "tok_visa_approve",
        gate: str = "lane-1") -> str:
    """A card tapped at the store's gate through the gate API; the trip it opened."""
    r = platform.enter(store, entry(card(token, par=par or new_par())), gate=gate)
    assert r.status_code == 200 and r.json()["decision"] == "OPEN", r.text
    return r.json()["shoppingTripId"]


def trip_path(store: StoreHandle, trip_id: str) -> str:
    return f"/console/stores/{store.store_id}/trips/{trip_id}"


@dataclass
class TripForm:
    """One of the trip page's forms: where it posts and its hidden fields."""

    action: str
    fields: dict[str, str]

    def post(self, http: httpx.Client, **values: str) -> httpx.Response:
        return http.post(self.action, data={**self.fields, **values})


def forms(page_html: str) -> dict[str, TripForm]:
    """The page's forms by the last part of their action: ``capture``, ``release``, ``close``."""
    found = {}
    for action, body in re.findall(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', page_html, re.S):
        hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', body))
        found[action.rsplit("/", 1)[-1]] = TripForm(html.unescape(action), hidden)
    return found


def shown(page_html: str, element_id: str) -> str | None:
    """The text of the element with this id, tags stripped; None when the page has none."""
    match = re.search(rf'<(\w+)[^>]*\bid="{element_id}"[^>]*>(.*?)</\1>', page_html, re.S)
    if match is None:
        return None
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(2))).split())


def history(page_html: str) -> list[str]:
    """The hold's history rows as text, oldest first."""
    table = re.search(r'<table[^>]*id="hold-history".*?<tbody>(.*?)</tbody>', page_html, re.S)
    if table is None:
        return []
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", r)).split()) for r in rows]


def report(platform: Platform, store: StoreHandle, trip_id: str, *, total: float, settled: float,
           code: str = "USD") -> None:
    """The retailer reports the trip's payment (``POST /v1/feedback/payment-status``)."""
    body = {"storeId": store.store_id, "shoppingTripId": trip_id, "totalAmount": {"amount": total, "code": code},
            "settledAmount": {"amount": settled, "code": code}, "paymentStatusTime": T0_MS}
    r = platform.http.post("/v1/feedback/payment-status", json=body, headers=platform.as_retailer(store))
    assert r.status_code == 200 and r.json() == {"status": "Accepted"}, r.text
