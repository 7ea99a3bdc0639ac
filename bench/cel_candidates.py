"""Compare the Python CEL implementations on PyPI: compile and evaluate time of a store rule.

Run it in a scratch environment holding all three (only the chosen one is a dependency):

    python -m venv /tmp/celcmp && /tmp/celcmp/bin/pip install cel-python==0.5.0 \
        common-expression-language==0.10.0 cel-expr-python==0.1.3
    /tmp/celcmp/bin/python bench/cel_candidates.py

Each candidate compiles ``RULE`` (and a long-running expression, to see whether it is bounded)
and evaluates it on the same facts; the figures are medians of many calls.
"""
from __future__ import annotations

import statistics
import sys
import time

RULE = ('risk.score >= 40 && card.funding == "prepaid" && history.entries1h > 2 '
        '&& card.issuerCountry in ["NG", "RO", "BR"] || partySize > 3 && localHour < 6')
FACTS = {"partySize": 1, "channel": "CREDIT_CARD", "localHour": 18,
         "card": {"brand": "VISA", "funding": "prepaid", "issuerCountry": "RO", "last4": "4242",
                  "expMonth": 12, "expYear": 2030},
         "risk": {"score": 55, "level": "MEDIUM"},
         "history": {"entries1h": 3, "entries24h": 4, "declines24h": 0, "tripsTotal": 2, "unpaidTrips": 0,
                     "outstandingBalance": 0.0, "daysSinceFirstSeen": 3.0}}
# A small expression whose evaluation grows exponentially (nested comprehensions over a range).
LONG = "[" + ",".join(["1"] * 50) + "].all(a, [" + ",".join(["1"] * 50) + "].all(b, [" + \
       ",".join(["1"] * 50) + "].all(c, a + b + c > 0)))"


def median_us(fn, n: int) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def bounded(fn) -> str:
    """How the candidate met the long-running expression: its time, or the refusal and when it came."""
    t0 = time.perf_counter()
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - a refusal is the answer we are looking for
        return f"refused after {time.perf_counter() - t0:.3f} s ({str(exc)[:40]})"
    return f"ran {time.perf_counter() - t0:.3f} s"


def rust():
    import cel
    prog = cel.compile(RULE)
    assert prog.execute(FACTS) is True
    return (median_us(lambda: cel.compile(RULE), 2000), median_us(lambda: prog.execute(FACTS), 5000),
            bounded(lambda: cel.compile(LONG).execute({})))


def cpp():
    from cel_expr_python import cel
    dyn = cel.Type.Map(cel.Type.STRING, cel.Type.DYN)
    env = cel.NewEnv(variables={"partySize": cel.Type.INT, "channel": cel.Type.STRING, "localHour": cel.Type.INT,
                                "card": dyn, "risk": dyn, "history": dyn})
    expr = env.compile(RULE)
    assert expr.eval(data=FACTS).value() is True
    return (median_us(lambda: env.compile(RULE), 2000), median_us(lambda: expr.eval(data=FACTS).value(), 5000),
            bounded(lambda: env.compile(LONG).eval(data={}).value()))


def pure():
    import celpy
    env = celpy.Environment()
    ast = env.compile(RULE)
    prog = env.program(ast)
    activation = celpy.json_to_cel(FACTS)
    assert bool(prog.evaluate(activation)) is True
    return (median_us(lambda: env.program(env.compile(RULE)), 200),
            median_us(lambda: prog.evaluate(celpy.json_to_cel(FACTS)), 500),
            bounded(lambda: env.program(env.compile(LONG)).evaluate({})))


if __name__ == "__main__":
    print("| Candidate | compile µs (median) | evaluate µs (median) | 125,000-step expression |")
    print("| --- | ---: | ---: | ---: |")
    for name, run in (("common-expression-language 0.10.0 (Rust cel crate)", rust),
                      ("cel-expr-python 0.1.3 (Google's cel-cpp)", cpp), ("cel-python 0.5.0 (pure Python)", pure)):
        try:
            c, e, long_s = run()
            print(f"| {name} | {c:.1f} | {e:.1f} | {long_s} |")
        except Exception as exc:  # noqa: BLE001 - report any candidate's failure and go on
            print(f"| {name} | failed: {type(exc).__name__}: {exc} | | |", file=sys.stdout)
