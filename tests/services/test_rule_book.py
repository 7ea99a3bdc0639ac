"""The gate's rules are compiled once per store change: cached by the stored version (DESIGN 14)."""
from __future__ import annotations

from datetime import UTC, datetime

from entrygate.adapters.cel_rules import CelRuleCompiler
from entrygate.adapters.memory.storage import MemoryStore
from entrygate.domain.risk_ops import Rule, RuleAction
from entrygate.services.risk_ops.rules import RuleBook

AT = datetime(2026, 12, 1, tzinfo=UTC)


class CountingCompiler(CelRuleCompiler):
    def __init__(self) -> None:
        self.calls = 0

    def compile(self, rules):  # noqa: ANN001, ANN201
        self.calls += 1
        return super().compile(rules)


def put(store: MemoryStore, *rules: Rule) -> None:
    with store(write=True) as uow:
        uow.rules.put("s1", rules, at=AT)
        uow.commit()


def test_rules_compile_again_only_when_the_version_moves():
    store, compiler = MemoryStore(), CountingCompiler()
    book = RuleBook(store, compiler, ttl_s=0.0)  # read the version on every tap
    assert book.for_store("s1") is None and compiler.calls == 0
    put(store, Rule("a", "partySize > 2", RuleAction.DENY))
    first = book.for_store("s1")
    assert first is not None and [r.name for r in first.rules] == ["a"]
    for _ in range(5):
        assert book.for_store("s1") is first
    assert compiler.calls == 1
    put(store, Rule("b", "true", RuleAction.REVIEW))
    assert [r.name for r in book.for_store("s1").rules] == ["b"] and compiler.calls == 2
    put(store)
    assert book.for_store("s1") is None


def test_within_the_ttl_the_version_is_not_read_again_unless_this_process_changed_it():
    store = MemoryStore()
    book = RuleBook(store, CelRuleCompiler(), ttl_s=60.0)
    assert book.for_store("s1") is None
    put(store, Rule("a", "true", RuleAction.DENY))
    assert book.for_store("s1") is None  # another process's change: seen within the TTL
    book.forget("s1")  # what RuleService.put does in its own process
    assert book.for_store("s1") is not None
