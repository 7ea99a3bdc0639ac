"""Store rules in CEL (the Common Expression Language of Kubernetes and Envoy) on Google's cel-cpp runtime.

Why ``cel-expr-python`` (``docs/dependencies.md`` compares the candidates): it is the reference C++
implementation, type-checks an expression against the declared facts when it compiles, evaluates a
rule in a few microseconds, and stops a comprehension that runs past its iteration budget with an
error instead of spinning. CEL itself has no loops, no recursion, no I/O and no side effects.

Cost bounds, at three points:

- at the PUT: an expression over ``MAX_EXPRESSION`` characters, one that does not compile or does
  not type-check to a bool, and one that exceeds the iteration budget on the sample facts, are
  refused (``RuleRefused``, a 400 naming ``[i].when`` and the rule);
- at the gate: the runtime's iteration budget cuts off any comprehension that would still run long
  on real facts (a few milliseconds at most); the rule is then skipped and the failure recorded;
- compiled once per store change (``services/risk_ops/rules.py`` caches by the store's rules version).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cel_expr_python import cel

from entrygate.domain.risk_ops import MAX_EXPRESSION, Rule, RuleResult, RulesOutcome
from entrygate.services.ports.risk_ops import CompiledRules, RuleRefused, sample_facts

_DYN_MAP = cel.Type.Map(cel.Type.STRING, cel.Type.DYN)
# The facts of DESIGN 14, as CEL sees them: the nested groups are maps, so a missing key is a run-time error.
_VARIABLES = {"partySize": cel.Type.INT, "channel": cel.Type.STRING, "localHour": cel.Type.INT,
              "card": _DYN_MAP, "risk": _DYN_MAP, "history": _DYN_MAP}
_ENV = cel.NewEnv(variables=_VARIABLES)


def _brief(exc: BaseException) -> str:
    """The runtime's message without its status prefix, one line."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    for prefix in ("INVALID_ARGUMENT: ", "INTERNAL: ", "NOT_FOUND: "):
        text = text.removeprefix(prefix)
    return text.replace("ERROR: <input>:", "at ")[:300]


class CelRules:
    """One store's rules, compiled; evaluation is thread-safe (each call has its own activation)."""

    def __init__(self, rules: Sequence[Rule], programs: Sequence[Any]) -> None:
        self.rules = tuple(rules)
        self._programs = tuple(programs)

    def evaluate(self, facts: Mapping[str, Any]) -> RulesOutcome:
        """Run the rules in order; the first that matches decides, those after it are not run.

        A rule that fails (a fact it names is missing, a wrong type, the iteration budget) is
        skipped, and its failure is in the outcome's results.
        """
        results: list[RuleResult] = []
        for rule, program in zip(self.rules, self._programs):
            try:
                value = program.eval(data=facts)
                result = value.value()
                kind = value.type().name()
            except Exception as exc:  # noqa: BLE001 - any run-time failure skips the rule, never a 500
                results.append(RuleResult(rule.name, False, _brief(exc)))
                continue
            if kind == "ERROR" or not isinstance(result, bool):
                why = _brief(result) if kind == "ERROR" else f"evaluated to {kind.lower()}, not a bool"
                results.append(RuleResult(rule.name, False, why))
                continue
            results.append(RuleResult(rule.name, result))
            if result:
                return RulesOutcome(tuple(results), rule)
        return RulesOutcome(tuple(results), None)


class CelRuleCompiler:
    """Compiles a store's rules, refusing at once what could not run or could run long."""

    def compile(self, rules: Sequence[Rule]) -> CompiledRules:
        programs = []
        for i, rule in enumerate(rules):
            programs.append(self._compile_one(i, rule))
        compiled = CelRules(rules, programs)
        return compiled

    @staticmethod
    def _compile_one(i: int, rule: Rule) -> Any:
        if len(rule.when) > MAX_EXPRESSION:
            raise RuleRefused(i, rule.name, f"the expression is {len(rule.when)} characters; at most {MAX_EXPRESSION}")
        try:
            program = _ENV.compile(rule.when)
        except Exception as exc:  # noqa: BLE001 - the runtime reports syntax and type errors as exceptions
            raise RuleRefused(i, rule.name, f"does not compile: {_brief(exc)}") from None
        kind = program.return_type().name()
        if kind not in ("BOOL", "DYN", "dyn", "bool"):
            raise RuleRefused(i, rule.name, f"must be true or false, not {kind.lower()}")
        try:  # the iteration budget on the sample facts: what would run long is refused now
            program.eval(data=sample_facts())
        except Exception as exc:  # noqa: BLE001 - only the budget is refused here; missing facts are the store's to see
            if "budget" in str(exc).lower():
                raise RuleRefused(i, rule.name, f"would run too long: {_brief(exc)}") from None
        return program
