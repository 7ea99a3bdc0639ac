"""Rules per store in CEL (DESIGN 14): stored, tested, and compiled once per store change for the gate.

``RuleService.put`` (the change an audit records) compiles every rule before it writes anything,
so a refused PUT changes nothing. ``RuleBook`` hands the gate a store's compiled rules: it reads
the stored version at most once per ``ttl_s`` and compiles again only when the version moved, so
a change made through any process applies within ``ttl_s`` (at once in the process that made it).
"""
from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from threading import Lock
from typing import Any

import structlog

from entrygate.domain.audit import Target
from entrygate.domain.risk_ops import MAX_RULES, Rule, RulesOutcome
from entrygate.services.admin import audit
from entrygate.services.auth import Principal, store_in_scope
from entrygate.services.errors import InvalidRequest
from entrygate.services.ports.clock import Clock
from entrygate.services.ports.risk_ops import CompiledRules, RuleCompiler, RuleRefused, StoredRules
from entrygate.services.ports.storage import UnitOfWorkFactory

log = structlog.get_logger("entrygate.rules")


def _refusal(exc: RuleRefused) -> InvalidRequest:
    return InvalidRequest(str(exc), fields=[f"[{exc.index}].when"])


class RuleBook:
    """The gate's view of a store's rules, compiled, cached by the rules' version."""

    def __init__(self, uow: UnitOfWorkFactory, compiler: RuleCompiler, *, ttl_s: float = 2.0) -> None:
        self._uow = uow
        self._compiler = compiler
        self._ttl = ttl_s
        self._lock = Lock()
        self._checked: dict[str, float] = {}  # store id -> when to read its version again
        self._compiled: dict[str, tuple[int, CompiledRules | None]] = {}  # store id -> (version, rules)

    def for_store(self, store_id: str) -> CompiledRules | None:
        """The store's compiled rules, or None when it has none. Never raises for a stored rule that no longer
        compiles (it is left out and logged): the gate keeps deciding."""
        now = time.monotonic()
        if self._checked.get(store_id, 0.0) > now:
            hit = self._compiled.get(store_id)
            return hit[1] if hit else None
        with self._uow() as uow:
            stored = uow.rules.get(store_id)
        version = stored.version if stored else 0
        hit = self._compiled.get(store_id)
        if hit is None or hit[0] != version:
            hit = (version, self._compile(stored))
        with self._lock:
            self._compiled[store_id] = hit
            self._checked[store_id] = now + self._ttl
        return hit[1]

    def forget(self, store_id: str) -> None:
        """A change made here: read the store's rules again on the next tap."""
        with self._lock:
            self._checked.pop(store_id, None)

    def _compile(self, stored: StoredRules | None) -> CompiledRules | None:
        if stored is None or not stored.rules:
            return None
        try:
            return self._compiler.compile(stored.rules)
        except RuleRefused as exc:  # stored before a change of the engine: refuse it loudly, keep the gate up
            log.error("stored_rule_refused", store_id=stored.store_id, error=str(exc))
            return None


class RuleService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, compiler: RuleCompiler, book: RuleBook) -> None:
        self._uow = uow
        self._clock = clock
        self._compiler = compiler
        self._book = book

    def get(self, principal: Principal, store_id: str) -> tuple[Rule, ...]:
        store_in_scope(self._uow, principal, store_id)
        with self._uow() as uow:
            stored = uow.rules.get(store_id)
        return stored.rules if stored else ()

    def put(self, principal: Principal, store_id: str, rules: Sequence[Rule]) -> tuple[Rule, ...]:
        """Replace the store's rules at once; every rule is checked first, so a refusal changes nothing."""
        store = store_in_scope(self._uow, principal, store_id)
        self._check(rules, currency=store.currency)
        now = self._clock.now()
        with self._uow(write=True) as uow:
            before = uow.rules.get(store_id)
            version = uow.rules.put(store_id, rules, at=now)
            audit.record(uow, principal, "rules.replaced", Target("storeRules", store_id), retailer_id=store.retailer_id,
                         store_id=store_id, before={"rules": [r.to_json() for r in before.rules] if before else []},
                         after={"rules": [r.to_json() for r in rules]}, at=now)
            uow.commit()
        self._book.forget(store_id)
        log.info("store_rules_replaced", store_id=store_id, rules=len(rules), version=version)
        return tuple(rules)

    def test(self, principal: Principal, store_id: str, facts: Mapping[str, Any],
             rules: Sequence[Rule] | None = None) -> RulesOutcome:
        """Run the given rules (or the stored ones) on ``facts``; records nothing."""
        store = store_in_scope(self._uow, principal, store_id)
        if rules is None:
            with self._uow() as uow:
                stored = uow.rules.get(store_id)
            rules = stored.rules if stored else ()
        else:
            self._check(rules, currency=store.currency)
        if not rules:
            return RulesOutcome()
        try:
            return self._compiler.compile(rules).evaluate(facts)
        except RuleRefused as exc:
            raise _refusal(exc) from None

    def _check(self, rules: Sequence[Rule], *, currency: str) -> None:
        if len(rules) > MAX_RULES:
            raise InvalidRequest(f"body: at most {MAX_RULES} rules", fields=["body"])
        names: set[str] = set()
        for i, rule in enumerate(rules):
            if rule.name in names:
                raise InvalidRequest(f"[{i}].name: rule {rule.name!r} is named twice", fields=[f"[{i}].name"])
            names.add(rule.name)
            if rule.action.value == "ADJUST":
                if rule.amount is None:
                    raise InvalidRequest(f"[{i}].amount: rule {rule.name!r} is an ADJUST and needs an amount",
                                         fields=[f"[{i}].amount"])
                if rule.amount.currency != currency:
                    raise InvalidRequest(f"[{i}].amount: rule {rule.name!r} must hold in the store's currency "
                                         f"{currency}", fields=[f"[{i}].amount"])
        try:
            self._compiler.compile(rules)
        except RuleRefused as exc:
            raise _refusal(exc) from None

