"""The OpenAPI document tells the truth about the running API, on both databases.

Schemathesis generates requests from the served `/openapi.json` — valid ones and broken ones —
for every operation, with real keys and real path ids so the bodies reach validation and the
services, and checks every answer against the document: no 5xx (DESIGN 9), a documented status
code, the documented content type and headers, and a body that validates against the status's
schema (the answer models are closed, so an undocumented field fails too); and a successful
answer is probed again without its key and with a wrong one, which must be refused.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from support.server import card, entry, new_par

# ignored_auth: an operation that declares security answers a 2xx without a key, or with a wrong one, fails.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, ignored_auth]
# Examples per operation and generation mode: bounds the test's time (about 26 operations).
EXAMPLES = {GenerationMode.POSITIVE: 12, GenerationMode.NEGATIVE: 6}
COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


@pytest.fixture(scope="module")
def fuzz_world(platform):
    store = platform.store(exit_gates=("exit-1",))
    trip = platform.enter(store, entry(card(par=new_par()))).json()["shoppingTripId"]
    return {"store": store, "trip": trip}


def test_the_served_document_is_the_committed_copy(platform):
    served = platform.http.get("/openapi.json").json()
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert served == committed, "docs/openapi.json is stale: run `make openapi` and commit it"


def _call_context(operation, platform, store, trip) -> tuple[dict[str, str], dict[str, str]]:  # noqa: ANN001
    """The path ids and the key each operation gets: the gate's key for gate routes, the operator's where only it
    is accepted, the store's retailer key elsewhere (so every id is in scope)."""
    path = operation.path
    ids = {"storeId": store.store_id, "retailerId": store.retailer_id, "shoppingTripId": trip,
           "gateId": "exit-1" if path.endswith("/exits") else "lane-1"}
    params = {name: ids[name] for name in ("storeId", "retailerId", "shoppingTripId", "gateId") if f"{{{name}}}" in path}
    schemes = {name for requirement in operation.definition.raw.get("security", []) for name in requirement}
    if schemes == {"gateKey"}:
        key = store.gates[params["gateId"]]
    elif "retailerKey" in schemes:
        key = store.retailer_key
    else:
        return params, platform.op
    return params, {"Authorization": f"Bearer {key}"}


def _run(operation, mode: GenerationMode, *, params: dict[str, str], headers: dict[str, str], base_url: str,  # noqa: ANN001
         statuses: dict[int, int], failures: list[str]) -> None:
    """Generate up to ``EXAMPLES[mode]`` requests for ``operation``, send each, and check its answer."""

    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=params))
    @settings(max_examples=EXAMPLES[mode], deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
              database=None)
    def check(case) -> None:  # noqa: ANN001
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as exc:  # every failure is collected, and reported together
            failures.append(f"{case.method} {case.formatted_path} ({mode.value}) -> {response.status_code}: "
                            f"{str(exc)[:600]}")

    try:
        check()
    except Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE, operation.label  # nothing to break: no body, no parameter


def test_every_answer_conforms_to_the_document(platform, fuzz_world):
    store, trip = fuzz_world["store"], fuzz_world["trip"]
    api = schemathesis.openapi.from_url(platform.url + "/openapi.json")
    failures: list[str] = []
    statuses: dict[int, int] = {}
    operations = 0
    started = time.monotonic()
    for result in api.get_all_operations():
        operation = result.ok()
        operations += 1
        params, headers = _call_context(operation, platform, store, trip)
        for mode in EXAMPLES:
            _run(operation, mode, params=params, headers=headers, base_url=platform.url, statuses=statuses,
                 failures=failures)
    elapsed = time.monotonic() - started
    assert operations >= 25
    assert sum(statuses.values()) >= operations * 6, statuses
    assert any(200 <= s < 300 for s in statuses) and any(400 <= s < 500 for s in statuses), statuses
    assert not failures, f"{len(failures)} answers differ from the document:\n" + "\n".join(failures[:15])
    assert elapsed < 60, f"the conformance run took {elapsed:.0f} s"
