"""The console's risk model page (DESIGN 14) over a real server: figures, the shadow report, the latest
backtest, and promote / shadow buttons for the platform's model administrators only."""
from __future__ import annotations

import html
import re
import time
import uuid

import pytest
from playwright.sync_api import expect
from typer.testing import CliRunner

from consolekit import A11Y_PROBLEMS, PASSWORD, ConsoleClient, csrf_of
from entrygate.cli.main import app as entrygate_cli
from support.risk_models import MODEL_ADMIN, bundled_version
from support.server import Platform, card, entry, new_par

PAGE = "/console/models"


@pytest.fixture
def served(model_platform):
    m = model_platform
    yield m.platform, m.models, m.candidate, m.roles


_users: dict[tuple[str, str], tuple[str, str]] = {}  # (server, email) -> its retailer id and key


def console_user(platform: Platform, email: str) -> tuple[ConsoleClient, str, str]:
    if (platform.url, email) not in _users:
        retailer_id, key = platform.retailer()
        r = platform.http.post(f"/v1/admin/retailers/{retailer_id}/users",
                               json={"email": email, "password": PASSWORD}, headers=platform.op)
        assert r.status_code == 201, r.text
        _users[(platform.url, email)] = retailer_id, key
    retailer_id, key = _users[(platform.url, email)]
    client = ConsoleClient(platform)
    assert client.sign_in(email, PASSWORD).status_code == 303
    return client, retailer_id, key


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def post(client: ConsoleClient, path: str, **data: str):
    return client.http.post(path, data={"csrf_token": client.csrf(PAGE), **data})


def test_the_model_page_and_its_buttons(served):
    platform, models, candidate, roles = served
    admin, retailer_id, _ = console_user(platform, MODEL_ADMIN)
    page = admin.http.get(PAGE)
    assert page.status_code == 200 and "script-src 'self'" in page.headers["content-security-policy"]
    assert "<script>" not in page.text and " onclick=" not in page.text
    body = text_of(page.text)
    assert bundled_version() in body and "ROC AUC 0.898" in body and "No shadow is running" in body
    assert "No backtest has been run yet" in body

    before = roles.read()
    refused = post(admin, PAGE + "/promote", version="v20990101T000000Z-00000000")
    assert refused.status_code == 400 and "no risk model version" in text_of(refused.text)
    assert roles.read() == before

    started = post(admin, PAGE + "/shadow", version=candidate)
    assert started.status_code == 303 and roles.read().shadow == candidate
    store = platform.store(riskStrategy="PLATFORM_MANAGED", retailer=(retailer_id, "unused"))
    deadline = time.monotonic() + 10
    while True:  # the server starts scoring with the shadow within its check interval
        platform.enter(store, entry(card(par=new_par())))
        report = text_of(admin.http.get(PAGE).text)
        if "live decisions scored by both" in report or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert "the shadow would deny" in report and "Shadow report" in report and candidate in report
    assert 'aria-labelledby="shadow-shadow-title' in admin.http.get(PAGE).text  # its score chart

    runner = CliRunner()
    result = runner.invoke(entrygate_cli, ["risk", "backtest", "--candidate", candidate, "--database-url",
                                           platform.database_url, "--model-dir", str(models),
                                           "--plot", str(models.parent / "bt.png")])
    assert result.exit_code == 0, result.output
    body = text_of(admin.http.get(PAGE).text)
    assert f"candidate {candidate} against {bundled_version()}" in body and "Good shoppers turned away" in body
    plot = admin.http.get(PAGE + "/backtest.png")
    assert plot.status_code == 200 and plot.headers["content-type"] == "image/png"
    assert plot.content == (models.parent / "bt.png").read_bytes()

    promoted = post(admin, PAGE + "/promote", version=candidate)
    assert promoted.status_code == 303 and (roles.read().current, roles.read().shadow) == (candidate, None)
    assert "Promoted" in text_of(admin.http.get(promoted.headers["location"]).text)
    assert post(admin, PAGE + "/promote", version=bundled_version()).status_code == 303
    assert post(admin, PAGE + "/shadow", version=candidate).status_code == 303
    assert post(admin, PAGE + "/shadow/stop").status_code == 303 and roles.read().shadow is None
    admin.close()


def test_other_console_users_see_the_figures_and_change_nothing(served):
    platform, _, candidate, roles = served
    user, _, _ = console_user(platform, f"viewer-{uuid.uuid4().hex[:8]}@example.com")
    before = roles.read()
    page = user.http.get(PAGE)
    assert page.status_code == 200 and "ROC AUC" in text_of(page.text)
    assert 'action="/console/models/promote"' not in page.text and "Latest backtest" not in page.text
    token = csrf_of(page.text)
    for path, data in ((PAGE + "/promote", {"version": candidate}), (PAGE + "/shadow", {"version": candidate}),
                       (PAGE + "/shadow/stop", {})):
        assert user.http.post(path, data={"csrf_token": token, **data}).status_code == 404
    assert user.http.get(PAGE + "/backtest.png").status_code == 404
    assert roles.read() == before
    user.close()


@pytest.mark.browser
def test_the_model_page_in_a_browser(served, browser):
    platform, _, candidate, roles = served
    client, _, _ = console_user(platform, MODEL_ADMIN)
    cookies = [{"name": k.name, "value": k.value, "domain": "127.0.0.1", "path": k.path, "httpOnly": True,
                "sameSite": "Lax"} for k in client.http.cookies.jar]
    client.close()
    context = browser.new_context(base_url=platform.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    context.add_cookies(cookies)
    page = context.new_page()
    refused: list[str] = []  # what the CSP refused, and any resource of the page that failed
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("response", lambda r: refused.append(r.url) if r.status >= 400 and "favicon" not in r.url else None)
    try:
        page.goto(PAGE)
        assert page.evaluate(A11Y_PROBLEMS) == []
        page.get_by_label("Start a shadow of version").select_option(candidate)
        page.get_by_role("button", name="Start the shadow").click()
        expect(page.get_by_role("status")).to_contain_text("Shadow started")
        assert roles.read().shadow == candidate
        assert page.evaluate(A11Y_PROBLEMS) == []
        page.get_by_role("button", name="Stop the shadow").click()
        expect(page.get_by_role("status")).to_have_text("Shadow stopped.")
        assert roles.read().shadow is None and refused == []
    finally:
        context.close()
