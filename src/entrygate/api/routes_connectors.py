"""The connectivity test (DESIGN 4.3): ``POST /v1/admin/stores/{storeId}/connectors/{name}/test``."""
from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from entrygate.api.deps import container, principal
from entrygate.api.openapi import secured
from entrygate.api.responses import FastJSONResponse
from entrygate.domain.keys import KeyKind
from entrygate.services.errors import Unavailable
from entrygate.wire.answers import ConnectivityOut

router = APIRouter(tags=["administration"])


@router.post("/v1/admin/stores/{storeId}/connectors/{name}/test",
             summary="Send a connector the contract's test requests; a pass/fail line for each",
             response_model=ConnectivityOut,
             openapi_extra=secured(KeyKind.OPERATOR, KeyKind.RETAILER, errors={
                 404: "NOT_FOUND: no such store, an unknown connector name, or one the store has not configured."}))
async def test_connector(storeId: str, name: str, request: Request) -> FastJSONResponse:
    c = container(request)
    who = principal(request, KeyKind.OPERATOR, KeyKind.RETAILER)
    if c.connectivity is None:
        raise Unavailable("the connectivity test is not configured in this process")
    results = await run_in_threadpool(c.connectivity.run, who, storeId, name)
    return FastJSONResponse({"storeId": storeId, "connector": name, "passed": all(r.passed for r in results),
                             "checks": [r.as_dict() for r in results]})
