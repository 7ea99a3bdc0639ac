"""Gate and retailer keys (DESIGN 15): the operator, or the retailer the gate or key belongs to."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from entrygate.api.body import read_bytes
from entrygate.api.deps import container, principal
from entrygate.api.openapi import body, secured
from entrygate.api.responses import FastJSONResponse
from entrygate.domain.keys import KeyKind
from entrygate.wire.keys import (
    CreatedRetailerKeyOut,
    GateKeyIn,
    GateKeysOut,
    RetailerKeyIn,
    RetailerKeysOut,
    RotatedGateKeyOut,
    created_retailer_key_view,
    gate_key_view,
    retailer_key_view,
    rotated_view,
)
from entrygate.wire.parse import parse, parse_json

router = APIRouter(tags=["keys"])
ADMINS = (KeyKind.OPERATOR, KeyKind.RETAILER)
_STORE = Query(None, description="The gate's store, when its id is used at several of the caller's stores")
# The body of a gate key rotation may be left out: the grace is then a day.
_OPTIONAL_GRACE = body(GateKeyIn, example={"graceSeconds": 86400})
_OPTIONAL_GRACE["requestBody"]["required"] = False


@router.post("/v1/admin/gates/{gateId}/keys", status_code=201, summary="Give a gate a new key",
             response_model=RotatedGateKeyOut,
             openapi_extra=secured(*ADMINS, errors={409: "CONFLICT: the gate id is used at several of your stores; "
                                                         "name one with storeId."}) | _OPTIONAL_GRACE)
async def rotate_gate_key(gateId: str, request: Request, storeId: str | None = _STORE) -> FastJSONResponse:
    """A new key; the gate's previous keys keep working until ``previousKeyExpiresAt``."""
    c = container(request)
    who = principal(request, *ADMINS)
    raw = await read_bytes(request, max_bytes=c.settings.max_body_bytes)
    model = parse(GateKeyIn, parse_json(raw) if raw.strip() else {})
    rotated = await run_in_threadpool(c.api_keys.rotate_gate_key, who, gateId, grace_seconds=model.graceSeconds,
                                      store_id=storeId)
    return FastJSONResponse(rotated_view(rotated), status_code=201)


@router.get("/v1/admin/gates/{gateId}/keys", summary="List a gate's keys", response_model=GateKeysOut,
            openapi_extra=secured(*ADMINS))
async def list_gate_keys(gateId: str, request: Request, storeId: str | None = _STORE) -> dict[str, Any]:
    c = container(request)
    who = principal(request, *ADMINS)
    keys = await run_in_threadpool(c.api_keys.list_gate_keys, who, gateId, store_id=storeId)
    return {"keys": [gate_key_view(k) for k in keys]}


@router.delete("/v1/admin/gates/{gateId}/keys/{keyId}", status_code=204, summary="Revoke a gate key at once",
               openapi_extra=secured(*ADMINS))
async def revoke_gate_key(gateId: str, keyId: str, request: Request, storeId: str | None = _STORE) -> Response:
    c = container(request)
    who = principal(request, *ADMINS)
    await run_in_threadpool(c.api_keys.revoke_gate_key, who, gateId, keyId, store_id=storeId)
    return Response(status_code=204)


@router.post("/v1/admin/retailers/{retailerId}/keys", status_code=201, summary="Create a named retailer key",
             response_model=CreatedRetailerKeyOut,
             openapi_extra=secured(*ADMINS, errors={404: "NOT_FOUND: no such retailer, or another retailer's."})
             | body(RetailerKeyIn, example={"name": "back office"}))
async def create_retailer_key(retailerId: str, request: Request) -> FastJSONResponse:
    c = container(request)
    who = principal(request, *ADMINS)
    model = parse(RetailerKeyIn, parse_json(await read_bytes(request, max_bytes=c.settings.max_body_bytes)))
    created = await run_in_threadpool(c.api_keys.create_retailer_key, who, retailerId, name=model.name)
    return FastJSONResponse(created_retailer_key_view(created), status_code=201)


@router.get("/v1/admin/retailers/{retailerId}/keys", summary="List a retailer's keys (never the keys themselves)",
            response_model=RetailerKeysOut,
            openapi_extra=secured(*ADMINS))
async def list_retailer_keys(retailerId: str, request: Request) -> dict[str, Any]:
    c = container(request)
    who = principal(request, *ADMINS)
    keys = await run_in_threadpool(c.api_keys.list_retailer_keys, who, retailerId)
    return {"keys": [retailer_key_view(k) for k in keys]}


@router.delete("/v1/admin/retailers/{retailerId}/keys/{keyId}", status_code=204,
               summary="Revoke a retailer key (never its last active one)",
               openapi_extra=secured(*ADMINS, errors={409: "CONFLICT: the retailer's last active key stays."}))
async def revoke_retailer_key(retailerId: str, keyId: str, request: Request) -> Response:
    c = container(request)
    who = principal(request, *ADMINS)
    await run_in_threadpool(c.api_keys.revoke_retailer_key, who, retailerId, keyId)
    return Response(status_code=204)
