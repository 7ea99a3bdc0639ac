"""A hostile store pattern, ``^(a+)+$``: one scan under Python's ``re`` and under the gate's RE2.

Python's ``re`` backtracks 2**n ways on ``'a'*n + 'b'``; RE2 (``domain/patterns.py``) reads the
value once. In-process, no server: the figure is the matcher's own time.

    .venv/bin/python bench/qr_pattern.py [--n 24]
"""
from __future__ import annotations

import argparse
import re
import time

from entrygate.domain.patterns import MAX_SCAN_LENGTH, compile_pattern

HOSTILE = r"^(a+)+$"


def _best(call, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=24, help="how many a's before the b (Python's re: 2**n steps)")
    args = parser.parse_args()
    value = "a" * args.n + "b"
    longest = "a" * (MAX_SCAN_LENGTH - 1) + "b"
    pattern = compile_pattern(HOSTILE)
    python = _best(lambda: re.search(HOSTILE, value), 1)
    print(f"{HOSTILE} on 'a'*{args.n}+'b'")
    print(f"  python re: {python:.3f} s")
    print(f"  RE2:       {_best(lambda: pattern.matches(value), 100) * 1e6:.1f} us")
    print(f"  RE2 on the longest scan a gate sends ({MAX_SCAN_LENGTH} chars): "
          f"{_best(lambda: pattern.matches(longest), 100) * 1e6:.1f} us")


if __name__ == "__main__":
    main()
