"""The investigation pages over plain HTTP, on SQLite and PostgreSQL: scope, refusals, the CSV's content,
and pages free of inline script."""
from __future__ import annotations

import csv
import io
import re

from investigation import mine, past_decision

from entrygate.console.exports import DECISION_COLUMNS, TRIP_COLUMNS
from support.server import card, entry, new_par


def test_another_retailers_decisions_and_exports_are_not_found(platform, signed_client):
    client = signed_client
    theirs = platform.store()
    platform.enter(theirs, entry(card(par=new_par())))
    for path in ("/decisions", "/decisions/1", "/decisions.csv", "/trips.csv", "/live/gates"):
        r = client.http.get(f"/console/stores/{theirs.store_id}{path}")
        assert r.status_code == 404, path
        assert "text/csv" not in r.headers["content-type"]


def test_an_unknown_decision_and_bad_filters_are_refused_in_words(platform, signed_client, shared_login):
    client = signed_client
    store = mine(platform, shared_login)
    assert client.http.get(f"/console/stores/{store.store_id}/decisions/999999").status_code == 404
    for query, field in (("last4=12a4", "last4"), ("reason=NOT_A_REASON", "reason"), ("from=yesterday", "from"),
                         ("from=2026-02-02&to=2026-02-01", "to"), ("visitor=" + "v" * 300, "visitor")):
        for path in ("/decisions", "/decisions.csv", "/trips.csv"):
            r = client.http.get(f"/console/stores/{store.store_id}{path}?{query}")
            assert r.status_code == 400, (path, query)
            assert f'id="err-{field}"' in r.text, (path, query)


def test_the_csv_holds_every_decision_with_its_columns_and_no_formula(platform, signed_client, shared_login):
    client = signed_client
    store = mine(platform, shared_login, timezone="Asia/Tokyo")
    opened = platform.enter(store, entry(card(par=new_par(), last4="3333"))).json()
    odd = past_decision(platform, store, gate="lane-1", minutes_ago=1, visitor_id="=HYPERLINK(\"x\")")
    r = client.http.get(f"/console/stores/{store.store_id}/decisions.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == f'attachment; filename="decisions-{store.store_id}.csv"'
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert tuple(rows[0]) == DECISION_COLUMNS
    by_event = {row["event_id"]: row for row in rows}
    tapped = by_event[opened["eventId"]]
    assert tapped["decision"] == "OPEN" and tapped["card_brand"] == "VISA" and tapped["card_last4"] == "3333"
    assert tapped["trip_id"] == opened["shoppingTripId"] and tapped["authorized_amount"] == "25.00"
    assert tapped["store_id"] == store.store_id and tapped["visitor_id"] == opened["visitor"]["id"]
    assert tapped["decided_at_utc"].endswith("Z") and tapped["decided_at_store"].endswith("+09:00")
    assert by_event[odd]["visitor_id"].startswith("'=")  # a spreadsheet shows it, never runs it
    trips = list(csv.DictReader(io.StringIO(client.http.get(f"/console/stores/{store.store_id}/trips.csv").text)))
    assert tuple(trips[0]) == TRIP_COLUMNS
    assert [(t["trip_id"], t["status"], t["authorized_amount"]) for t in trips] == \
        [(opened["shoppingTripId"], "OPEN", "25.00")]


def test_investigation_pages_carry_no_inline_script(platform, signed_client, shared_login):
    client = signed_client
    store = mine(platform, shared_login)
    platform.enter(store, entry(card(par=new_par())))
    decision_id = re.search(r'/decisions/(\d+)"', client.http.get(f"/console/stores/{store.store_id}/live").text)[1]
    for path in ("/live", "/decisions", f"/decisions/{decision_id}", "/live/gates"):
        html = client.http.get(f"/console/stores/{store.store_id}{path}").text
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert not re.search(r"\son[a-z]+=", html), path
