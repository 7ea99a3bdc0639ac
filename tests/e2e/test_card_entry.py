"""Card entries over real HTTP against a server process, on SQLite and PostgreSQL."""
from __future__ import annotations

import concurrent.futures
import uuid

import pytest

from support.server import card, entry, new_par


@pytest.mark.parametrize("token, decision, reason", [
    ("tok_visa_approve", "OPEN", None),
    ("tok_anything_else", "OPEN", None),
    ("tok_decline_insufficient_funds", "DENY", "PREAUTH_DECLINED"),
    ("tok_decline_generic", "DENY", "PREAUTH_DECLINED"),
    ("tok_decline_lost_stolen", "DENY", "PREAUTH_DECLINED"),
    ("tok_expired_card", "DENY", "CARD_EXPIRED"),
    ("tok_processor_unavailable", "DENY", "PREAUTH_DECLINED"),
    ("not_a_token", "DENY", "INVALID_CREDENTIAL"),
])
def test_every_sandbox_token_gives_its_outcome(platform, token, decision, reason):
    store = platform.store()
    r = platform.enter(store, entry(card(token, par=new_par())))
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["decision"] == decision
    codes = [x["code"] for x in answer["reasons"]]
    if reason:
        assert reason in codes
        assert answer["shoppingTripId"] is None
        assert all(x["message"] for x in answer["reasons"])
    else:
        assert codes == []
        assert answer["shoppingTripId"].startswith("trip_")
        assert answer["authorizedAmount"] == {"value": 25.0, "currencyCode": "USD"}
    assert answer["visitor"]["type"] == "SHOPPER"
    assert answer["visitor"]["id"].startswith("pi_")
    assert answer["decidedBy"] == "PLATFORM"
    assert answer["latencyMs"] >= 0


def test_lost_card_blocks_the_instrument_from_then_on(platform):
    store = platform.store()
    par = new_par()
    first = platform.enter(store, entry(card("tok_decline_lost_stolen", par=par))).json()
    assert [r["code"] for r in first["reasons"]] == ["PREAUTH_DECLINED"]
    # The same card (same PAR), now with a token the processor would approve: still blocked.
    again = platform.enter(store, entry(card("tok_visa_approve", par=par))).json()
    assert again["decision"] == "DENY"
    assert [r["code"] for r in again["reasons"]] == ["INSTRUMENT_BLOCKED"]


def test_expired_card_is_refused_before_any_preauthorization(platform):
    store = platform.store()
    answer = platform.enter(store, entry(card(par=new_par(), expMonth=1, expYear=2020))).json()
    assert answer["decision"] == "DENY"
    assert [r["code"] for r in answer["reasons"]] == ["CARD_EXPIRED"]


def test_retry_of_an_event_returns_the_first_answer_and_stores_nothing_new(platform):
    store = platform.store()
    body = entry(card(par=new_par()))
    first = platform.enter(store, body)
    second = platform.enter(store, body)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    trips = platform.http.get(f"/v1/stores/{store.store_id}/trips", headers=platform.as_retailer(store)).json()["trips"]
    decisions = platform.http.get(f"/v1/stores/{store.store_id}/decisions",
                                  headers=platform.as_retailer(store)).json()["decisions"]
    assert len(trips) == 1 and len(decisions) == 1


def test_same_event_id_with_another_body_is_a_conflict(platform):
    store = platform.store()
    body = entry(card(par=new_par()))
    assert platform.enter(store, body).status_code == 200
    changed = dict(body, partySize=2)
    r = platform.enter(store, changed)
    assert r.status_code == 409
    assert r.json()["error"]["fields"] == ["eventId"]


def test_concurrent_retries_of_one_event_create_one_trip(platform):
    store = platform.store()
    body = entry(card(par=new_par()))
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: platform.enter(store, body), range(16)))
    assert {a.status_code for a in answers} == {200}
    assert len({a.json()["shoppingTripId"] for a in answers}) == 1
    trips = platform.http.get(f"/v1/stores/{store.store_id}/trips", headers=platform.as_retailer(store)).json()["trips"]
    assert len(trips) == 1


def test_without_par_the_instrument_is_keyed_by_token(platform):
    store = platform.store()
    a = platform.enter(store, entry(card("tok_same_card", par=None))).json()
    b = platform.enter(store, entry(card("tok_same_card", par=None))).json()
    c = platform.enter(store, entry(card("tok_other_card", par=None))).json()
    assert a["visitor"]["id"] == b["visitor"]["id"] != c["visitor"]["id"]


def test_group_entry_within_and_beyond_the_limit(platform):
    store = platform.store(maxPartySize=3)
    ok = platform.enter(store, entry(card(par=new_par()), party_size=3)).json()
    assert ok["decision"] == "OPEN"
    trip = platform.http.get(f"/v1/trips/{ok['shoppingTripId']}", headers=platform.as_retailer(store)).json()
    assert trip["partySize"] == 3
    too_many = platform.enter(store, entry(card(par=new_par()), party_size=4)).json()
    assert too_many["decision"] == "DENY"
    assert [r["code"] for r in too_many["reasons"]] == ["PARTY_TOO_LARGE"]


def test_disabled_entry_method_and_disabled_gate(platform):
    store = platform.store(entryMethods=["QR_CODE"], connectors={"identity": {"url": "http://127.0.0.1:9/x"}})
    r = platform.enter(store, entry(card(par=new_par()))).json()
    assert [x["code"] for x in r["reasons"]] == ["ENTRY_METHOD_DISABLED"]
    store = platform.store()
    assert platform.http.patch(f"/v1/admin/stores/{store.store_id}/gates/lane-1", json={"enabled": False},
                               headers=platform.op).status_code == 200
    r = platform.enter(store, entry(card(par=new_par()))).json()
    assert [x["code"] for x in r["reasons"]] == ["GATE_DISABLED"]


@pytest.mark.parametrize("mode, second", [("NONE", "OPEN"), ("SOFT", "OPEN"), ("HARD", "DENY")])
def test_anti_passback(platform, mode, second):
    store = platform.store(antiPassback=mode, exit_gates=("exit-1",))
    par = new_par()
    first = platform.enter(store, entry(card(par=par))).json()
    assert first["decision"] == "OPEN"
    again = platform.enter(store, entry(card(par=par))).json()
    assert again["decision"] == second
    if second == "DENY":
        assert [r["code"] for r in again["reasons"]] == ["ALREADY_INSIDE"]
        out = platform.exit(store, {"eventId": str(uuid.uuid4()), "timestamp": "2026-11-27T18:30:00Z",
                                    "shoppingTripId": first["shoppingTripId"]}, gate="exit-1")
        assert out.json()["result"] == "CLOSED"
        assert platform.enter(store, entry(card(par=par))).json()["decision"] == "OPEN"


def test_exit_closes_the_trip_and_a_second_exit_says_so(platform):
    store = platform.store(exit_gates=("exit-1",))
    trip = platform.enter(store, entry(card(par=new_par()))).json()["shoppingTripId"]
    body = {"eventId": str(uuid.uuid4()), "timestamp": "2026-11-27T18:30:00Z", "shoppingTripId": trip}
    first = platform.exit(store, body, gate="exit-1").json()
    assert first["result"] == "CLOSED"
    assert platform.exit(store, body, gate="exit-1").json() == first  # a retry
    second = platform.exit(store, dict(body, eventId=str(uuid.uuid4())), gate="exit-1").json()
    assert second["result"] == "ALREADY_CLOSED"
    view = platform.http.get(f"/v1/trips/{trip}", headers=platform.as_retailer(store)).json()
    assert view["status"] == "CLOSED" and view["exitGateId"] == "exit-1"


def test_exit_by_card_finds_the_open_trip(platform):
    store = platform.store(exit_gates=("exit-1",))
    par = new_par()
    trip = platform.enter(store, entry(card(par=par))).json()["shoppingTripId"]
    out = platform.exit(store, {"eventId": str(uuid.uuid4()), "timestamp": "2026-11-27T18:30:00Z",
                                "channel": "CREDIT_CARD", "credential": card(par=par)}, gate="exit-1").json()
    assert out["shoppingTripId"] == trip and out["result"] == "CLOSED"
    none = platform.exit(store, {"eventId": str(uuid.uuid4()), "timestamp": "2026-11-27T18:30:00Z",
                                 "channel": "CREDIT_CARD", "credential": card(par=new_par())}, gate="exit-1").json()
    assert none["result"] == "NO_OPEN_TRIP"
