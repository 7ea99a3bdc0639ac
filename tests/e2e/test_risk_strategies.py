"""The four risk strategies and their fallbacks over real HTTP, with the reference retailer and
with loopback retailers that answer what a test needs (DESIGN 3 and 5)."""
from __future__ import annotations

import time
import uuid

import pytest

from retailer.harness import LoopbackRetailer, Reply, closed_port_url
from support.server import card, daytime_zone, entry, new_par

T0 = int(time.time() * 1000)


@pytest.fixture(autouse=True)
def _stores_at_daytime(platform, monkeypatch):
    """Every store here keeps the store's afternoon: what these tests weigh is the strategy, not the hour."""
    make = platform.store
    monkeypatch.setattr(platform, "store", lambda *args, **config: make(*args, **{"timezone": daytime_zone(), **config}))


def codes(answer: dict) -> list[str]:
    return [r["code"] for r in answer["reasons"]]


def enter(platform, store, credential: dict, **kw) -> dict:
    r = platform.enter(store, entry(credential, **kw))
    assert r.status_code == 200, r.text
    return r.json()


def report(platform, store, trip: str, *, total: float, settled: float, at: int = T0) -> None:
    r = platform.http.post("/v1/feedback/payment-status", headers=platform.as_retailer(store), json={
        "storeId": store.store_id, "shoppingTripId": trip, "totalAmount": {"amount": total, "code": "USD"},
        "settledAmount": {"amount": settled, "code": "USD"}, "paymentStatusTime": at})
    assert r.json() == {"status": "Accepted"}, r.text


def _connector(url: str, secret: str | None = None, timeout_ms: int = 3000) -> dict:
    """A connector that answers in time even on a loaded CI machine, unless a test wants it slow."""
    c = {"url": url, "timeoutMs": timeout_ms}
    if secret:
        c["secret"] = secret
    return {"shopperAuthorization": c}


# --- PLATFORM_MANAGED -----------------------------------------------------------------------


def test_platform_managed_scores_and_decides(platform):
    store = platform.store(riskStrategy="PLATFORM_MANAGED")
    answer = enter(platform, store, card(par=new_par()))
    assert answer["decision"] == "OPEN" and answer["decidedBy"] == "PLATFORM"
    assert 0 <= answer["risk"]["score"] <= 100 and answer["risk"]["level"] == "LOW"


def test_unpaid_trips_stop_the_shopper_until_the_retailer_reports_payment(platform):
    # The model weighs the debt too (its history is platform-wide, DESIGN 10): lenient stores, so
    # only the hard fact of the balance can deny here.
    lenient = dict(riskStrategy="PLATFORM_MANAGED", riskTolerance="HIGH")
    store = platform.store(**lenient)
    par = new_par()
    trip = enter(platform, store, card(par=par))["shoppingTripId"]
    report(platform, store, trip, total=18.4, settled=0)
    stopped = enter(platform, store, card(par=par))
    assert stopped["decision"] == "DENY" and codes(stopped) == ["OUTSTANDING_BALANCE"]
    assert stopped["decidedBy"] == "PLATFORM" and stopped["risk"]["level"] == "HIGH"
    # DESIGN 10: the balance follows the card to the retailer's other stores, and no further.
    sister = platform.store(retailer=(store.retailer_id, store.retailer_key), **lenient)
    assert codes(enter(platform, sister, card(par=par))) == ["OUTSTANDING_BALANCE"]
    elsewhere = enter(platform, platform.store(**lenient), card(par=par))
    assert elsewhere["decision"] == "OPEN", elsewhere
    report(platform, store, trip, total=18.4, settled=18.4, at=T0 + 60_000)
    assert enter(platform, store, card(par=par))["decision"] == "OPEN"


def test_a_card_tester_is_refused_as_high_risk(platform):
    stores = [platform.store(riskStrategy="PLATFORM_MANAGED", riskTolerance="LOW") for _ in range(4)]
    par = new_par()
    tester = dict(funding="prepaid", issuerCountry="NG", brand="VISA")
    for i in range(12):
        enter(platform, stores[i % 4], card("tok_decline_generic", par=par, **tester))
    answer = enter(platform, stores[0], card(par=par, **tester))
    assert answer["decision"] == "DENY" and codes(answer) == ["HIGH_RISK"], answer
    assert answer["risk"]["level"] == "HIGH" and answer["authorizedAmount"] is None


def test_none_strategy_ignores_balances(platform):
    store = platform.store(riskStrategy="NONE")
    par = new_par()
    trip = enter(platform, store, card(par=par))["shoppingTripId"]
    report(platform, store, trip, total=30, settled=0)
    answer = enter(platform, store, card(par=par))
    assert answer["decision"] == "OPEN" and answer["risk"] is None


# --- PLATFORM_RECOMMENDATION and RETAILER_MANAGED with the reference retailer ---------------------


def test_recommendation_goes_to_the_retailer_who_decides(platform, shop):
    store = platform.store(riskStrategy="PLATFORM_RECOMMENDATION", connectors=_connector(shop.url, shop.secret))
    answer = enter(platform, store, card(par=new_par()))
    assert answer["decision"] == "OPEN" and answer["decidedBy"] == "RETAILER" and answer["risk"] is not None


def test_the_retailer_s_own_balance_refuses(platform, shop):
    store = platform.store(riskStrategy="PLATFORM_RECOMMENDATION", connectors=_connector(shop.url, shop.secret))
    par = new_par()
    first = enter(platform, store, card(par=par))
    shop.retailer.repo.set_balance(first["visitor"]["id"], __import__("decimal").Decimal("12.50"), "USD")
    answer = enter(platform, store, card(par=par))
    assert answer["decision"] == "DENY" and codes(answer) == ["RETAILER_DENIED"]
    assert answer["decidedBy"] == "RETAILER"


def test_retailer_managed_deny_list(platform, shop):
    store = platform.store(riskStrategy="RETAILER_MANAGED", connectors=_connector(shop.url, shop.secret))
    par = new_par()
    first = enter(platform, store, card(par=par))
    assert first["decision"] == "OPEN" and first["decidedBy"] == "RETAILER" and first["risk"] is None
    shop.retailer.repo.deny(first["visitor"]["id"])
    answer = enter(platform, store, card(par=par))
    assert answer["decision"] == "DENY" and codes(answer) == ["RETAILER_DENIED"]


# --- wire format, ADJUST and fallbacks with loopback retailers -----------------------------------


def test_the_request_carries_the_recommendation_only_when_asked(platform):
    seen = []

    def record(received):
        seen.append(received)
        return Reply(body={"shopperAuthorized": True, "authorizationConditions": [], "shopperRisks": []})

    with LoopbackRetailer(record) as retailer:
        rec = platform.store(riskStrategy="PLATFORM_RECOMMENDATION", connectors=_connector(retailer.url))
        mine = platform.store(riskStrategy="RETAILER_MANAGED", connectors=_connector(retailer.url))
        a = enter(platform, rec, card(par=new_par()))
        b = enter(platform, mine, card(par=new_par()))
    first, second = seen[0].json(), seen[1].json()
    assert seen[0].path == "/v1/fraudandabuse/shopperauthorization"
    assert {"webhook-id", "webhook-timestamp", "webhook-signature"} <= set(seen[0].headers)
    assert first["storeId"] == rec.store_id and first["shopperIdentity"]["id"] == a["visitor"]["id"]
    assert first["authorizedAmount"] == {"value": 25.0, "currencyCode": "USD"}
    interaction = first["shopperInteraction"]
    assert interaction["shoppingTripId"] == a["shoppingTripId"]
    assert interaction["gateAuthenticationEvent"]["type"] == "CREDIT_CARD"
    assert interaction["gateAuthenticationEvent"]["data"] == {"brand": "VISA", "last4": "4242"}
    assert set(interaction["recommendation"]) == {"shopperAuthorized", "authorizationConditions", "shopperRisks"}
    assert "recommendation" not in second["shopperInteraction"]
    assert second["shopperInteraction"]["shoppingTripId"] == b["shoppingTripId"]
    assert "4242424242424242" not in str(first) + str(second)


def test_adjust_from_the_retailer_is_honoured(platform):
    adjust = {"shopperAuthorized": True, "shopperRisks": [],
              "authorizationConditions": [{"type": "ADJUST", "amount": {"value": 50.0, "currencyCode": "USD"}}]}
    with LoopbackRetailer(lambda r: Reply(body=adjust)) as retailer:
        store = platform.store(riskStrategy="RETAILER_MANAGED", connectors=_connector(retailer.url))
        answer = enter(platform, store, card(par=new_par()))
    assert answer["decision"] == "OPEN" and codes(answer) == ["PREAUTH_ADJUSTED"]
    assert answer["authorizedAmount"] == {"value": 50.0, "currencyCode": "USD"}
    trip = platform.http.get(f"/v1/trips/{answer['shoppingTripId']}", headers=platform.as_retailer(store)).json()
    assert trip["authorizedAmount"]["value"] == 50.0


def test_an_adjusted_amount_still_needs_the_processor(platform):
    adjust = {"shopperAuthorized": True,
              "authorizationConditions": [{"type": "ADJUST", "amount": {"value": 80.0, "currencyCode": "USD"}}]}
    with LoopbackRetailer(lambda r: Reply(body=adjust)) as retailer:
        store = platform.store(riskStrategy="RETAILER_MANAGED", connectors=_connector(retailer.url))
        answer = enter(platform, store, card("tok_decline_insufficient_funds", par=new_par()))
    assert answer["decision"] == "DENY" and codes(answer) == ["PREAUTH_DECLINED"]


@pytest.mark.parametrize("strategy, fallback, decision, expected", [
    ("PLATFORM_RECOMMENDATION", "DENY", "DENY", ["CONNECTOR_UNAVAILABLE", "FALLBACK_APPLIED"]),
    ("PLATFORM_RECOMMENDATION", "ALLOW", "OPEN", ["FALLBACK_APPLIED"]),
    ("PLATFORM_RECOMMENDATION", "USE_RECOMMENDATION", "OPEN", ["FALLBACK_APPLIED"]),
    ("RETAILER_MANAGED", "DENY", "DENY", ["CONNECTOR_UNAVAILABLE", "FALLBACK_APPLIED"]),
    ("RETAILER_MANAGED", "ALLOW", "OPEN", ["FALLBACK_APPLIED"]),
])
@pytest.mark.parametrize("failure", ["down", "5xx", "garbage", "slow"])
def test_fallback_when_the_connector_fails(platform, strategy, fallback, decision, expected, failure):
    replies = {"5xx": Reply(status=503, body={"error": "busy"}), "garbage": Reply(raw=b"\x00not http\r\n\r\n"),
               "slow": Reply(delay_s=2.0, body={"shopperAuthorized": True})}
    with LoopbackRetailer(lambda r: replies[failure]) as retailer:
        url = closed_port_url() if failure == "down" else retailer.url
        store = platform.store(riskStrategy=strategy, fallbackDecision=fallback,
                               connectors=_connector(url, timeout_ms=300))
        started = time.monotonic()
        answer = enter(platform, store, card(par=new_par()))
        elapsed = time.monotonic() - started
    assert answer["decision"] == decision and codes(answer) == expected
    assert answer["decidedBy"] == "FALLBACK"
    assert elapsed < 0.3 + 0.5, f"the gate waited {elapsed:.2f} s"


def test_use_recommendation_fallback_still_stops_debt(platform):
    with LoopbackRetailer(lambda r: Reply(status=500)) as retailer:
        store = platform.store(riskStrategy="PLATFORM_RECOMMENDATION", fallbackDecision="USE_RECOMMENDATION",
                               connectors=_connector(retailer.url, timeout_ms=300))
        par = new_par()
        trip = enter(platform, store, card(par=par))["shoppingTripId"]
        report(platform, store, trip, total=20, settled=5)
        answer = enter(platform, store, card(par=par))
    assert answer["decision"] == "DENY" and codes(answer) == ["OUTSTANDING_BALANCE", "FALLBACK_APPLIED"]
    assert answer["decidedBy"] == "FALLBACK"


def test_retailer_refusal_is_final_even_with_a_clean_recommendation(platform):
    with LoopbackRetailer(lambda r: Reply(body={"shopperAuthorized": False, "shopperRisks": ["BadDebt"]})) as retailer:
        store = platform.store(riskStrategy="PLATFORM_RECOMMENDATION", connectors=_connector(retailer.url))
        answer = enter(platform, store, card(par=new_par()))
    assert answer["decision"] == "DENY" and codes(answer) == ["RETAILER_DENIED"] and answer["decidedBy"] == "RETAILER"


def test_a_retried_event_asks_the_retailer_once(platform):
    """A retried gate event reaches the retailer with the same gate event id."""
    seen = []

    def record(received):
        seen.append(received.json()["shopperInteraction"]["gateAuthenticationEvent"]["id"])
        return Reply(body={"shopperAuthorized": True})

    with LoopbackRetailer(record) as retailer:
        store = platform.store(riskStrategy="RETAILER_MANAGED", connectors=_connector(retailer.url))
        body = entry(card(par=new_par()), event_id="gate-event-" + uuid.uuid4().hex[:8])
        assert platform.enter(store, body).status_code == 200
        assert platform.enter(store, body).status_code == 200  # replayed from the record, not asked again
    assert len(seen) == 1
