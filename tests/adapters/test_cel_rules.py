"""Store rules on the CEL runtime: what is refused when stored, what is cut off or skipped at the gate."""
from __future__ import annotations

import time

import pytest

from entrygate.adapters.cel_rules import CelRuleCompiler
from entrygate.domain.money import Money
from entrygate.domain.risk_ops import Rule, RuleAction
from entrygate.services.ports.risk_ops import RuleRefused, sample_facts

compiler = CelRuleCompiler()


def rule(when: str, name: str = "r", action: RuleAction = RuleAction.DENY) -> Rule:
    return Rule(name=name, when=when, action=action)


def nested(width: int, depth: int) -> str:
    """A short expression whose evaluation takes width ** depth steps."""
    items = "[" + ",".join(["1"] * width) + "]"
    body = " + ".join(f"v{i}" for i in range(depth)) + " > 0"
    for i in reversed(range(depth)):
        body = f"{items}.all(v{i}, {body})"
    return body


def test_the_first_matching_rule_decides_and_the_rest_do_not_run():
    rules = compiler.compile([rule("partySize > 5", "big"), rule('card.brand == "VISA"', "visa"), rule("true", "all")])
    outcome = rules.evaluate(sample_facts())
    assert outcome.decided_by is not None and outcome.decided_by.name == "visa"
    assert [r.name for r in outcome.results] == ["big", "visa"] and outcome.matched == ("visa",)


def test_a_run_time_failure_is_skipped_and_reported():
    facts = sample_facts() | {"risk": {}}
    outcome = compiler.compile([rule("risk.score > 50", "scored"), rule("partySize == 1", "alone")]).evaluate(facts)
    assert outcome.decided_by is not None and outcome.decided_by.name == "alone"
    [failure] = outcome.failures
    assert failure.name == "scored" and "score" in (failure.error or "")


def test_a_long_running_expression_is_refused_when_stored():
    started = time.perf_counter()
    with pytest.raises(RuleRefused) as refused:
        compiler.compile([rule("true", "fine"), rule(nested(60, 3), "slow")])
    assert refused.value.index == 1 and "too long" in str(refused.value) and "'slow'" in str(refused.value)
    assert time.perf_counter() - started < 1.0


def test_a_long_run_that_depends_on_the_facts_is_cut_off_at_the_gate():
    # Small on the sample facts (so it is stored), huge on the facts at the gate: the budget stops it.
    when = ("history.entries1h >= 0 && [" + ",".join(["1"] * 60) + "].all(a, [" + ",".join(["1"] * 60)
            + "].all(b, history.entries24h < 2 || [" + ",".join(["1"] * 60) + "].all(c, a + b + c > 0)))")
    rules = compiler.compile([rule(when, "sneaky"), rule("true", "after")])
    facts = sample_facts()
    facts["history"] = {**facts["history"], "entries24h": 5}
    started = time.perf_counter()
    outcome = rules.evaluate(facts)
    assert time.perf_counter() - started < 0.5
    assert outcome.failures[0].name == "sneaky" and "budget" in (outcome.failures[0].error or "").lower()
    assert outcome.decided_by is not None and outcome.decided_by.name == "after"


@pytest.mark.parametrize("when, why", [("partySize >", "does not compile"), ("partySize", "true or false"),
                                       ("x" * 2001, "at most 2000"), ("nosuchfact > 1", "does not compile")])
def test_what_cannot_run_is_refused_with_the_rule_s_name(when, why):
    with pytest.raises(RuleRefused) as refused:
        compiler.compile([rule(when, "named")])
    assert why in str(refused.value) and "'named'" in str(refused.value)


def test_an_adjust_rule_keeps_its_amount():
    r = Rule(name="hold", when="true", action=RuleAction.ADJUST, amount=Money.of(60, "USD"))
    assert Rule.from_json(r.to_json()) == r
