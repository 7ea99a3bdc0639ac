"""Helpers for the console tests: console logins, a plain HTTP console client, browser sign-in."""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

from support.server import Platform

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "correct-horse-battery"
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


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
