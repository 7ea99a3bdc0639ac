"""The store setup form carries the two trip clocks (DESIGN 10) and validates them as the API does."""
from __future__ import annotations

import html
import re

from consolekit import post_setup, setup_form


def _value(page: str, name: str) -> str | None:
    found = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    value = re.search(r'value="([^"]*)"', found.group(0)) if found else None
    return html.unescape(value.group(1)) if value else None


def test_the_setup_form_shows_and_saves_the_trip_settings(platform, signed_client, shared_login):
    client, login = signed_client, shared_login
    store = platform.store(retailer=(login.retailer_id, login.retailer_key), maxTripMinutes=45)
    api = f"/v1/admin/stores/{store.store_id}"
    page = client.http.get(f"/console/stores/{store.store_id}/setup").text
    assert _value(page, "maxTripMinutes") == "45" and _value(page, "preauthReleaseHours") == "24"
    view = platform.http.get(api, headers=login.api).json()
    r = post_setup(client, store.store_id, setup_form(view, maxTripMinutes="90", preauthReleaseHours="0"))
    assert r.status_code == 303, r.text
    saved = platform.http.get(api, headers=login.api).json()
    assert (saved["maxTripMinutes"], saved["preauthReleaseHours"]) == (90, 0)


def test_out_of_range_trip_settings_are_shown_next_to_their_fields(platform, signed_client, shared_login):
    client, login = signed_client, shared_login
    store = platform.store(retailer=(login.retailer_id, login.retailer_key))
    api = f"/v1/admin/stores/{store.store_id}"
    view = platform.http.get(api, headers=login.api).json()
    r = post_setup(client, store.store_id, setup_form(view, maxTripMinutes="2", preauthReleaseHours="1000"))
    assert r.status_code == 400
    assert "Enter a whole number of minutes from 5 to 1440." in r.text
    assert "Enter a whole number of hours from 0 to 720." in r.text
    assert _value(r.text, "maxTripMinutes") == "2"  # what was typed, to correct it
    assert platform.http.get(api, headers=login.api).json()["maxTripMinutes"] == 180


def test_a_currency_iso_4217_does_not_know_is_refused_on_the_currency_field(platform, signed_client, shared_login):
    client, login = signed_client, shared_login
    store = platform.store(retailer=(login.retailer_id, login.retailer_key))
    view = platform.http.get(f"/v1/admin/stores/{store.store_id}", headers=login.api).json()
    r = post_setup(client, store.store_id, setup_form(view, currency="ABC"))
    assert r.status_code == 400 and "is not an ISO 4217 currency code" in html.unescape(r.text)
