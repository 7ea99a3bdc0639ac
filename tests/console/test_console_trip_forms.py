"""A trip's pre-authorization on the console over plain HTTP (no browser, no script): the forms,
their CSRF token and operation key, errors in words, and what another retailer cannot reach."""
from __future__ import annotations

import threading

import httpx

from consolekit import ConsoleClient, forms, history, report, shown, tap, trip_path
from support.server import new_par


def _mine(platform, login, **config):  # noqa: ANN001, ANN202
    return platform.store(retailer=(login.retailer_id, login.retailer_key), **config)


def _page(client: ConsoleClient, store, trip_id: str, query: str = "") -> str:  # noqa: ANN001
    r = client.http.get(trip_path(store, trip_id) + query)
    assert r.status_code == 200, r.text
    return r.text


def test_the_trip_page_shows_the_hold_the_gate_placed(platform, signed_client, shared_login):
    store = _mine(platform, shared_login)
    trip_id = tap(platform, store)
    page = _page(signed_client, store, trip_id)
    assert shown(page, "hold-status") == "HELD"
    assert (shown(page, "hold-held"), shown(page, "hold-captured"), shown(page, "hold-refunded")) == (
        "25.00 USD", "0.00 USD", "0.00 USD")
    assert 'name="amount" type="text" inputmode="decimal" autocomplete="off" size="12" value="25.00"' in page
    assert set(forms(page)) == {"capture", "release", "close", "sign-out"}
    assert "Nothing has happened to the hold since the gate placed it." in page


def test_every_trip_form_needs_the_sessions_csrf_token(platform, signed_client, shared_login):
    client, store = signed_client, _mine(platform, shared_login)
    trip_id = tap(platform, store)
    page = forms(_page(client, store, trip_id))
    for name, values in (("capture", {"amount": "10.00"}), ("release", {}), ("close", {})):
        form = page[name]
        without = {k: v for k, v in form.fields.items() if k != "csrf_token"}
        assert client.http.post(form.action, data={**without, **values}).status_code == 403, name
        assert client.http.post(form.action, data={**without, "csrf_token": "0" * 64, **values}).status_code == 403
        r = client.http.post(form.action, data={**form.fields, **values}, headers={"Origin": "https://evil.example"})
        assert r.status_code == 403 and "Form refused" in r.text, name
    after = _page(client, store, trip_id)
    assert shown(after, "hold-status") == "HELD" and history(after) == [] and shown(after, "trip-status") == "OPEN"


def test_without_a_session_the_forms_do_nothing(platform, signed_client, shared_login):
    store = _mine(platform, shared_login)
    trip_id = tap(platform, store)
    page = forms(_page(signed_client, store, trip_id))
    with httpx.Client(base_url=platform.url, follow_redirects=False) as nobody:  # no viewer: no session cookie
        r = nobody.get(trip_path(store, trip_id))
        assert r.status_code == 303 and r.headers["location"].startswith("/console/sign-in?next=")
        for name in ("capture", "release", "close"):
            r = page[name].post(nobody, amount="10.00")
            assert r.status_code == 401 and "Your session has ended" in r.text, name
    after = _page(signed_client, store, trip_id)
    assert shown(after, "hold-status") == "HELD" and shown(after, "trip-status") == "OPEN"


def test_a_capture_form_sent_twice_captures_once(platform, signed_client, shared_login):
    client, store = signed_client, _mine(platform, shared_login)
    trip_id = tap(platform, store)
    capture = forms(_page(client, store, trip_id))["capture"]
    first, second = capture.post(client.http, amount="18.40"), capture.post(client.http, amount="18.40")
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == f"{trip_path(store, trip_id)}?done=capture#hold"
    page = _page(client, store, trip_id, "?done=capture")
    assert shown(page, "trip-notice") == "Captured 18.40 USD."
    assert shown(page, "hold-status") == "CAPTURED" and shown(page, "hold-captured") == "18.40 USD"
    assert len(history(page)) == 1 and "Capture 18.40 USD CAPTURED no" in history(page)[0]
    assert (shown(page, "trip-total"), shown(page, "trip-settled")) == ("18.40 USD", "18.40 USD")
    # The same form again with another amount is not a new capture either.
    r = capture.post(client.http, amount="5.00")
    assert r.status_code == 409 and "already sent with other values" in shown(r.text, "hold-problem")
    assert len(history(_page(client, store, trip_id))) == 1


def test_a_double_click_at_once_is_one_capture(platform, signed_client, shared_login):
    client, store = signed_client, _mine(platform, shared_login)
    trip_id = tap(platform, store)
    capture = forms(_page(client, store, trip_id))["capture"]
    cookies = dict(client.http.cookies)
    barrier, answers = threading.Barrier(2, timeout=10), []

    def click() -> None:
        with httpx.Client(base_url=platform.url, cookies=cookies, follow_redirects=False, timeout=20) as http:
            barrier.wait()
            answers.append(capture.post(http, amount="12.00").status_code)

    clicks = [threading.Thread(target=click) for _ in range(2)]
    for t in clicks:
        t.start()
    for t in clicks:
        t.join(timeout=30)
    # Both answered as the first; a 409 "in progress" is the other acceptable answer while the first holds the hold.
    assert sorted(answers) in ([303, 303], [303, 409]), answers
    page = _page(client, store, trip_id)
    assert shown(page, "hold-captured") == "12.00 USD" and len(history(page)) == 1


def test_refused_operations_are_shown_in_words(platform, signed_client, shared_login):
    client, store = signed_client, _mine(platform, shared_login)
    trip_id = tap(platform, store)
    for typed, status, words in (("abc", 400, "The amount must be a number, such as 12.50."),
                                 ("1e3", 400, "The amount must be a number, such as 12.50."),
                                 ("", 400, "The amount is required."),
                                 ("-3", 400, "The amount must not be negative."),
                                 ("0", 400, "The amount must be greater than zero."),
                                 ("12.345", 400, "The amount has more decimals than USD has (2)."),
                                 ("2000000", 400, "The amount must be at most 1,000,000.00 USD.")):
        r = forms(_page(client, store, trip_id))["capture"].post(client.http, amount=typed)
        assert r.status_code == status, (typed, r.text)
        assert shown(r.text, "hold-problem") == words, typed
        assert f'value="{typed}"' in r.text and 'aria-invalid="true"' in r.text  # what was typed stays
    released = forms(_page(client, store, trip_id))["release"].post(client.http)
    assert released.status_code == 303
    page = _page(client, store, trip_id, "?done=release")
    assert shown(page, "hold-status") == "RELEASED" and "capture" not in forms(page)
    assert shown(page, "trip-notice") == "The hold is released: nothing is charged, and the trip owes nothing."
    assert "Release (by the retailer) — RELEASED no" in history(page)[0]
    assert (shown(page, "trip-total"), shown(page, "trip-settled")) == ("0.00 USD", "0.00 USD")


def test_a_yen_hold_has_no_decimals(platform, signed_client, shared_login):
    client = signed_client
    store = _mine(platform, shared_login, currency="JPY", authorizedAmount={"value": 3000, "currencyCode": "JPY"})
    trip_id = tap(platform, store)
    page = _page(client, store, trip_id)
    assert shown(page, "hold-held") == "3,000 JPY" and 'value="3000"' in page
    r = forms(page)["capture"].post(client.http, amount="1200.5")
    assert r.status_code == 400 and shown(r.text, "hold-problem") == "The amount has more decimals than JPY has (0)."
    assert forms(page)["capture"].post(client.http, amount="4500").status_code == 303
    done = _page(client, store, trip_id, "?done=capture")
    assert shown(done, "hold-captured") == "4,500 JPY" and shown(done, "trip-notice") == "Captured 4,500 JPY."


def test_closing_twice_says_already_closed(platform, signed_client, shared_login):
    client, store = signed_client, _mine(platform, shared_login)
    trip_id = tap(platform, store)
    close = forms(_page(client, store, trip_id))["close"]
    assert close.post(client.http).headers["location"] == f"{trip_path(store, trip_id)}?done=closed"
    r = close.post(client.http)
    assert r.status_code == 303 and r.headers["location"].endswith("?done=already_closed")
    page = _page(client, store, trip_id, "?done=already_closed")
    assert shown(page, "trip-notice") == "The trip was already closed; nothing changed."
    assert shown(page, "trip-closed-by") == "RETAILER (by the retailer)" and "close" not in forms(page)
    # A closed trip's hold can still be captured (DESIGN 10).
    assert "capture" in forms(page) and shown(page, "hold-status") == "HELD"


def test_another_retailers_trip_is_not_found(platform, signed_client, shared_login):
    client = signed_client
    mine, also_mine = _mine(platform, shared_login), _mine(platform, shared_login)
    theirs = platform.store()
    their_trip, my_trip = tap(platform, theirs), tap(platform, also_mine)
    capture = forms(_page(client, mine, tap(platform, mine)))["capture"]
    for store, trip_id in ((mine, their_trip), (theirs, their_trip), (mine, my_trip)):  # the last: the wrong store
        assert client.http.get(trip_path(store, trip_id)).status_code == 404
        for action in ("capture", "release", "close"):
            r = client.http.post(f"{trip_path(store, trip_id)}/{action}", data={**capture.fields, "amount": "1"})
            assert r.status_code == 404 and their_trip not in r.text, (store.store_id, action)
    view = platform.http.get(f"/v1/trips/{their_trip}", headers=platform.as_retailer(theirs)).json()
    assert view["status"] == "OPEN" and view["totalAmount"] is None


def test_the_trips_list_shows_who_closed_a_trip_and_its_hold(platform, signed_client, shared_login):
    client, store = signed_client, _mine(platform, shared_login, exit_gates=("exit-1",))
    held, captured, closed = tap(platform, store), tap(platform, store), tap(platform, store)
    forms(_page(client, store, captured))["capture"].post(client.http, amount="7.00")
    forms(_page(client, store, closed))["close"].post(client.http)
    listing = client.http.get(f"/console/stores/{store.store_id}/trips").text
    rows = {trip_id: " ".join(row.split()) for trip_id in (held, captured, closed)
            for row in [listing.split(trip_id + "</code>", 1)[1].split("</tr>", 1)[0]]}
    assert '<span class="muted">—</span>' in rows[held] and ">HELD</span>" in rows[held]
    assert ">CAPTURED</span>" in rows[captured]
    assert "<code>RETAILER</code>" in rows[closed] and ">HELD</span>" in rows[closed]


def test_balances_count_every_store_of_the_retailer_and_no_other(platform, signed_client, shared_login):
    client = signed_client
    here, there = _mine(platform, shared_login), _mine(platform, shared_login)
    elsewhere = platform.store()  # another retailer
    par = new_par()  # one card, tapped at all three stores
    report(platform, here, tap(platform, here, par=par), total=10, settled=4)
    report(platform, there, tap(platform, there, par=par), total=8.5, settled=0)
    report(platform, elsewhere, tap(platform, elsewhere, par=par), total=99, settled=0)
    page = client.http.get(f"/console/stores/{here.store_id}/balances").text
    owed = [" ".join(r.split()) for r in page.split("<tr>")[1:] if "14.50 USD" in r]
    assert len(owed) == 1, page
    assert "<td class=\"num\">2</td>" in owed[0] and "6.00 USD" in owed[0]  # two trips; 6.00 of it at this store
    assert "99.00" not in page and "113.50" not in page
