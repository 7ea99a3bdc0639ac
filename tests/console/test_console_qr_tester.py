"""The console's live QR tester runs the gate's own RE2 patterns: a hostile pattern typed into it
answers at once, says why a pattern would be refused, and holds up no gate."""
from __future__ import annotations

import httpx
import pytest

from consolekit import ConsoleClient
from retailer.harness import closed_port_url
from support.latency import Beside, median_latency
from support.server import entry

HOSTILE = r"^(a+)+$"
LONGEST_SCAN = "a" * 4095 + "b"
SLOWDOWN = 4  # generous on a shared 2-core machine; a stalled server misses it by seconds
SLACK_S = 0.1
DEADLINE_S = 5.0


@pytest.fixture
def tester(platform, login):
    """A signed-in console user, their store, and a function posting to the store's QR tester."""
    store = platform.store(retailer=(login.retailer_id, login.retailer_key))
    client = ConsoleClient(platform)
    client.http.timeout = httpx.Timeout(DEADLINE_S)
    assert client.sign_in(login.email, login.password).status_code == 303
    token = client.csrf()

    def post(pattern: str, value: str) -> str:
        r = client.http.post(f"/console/stores/{store.store_id}/qr-test", headers={"X-Console-Fragment": "1"},
                             data={"csrf_token": token, "qrPattern": pattern, "qrTestValue": value})
        assert r.status_code == 200, r.text
        return r.text

    yield post
    client.close()


def test_the_tester_says_why_a_pattern_would_be_refused(tester):
    assert "Match." in tester(r"^SHOP-[0-9]{6}$", "SHOP-123456")
    refused = tester(r"^(SHOP)-\1$", "SHOP-SHOP")
    assert "Error." in refused and "backreferences are not supported" in refused
    assert "lookbehind is not supported" in tester(r"(?<!x)SHOP", "SHOP")
    assert "at most 500 characters" in tester("a" * 501, "a")
    assert "at most 4096 characters" in tester(HOSTILE, "a" * 5000 + "b")


def test_a_hostile_pattern_in_the_tester_holds_up_no_gate(platform, tester):
    assert "No match." in tester(HOSTILE, LONGEST_SCAN)
    neighbour = platform.store(entryMethods=["QR_CODE"],
                               connectors={"identity": {"url": closed_port_url(), "timeoutMs": 200}})
    with httpx.Client(base_url=platform.url, timeout=DEADLINE_S) as gate:
        def tap() -> None:
            r = gate.post("/v1/gates/lane-1/entries", json=entry({"scanValue": "NOT-A-CODE"}, channel="QR_CODE"),
                          headers={"Authorization": f"Bearer {neighbour.gates['lane-1']}"})
            assert r.status_code == 200 and r.json()["decision"] == "DENY", r.text

        tap()
        baseline = median_latency(tap, count=15)
        with Beside(lambda: tester(HOSTILE, LONGEST_SCAN)) as typing:
            assert typing.first.wait(DEADLINE_S), "the tester never answered"
            assert not typing.errors, typing.errors
            answered_before = len(typing.latencies)
            loaded = median_latency(tap, count=15)
            answered_during = len(typing.latencies) - answered_before
        assert not typing.errors, typing.errors
        assert answered_during >= 5, "the tester did not run beside the taps"
        assert loaded <= SLOWDOWN * baseline + SLACK_S, (loaded, baseline)
