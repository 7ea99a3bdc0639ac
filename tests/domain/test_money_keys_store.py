from decimal import Decimal

import pytest

from entrygate.domain.channels import Channel, FallbackDecision, RiskStrategy
from entrygate.domain.keys import KeyKind, new_key, parse_key, secret_matches
from entrygate.domain.money import CurrencyMismatch, Money
from entrygate.domain.reasons import ReasonCode
from entrygate.domain.store import ConnectorConfig, StoreConfig, StoreConfigError, check_store


def test_money_is_exact_and_refuses_mixed_currencies():
    assert Money.of("0.1", "USD") + Money.of("0.2", "USD") == Money.of("0.3", "USD")
    with pytest.raises(CurrencyMismatch):
        Money.of(1, "USD") + Money.of(1, "EUR")
    with pytest.raises(ValueError):
        Money.of(1, "usd")
    with pytest.raises(ValueError):
        Money(Decimal("NaN"), "USD")


def test_keys_round_trip_and_never_match_another_secret():
    key = new_key(KeyKind.GATE)
    presented = parse_key(key.plaintext)
    assert presented and presented.kind is KeyKind.GATE and presented.key_id == key.key_id
    assert secret_matches(presented, key.secret_hash)
    assert not secret_matches(presented, new_key(KeyKind.GATE).secret_hash)
    assert key.plaintext not in key.secret_hash


@pytest.mark.parametrize("text", ["", "Bearer", "egxx_0123456789abcdef_s", "eggk_short_s", "eggk_0123456789abcdef_",
                                  "random-token"])
def test_malformed_keys_are_not_parsed(text):
    assert parse_key(text) is None


def test_every_reason_has_a_sentence():
    for code in ReasonCode:
        assert code.message.endswith(".")
    assert {c for c in ReasonCode if c.informational} == {ReasonCode.FALLBACK_APPLIED, ReasonCode.PREAUTH_ADJUSTED}


def _store(**over):
    base = dict(store_id="s", retailer_id="r", name="n", timezone="UTC", currency="USD",
                authorized_amount=Money.of(25, "USD"), entry_methods=frozenset({Channel.CREDIT_CARD}))
    base.update(over)
    return StoreConfig(**base)


@pytest.mark.parametrize("over, field", [
    (dict(authorized_amount=Money.of(25, "EUR")), "authorizedAmount.currencyCode"),
    (dict(authorized_amount=Money.of(0, "USD")), "authorizedAmount.value"),
    (dict(max_party_size=0), "maxPartySize"),
    (dict(qr_pattern="(unclosed"), "qrPattern"),
    (dict(badge_formats=("H99999",)), "badgeFormats"),
    (dict(entry_methods=frozenset({Channel.QR_CODE})), "connectors.identity"),
    (dict(risk_strategy=RiskStrategy.RETAILER_MANAGED), "connectors.shopperAuthorization"),
    (dict(risk_strategy=RiskStrategy.RETAILER_MANAGED, fallback_decision=FallbackDecision.USE_RECOMMENDATION,
          connectors={"shopperAuthorization": ConnectorConfig("http://x", "whsec_x")}), "fallbackDecision"),
])
def test_inconsistent_store_configurations_name_the_field(over, field):
    with pytest.raises(StoreConfigError) as err:
        check_store(_store(**over))
    assert err.value.field == field


def test_a_consistent_store_passes():
    check_store(_store())
