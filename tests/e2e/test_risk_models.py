"""Promotion and shadow over real processes (DESIGN 14): ``entrygate risk promote`` and ``shadow``
change what a running ``entrygate serve`` scores within 10 s, on SQLite and PostgreSQL.

The server serves from its own model store holding the bundled model and a candidate that scores
every entry 99 (``support/risk_models.py``), so which model decided is plain in every answer.
"""
from __future__ import annotations

import json
import time

import pytest
from typer.testing import CliRunner

from entrygate.cli.main import app as entrygate_cli
from support.risk_models import bundled_version
from support.server import Platform, card, entry, new_par

SEEN_WITHIN_S = 10.0  # DESIGN 14: every process within 10 s
runner = CliRunner()


@pytest.fixture
def served(model_platform):
    m = model_platform
    yield m.platform, m.models, m.candidate, m.roles


def risk(platform: Platform, models, *args: str):
    return runner.invoke(entrygate_cli, ["risk", *args, "--database-url", platform.database_url,
                                         "--model-dir", str(models)])


def enter(platform: Platform, store) -> dict:
    r = platform.enter(store, entry(card(par=new_par())))
    assert r.status_code == 200, r.text
    return r.json()


def view_of(platform: Platform, store, event_id: str) -> dict:
    r = platform.http.get(f"/v1/stores/{store.store_id}/decisions", headers=platform.as_retailer(store))
    assert r.status_code == 200, r.text
    return next(d for d in r.json()["decisions"] if d["eventId"] == event_id)


def until(check, what: str):
    deadline = time.monotonic() + SEEN_WITHIN_S
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            pytest.fail(f"not within {SEEN_WITHIN_S} s: {what}")
        time.sleep(0.2)


def test_shadow_then_promote_reach_the_running_server(served):
    platform, models, candidate, roles = served
    store = platform.store(riskStrategy="PLATFORM_MANAGED")
    first = enter(platform, store)
    # A new card's level depends on the hour (night entries weigh more); the bundled model never denies it.
    assert first["decision"] == "OPEN" and first["risk"]["level"] in ("LOW", "MEDIUM")
    assert "shadow" not in view_of(platform, store, first["eventId"])["risk"]

    # An unknown version exits non-zero and changes nothing.
    before = roles.read()
    for command in (["promote", "v20990101T000000Z-00000000"], ["shadow", "v20990101T000000Z-00000000"]):
        result = risk(platform, models, *command)
        assert result.exit_code == 1 and "no risk model version" in result.output, result.output
    assert roles.read() == before

    result = risk(platform, models, "shadow", candidate)
    assert result.exit_code == 0, result.output

    def shadowed():
        answer = enter(platform, store)
        view = view_of(platform, store, answer["eventId"])
        return (answer, view) if "shadow" in view["risk"] else None

    answer, view = until(shadowed, "the shadow scoring live decisions")
    # The gate's answer is the current model's alone; the stored decision shows what the candidate said.
    assert answer["decision"] == "OPEN" and answer["risk"]["level"] != "HIGH" and "shadow" not in answer["risk"]
    assert view["risk"]["shadow"] == {"modelVersion": candidate, "score": 99, "level": "HIGH"}
    assert view["risk"]["score"] == answer["risk"]["score"] and view["decision"] == "OPEN"

    report = risk(platform, models, "shadow", "--report", "--json")
    assert report.exit_code == 0, report.output
    figures = json.loads(report.output)
    assert figures["modelVersion"] == candidate and figures["decisions"] >= 1
    assert figures["flips"] == {"openToDeny": figures["decisions"], "denyToOpen": 0}
    assert figures["levels"]["shadow"]["HIGH"] == figures["decisions"] and figures["agreement"] == 0.0

    result = risk(platform, models, "promote", candidate)
    assert result.exit_code == 0, result.output
    assert (roles.read().current, roles.read().shadow) == (candidate, None)  # the promoted candidate's shadow ends

    def denied():
        answer = enter(platform, store)
        return answer if answer["decision"] == "DENY" else None

    answer = until(denied, "the promoted model deciding")
    assert [r["code"] for r in answer["reasons"]] == ["HIGH_RISK"]
    assert (answer["risk"]["score"], answer["risk"]["level"], answer["risk"]["modelVersion"]) == (99, "HIGH", candidate)
    assert "shadow" not in view_of(platform, store, answer["eventId"])["risk"]

    result = risk(platform, models, "promote", bundled_version())
    assert result.exit_code == 0, result.output
    until(lambda: enter(platform, store)["decision"] == "OPEN", "the bundled model back in service")


def test_shadow_stop_ends_the_shadow_scores(served):
    platform, models, candidate, roles = served
    store = platform.store(riskStrategy="PLATFORM_MANAGED")
    assert risk(platform, models, "shadow", candidate).exit_code == 0
    until(lambda: "shadow" in view_of(platform, store, enter(platform, store)["eventId"])["risk"], "shadow on")
    result = risk(platform, models, "shadow", "--stop")
    assert result.exit_code == 0 and roles.read().shadow is None, result.output
    until(lambda: "shadow" not in view_of(platform, store, enter(platform, store)["eventId"])["risk"], "shadow off")
