from decimal import Decimal

import pytest

from entrygate.domain.channels import RiskTolerance
from entrygate.domain.money import Money
from entrygate.domain.risk_policy import (
    DEFAULT_THRESHOLDS,
    AdjustLimits,
    Band,
    HardFacts,
    RiskLevel,
    RiskThresholds,
    recommend,
    risk_score,
)

USD25 = Money.of("25.00", "USD")


def rec(p, tolerance=RiskTolerance.MEDIUM, amount=USD25, **kw):
    return recommend(probability=p, tolerance=tolerance, authorized_amount=amount, **kw)


@pytest.mark.parametrize(("tolerance", "p", "authorized", "adjusted", "level"), [
    (RiskTolerance.LOW, 0.05, True, False, RiskLevel.LOW),
    (RiskTolerance.LOW, 0.10, True, True, RiskLevel.MEDIUM),
    (RiskTolerance.LOW, 0.40, False, False, RiskLevel.HIGH),
    (RiskTolerance.MEDIUM, 0.15, True, False, RiskLevel.LOW),
    (RiskTolerance.MEDIUM, 0.40, True, True, RiskLevel.MEDIUM),
    (RiskTolerance.MEDIUM, 0.60, False, False, RiskLevel.HIGH),
    (RiskTolerance.HIGH, 0.30, True, False, RiskLevel.LOW),
    (RiskTolerance.HIGH, 0.70, True, True, RiskLevel.MEDIUM),
    (RiskTolerance.HIGH, 0.80, False, False, RiskLevel.HIGH),
])
def test_each_tolerance_has_its_bands(tolerance, p, authorized, adjusted, level):
    r = rec(p, tolerance)
    assert (r.shopper_authorized, r.adjust_to is not None, r.level) == (authorized, adjusted, level)
    assert r.score == round(p * 100)


def test_the_same_risk_is_judged_more_strictly_by_a_low_tolerance_store():
    outcomes = [rec(0.5, t) for t in (RiskTolerance.LOW, RiskTolerance.MEDIUM, RiskTolerance.HIGH)]
    assert [o.shopper_authorized for o in outcomes] == [False, True, True]


def test_adjust_doubles_the_amount_up_to_the_ceiling():
    assert rec(0.4).adjust_to == Decimal("50.00")
    assert rec(0.4).adjusted_amount == Money.of("50.00", "USD")
    assert rec(0.4, amount=Money.of("80", "USD")).adjust_to == Decimal("100")
    assert rec(0.4, amount=Money.of("3000", "JPY")).adjust_to == Decimal("6000")
    assert rec(0.4, amount=Money.of("10000", "JPY")).adjust_to == Decimal("15000")
    assert rec(0.4, amount=Money.of("40.5", "XAF")).adjust_to == Decimal("81.0")  # no ceiling listed


def test_a_store_amount_at_the_ceiling_is_authorized_without_adjusting():
    r = rec(0.4, amount=Money.of("120.00", "USD"))
    assert r.shopper_authorized and r.adjust_to is None and r.level is RiskLevel.MEDIUM
    assert r.as_authorization().conditions == ()


def test_adjust_limits_can_be_chosen():
    limits = AdjustLimits(factor=Decimal("1.5"), ceilings={"USD": Decimal(30)})
    assert rec(0.4, limits=limits).adjust_to == Decimal("30.00")
    assert rec(0.4, amount=Money.of("10.00", "USD"), limits=limits).adjust_to == Decimal("15.00")
    with pytest.raises(ValueError):
        AdjustLimits(factor=Decimal(1))


@pytest.mark.parametrize(("facts", "risks"), [
    (HardFacts(instrument_blocked=True), ("CustomerFraud",)),
    (HardFacts(fraud_label=True), ("CustomerFraud",)),
    (HardFacts(outstanding_balance=Decimal("0.01")), ("BadDebt",)),
    (HardFacts(outstanding_balance=Decimal(5), instrument_blocked=True), ("CustomerFraud", "BadDebt")),
])
def test_hard_facts_deny_whatever_the_score(facts, risks):
    r = rec(0.0, RiskTolerance.HIGH, facts=facts)
    assert not r.shopper_authorized and r.level is RiskLevel.HIGH and r.shopper_risks == risks
    assert r.adjust_to is None and r.score == 0


def test_a_settled_balance_does_not_deny():
    assert rec(0.01, facts=HardFacts(outstanding_balance=Decimal(0))).shopper_authorized


def test_model_reasons_are_listed_from_medium_risk_and_deduplicated():
    assert rec(0.05, model_risks=("HighVelocity",)).shopper_risks == ()
    assert rec(0.4, model_risks=("HighVelocity", "InvalidCard")).shopper_risks == ("HighVelocity", "InvalidCard")
    r = rec(0.9, facts=HardFacts(outstanding_balance=Decimal(1)), model_risks=("BadDebt", "HighVelocity"))
    assert r.shopper_risks == ("BadDebt", "HighVelocity")


def test_wire_shape_matches_the_connector_contract():
    r = rec(0.4, model_risks=("BadDebt",))
    assert r.as_authorization().to_json() == {"shopperAuthorized": True,
                           "authorizationConditions": [{"type": "ADJUST",
                                                        "amount": {"value": 50.0, "currencyCode": "USD"}}],
                           "shopperRisks": ["BadDebt"]}
    assert rec(0.9).as_authorization().to_json() == {"shopperAuthorized": False, "authorizationConditions": [],
                                                      "shopperRisks": []}


@pytest.mark.parametrize(("p", "score"), [(0.0, 0), (0.004, 0), (0.005, 1), (0.425, 43), (1.0, 100),
                                          (1.5, 100), (-0.1, 0), (float("nan"), 0)])
def test_score_is_the_probability_in_percent(p, score):
    assert risk_score(p) == score


def test_thresholds_from_model_metadata_are_used():
    strict = RiskThresholds(low=Band(0.01, 0.02), medium=Band(0.01, 0.02), high=Band(0.01, 0.02), source="m")
    assert not rec(0.03, RiskTolerance.HIGH, thresholds=strict).shopper_authorized
    assert RiskThresholds.from_dict(strict.as_dict()) == strict
    assert RiskThresholds.from_dict(DEFAULT_THRESHOLDS.as_dict()) == DEFAULT_THRESHOLDS


def test_inconsistent_thresholds_are_refused():
    with pytest.raises(ValueError):
        Band(0.5, 0.4)
    with pytest.raises(ValueError):
        Band(-0.1, 0.4)
    with pytest.raises(ValueError):  # a lenient store may not deny earlier than a strict one
        RiskThresholds(low=Band(0.1, 0.6), medium=Band(0.2, 0.5), high=Band(0.3, 0.8))
