"""The connectivity test (DESIGN 4.3): ``POST /v1/admin/stores/{storeId}/connectors/{name}/test``."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from entrygate.api.deps import container, principal
from entrygate.domain.keys import KeyKind
from entrygate.services.errors import Unavailable

router = APIRouter(tags=["administration"])


@router.post("/v1/admin/stores/{storeId}/connectors/{name}/test",
             summary="Send a connector the contract's test requests; a pass/fail line for each")
async def test_connector(storeId: str, name: str, request: Request) -> dict[str, Any]:
    c = container(request)
    who = principal(request, KeyKind.OPERATOR, KeyKind.RETAILER)
    if c.connectivity is None:
        raise Unavailable("the connectivity test is not configured in this process")
    results = await run_in_threadpool(c.connectivity.run, who, storeId, name)
    return {"storeId": storeId, "connector": name, "passed": all(r.passed for r in results),
            "checks": [r.as_dict() for r in results]}
