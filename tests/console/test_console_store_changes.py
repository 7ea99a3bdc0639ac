"""The console's setup form and the API's PATCH change a store alike: one service call, the same rules."""
from __future__ import annotations

import re

from consolekit import post_setup, setup_form

URL = "https://retailer.example/entry"


def test_a_null_country_in_the_api_clears_it_as_an_emptied_field_in_the_console_does(platform, signed_client,
                                                                                     shared_login):
    client, login = signed_client, shared_login
    store = platform.store(retailer=(login.retailer_id, login.retailer_key), country="US")
    api = f"/v1/admin/stores/{store.store_id}"
    assert platform.http.patch(api, json={"name": "Renamed"}, headers=login.api).json()["country"] == "US"
    r = platform.http.patch(api, json={"country": None, "name": None}, headers=login.api)
    assert r.status_code == 200, r.text
    assert r.json()["country"] is None and r.json()["name"] == "Renamed"  # a null name leaves it alone

    assert platform.http.patch(api, json={"country": "US"}, headers=login.api).json()["country"] == "US"
    r = post_setup(client, store.store_id, setup_form(platform.http.get(api, headers=login.api).json(), country=""))
    assert r.status_code == 303, r.text
    assert platform.http.get(api, headers=login.api).json()["country"] is None


def test_a_connector_secret_is_made_once_kept_on_later_saves_and_replaced_on_request(platform, signed_client,
                                                                                       shared_login):
    client, login = signed_client, shared_login
    store = platform.store(retailer=(login.retailer_id, login.retailer_key))
    api = f"/v1/admin/stores/{store.store_id}"
    r = platform.http.patch(api, json={"connectors": {"identity": {"url": URL}}}, headers=login.api)
    assert r.status_code == 200, r.text
    first = r.json()["connectors"]["identity"]["secret"]
    assert first.startswith("whsec_")
    again = platform.http.patch(api, json={"connectors": {"identity": {"url": URL, "timeoutMs": 900}}},
                                headers=login.api).json()["connectors"]["identity"]
    assert again == {"url": URL, "secretSet": True, "timeoutMs": 900}  # kept, so not shown again

    view = platform.http.get(api, headers=login.api).json()
    r = post_setup(client, store.store_id, setup_form(view))
    assert r.status_code == 303  # nothing generated, nothing to show
    r = post_setup(client, store.store_id, setup_form(view, **{"connectors.identity.rotate": "1"}))
    assert r.status_code == 200, r.text
    shown = re.findall(r'id="secret-identity">(whsec_[^<]+)<', r.text)
    assert len(shown) == 1 and shown[0] != first


def test_the_setup_form_refuses_an_unknown_time_zone_as_the_api_does(platform, signed_client, shared_login):
    client, login = signed_client, shared_login
    store = platform.store(retailer=(login.retailer_id, login.retailer_key))
    api = f"/v1/admin/stores/{store.store_id}"
    for zone in ("Mars/Olympus", "America"):
        r = post_setup(client, store.store_id, setup_form(platform.http.get(api, headers=login.api).json(),
                                                          timezone=zone))
        assert r.status_code == 400, r.text
        assert "Unknown time zone" in r.text and "IANA name" in r.text
    assert platform.http.get(api, headers=login.api).json()["timezone"] == "UTC"
    r = post_setup(client, store.store_id, setup_form(platform.http.get(api, headers=login.api).json(),
                                                      timezone="Europe/Paris"))
    assert r.status_code == 303, r.text
    assert platform.http.get(api, headers=login.api).json()["timezone"] == "Europe/Paris"
