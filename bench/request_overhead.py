"""What the rate limit per key, and the request id with the HTTP metrics, add to one request.

In-process, no sockets: the platform's ASGI app is called directly with gate requests that the
parser refuses (400) after the key is checked, the cheapest authenticated request there is, so a
few microseconds show. Configurations alternate in rounds in the same run (so drift of the
machine falls on all of them alike); the figure is the median over rounds of the mean per request.

    without           the app with no budgets (the limiter returns at once)
    memory            the default budgets (20/second a gate key) counted in the process (the default storage)
    redis             the same counted in Redis (ENTRYGATE_RATE_LIMIT_STORAGE=redis://...), if one answers
    no request ctx    no budgets and the app without RequestContext (no X-Request-Id, no HTTP metrics)

    .venv/bin/python bench/request_overhead.py [--rounds 15] [--requests 400] [--redis redis://127.0.0.1:6379/15]
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import orjson

from entrygate.adapters.db.engine import upgrade
from entrygate.adapters.rate_limits import KeyRateLimits
from entrygate.bootstrap import build
from entrygate.domain.keys import KeyKind
from entrygate.settings import Settings
from entrygate.web import create_app

GATES = 250  # requests rotate over this many gate keys, so none reaches its budget (about 8 a second each)


async def call(app, method: str, path: str, *, token: str, body: bytes = b"", platform=None) -> tuple[int, bytes]:  # noqa: ANN001
    """One request through ``app`` (the platform, or one of its middleware stacks called as Starlette would)."""
    scope = {"app": platform or app, "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"host", b"bench"), (b"authorization", f"Bearer {token}".encode()),
                         (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
             "client": ("127.0.0.1", 1), "server": ("bench", 80)}
    sent = False
    status, chunks = 0, []

    async def receive() -> dict:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def bench(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="eg-bench-overhead-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    upgrade(url)
    settings = Settings(database_url=url, secret_key="bench-" + "x" * 40, sweep_interval_s=0, log_level="ERROR")
    container = build(settings, background_sweep=False)
    app = create_app(container)
    op = container.admin.create_operator_token()
    status, out = await call(app, "POST", "/v1/admin/retailers", token=op, body=orjson.dumps({"name": "Bench"}))
    retailer = orjson.loads(out)["retailerId"]
    store = {"retailerId": retailer, "storeId": "bench-store", "name": "Bench", "timezone": "UTC", "currency": "USD",
             "authorizedAmount": {"value": 25.0, "currencyCode": "USD"}, "entryMethods": ["CREDIT_CARD"],
             "riskStrategy": "NONE", "riskTolerance": "MEDIUM", "fallbackDecision": "DENY", "maxPartySize": 4,
             "antiPassback": "NONE"}
    assert (await call(app, "POST", "/v1/admin/stores", token=op, body=orjson.dumps(store)))[0] == 201
    gate_keys = []
    for i in range(GATES):
        status, out = await call(app, "POST", "/v1/admin/stores/bench-store/gates", token=op,
                                 body=orjson.dumps({"gateId": f"lane-{i}", "direction": "ENTRY"}))
        gate_keys.append((f"/v1/gates/lane-{i}/entries", orjson.loads(out)["apiKey"]))
    await call(app, "GET", "/healthz", token=op)  # builds the middleware stack
    full_stack = app.middleware_stack
    inner_stack = full_stack.app  # the same app without RequestContext

    budgets = {KeyKind.GATE: settings.rate_limit_gate, KeyKind.RETAILER: settings.rate_limit_retailer}  # the defaults
    configs = {"without": (KeyRateLimits({}), full_stack), "memory": (KeyRateLimits(budgets), full_stack),
               "no request ctx": (KeyRateLimits({}), inner_stack)}
    if args.redis and KeyRateLimits({}, storage_url=args.redis).reachable():
        configs["redis"] = (KeyRateLimits(budgets, storage_url=args.redis), full_stack)
    body = b"{}"
    means: dict[str, list[float]] = {name: [] for name in configs}
    for _ in range(args.rounds):
        for name, (limits, stack) in configs.items():
            container.rate_limits = limits
            started = time.perf_counter()
            for i in range(args.requests):
                path, key = gate_keys[i % GATES]
                status, _ = await call(stack, "POST", path, token=key, body=body, platform=app)
                assert status == 400, status  # never 429: each key stays under its budget
            means[name].append((time.perf_counter() - started) / args.requests * 1e6)
    container.close()

    base = statistics.median(means["without"])
    print(f"{args.rounds} rounds x {args.requests} gate requests over {GATES} keys (refused by the parser after "
          f"the key check), default budgets ({settings.rate_limit_gate} a gate key); median of the per-round mean:")
    print(f"  {'configuration':<16} {'us/request':>11} {'vs without':>11}")
    for name, values in means.items():
        median = statistics.median(values)
        print(f"  {name:<16} {median:>11.1f} {median - base:>+11.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15", help="a Redis to count in; '' for none")
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
