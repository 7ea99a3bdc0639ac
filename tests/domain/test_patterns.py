"""Store patterns: what RE2 compiles, what is refused and why, and that a scan is linear whatever the pattern."""
from __future__ import annotations

import time

import pytest

from entrygate.domain import patterns
from entrygate.domain.channels import Channel
from entrygate.domain.money import Money
from entrygate.domain.patterns import MAX_PATTERN_LENGTH, MAX_SCAN_LENGTH, PatternRefused, compile_pattern
from entrygate.domain.store import DEFAULT_QR_PATTERN, StoreConfig, StoreConfigError, check_store

CODE = "EG1.alice.89790290.C2M2XMFc3CqKV7PCrWz0WQ"


def test_the_default_pattern_keeps_working():
    default = compile_pattern(DEFAULT_QR_PATTERN)
    assert default.matches(CODE)
    for value in ("HELLO", "EG1.alice.123", "xEG1.a.1.b", CODE + " ", "EG1.a.step.b"):
        assert not default.matches(value), value


def test_patterns_are_searched_so_their_own_anchors_decide():
    assert compile_pattern(r"MBR-\d{4}").matches("shop:MBR-1234")
    assert not compile_pattern(r"^MBR-\d{4}$").matches("shop:MBR-1234")
    assert compile_pattern(r"(?i)^shop-[0-9]+$").matches("SHOP-12")
    assert compile_pattern(r"^(?P<kind>A|B)-\d+\z").matches("A-1")


def test_dollar_is_the_end_of_the_code_not_a_final_newline():
    # Python's re lets "^SHOP$" match "SHOP\n" and the newline would go on to the retailer; RE2 does not.
    assert not compile_pattern("^SHOP$").matches("SHOP\n")


def test_a_pattern_compiles_once_and_is_reused():
    assert compile_pattern(r"^cache-[0-9]+$") is compile_pattern(r"^cache-[0-9]+$")


def _scan_time(pattern, value: str, *, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        pattern.matches(value)
        best = min(best, time.perf_counter() - t)
    return best


def test_a_backtracking_pattern_runs_in_linear_time():
    hostile = compile_pattern(r"^(a+)+$")
    assert not hostile.matches("a" * 24 + "b")  # Python's re needs about a second for this one
    assert not hostile.matches("a" * (MAX_SCAN_LENGTH - 1) + "b")
    assert hostile.matches("a" * 100)
    # Linear: 16 times the input costs nowhere near 2**(16x) - allow 16x and a lot of noise.
    short, long = _scan_time(hostile, "a" * 255 + "b"), _scan_time(hostile, "a" * 4095 + "b")
    assert long < 16 * 10 * short + 0.01


def test_the_worst_pattern_and_the_longest_scan_stay_bounded():
    # A pattern that blows up RE2's DFA, at the longest scan a gate may send: the memory cap makes
    # RE2 fall back to its (still linear) NFA.
    worst = compile_pattern(r"(?:a|b)*a(?:a|b){200}c")
    value = ("ab" * MAX_SCAN_LENGTH)[:MAX_SCAN_LENGTH]
    assert _scan_time(worst, value, repeat=2) < 0.5


def test_a_scan_longer_than_the_gate_allows_never_matches():
    anything = compile_pattern(r"a")
    assert anything.matches("a" * MAX_SCAN_LENGTH)
    assert not anything.matches("a" * (MAX_SCAN_LENGTH + 1))


@pytest.mark.parametrize("pattern, why", [
    (r"^(a)\1$", "backreferences are not supported"),
    (r"^(?P<x>a)(?P=x)$", "backreferences are not supported"),
    (r"^EG1(?=\.)", "lookahead is not supported"),
    (r"^(?!EG2)", "lookahead is not supported"),
    (r"(?<=EG1)\.", "lookbehind is not supported"),
    (r"(?<!x)EG1", "lookbehind is not supported"),
    (r"(?>a+)b", "atomic groups are not supported"),
    (r"a++b", "possessive quantifiers are not supported"),
    (r"^EG1\Z", r"use \z"),
    (r"(a{1000}){1000}", "a repetition count is at most 1000"),
    (r"[\p{L}\p{N}]{1,900}z", "pattern too large"),
    ("([unclosed", "missing ]"),
    ("(unclosed", "missing )"),
    ("a" * (MAX_PATTERN_LENGTH + 1), f"at most {MAX_PATTERN_LENGTH} characters"),
    ("", "must not be empty"),
])
def test_what_re2_cannot_run_in_linear_time_is_refused_with_the_reason(pattern, why):
    with pytest.raises(PatternRefused) as err:
        compile_pattern(pattern)
    assert why in str(err.value)
    with pytest.raises(PatternRefused):
        compile_pattern(pattern)  # refused again, from the cache


def test_a_long_refusal_is_cut_short():
    pattern = "(" + "x" * (MAX_PATTERN_LENGTH - 1)
    with pytest.raises(PatternRefused) as err:
        compile_pattern(pattern)
    assert len(str(err.value)) < 300


def test_the_memory_cap_is_re2_s_own():
    assert patterns._options().max_mem == patterns.MAX_MEM


def _store(**over):
    base = dict(store_id="s", retailer_id="r", name="n", timezone="UTC", currency="USD",
                authorized_amount=Money.of(25, "USD"), entry_methods=frozenset({Channel.CREDIT_CARD}))
    base.update(over)
    return StoreConfig(**base)


def test_a_store_saving_an_unsupported_pattern_is_refused_naming_qr_pattern():
    with pytest.raises(StoreConfigError) as err:
        check_store(_store(qr_pattern=r"^(EG1)\.\1$"))
    assert err.value.field == "qrPattern" and "backreferences" in err.value.message
    check_store(_store(qr_pattern=r"^(a+)+$"))  # RE2 runs it in linear time: nothing to refuse
    check_store(_store())

