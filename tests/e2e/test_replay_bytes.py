"""A retried gate event hears the very bytes of its first answer, rendered from the stored facts."""
from __future__ import annotations

import uuid

from retailer.harness import LoopbackRetailer, Reply
from support.server import card, entry, new_par

ADJUST = {"shopperAuthorized": True, "shopperRisks": [],
          "authorizationConditions": [{"type": "ADJUST", "amount": {"value": 50.0, "currencyCode": "USD"}}]}


def test_an_entry_with_risk_an_adjusted_hold_and_reasons_replays_byte_for_byte(platform):
    with LoopbackRetailer(lambda r: Reply(body=ADJUST)) as retailer:
        store = platform.store(riskStrategy="PLATFORM_RECOMMENDATION",
                               connectors={"shopperAuthorization": {"url": retailer.url, "timeoutMs": 3000}})
        body = entry(card(par=new_par()), party_size=2)
        first = platform.enter(store, body)
    again = platform.enter(store, body)  # the retailer is gone: a replay asks no one
    assert first.status_code == again.status_code == 200
    answer = first.json()
    assert answer["risk"] is not None and answer["authorizedAmount"] == {"value": 50.0, "currencyCode": "USD"}
    assert [r["code"] for r in answer["reasons"]] == ["PREAUTH_ADJUSTED"] and answer["partySize"] == 2
    assert again.content == first.content
    listed = platform.http.get(f"/v1/stores/{store.store_id}/decisions",
                               headers=platform.as_retailer(store)).json()["decisions"]
    assert [{k: v for k, v in d.items() if k not in ("storeId", "gateId", "channel", "decidedAt")}
            for d in listed] == [answer]


def test_a_denial_and_an_exit_replay_byte_for_byte(platform):
    store = platform.store(exit_gates=("exit-1",))
    denial = entry(card("tok_decline_generic", par=new_par()))
    assert platform.enter(store, denial).content == platform.enter(store, denial).content
    trip = platform.enter(store, entry(card(par=new_par()))).json()["shoppingTripId"]
    out = {"eventId": str(uuid.uuid4()), "timestamp": "2026-11-27T18:05:00Z", "shoppingTripId": trip}
    first, again = platform.exit(store, out, gate="exit-1"), platform.exit(store, out, gate="exit-1")
    assert first.json()["result"] == "CLOSED" and again.content == first.content
