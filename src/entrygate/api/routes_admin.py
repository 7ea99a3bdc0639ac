"""Administration (DESIGN 4.3): operator token, or a retailer key for its own stores."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from entrygate.api.body import read_json
from entrygate.api.deps import container, principal
from entrygate.api.openapi import body
from entrygate.api.responses import FastJSONResponse
from entrygate.domain.keys import KeyKind
from entrygate.domain.views import user_view
from entrygate.services.errors import InvalidRequest
from entrygate.wire.parse import parse
from entrygate.wire.schemas import GateIn, GatePatch, RetailerIn, StoreIn, StorePatch, UserIn
from entrygate.wire.stores import change_from_patch, draft_from_input, store_view

router = APIRouter(tags=["administration"])
ADMINS = (KeyKind.OPERATOR, KeyKind.RETAILER)


async def _body(request: Request, model):  # noqa: ANN001, ANN202
    return parse(model, await read_json(request, max_bytes=container(request).settings.max_body_bytes))


@router.post("/v1/admin/retailers", status_code=201, openapi_extra=body(RetailerIn))
async def create_retailer(request: Request) -> FastJSONResponse:
    who = principal(request, KeyKind.OPERATOR, KeyKind.RETAILER)
    body = await _body(request, RetailerIn)
    created = await run_in_threadpool(container(request).admin.create_retailer, who, name=body.name)
    return FastJSONResponse({"retailerId": created.id, "apiKey": created.api_key}, status_code=201)


@router.post("/v1/admin/retailers/{retailerId}/users", status_code=201, openapi_extra=body(UserIn))
async def create_user(retailerId: str, request: Request) -> FastJSONResponse:
    who = principal(request, *ADMINS)
    body = await _body(request, UserIn)
    user = await run_in_threadpool(container(request).users.create, who, retailerId,
                                   email=body.email, password=body.password, role=body.role)
    return FastJSONResponse(user_view(user), status_code=201)


@router.post("/v1/admin/stores", status_code=201, openapi_extra=body(StoreIn))
async def create_store(request: Request) -> FastJSONResponse:
    who = principal(request, *ADMINS)
    body = await _body(request, StoreIn)
    retailer_id = body.retailerId or who.retailer_id
    if retailer_id is None:
        raise InvalidRequest("retailerId: is required with an operator token", fields=["retailerId"])
    saved = await run_in_threadpool(container(request).admin.add_store, who, draft_from_input(body, retailer_id))
    return FastJSONResponse(store_view(saved.store, generated_secrets=saved.generated_secrets), status_code=201)


@router.get("/v1/admin/stores")
async def list_stores(request: Request) -> dict[str, Any]:
    who = principal(request, *ADMINS)
    stores = await run_in_threadpool(container(request).admin.list_stores, who)
    return {"stores": [store_view(s) for s in stores]}


@router.get("/v1/admin/stores/{storeId}")
async def get_store(storeId: str, request: Request) -> dict[str, Any]:
    who = principal(request, *ADMINS)
    return store_view(await run_in_threadpool(container(request).admin.get_store, who, storeId))


@router.patch("/v1/admin/stores/{storeId}", openapi_extra=body(StorePatch))
async def update_store(storeId: str, request: Request) -> dict[str, Any]:
    who = principal(request, *ADMINS)
    body = await _body(request, StorePatch)
    saved = await run_in_threadpool(container(request).admin.update_store, who, storeId, change_from_patch(body))
    return store_view(saved.store, generated_secrets=saved.generated_secrets)


@router.post("/v1/admin/stores/{storeId}/gates", status_code=201, openapi_extra=body(GateIn))
async def create_gate(storeId: str, request: Request) -> FastJSONResponse:
    who = principal(request, *ADMINS)
    body = await _body(request, GateIn)
    created = await run_in_threadpool(container(request).admin.add_gate, who, storeId, gate_id=body.gateId,
                                      direction=body.direction)
    return FastJSONResponse({"gateId": created.id, "apiKey": created.api_key, "direction": body.direction.value},
                          status_code=201)


@router.get("/v1/admin/stores/{storeId}/gates")
async def list_gates(storeId: str, request: Request) -> dict[str, Any]:
    who = principal(request, *ADMINS)
    gates = await run_in_threadpool(container(request).admin.list_gates, who, storeId)
    return {"gates": [{"gateId": g.gate_id, "direction": g.direction.value, "enabled": g.enabled} for g in gates]}


@router.patch("/v1/admin/stores/{storeId}/gates/{gateId}", openapi_extra=body(GatePatch))
async def update_gate(storeId: str, gateId: str, request: Request) -> dict[str, Any]:
    who = principal(request, *ADMINS)
    body = await _body(request, GatePatch)
    gate = await run_in_threadpool(container(request).admin.set_gate_enabled, who, storeId, gateId,
                                   enabled=body.enabled)
    return {"gateId": gate.gate_id, "direction": gate.direction.value, "enabled": gate.enabled}
