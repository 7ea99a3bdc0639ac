"""``GET /v1/stores/{storeId}/decisions?after=`` (DESIGN 13): the feed over real HTTP, on both databases."""
from __future__ import annotations

import time

from support.server import Platform, StoreHandle, card, entry, new_par


def feed(platform: Platform, store: StoreHandle, after: str, *, limit: int = 100, **extra: str):
    return platform.http.get(f"/v1/stores/{store.store_id}/decisions",
                             params={"after": after, "limit": limit, **extra}, headers=platform.as_retailer(store))


CATCH_UP_S = 20  # on PostgreSQL the feed waits for the server's oldest writing transaction, maybe another test's


def follow(platform: Platform, store: StoreHandle, cursor: str, *, expect: int, limit: int = 2) -> tuple[list, str]:
    """Follow ``nextCursor`` from ``cursor`` until ``expect`` decisions came and a page is empty."""
    seen: list = []
    deadline = time.monotonic() + CATCH_UP_S
    while True:
        page = feed(platform, store, cursor, limit=limit).json()
        if not page["decisions"]:
            assert page["nextCursor"] == cursor  # an empty page hands back the cursor it was given
            if len(seen) >= expect or time.monotonic() > deadline:
                return seen, cursor
            time.sleep(0.05)
            continue
        assert len(page["decisions"]) <= limit and page["nextCursor"] != cursor
        seen += page["decisions"]
        cursor = page["nextCursor"]


def tap(platform: Platform, store: StoreHandle, n: int) -> list[str]:
    events = []
    for _ in range(n):
        body = entry(card(par=new_par()))
        assert platform.enter(store, body).status_code == 200
        events.append(body["eventId"])
    return events


def test_a_reader_following_next_cursor_sees_every_decision_once(platform: Platform):
    store = platform.store()
    first = feed(platform, store, "0")
    assert first.status_code == 200 and first.json() == {"decisions": [], "nextCursor": "0"}
    sent = tap(platform, store, 5)
    seen, cursor = follow(platform, store, "0", expect=5)
    assert [d["eventId"] for d in seen] == sent
    assert {d["storeId"] for d in seen} == {store.store_id} and all(d["gateId"] == "lane-1" for d in seen)
    more = tap(platform, store, 2)
    assert [d["eventId"] for d in follow(platform, store, cursor, expect=2)[0]] == more
    # since= keeps working for people, and keeps its answer's shape.
    since = platform.http.get(f"/v1/stores/{store.store_id}/decisions", params={"since": "2000-01-01T00:00:00Z"},
                              headers=platform.as_retailer(store)).json()
    assert set(since) == {"decisions"} and len(since["decisions"]) == 7


def test_a_cursor_the_feed_did_not_issue_is_refused_naming_after(platform: Platform):
    store, other = platform.store(), platform.store()
    tap(platform, store, 1)
    issued = follow(platform, store, "0", expect=1)[1]
    txid, decision_id, tag = issued.split(".")
    forged = [f"{txid}.{int(decision_id) + 1}.{tag}", f"{txid}.{decision_id}.{'0' * len(tag)}", "1", "-1", "abc",
              f"{txid}.{decision_id}", " 0", issued + "x"]
    for cursor in forged:
        r = feed(platform, store, cursor)
        assert r.status_code == 400, (cursor, r.text)
        assert r.json()["error"]["code"] == "VALIDATION_ERROR" and r.json()["error"]["fields"] == ["after"]
    # A cursor of one store is not one of another's.
    r = platform.http.get(f"/v1/stores/{other.store_id}/decisions", params={"after": issued},
                          headers=platform.op)
    assert r.status_code == 400 and r.json()["error"]["fields"] == ["after"]
    both = feed(platform, store, "0", since="2000-01-01T00:00:00Z")
    assert both.status_code == 400 and both.json()["error"]["fields"] == ["after", "since"]
    assert feed(platform, store, "0", limit=0).status_code == 400
    # Another retailer's store is unknown, whatever the cursor.
    theirs = platform.http.get(f"/v1/stores/{other.store_id}/decisions", params={"after": "0"},
                               headers=platform.as_retailer(store))
    assert theirs.status_code == 404
    assert feed(platform, store, issued).json() == {"decisions": [], "nextCursor": issued}
