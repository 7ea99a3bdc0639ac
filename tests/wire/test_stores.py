"""Store JSON to the admin service's typed input: what a PATCH leaves alone, clears and changes."""
from __future__ import annotations

from decimal import Decimal

from entrygate.domain.channels import Channel, RiskStrategy
from entrygate.domain.money import Money
from entrygate.domain.store import DEFAULT_QR_PATTERN
from entrygate.services.admin.store_changes import UNSET, ConnectorSetting, StoreChange
from entrygate.wire.parse import parse
from entrygate.wire.schemas import StoreIn, StorePatch
from entrygate.wire.stores import change_from_patch, draft_from_input


def test_an_empty_patch_changes_nothing():
    assert change_from_patch(parse(StorePatch, {})) == StoreChange()


def test_null_clears_the_country_and_leaves_the_other_fields_alone():
    change = change_from_patch(parse(StorePatch, {"country": None, "name": None, "qrPattern": None,
                                                  "connectors": None, "riskStrategy": None}))
    assert change == StoreChange(country=None)
    assert change.name is UNSET and change.connectors is UNSET


def test_given_fields_become_typed_changes():
    change = change_from_patch(parse(StorePatch, {
        "name": "Uptown", "country": "CA", "authorizedAmount": {"value": 30, "currencyCode": "USD"},
        "entryMethods": ["CREDIT_CARD", "PALM"], "riskStrategy": "PLATFORM_MANAGED", "badgeFormats": [],
        "connectors": {"identity": {"url": "https://r.example/", "timeoutMs": 900}}}),
        rotate_secrets=["identity"])
    assert change == StoreChange(
        name="Uptown", country="CA", authorized_amount=Money(Decimal("30"), "USD"),
        entry_methods=frozenset({Channel.CREDIT_CARD, Channel.PALM}), risk_strategy=RiskStrategy.PLATFORM_MANAGED,
        badge_formats=(), connectors={"identity": ConnectorSetting("https://r.example/", 900, None)},
        rotate_secrets=frozenset({"identity"}))


def test_a_new_store_takes_the_defaults_and_its_connectors_without_secrets():
    draft = draft_from_input(parse(StoreIn, {
        "storeId": "s-1", "name": "Downtown", "timezone": "UTC", "currency": "USD",
        "authorizedAmount": {"value": 25, "currencyCode": "USD"}, "entryMethods": ["CREDIT_CARD"],
        "connectors": {"identity": {"url": "https://r.example/"}}}), "ret_1")
    assert draft.config.retailer_id == "ret_1" and draft.config.store_id == "s-1"
    assert draft.config.qr_pattern == DEFAULT_QR_PATTERN and draft.config.badge_formats == ("H10301",)
    assert draft.config.connectors == {} and draft.config.country is None
    assert draft.connectors == {"identity": ConnectorSetting("https://r.example/", 800, None)}
