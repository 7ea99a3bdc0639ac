"""Patterns a retailer supplies (a store's ``qrPattern``), compiled by RE2 so a scan costs linear time.

Python's ``re`` backtracks: a pattern such as ``^(a+)+$`` takes time exponential in the scanned
value, and while it runs it holds the interpreter lock, so one store's pattern stalled every
gate on the platform. RE2 never backtracks: a match costs time linear in the value (times the
pattern's size, which is capped here), its memory is capped by ``max_mem``, and it releases the
interpreter lock while it matches. What it cannot run in linear time (backreferences,
lookaround, atomic groups, possessive quantifiers) it refuses to compile, and so do we, when the
store is saved, with a sentence saying why.

One compile per distinct pattern per process: ``compile_pattern`` is cached, so a gate's scan
and the console's tester reuse what the save (or the first scan after a catalog load) compiled.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import re2

# The API's own limit for the field; a longer pattern is refused before RE2 sees it.
MAX_PATTERN_LENGTH = 500
# The gate API's limit for a QR scan value: nothing longer is ever matched.
MAX_SCAN_LENGTH = 4096
# Why 1 MiB: it bounds both the compiled program (a larger one is refused as too large) and the
# matcher's cache; with the length caps above a worst-case scan stays in the tens of
# milliseconds, and a full pattern cache stays within a few hundred MiB.
MAX_MEM = 1 << 20
# Distinct patterns kept compiled; a platform has far fewer (most stores keep the default).
CACHE_SIZE = 256

# What RE2's parser says, and what to tell a retailer who wrote Python (or PCRE) syntax.
_LINEAR = "it cannot run in linear time"
_HINTS = (
    ("invalid escape sequence: \\Z", "use \\z for the end of the code"),
    ("invalid perl operator: (?P", f"backreferences are not supported: {_LINEAR}"),
    ("(?=", f"lookahead is not supported: {_LINEAR}"),
    ("(?!", f"lookahead is not supported: {_LINEAR}"),
    ("(?<=", f"lookbehind is not supported: {_LINEAR}"),
    ("(?<!", f"lookbehind is not supported: {_LINEAR}"),
    ("(?>", f"atomic groups are not supported: {_LINEAR}"),
    ("bad repetition operator: ++", "possessive quantifiers are not supported"),
    ("bad repetition operator: *+", "possessive quantifiers are not supported"),
    ("bad repetition operator: ?+", "possessive quantifiers are not supported"),
    ("invalid repetition size", "a repetition count is at most 1000, nested counts multiplied together"),
    ("pattern too large", "simplify it or lower its repetition counts"),
    ("invalid named capture group", "named groups are written (?P<name>...)"),
)


class PatternRefused(ValueError):
    """A pattern that cannot be run in linear time, or is not a pattern at all; says why."""


@dataclass(frozen=True, slots=True)
class ScanPattern:
    """A compiled store pattern: ``matches`` says whether a scanned value passes it."""

    source: str
    _regexp: object

    def matches(self, value: str) -> bool:
        """Searched, not anchored: the pattern's own ``^`` and ``$`` decide how much must match."""
        if len(value) > MAX_SCAN_LENGTH:
            return False  # the gate API never sends one; refuse rather than spend time on it
        return self._regexp.search(value) is not None  # type: ignore[attr-defined]


def _options() -> re2.Options:
    options = re2.Options()
    options.max_mem = MAX_MEM
    options.log_errors = False  # a refused pattern is the retailer's input, not a server error
    options.never_capture = True  # only "does it match" is asked: no groups to track
    return options


def _reason(error: re2.error) -> str:
    raw = error.args[0] if error.args else ""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    text = text if len(text) <= 120 else text[:117] + "..."
    hint = next((h for needle, h in _HINTS if needle in text), None)
    escape = text.partition("invalid escape sequence: \\")[2]
    if escape[:1].isdigit():
        hint = f"backreferences are not supported: {_LINEAR}"
    return f"{text} ({hint})" if hint else text


def compile_pattern(source: str) -> ScanPattern:
    """The pattern compiled by RE2; ``PatternRefused`` says why it cannot be."""
    compiled = _compiled(source)
    if isinstance(compiled, str):
        raise PatternRefused(compiled)
    return compiled


@functools.lru_cache(maxsize=CACHE_SIZE)
def _compiled(source: str) -> ScanPattern | str:
    # A refusal is cached too: a pattern saved before these rules is judged once, not per scan.
    if not source:
        return "must not be empty"
    if len(source) > MAX_PATTERN_LENGTH:
        return f"is at most {MAX_PATTERN_LENGTH} characters"
    try:
        regexp = re2.compile(source, _options())
    except re2.error as exc:
        return f"is not a valid regular expression in RE2 syntax, which runs in linear time: {_reason(exc)}"
    return ScanPattern(source, regexp)


def check_pattern(source: str) -> None:
    """Refuse a pattern that ``compile_pattern`` would refuse."""
    compile_pattern(source)
