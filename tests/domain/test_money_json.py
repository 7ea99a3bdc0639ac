"""Money in the contract's JSON, and the one JSON shape of an authorization (answer and recommendation)."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from entrygate.domain.authorization import ADJUST, AuthorizationCondition, ShopperAuthorization
from entrygate.domain.channels import Channel, RiskTolerance, ShopperRisk
from entrygate.domain.money import Money
from entrygate.domain.risk_policy import HardFacts, RiskLevel, RiskRecommendation, recommend
from entrygate.retailer import validation as retailer_side
from entrygate.services.ports import connectors as connector_side
from entrygate.services.ports.connectors import GateAuthEvent, shopper_authorization_request

T0 = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize(("amount", "currency", "value"), [
    ("25", "USD", 25.0),
    ("25.0000", "USD", 25.0),  # a Numeric(18, 4) column's padding
    ("19.99", "EUR", 19.99),
    ("500", "JPY", 500.0),
    ("1.234", "KWD", 1.234),  # three decimals: the dinar's minor unit is the fils
    ("12.345", "USD", 12.35),  # finer than a cent: to the cent, half up
    ("1500.5", "JPY", 1501.0),
    ("7.123456", "XXX", 7.123456),  # no minor unit in ISO 4217: as it is
])
def test_money_renders_at_its_currencys_minor_units(amount, currency, value):
    assert Money(Decimal(amount), currency).to_json() == {"value": value, "currencyCode": currency}


def test_the_recommendation_is_sent_in_the_shape_of_an_authorization():
    rec = recommend(probability=0.4, tolerance=RiskTolerance.MEDIUM, authorized_amount=Money.of("25.00", "USD"),
                    facts=HardFacts(outstanding_balance=Decimal(0)), model_risks=("HighVelocity",))
    assert rec.as_authorization() == ShopperAuthorization(
        True, (AuthorizationCondition(ADJUST, Money.of("50.00", "USD")),), (ShopperRisk.HighVelocity,))
    event = GateAuthEvent(id="e", type=Channel.CREDIT_CARD, interaction_type="TAP", timestamp=T0)
    body = shopper_authorization_request(store_id="s", instrument_id="pi_1", authorized_amount=Money.of(25, "USD"),
                                         trip_id="trip_1", gate_event=event, recommendation=rec.as_authorization())
    assert body["shopperInteraction"]["recommendation"] == rec.as_authorization().to_json() == {
        "shopperAuthorized": True, "shopperRisks": ["HighVelocity"],
        "authorizationConditions": [{"type": "ADJUST", "amount": {"value": 50.0, "currencyCode": "USD"}}]}
    assert body["authorizedAmount"] == {"value": 25.0, "currencyCode": "USD"}


def test_labels_the_contract_does_not_know_never_reach_the_retailer():
    rec = RiskRecommendation(False, None, ("HighVelocity", "NightOwl"), RiskLevel.HIGH, 90, "USD")
    assert rec.as_authorization().to_json() == {"shopperAuthorized": False, "authorizationConditions": [],
                             "shopperRisks": ["HighVelocity"]}


def test_each_kind_of_recommendation_has_a_name_of_its_own():
    assert not hasattr(connector_side, "Recommendation") and not hasattr(retailer_side, "Recommendation")
    assert retailer_side.ReceivedRecommendation.__name__ != RiskRecommendation.__name__
