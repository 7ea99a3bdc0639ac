"""docs/quickstart.md works as written: its requests, replayed in one shell against a real server.

The page's ```shell blocks install and start the platform and the reference retailer; the test
starts both itself (the `platform` and `shop` fixtures) and sets the same variables those blocks
export. Every ```sh block then runs, in order, in one bash (so the variables a block exports
reach the next), and its output is compared with the ```json answer the page shows after it:
the same fields everywhere, the same values except where the page writes a placeholder (a
string with "…") or a value that differs run to run (latencies, risk scores, times).

The risk model weighs the store's local hour (a card it has never seen is rated MEDIUM at night
and its hold raised, as the page says), so the replay gives its store a time zone where it is
midday now: the page's daytime answers are then the answers.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from support.server import TEST_SECRET

PAGE = Path(__file__).resolve().parents[2] / "docs" / "quickstart.md"
BLOCK = re.compile(r"^```(sh|shell|json)\n(.*?)^```$", re.S | re.M)
STEP_END = "@@quickstart-step-end@@"
# What differs from run to run: times, and the model's score and explanation (it weighs the hour).
VARIES = {"latencyMs", "score", "explanation", "enteredAt", "exitedAt", "decidedAt"}


def _steps(text: str) -> list[tuple[str, Any | None]]:
    """Each ```sh block with the answer the page shows after it (None where it shows none)."""
    steps: list[tuple[str, Any | None]] = []
    for kind, body in BLOCK.findall(text):
        if kind == "sh":
            steps.append((body, None))
        elif kind == "json" and steps and steps[-1][1] is None:
            steps[-1] = (steps[-1][0], json.loads(body))
    return steps


def _differences(shown: Any, got: Any, where: str = "") -> list[str]:
    if isinstance(shown, str) and "…" in shown:
        pattern = "^" + ".*".join(re.escape(part) for part in shown.split("…")) + "$"
        return [] if isinstance(got, str) and re.match(pattern, got, re.S) else [f"{where}: {got!r} is not {shown!r}"]
    if isinstance(shown, dict):
        if not isinstance(got, dict):
            return [f"{where}: {got!r} is not an object"]
        out = [f"{where}.{k}: missing" for k in shown if k not in got]
        out += [f"{where}.{k}: not on the page" for k in got if k not in shown]
        for key in shown.keys() & got.keys():
            if key not in VARIES:
                out += _differences(shown[key], got[key], f"{where}.{key}")
        return out
    if isinstance(shown, list):
        if not isinstance(got, list) or len(got) != len(shown):
            return [f"{where}: {got!r} is not {shown!r}"]
        return [d for i, (a, b) in enumerate(zip(shown, got)) for d in _differences(a, b, f"{where}[{i}]")]
    return [] if shown == got else [f"{where}: {got!r} is not {shown!r}"]


def _midday_zone() -> str:
    """An IANA zone (``Etc/GMT±N``, whose sign is inverted: Etc/GMT-5 is UTC+5) where it is about noon now."""
    offset = (12 - datetime.now(UTC).hour) % 24
    if offset > 14:
        offset -= 24
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


def test_the_page_shows_every_request_a_first_hour_needs():
    steps = _steps(PAGE.read_text(encoding="utf-8"))
    script = "\n".join(body for body, _ in steps)
    for needed in ("/v1/admin/retailers", "/v1/admin/stores", "/gates", "/entries", "/exits", '"CREDIT_CARD"',
                   '"PALM"', '"QR_CODE"', '"BADGE"', "/preauthorization/capture", "/v1/feedback/payment-status",
                   "/v1/feedback/shopper-risk", "/v1/palm/enrollments", "NONE", "PLATFORM_MANAGED",
                   "PLATFORM_RECOMMENDATION", "RETAILER_MANAGED"):
        assert needed in script, needed
    assert sum(answer is not None for _, answer in steps) >= 20


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")), reason="the quickstart uses curl and jq")
def test_every_request_of_the_quickstart_answers_as_the_page_shows(platform, shop, tmp_path):
    steps = _steps(PAGE.read_text(encoding="utf-8"))
    script = "set -euo pipefail\n" + "".join(f"{body}\necho\necho {STEP_END}\n" for body, _ in steps)
    bin_dir = str(Path(sys.executable).parent)  # where the `entrygate` command is installed
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "EG": platform.url,
           "ENTRYGATE_DATABASE_URL": platform.database_url, "ENTRYGATE_SECRET_KEY": TEST_SECRET,
           "ENTRYGATE_ALLOW_PRIVATE_URLS": "true", "RETAILER_URL": shop.url,
           "ENTRYGATE_RETAILER_DATABASE_URL": shop.database_url, "ENTRYGATE_RETAILER_SIGNING_SECRET": shop.secret,
           "ENTRYGATE_LOG_LEVEL": "WARNING"}
    # One store id for the page, one per run here: the fixtures' server is shared by the session.
    store_id = f"qs-{tmp_path.name[-12:]}".replace("_", "-")
    zone = _midday_zone()
    script = script.replace("store-001", store_id).replace('"America/New_York"', f'"{zone}"')
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    outputs = done.stdout.split(STEP_END + "\n")
    ran = len(outputs) - 1
    assert done.returncode == 0 and ran == len(steps), \
        f"step {ran + 1} failed:\n{steps[min(ran, len(steps) - 1)][0]}\n--- stdout\n{outputs[-1]}\n--- stderr\n{done.stderr}"
    problems = []
    for (body, shown), output in zip(steps, outputs):
        if shown is None:
            continue
        shown = json.loads(json.dumps(shown).replace("store-001", store_id).replace('"America/New_York"', f'"{zone}"'))
        try:
            got = json.loads(output)
        except json.JSONDecodeError:
            problems.append(f"{body.splitlines()[0]} ...: not one JSON answer: {output!r}")
            continue
        problems += [f"{body.splitlines()[0]} ...: {d}" for d in _differences(shown, got)]
    assert not problems, "\n".join(problems)
