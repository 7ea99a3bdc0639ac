"""The console's lists page, rule editor with its test box, and review queue, over plain HTTP against the
real server on both databases (DESIGN 14)."""
from __future__ import annotations

import json
import re

from support.server import card, entry, new_par


def _store(platform, login, **config):
    return platform.store(retailer=(login.retailer_id, login.retailer_key), **config)


def test_the_lists_page_adds_and_removes_items(signed_client, shared_login, platform):
    c = signed_client
    token = c.csrf("/console/lists")
    r = c.http.post("/console/lists/items", data={"csrf_token": token, "list": "block", "type": "ISSUER_COUNTRY",
                                                  "value": "NG", "note": "console test",
                                                  "expiresAt": "2099-01-01T00:00:00Z"})
    assert r.status_code == 303 and r.headers["location"] == "/console/lists?done=added"
    items = platform.http.get("/v1/lists/block/items", headers=shared_login.api).json()["items"]
    [item] = [i for i in items if i["note"] == "console test"]
    assert item["source"] == "CONSOLE" and item["expiresAt"] == "2099-01-01T00:00:00Z"
    page = c.http.get("/console/lists").text
    assert f'id="item-{item["itemId"]}"' in page and "<script>" not in page
    refused = c.http.post("/console/lists/items", data={"csrf_token": token, "list": "block",
                                                        "type": "ISSUER_COUNTRY", "value": "Nigeria"})
    assert refused.status_code == 400 and "two capital letters" in refused.text
    r = c.http.post(f"/console/lists/block/items/{item['itemId']}/delete", data={"csrf_token": token})
    assert r.status_code == 303
    assert platform.http.get(f"/v1/lists/block/items/{item['itemId']}", headers=shared_login.api).status_code == 404
    # Without the CSRF token nothing changes.
    assert c.http.post("/console/lists/items", data={"list": "block", "type": "VISITOR", "value": "v"}).status_code == 403


def test_the_rule_editor_saves_tests_and_refuses_naming_the_rule(signed_client, shared_login, platform):
    store = _store(platform, shared_login)
    c, path = signed_client, f"/console/stores/{store.store_id}/rules"
    token = c.csrf(path)
    rows = {"csrf_token": token, "name-0": "groups", "when-0": "partySize >= 3", "action-0": "ADJUST", "amount-0": "60",
            "name-1": "night", "when-1": "localHour < 6", "action-1": "DENY", "amount-1": "",
            "name-2": "", "when-2": "", "action-2": "DENY", "amount-2": ""}
    facts = {"partySize": 1, "channel": "CREDIT_CARD", "localHour": 3, "card": {}, "risk": {}, "history": {}}
    tested = c.http.post(path + "/test", data={**rows, "facts": json.dumps(facts)})
    assert tested.status_code == 200
    result = re.search(r'<div id="test-result".*?</div>', tested.text, re.S).group(0)
    assert "<strong>DENY</strong>" in result and "night" in result
    assert platform.http.get(f"/v1/stores/{store.store_id}/rules", headers=shared_login.api).json() == []
    assert c.http.post(path, data=rows).status_code == 303
    stored = platform.http.get(f"/v1/stores/{store.store_id}/rules", headers=shared_login.api).json()
    assert [r["name"] for r in stored] == ["groups", "night"]
    assert stored[0]["amount"] == {"value": 60.0, "currencyCode": "USD"}
    broken = c.http.post(path, data={**rows, "when-1": "localHour <"})
    assert broken.status_code == 400 and "night" in broken.text and "[1].when" in broken.text
    assert len(platform.http.get(f"/v1/stores/{store.store_id}/rules", headers=shared_login.api).json()) == 2


def test_the_review_queue_takes_one_verdict(signed_client, shared_login, platform):
    store = _store(platform, shared_login)
    platform.http.put(f"/v1/stores/{store.store_id}/rules", headers=shared_login.api,
                      json=[{"name": "look", "when": "true", "action": "REVIEW"}])
    par = new_par()
    assert platform.enter(store, entry(card(par=par))).json()["decision"] == "OPEN"
    c, path = signed_client, f"/console/stores/{store.store_id}/reviews"
    page = c.http.get(path)
    [review_id] = re.findall(r'id="review-([^"]+)"', page.text)
    assert 'value="FRAUD"' in page.text
    token = c.csrf(path)
    r = c.http.post(f"{path}/{review_id}", data={"csrf_token": token, "outcome": "FRAUD"})
    assert r.status_code == 303
    assert "Fraud</strong>" in c.http.get(path).text
    assert c.http.post(f"{path}/{review_id}", data={"csrf_token": token, "outcome": "OK"}).status_code == 400
    blocked = platform.enter(store, entry(card(par=par))).json()
    assert [x["code"] for x in blocked["reasons"]] == ["INSTRUMENT_BLOCKED"]
