"""RETAILER_MANAGED card entries on in-memory ports, with the scripted shopper-authorization connector."""
from __future__ import annotations

from decimal import Decimal

import pytest

from entrygate.adapters.memory.connectors import ScriptedShopperAuthorization
from entrygate.domain.authorization import ADJUST, AuthorizationCondition, ShopperAuthorization
from entrygate.domain.cards import instrument_id
from entrygate.domain.channels import FallbackDecision, RiskStrategy
from entrygate.domain.money import Money
from entrygate.domain.store import ConnectorConfig
from entrygate.services.gate.strategies import StrategyAssessor
from entrygate.services.ports.connectors import ConnectorFailed, FailureKind
from support.factories import SECRET, World, card, event, store_config


def world(answers=None, **store) -> tuple[World, ScriptedShopperAuthorization]:  # noqa: ANN001
    store.setdefault("connectors", {"shopperAuthorization": ConnectorConfig("https://retailer.test",
                                                                            "whsec_" + "A" * 44)})
    w = World(risk_strategy=RiskStrategy.RETAILER_MANAGED, **store)
    retailer = ScriptedShopperAuthorization(answers)
    w.entries.risk = StrategyAssessor(uow=w.memory, scorer=lambda: None, connector=retailer)
    return w, retailer


def codes(answer) -> list[str]:  # noqa: ANN001
    return [r["code"] for r in answer["reasons"]]


def test_the_retailers_yes_opens_and_it_was_asked_about_this_card_and_trip():
    w, retailer = world()
    c = card()
    answer = w.admit(event(c))
    assert answer["decision"] == "OPEN" and answer["decidedBy"] == "RETAILER"
    [call] = retailer.calls
    assert call.instrument_id == instrument_id(c, secret=SECRET) == answer["visitor"]["id"]
    assert call.trip_id == answer["shoppingTripId"] and call.authorized_amount == Money.of(25, "USD")
    assert call.recommendation is None  # RETAILER_MANAGED: the platform recommends nothing
    assert call.gate_event.data == c.display()


def test_the_retailers_no_denies_without_a_trip():
    c = card()
    w, _ = world({instrument_id(c, secret=SECRET): ShopperAuthorization(False)})
    answer = w.admit(event(c))
    assert answer["decision"] == "DENY" and codes(answer) == ["RETAILER_DENIED"]
    assert answer["shoppingTripId"] is None


def test_an_adjust_condition_changes_the_amount_held():
    c = card()
    adjusted = ShopperAuthorization(True, (AuthorizationCondition(ADJUST, Money(Decimal("60"), "USD")),))
    w, _ = world({instrument_id(c, secret=SECRET): adjusted})
    answer = w.admit(event(c))
    assert answer["decision"] == "OPEN" and answer["authorizedAmount"] == {"value": 60.0, "currencyCode": "USD"}


@pytest.mark.parametrize("fallback, decision, reasons", [
    (FallbackDecision.DENY, "DENY", ["CONNECTOR_UNAVAILABLE", "FALLBACK_APPLIED"]),
    (FallbackDecision.ALLOW, "OPEN", ["FALLBACK_APPLIED"]),
])
def test_without_an_answer_the_stores_fallback_decides(fallback, decision, reasons):
    w, retailer = world(fallback_decision=fallback)
    retailer.default = ConnectorFailed(FailureKind.TIMEOUT, "no answer within 800 ms")
    answer = w.admit(event(card()))
    assert answer["decision"] == decision and answer["decidedBy"] == "FALLBACK"
    assert sorted(codes(answer)) == reasons


def test_a_store_without_the_connector_is_not_asked():
    retailer = ScriptedShopperAuthorization()
    with pytest.raises(ConnectorFailed) as err:
        retailer.authorize_shopper(store_config("ret_1"), instrument_id="ins_1", authorized_amount=Money.of(25, "USD"),
                                   trip_id="trip_1", gate_event=None)  # type: ignore[arg-type]
    assert err.value.kind is FailureKind.NOT_CONFIGURED and retailer.calls == []
