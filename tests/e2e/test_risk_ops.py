"""Risk operations over real HTTP on both databases (DESIGN 14): explanations, policy refusals that are no
velocity, allow and block lists, store rules in CEL, the review queue."""
from __future__ import annotations

import threading
import time
import uuid

import pytest

from support.server import card, daytime_zone, entry, new_par

T0 = int(time.time() * 1000)


def codes(answer: dict) -> list[str]:
    return [r["code"] for r in answer["reasons"]]


def enter(platform, store, credential: dict, **kw) -> dict:
    r = platform.enter(store, entry(credential, **kw))
    assert r.status_code == 200, r.text
    return r.json()


def report(platform, store, trip: str, *, total: float, settled: float, at: int) -> None:
    r = platform.http.post("/v1/feedback/payment-status", headers=platform.as_retailer(store), json={
        "storeId": store.store_id, "shoppingTripId": trip, "totalAmount": {"amount": total, "code": "USD"},
        "settledAmount": {"amount": settled, "code": "USD"}, "paymentStatusTime": at})
    assert r.json() == {"status": "Accepted"}, r.text


def label(platform, store, trip: str, risk: str = "CustomerFraud") -> None:
    r = platform.http.post("/v1/feedback/shopper-risk", headers=platform.as_retailer(store),
                           json={"storeId": store.store_id, "shoppingTripId": trip, "risk": risk})
    assert r.json() == {"status": "Accepted"}, r.text


def add_item(platform, store, list_name: str, **item) -> dict:
    r = platform.http.post(f"/v1/lists/{list_name}/items", json=item, headers=platform.as_retailer(store))
    assert r.status_code == 201, r.text
    return r.json()


def put_rules(platform, store, rules: list) -> list:
    r = platform.http.put(f"/v1/stores/{store.store_id}/rules", json=rules, headers=platform.as_retailer(store))
    assert r.status_code == 200, r.text
    return r.json()


def managed(platform, **config):
    return platform.store(riskStrategy="PLATFORM_MANAGED", timezone=daytime_zone(), **config)


# --- explanations -------------------------------------------------------------------------------------

def test_a_scored_decision_carries_its_model_version_and_explanation(platform):
    store = managed(platform)
    answer = enter(platform, store, card(par=new_par()))
    risk = answer["risk"]
    assert risk["modelVersion"].startswith("v") and 1 <= len(risk["explanation"]) <= 5
    magnitudes = [abs(c["contribution"]) for c in risk["explanation"]]
    assert magnitudes == sorted(magnitudes, reverse=True)
    assert {"feature", "value", "contribution"} == set(risk["explanation"][0])
    listed = platform.http.get(f"/v1/stores/{store.store_id}/decisions", headers=platform.as_retailer(store)).json()
    assert listed["decisions"][0]["risk"] == risk  # stored, not recomputed
    # The model did not run: no version, no explanation.
    assert enter(platform, platform.store(riskStrategy="NONE"), card(par=new_par()))["risk"] is None


# --- policy refusals are not velocity -----------------------------------------------------------------

def test_a_settled_debtor_opens_on_the_next_tap_at_medium_tolerance(platform):
    store = managed(platform, riskTolerance="MEDIUM")
    par = new_par()
    trip = enter(platform, store, card(par=par))["shoppingTripId"]
    report(platform, store, trip, total=18.4, settled=0, at=T0)
    for _ in range(6):  # a shopper at the gate, trying again and again
        denied = enter(platform, store, card(par=par))
        assert codes(denied) == ["OUTSTANDING_BALANCE"]
    report(platform, store, trip, total=18.4, settled=18.4, at=T0 + 60_000)
    answer = enter(platform, store, card(par=par))
    assert answer["decision"] == "OPEN", answer
    features = {c["feature"]: c["value"] for c in answer["risk"]["explanation"]}
    assert features.get("entries_1h", 1) <= 1  # the refused taps are not entries


# --- lists --------------------------------------------------------------------------------------------

def test_list_items_are_added_read_and_removed_per_retailer(platform):
    store, other = platform.store(), platform.store()
    item = add_item(platform, store, "block", type="ISSUER_COUNTRY", value="NG", note="test",
                    expiresAt="2099-01-01T00:00:00Z")
    assert item["list"] == "block" and item["source"] == "API" and item["expiresAt"] == "2099-01-01T00:00:00Z"
    mine = platform.as_retailer(store)
    assert platform.http.get(f"/v1/lists/block/items/{item['itemId']}", headers=mine).json() == item
    assert item in platform.http.get("/v1/lists/block/items", headers=mine).json()["items"]
    assert platform.http.get("/v1/lists/allow/items", headers=mine).json() == {"items": []}
    theirs = platform.as_retailer(other)
    assert platform.http.get(f"/v1/lists/block/items/{item['itemId']}", headers=theirs).status_code == 404
    assert platform.http.delete(f"/v1/lists/block/items/{item['itemId']}", headers=theirs).status_code == 404
    assert platform.http.get(f"/v1/lists/allow/items/{item['itemId']}", headers=mine).status_code == 404
    assert platform.http.delete(f"/v1/lists/block/items/{item['itemId']}", headers=mine).status_code == 204
    assert platform.http.get(f"/v1/lists/block/items/{item['itemId']}", headers=mine).status_code == 404


@pytest.mark.parametrize("body, field", [
    ({"type": "ISSUER_COUNTRY", "value": "Nigeria"}, "value"),
    ({"type": "CARD", "value": "x"}, "type"),
    ({"type": "INSTRUMENT"}, "value"),
    ({"type": "VISITOR", "value": "v-1", "expiresAt": "tomorrow"}, "expiresAt"),
    ({"type": "VISITOR", "value": "v-1", "expiresAt": "2001-01-01T00:00:00Z"}, "expiresAt"),
    ({"type": "VISITOR", "value": "v-1", "note": "x" * 600}, "note"),
])
def test_bad_list_items_are_refused_naming_the_field(platform, body, field):
    store = platform.store()
    r = platform.http.post("/v1/lists/block/items", json=body, headers=platform.as_retailer(store))
    assert r.status_code == 400 and r.json()["error"]["fields"] == [field], r.text
    assert platform.http.get("/v1/lists/block/items", headers=platform.as_retailer(store)).json() == {"items": []}
    assert platform.http.post("/v1/lists/grey/items", json=body, headers=platform.as_retailer(store)).status_code == 404


def test_the_block_list_denies_naming_the_item_and_the_allow_list_skips_only_the_model(platform):
    store = managed(platform, riskTolerance="LOW")
    par = new_par()
    first = enter(platform, store, card(par=par))
    instrument = first["visitor"]["id"]
    blocked = add_item(platform, store, "block", type="INSTRUMENT", value=instrument)
    denied = enter(platform, store, card(par=par))
    assert denied["decision"] == "DENY" and codes(denied) == ["INSTRUMENT_BLOCKED"]
    assert blocked["itemId"] in denied["reasons"][0]["message"]
    # A block wins over an allow of the same retailer; another retailer's own block does not apply here.
    add_item(platform, store, "allow", type="INSTRUMENT", value=instrument)
    assert codes(enter(platform, store, card(par=par))) == ["INSTRUMENT_BLOCKED"]
    assert enter(platform, managed(platform), card(par=par))["decision"] == "OPEN"
    platform.http.delete(f"/v1/lists/block/items/{blocked['itemId']}", headers=platform.as_retailer(store))
    allowed = enter(platform, store, card(par=par))
    assert allowed["decision"] == "OPEN" and allowed["risk"] == {"allowListed": True}
    # The allow list never skips the balance, nor the pre-authorization.
    report(platform, store, allowed["shoppingTripId"], total=10, settled=0, at=T0)
    assert codes(enter(platform, store, card(par=par))) == ["OUTSTANDING_BALANCE"]
    report(platform, store, allowed["shoppingTripId"], total=10, settled=10, at=T0 + 1000)
    assert codes(enter(platform, store, card("tok_decline_generic", par=par))) == ["PREAUTH_DECLINED"]


def test_an_issuer_country_block_applies_under_every_strategy(platform):
    store = platform.store(riskStrategy="NONE")
    add_item(platform, store, "block", type="ISSUER_COUNTRY", value="FR")
    assert codes(enter(platform, store, card(par=new_par(), issuerCountry="FR"))) == ["INSTRUMENT_BLOCKED"]
    assert enter(platform, store, card(par=new_par(), issuerCountry="DE"))["decision"] == "OPEN"


def test_a_fraud_label_is_a_feedback_block_that_the_retailer_can_lift(platform):
    store = platform.store(riskStrategy="NONE")
    par = new_par()
    trip = enter(platform, store, card(par=par))["shoppingTripId"]
    label(platform, store, trip)
    items = platform.http.get("/v1/lists/block/items", headers=platform.as_retailer(store)).json()["items"]
    assert [i["source"] for i in items] == ["FEEDBACK"] and items[0]["type"] == "INSTRUMENT"
    assert codes(enter(platform, store, card(par=par))) == ["INSTRUMENT_BLOCKED"]
    assert codes(enter(platform, platform.store(riskStrategy="NONE"), card(par=par))) == ["INSTRUMENT_BLOCKED"]
    r = platform.http.delete(f"/v1/lists/block/items/{items[0]['itemId']}", headers=platform.as_retailer(store))
    assert r.status_code == 204
    assert enter(platform, store, card(par=par))["decision"] == "OPEN"


def test_another_retailer_s_fraud_label_still_holds_the_block(platform):
    a, b = platform.store(riskStrategy="NONE"), platform.store(riskStrategy="NONE")
    par = new_par()
    trips = [enter(platform, s, card(par=par))["shoppingTripId"] for s in (a, b)]
    label(platform, a, trips[0])
    label(platform, b, trips[1])
    mine = platform.http.get("/v1/lists/block/items", headers=platform.as_retailer(a)).json()["items"]
    platform.http.delete(f"/v1/lists/block/items/{mine[0]['itemId']}", headers=platform.as_retailer(a))
    held = enter(platform, a, card(par=par))
    assert codes(held) == ["INSTRUMENT_BLOCKED"] and "CustomerFraud" in held["reasons"][0]["message"]


# --- rules --------------------------------------------------------------------------------------------

def test_rules_deny_review_and_adjust_in_order(platform):
    store = platform.store(riskStrategy="NONE")
    rules = [
        {"name": "no prepaid", "when": 'card.funding == "prepaid"', "action": "DENY"},
        {"name": "groups hold more", "when": "partySize >= 3", "action": "ADJUST",
         "amount": {"value": 60.0, "currencyCode": "USD"}},
        {"name": "look at Amex", "when": 'card.brand == "AMEX"', "action": "REVIEW"},
    ]
    assert put_rules(platform, store, rules) == rules
    assert platform.http.get(f"/v1/stores/{store.store_id}/rules", headers=platform.as_retailer(store)).json() == rules
    denied = enter(platform, store, card(par=new_par(), funding="prepaid", brand="AMEX"))
    assert codes(denied) == ["RULE_DENIED"] and "no prepaid" in denied["reasons"][0]["message"]
    adjusted = enter(platform, store, card(par=new_par()), party_size=3)
    assert adjusted["authorizedAmount"] == {"value": 60.0, "currencyCode": "USD"}
    assert codes(adjusted) == ["PREAUTH_ADJUSTED"]
    reviewed = enter(platform, store, card(par=new_par(), brand="AMEX"))
    assert reviewed["decision"] == "OPEN"
    queue = platform.http.get(f"/v1/stores/{store.store_id}/reviews", headers=platform.as_retailer(store)).json()
    assert [(r["eventId"], r["rule"], r["outcome"]) for r in queue["reviews"]] == \
        [(reviewed["eventId"], "look at Amex", None)]
    assert queue["reviews"][0]["shoppingTripId"] == reviewed["shoppingTripId"]
    assert put_rules(platform, store, []) == []
    assert enter(platform, store, card(par=new_par(), funding="prepaid"))["decision"] == "OPEN"


def test_a_rule_s_adjust_and_the_model_s_the_larger_wins(platform):
    store = managed(platform, riskTolerance="HIGH")
    put_rules(platform, store, [{"name": "small hold", "when": "true", "action": "ADJUST",
                                 "amount": {"value": 30.0, "currencyCode": "USD"}}])
    answer = enter(platform, store, card(par=new_par()))
    assert answer["authorizedAmount"]["value"] == 30.0 and "PREAUTH_ADJUSTED" in codes(answer)


def test_rules_see_the_risk_and_history_facts(platform):
    store = managed(platform, riskTolerance="HIGH")
    put_rules(platform, store, [{"name": "second visit", "when": "history.tripsTotal >= 1 && risk.score >= 0",
                                 "action": "DENY"}])
    par = new_par()
    assert enter(platform, store, card(par=par))["decision"] == "OPEN"
    assert codes(enter(platform, store, card(par=par))) == ["RULE_DENIED"]


def test_a_rule_that_fails_at_run_time_is_skipped_and_recorded(platform):
    store = platform.store(riskStrategy="NONE")  # no model: ``risk.score`` is not there
    put_rules(platform, store, [{"name": "risky", "when": "risk.score > 50", "action": "DENY"},
                                {"name": "groups", "when": "partySize > 2", "action": "DENY"}])
    answer = enter(platform, store, card(par=new_par()))
    assert answer["decision"] == "OPEN"
    view = platform.http.get(f"/v1/stores/{store.store_id}/decisions", headers=platform.as_retailer(store)).json()
    failures = view["decisions"][0]["ruleFailures"]
    assert [f["name"] for f in failures] == ["risky"] and "score" in failures[0]["error"]
    assert codes(enter(platform, store, card(par=new_par()), party_size=3)) == ["RULE_DENIED"]


@pytest.mark.parametrize("when, why", [
    ("partySize >", "does not compile"),
    ('partySize + "x" > 1', "does not compile"),
    ("partySize", "true or false"),
    ("partySize > 1 || " + " || ".join(["partySize == 7"] * 150), "at most 2000"),
    ("[" + ",".join(["1"] * 60) + "].all(a, [" + ",".join(["1"] * 60) + "].all(b, [" + ",".join(["1"] * 60)
     + "].all(c, a + b + c > 0)))", "too long"),
])
def test_a_rule_that_cannot_run_is_refused_naming_it_and_nothing_changes(platform, when, why):
    store = platform.store()
    kept = [{"name": "kept", "when": "partySize > 3", "action": "DENY"}]
    put_rules(platform, store, kept)
    r = platform.http.put(f"/v1/stores/{store.store_id}/rules", headers=platform.as_retailer(store),
                          json=[{"name": "fine", "when": "true", "action": "REVIEW"},
                                {"name": "broken rule", "when": when, "action": "DENY"}])
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and error["fields"] == ["[1].when"]
    assert "broken rule" in error["message"] and why in error["message"]
    assert platform.http.get(f"/v1/stores/{store.store_id}/rules", headers=platform.as_retailer(store)).json() == kept


def test_rules_are_another_retailer_s_404_and_need_a_valid_shape(platform):
    store, other = platform.store(), platform.store()
    r = platform.http.put(f"/v1/stores/{store.store_id}/rules", json=[], headers=platform.as_retailer(other))
    assert r.status_code == 404
    r = platform.http.put(f"/v1/stores/{store.store_id}/rules", headers=platform.as_retailer(store),
                          json=[{"name": "x", "when": "true", "action": "BLOCK"}])
    assert r.status_code == 400 and r.json()["error"]["fields"] == ["[0].action"]
    r = platform.http.put(f"/v1/stores/{store.store_id}/rules", headers=platform.as_retailer(store),
                          json=[{"name": "x", "when": "true", "action": "ADJUST"}])
    assert r.status_code == 400 and r.json()["error"]["fields"] == ["[0].amount"]
    r = platform.http.put(f"/v1/stores/{store.store_id}/rules", headers=platform.as_retailer(store), json={"a": 1})
    assert r.status_code == 400


def test_the_rules_test_runs_on_sample_facts_and_records_nothing(platform):
    store = platform.store()
    put_rules(platform, store, [{"name": "night", "when": "localHour < 6", "action": "DENY"}])
    facts = {"partySize": 1, "channel": "CREDIT_CARD", "localHour": 3, "card": {}, "risk": {}, "history": {}}
    r = platform.http.post(f"/v1/stores/{store.store_id}/rules/test", json={"facts": facts},
                           headers=platform.as_retailer(store))
    assert r.json() == {"outcome": "DENY", "matched": ["night"], "results": [{"name": "night", "matched": True,
                                                                            "error": None}]}
    given = [{"name": "card", "when": 'card.brand == "VISA"', "action": "REVIEW"},
             {"name": "late", "when": "localHour < 6", "action": "REVIEW"}]
    r = platform.http.post(f"/v1/stores/{store.store_id}/rules/test", json={"facts": facts, "rules": given},
                           headers=platform.as_retailer(store)).json()
    assert r["outcome"] == "REVIEW" and r["matched"] == ["late"]
    assert r["results"][0]["matched"] is False and "brand" in r["results"][0]["error"]
    r = platform.http.post(f"/v1/stores/{store.store_id}/rules/test", json={"facts": {"partySize": "two"}},
                           headers=platform.as_retailer(store))
    assert r.status_code == 400 and r.json()["error"]["fields"] == ["facts.partySize"]
    assert platform.http.get(f"/v1/stores/{store.store_id}/reviews", headers=platform.as_retailer(store)).json() == \
        {"reviews": []}


# --- the review queue ---------------------------------------------------------------------------------

def _reviewed_entry(platform):
    store = platform.store(riskStrategy="NONE")
    put_rules(platform, store, [{"name": "everyone", "when": "true", "action": "REVIEW"}])
    par = new_par()
    enter(platform, store, card(par=par))
    queue = platform.http.get(f"/v1/stores/{store.store_id}/reviews", headers=platform.as_retailer(store)).json()
    return store, par, queue["reviews"][0]


def test_a_fraud_verdict_becomes_a_customer_fraud_label_and_a_second_verdict_is_409(platform):
    store, par, review = _reviewed_entry(platform)
    path, mine = f"/v1/reviews/{review['reviewId']}", platform.as_retailer(store)
    assert platform.http.post(path, json={"outcome": "MAYBE"}, headers=mine).status_code == 400
    assert platform.http.post(path, json={"outcome": "FRAUD"}, headers=platform.as_retailer(platform.store())) \
        .status_code == 404
    r = platform.http.post(path, json={"outcome": "FRAUD"}, headers=mine)
    assert r.status_code == 200 and r.json()["outcome"] == "FRAUD"
    assert platform.http.post(path, json={"outcome": "OK"}, headers=mine).status_code == 409
    items = platform.http.get("/v1/lists/block/items", headers=mine).json()["items"]
    assert [i["source"] for i in items] == ["FEEDBACK"]
    assert codes(enter(platform, store, card(par=par))) == ["INSTRUMENT_BLOCKED"]


def test_an_ok_verdict_labels_nothing(platform):
    store, par, review = _reviewed_entry(platform)
    r = platform.http.post(f"/v1/reviews/{review['reviewId']}", json={"outcome": "OK"},
                           headers=platform.as_retailer(store))
    assert r.status_code == 200
    assert platform.http.get("/v1/lists/block/items", headers=platform.as_retailer(store)).json() == {"items": []}


def test_two_verdicts_at_once_one_wins(platform):
    store, _, review = _reviewed_entry(platform)
    path, results = f"/v1/reviews/{review['reviewId']}", []
    barrier = threading.Barrier(4)

    def verdict(outcome: str) -> None:
        barrier.wait()
        results.append(platform.http.post(path, json={"outcome": outcome}, headers=platform.as_retailer(store)))

    threads = [threading.Thread(target=verdict, args=(o,)) for o in ("FRAUD", "BAD_DEBT", "OK", "FRAUD")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status_code for r in results) == [200, 409, 409, 409]
    winner = next(r for r in results if r.status_code == 200).json()["outcome"]
    queue = platform.http.get(f"/v1/stores/{store.store_id}/reviews", headers=platform.as_retailer(store)).json()
    assert queue["reviews"][0]["outcome"] == winner


def test_a_visitor_block_stops_a_badge_and_lifting_it_lets_the_visitor_in(platform, shop):
    visitor = f"v-{uuid.uuid4().hex[:10]}"
    csn = uuid.uuid4().hex[:14].upper()
    shop.retailer.repo.add_visitor(visitor, "SHOPPER")
    shop.retailer.repo.add_badge(f"CSN:{csn}", visitor)
    store = platform.store(entryMethods=["BADGE"], badgeFormats=["CSN"],
                           connectors={"identity": {"url": shop.url, "secret": shop.secret, "timeoutMs": 3000}})
    badge = entry({"csn": csn}, channel="BADGE")
    item = add_item(platform, store, "block", type="VISITOR", value=visitor, note="banned for a week")
    denied = enter(platform, store, {"csn": csn}, channel="BADGE")
    assert codes(denied) == ["INSTRUMENT_BLOCKED"] and item["itemId"] in denied["reasons"][0]["message"]
    assert denied["visitor"] == {"id": visitor, "type": "SHOPPER"}
    platform.http.delete(f"/v1/lists/block/items/{item['itemId']}", headers=platform.as_retailer(store))
    assert platform.enter(store, badge).json()["decision"] == "OPEN"


# --- the audit of risk operations (DESIGN 15) -----------------------------------------------------------

def test_list_rule_and_verdict_changes_are_in_the_audit_log_and_a_refused_one_is_not(platform):
    store, _, review = _reviewed_entry(platform)  # its rules were put: "everyone" -> REVIEW
    mine = platform.as_retailer(store)
    item = add_item(platform, store, "allow", type="VISITOR", value="member-42", note="regular")
    assert platform.http.delete(f"/v1/lists/allow/items/{item['itemId']}", headers=mine).status_code == 204
    assert platform.http.put(f"/v1/stores/{store.store_id}/rules", json=[{"name": "bad", "when": "partySize +",
                                                                          "action": "DENY"}], headers=mine).status_code == 400
    assert platform.http.post(f"/v1/reviews/{review['reviewId']}", json={"outcome": "OK"}, headers=mine).status_code == 200
    entries = platform.http.get("/v1/audit", headers=mine).json()["entries"]
    risk_ops = {"review.decided", "listItem.removed", "listItem.added", "rules.replaced"}
    mine_only = [e for e in entries if e["action"] in risk_ops]
    assert [e["action"] for e in mine_only] == ["review.decided", "listItem.removed", "listItem.added", "rules.replaced"]
    by_action = {e["action"]: e for e in mine_only}
    assert by_action["listItem.added"]["after"] == item and by_action["listItem.removed"]["before"] == item
    assert by_action["rules.replaced"]["after"]["rules"][0]["name"] == "everyone"
    assert by_action["rules.replaced"]["before"] == {"rules": []}
    assert by_action["review.decided"]["before"]["outcome"] is None
    assert by_action["review.decided"]["after"]["outcome"] == "OK"
    assert all(e["actor"]["type"] == "RETAILER_KEY" for e in mine_only)
