"""QR-code and badge entry end to end: a gate, the platform server process, and a retailer on loopback
(the reference retailer, or one that misbehaves on purpose), on SQLite and PostgreSQL."""
from __future__ import annotations

import time
import uuid

import pytest

from entrygate.domain import badges, qr
from retailer.harness import (
    LoopbackRetailer,
    Reply,
    RunningRetailer,
    closed_port_url,
    drop_retailer_database,
    fresh_retailer_database,
)
from support.server import entry

FORMATS = ["H10301", "C1K35", "CSN"]
# The gate hears back within the connector's deadline plus this: the platform's own work, a
# database write, loopback HTTP both ways, on a shared CI machine.
MARGIN_S = 0.3


@pytest.fixture(scope="module")
def shop(backend, tmp_path_factory):
    url = fresh_retailer_database(backend, tmp_path_factory.mktemp("retailer"))
    running = RunningRetailer(url)
    repo = running.retailer.repo
    repo.add_visitor("v-bob", "ASSOCIATE")
    repo.add_badge("H10301:101:1337", "v-bob")
    repo.add_visitor("v-alice", "SHOPPER")
    repo.add_badge("C1K35:4000:1000000", "v-alice")
    repo.add_badge("CSN:04A1B2C3D4E5F6", "v-alice")
    yield running
    running.close()
    drop_retailer_database(url)


@pytest.fixture(scope="module")
def store(platform, shop):
    return platform.store(entryMethods=["CREDIT_CARD", "QR_CODE", "BADGE"], badgeFormats=FORMATS,
                          exit_gates=("exit-1",), antiPassback="SOFT",
                          connectors={"identity": {"url": shop.url, "secret": shop.secret, "timeoutMs": 800}})


def shopper(shop, visitor_type: str = "SHOPPER"):
    """A visitor of its own (a QR code opens once per visitor and time step)."""
    return shop.retailer.repo.add_visitor(f"v-{uuid.uuid4().hex[:10]}", visitor_type)


def scan(code: str) -> dict:
    return entry({"scanValue": code}, channel="QR_CODE")


def codes(answer: dict) -> list[str]:
    return [r["code"] for r in answer["reasons"]]


def enter(platform, store, body) -> dict:
    r = platform.enter(store, body)
    assert r.status_code == 200, r.text
    return r.json()


# --- QR codes ---------------------------------------------------------------------------------


def test_a_shopper_s_qr_code_opens_a_trip(platform, store, shop):
    visitor = shopper(shop)
    answer = enter(platform, store, scan(shop.retailer.decisions.issue_qr(visitor)))
    assert answer["decision"] == "OPEN" and codes(answer) == []
    assert answer["visitor"] == {"id": visitor.visitor_id, "type": "SHOPPER"}
    assert answer["decidedBy"] == "RETAILER"
    trip = platform.http.get(f"/v1/trips/{answer['shoppingTripId']}", headers=platform.as_retailer(store)).json()
    assert trip["status"] == "OPEN"


def test_a_replayed_qr_code_is_refused(platform, store, shop):
    code = shop.retailer.decisions.issue_qr(shopper(shop))
    assert enter(platform, store, scan(code))["decision"] == "OPEN"
    again = enter(platform, store, scan(code))  # a new gate event with the same code: a screenshot
    assert again["decision"] == "DENY" and codes(again) == ["IDENTITY_REJECTED"]
    assert again["decidedBy"] == "RETAILER"


def test_a_retried_gate_event_is_answered_from_the_record_not_refused_as_a_replay(platform, store, shop):
    body = scan(shop.retailer.decisions.issue_qr(shopper(shop)))
    first = enter(platform, store, body)
    assert first["decision"] == "OPEN"
    assert enter(platform, store, body) == first


def test_an_expired_qr_code_is_refused(platform, store, shop):
    visitor = shopper(shop)
    code = qr.issue(shop.settings.qr_key, visitor.qr_token, now=time.time() - 3 * qr.STEP_SECONDS)
    answer = enter(platform, store, scan(code))
    assert answer["decision"] == "DENY" and codes(answer) == ["IDENTITY_REJECTED"]


def test_an_associate_s_qr_code_opens_without_a_trip(platform, store, shop):
    visitor = shopper(shop, "ASSOCIATE")
    answer = enter(platform, store, scan(shop.retailer.decisions.issue_qr(visitor)))
    assert answer["decision"] == "OPEN" and answer["visitor"]["type"] == "ASSOCIATE"
    assert answer["shoppingTripId"] is None and answer["authorizedAmount"] is None


def test_a_code_off_the_pattern_is_refused(platform, store):
    answer = enter(platform, store, scan("https://example.com/promo"))
    assert answer["decision"] == "DENY" and codes(answer) == ["QR_PATTERN_MISMATCH"]
    assert answer["decidedBy"] == "PLATFORM"


def test_a_qr_code_at_the_exit_closes_the_trip(platform, store, shop):
    visitor = shopper(shop)
    trip = enter(platform, store, scan(shop.retailer.decisions.issue_qr(visitor)))["shoppingTripId"]
    # The app shows the next code by the time the shopper leaves (codes are single use).
    exit_code = qr.issue(shop.settings.qr_key, visitor.qr_token, now=time.time() + qr.STEP_SECONDS)
    out = platform.exit(store, {"eventId": str(uuid.uuid4()), "timestamp": "2026-11-27T18:30:00Z",
                                "channel": "QR_CODE", "credential": {"scanValue": exit_code}}, gate="exit-1")
    assert out.status_code == 200, out.text
    assert out.json()["result"] == "CLOSED" and out.json()["shoppingTripId"] == trip


# --- badges -----------------------------------------------------------------------------------


@pytest.mark.parametrize("credential, visitor, kind", [
    ({"bits": badges.encode_bits("H10301", 101, 1337)}, "v-bob", "ASSOCIATE"),
    ({"hex": "CA0A73", "bitLength": 26}, "v-bob", "ASSOCIATE"),
    ({"bits": "10111110100000111101000010010000001"}, "v-alice", "SHOPPER"),
    ({"csn": "04:A1:B2:C3:D4:E5:F6"}, "v-alice", "SHOPPER"),
])
def test_a_registered_badge_opens(platform, store, credential, visitor, kind):
    answer = enter(platform, store, entry(credential, channel="BADGE"))
    assert answer["decision"] == "OPEN" and answer["visitor"] == {"id": visitor, "type": kind}
    assert answer["decidedBy"] == "RETAILER"
    assert (answer["shoppingTripId"] is None) == (kind == "ASSOCIATE")


@pytest.mark.parametrize("credential, reason", [
    ({"bits": badges.encode_bits("H10301", 12, 3456)}, "IDENTITY_REJECTED"),  # good frame, nobody's badge
    ({"bits": "00110010100000101001110010"}, "BADGE_PARITY_ERROR"),
    ({"hex": "6500A73", "bitLength": 37}, "BADGE_FORMAT_UNSUPPORTED"),  # H10304: not enabled at this store
    ({"bits": badges.encode_bits("C1K48", 101, 1337)}, "BADGE_FORMAT_UNSUPPORTED"),
])
def test_a_badge_that_cannot_open(platform, store, credential, reason):
    answer = enter(platform, store, entry(credential, channel="BADGE"))
    assert answer["decision"] == "DENY" and codes(answer) == [reason]


@pytest.mark.parametrize("credential, field", [
    ({"csn": "04A1B"}, "credential.csn"),
    ({"hex": "CA0A73"}, "credential"),
    ({"bits": "0102"}, "credential.bits"),
])
def test_a_malformed_badge_read_is_a_400(platform, store, credential, field):
    r = platform.enter(store, entry(credential, channel="BADGE"))
    assert r.status_code == 400, r.text
    assert field in r.json()["error"]["fields"]


# --- a retailer that is slow, down, broken ----------------------------------------------------


@pytest.mark.parametrize("reply", [
    Reply(200, {"visitorDetails": {"id": "v", "type": "SHOPPER"}}, delay_s=3),
    Reply(hold=True),
    Reply(503),
    Reply(200, b"<html>Bad gateway</html>"),
    Reply(raw=b"\x00\x01garbage"),
    Reply(200, {"visitorDetails": {"id": "v", "type": "SHOPPER"}}, trickle_s=0.05),
], ids=["slow", "hold", "5xx", "html", "not-http", "trickle"])
def test_a_misbehaving_retailer_denies_within_the_deadline(platform, reply):
    with LoopbackRetailer(lambda r: reply) as retailer:
        store = platform.store(entryMethods=["BADGE"], badgeFormats=FORMATS,
                               connectors={"identity": {"url": retailer.url, "timeoutMs": 300}})
        body = entry({"bits": badges.encode_bits("H10301", 101, 1337)}, channel="BADGE")
        started = time.monotonic()
        answer = enter(platform, store, body)
        took = time.monotonic() - started
    assert answer["decision"] == "DENY"
    assert codes(answer) == ["CONNECTOR_UNAVAILABLE", "FALLBACK_APPLIED"]
    assert answer["decidedBy"] == "FALLBACK"
    assert took < 0.3 + MARGIN_S


def test_a_retailer_that_is_down(platform):
    store = platform.store(entryMethods=["QR_CODE"], fallbackDecision="ALLOW",
                           connectors={"identity": {"url": closed_port_url(), "timeoutMs": 300}})
    started = time.monotonic()
    answer = enter(platform, store, scan("EG1.someone.1.AAAAAAAAAAAAAAAAAAAAAA"))
    assert time.monotonic() - started < 0.3 + MARGIN_S
    assert answer["decision"] == "DENY" and answer["decidedBy"] == "FALLBACK"  # identity cannot fall back to ALLOW


def test_after_repeated_timeouts_the_circuit_opens_and_gates_hear_back_at_once(platform):
    with LoopbackRetailer(lambda r: Reply(hold=True)) as retailer:
        store = platform.store(entryMethods=["BADGE"], badgeFormats=FORMATS,
                               connectors={"identity": {"url": retailer.url, "timeoutMs": 150}})
        body = lambda: entry({"bits": badges.encode_bits("H10301", 101, 1337)}, channel="BADGE")  # noqa: E731
        for _ in range(5):
            assert codes(enter(platform, store, body()))[0] == "CONNECTOR_UNAVAILABLE"
        asked = len(retailer.received)
        started = time.monotonic()
        answer = enter(platform, store, body())
        took = time.monotonic() - started
    assert codes(answer) == ["CONNECTOR_UNAVAILABLE", "FALLBACK_APPLIED"]
    assert len(retailer.received) == asked == 5  # the open circuit sent nothing
    assert took < 0.1
    metrics = platform.http.get("/metrics").text
    assert f'entrygate_connector_calls_total{{connector="identity",outcome="circuit_open",store_id="{store.store_id}"}}' \
        in metrics
