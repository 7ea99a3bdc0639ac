"""One store's ``qrPattern`` cannot stall anyone's gates: a real server on SQLite and PostgreSQL.

``^(a+)+$`` backtracks exponentially under Python's ``re`` (``'a'*24+'b'`` took over a second,
``'a'*40+'b'`` never answered and took ``/healthz`` with it). Under RE2 it runs in linear time, so
it is accepted; what RE2 cannot run in linear time is refused when saved.
"""
from __future__ import annotations

import httpx
import pytest

from entrygate.domain.store import DEFAULT_QR_PATTERN
from retailer.harness import closed_port_url
from support.latency import Beside, median_latency, timed
from support.server import entry

HOSTILE = r"^(a+)+$"
LONGEST_SCAN = "a" * 4095 + "b"  # the gate API's longest scan value, the worst case for this pattern
# Generous on a shared 2-core machine; a stalled gate misses it by seconds, not by a factor.
SLOWDOWN = 4
SLACK_S = 0.1
DEADLINE_S = 5.0


def _qr_store(platform, name: str):
    retailer = platform.retailer(name)
    return platform.store(retailer=retailer, entryMethods=["QR_CODE"],
                          connectors={"identity": {"url": closed_port_url(), "timeoutMs": 200}})


@pytest.fixture(scope="module")
def hostile(platform):
    """A retailer whose own key saved the hostile pattern on its store."""
    store = _qr_store(platform, "Hostile Retailer")
    r = platform.http.patch(f"/v1/admin/stores/{store.store_id}", json={"qrPattern": HOSTILE},
                            headers=platform.as_retailer(store))
    assert r.status_code == 200, r.text
    assert r.json()["qrPattern"] == HOSTILE  # RE2 runs it in linear time: nothing to refuse
    return store


@pytest.fixture(scope="module")
def neighbour(platform):
    """Another retailer's store, on the default pattern."""
    return _qr_store(platform, "Neighbour Retailer")


def _gate(platform, store, value: str, client: httpx.Client) -> httpx.Response:
    return client.post("/v1/gates/lane-1/entries", json=entry({"scanValue": value}, channel="QR_CODE"),
                       headers={"Authorization": f"Bearer {store.gates['lane-1']}"})


def _denied_off_pattern(r: httpx.Response) -> None:
    assert r.status_code == 200, r.text
    assert r.json()["decision"] == "DENY" and [x["code"] for x in r.json()["reasons"]] == ["QR_PATTERN_MISMATCH"]


@pytest.mark.parametrize("pattern, why", [
    (r"^(EG1)\.\1$", "backreferences are not supported"),
    (r"^EG1(?=\.)", "lookahead is not supported"),
    (r"(?<!x)EG1", "lookbehind is not supported"),
    ("a" * 501, "at most 500 characters"),
])
def test_a_pattern_re2_cannot_run_in_linear_time_is_refused_when_saved(platform, pattern, why):
    store = _qr_store(platform, "Careless Retailer")
    r = platform.http.patch(f"/v1/admin/stores/{store.store_id}", json={"qrPattern": pattern},
                            headers=platform.as_retailer(store))
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["fields"] == ["qrPattern"] and why in error["message"], error
    saved = platform.http.get(f"/v1/admin/stores/{store.store_id}", headers=platform.as_retailer(store)).json()
    assert saved["qrPattern"] == DEFAULT_QR_PATTERN


def test_the_hostile_pattern_answers_as_fast_as_a_plain_scan(platform, hostile, neighbour):
    with httpx.Client(base_url=platform.url, timeout=DEADLINE_S) as client:
        _denied_off_pattern(_gate(platform, hostile, LONGEST_SCAN, client))  # warm: compiled, cached
        baseline = median_latency(lambda: _denied_off_pattern(_gate(platform, neighbour, "NOT-A-CODE", client)),
                                  count=10)
        worst_case = median_latency(lambda: _denied_off_pattern(_gate(platform, hostile, LONGEST_SCAN, client)),
                                    count=10)
        assert worst_case <= SLOWDOWN * baseline + SLACK_S, (worst_case, baseline)
        # Longer than any gate sends is a 400 naming the field, at once, before any pattern runs.
        too_long = _gate(platform, hostile, "a" * 5000 + "b", client)
        assert too_long.status_code == 400 and "credential.scanValue" in too_long.json()["error"]["fields"]


def test_another_retailer_s_gate_is_not_held_up_by_the_hostile_scans(platform, hostile, neighbour):
    with httpx.Client(base_url=platform.url, timeout=DEADLINE_S) as client, \
            httpx.Client(base_url=platform.url, timeout=DEADLINE_S) as attacker:
        tap = lambda: _denied_off_pattern(_gate(platform, neighbour, "NOT-A-CODE", client))  # noqa: E731
        tap()
        baseline = median_latency(tap, count=15)
        with Beside(lambda: _denied_off_pattern(_gate(platform, hostile, LONGEST_SCAN, attacker))) as scans:
            assert scans.first.wait(DEADLINE_S), "the hostile scan never answered"
            assert not scans.errors, scans.errors
            answered_before = len(scans.latencies)
            loaded = median_latency(tap, count=15)
            health = timed(lambda: client.get("/healthz").raise_for_status())
            answered_during = len(scans.latencies) - answered_before
        assert not scans.errors, scans.errors
        assert answered_during >= 5, "the hostile scans did not run beside the taps"
        assert loaded <= SLOWDOWN * baseline + SLACK_S, (loaded, baseline)
        assert health <= SLOWDOWN * baseline + SLACK_S, (health, baseline)
