"""Administration (DESIGN 4.3): operator token, or a retailer key for its own stores."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from entrygate.api.body import read_json
from entrygate.api.deps import container, principal
from entrygate.api.openapi import body, declare, secured
from entrygate.api.responses import FastJSONResponse
from entrygate.domain.keys import KeyKind
from entrygate.domain.views import user_view
from entrygate.services.errors import InvalidRequest
from entrygate.wire.answers import (
    GateCreatedOut,
    GateListOut,
    GateOut,
    RetailerCreatedOut,
    StoreListOut,
    StoreOut,
    UserOut,
)
from entrygate.wire.parse import parse
from entrygate.wire.schemas import ConnectorIn, GateIn, GatePatch, RetailerIn, StoreIn, StorePatch, UserIn
from entrygate.wire.stores import change_from_patch, draft_from_input, store_view

router = APIRouter(tags=["administration"])
ADMINS = (KeyKind.OPERATOR, KeyKind.RETAILER)
declare(ConnectorIn)  # the stores' connectors refer to it


async def _body(request: Request, model):  # noqa: ANN001, ANN202
    return parse(model, await read_json(request, max_bytes=container(request).settings.max_body_bytes))


_STORE_EXAMPLE = {
    "retailerId": "ret_5f2c1a9e", "storeId": "store-001", "name": "Downtown", "timezone": "America/New_York",
    "currency": "USD", "authorizedAmount": {"value": 25.0, "currencyCode": "USD"},
    "entryMethods": ["CREDIT_CARD", "PALM", "QR_CODE", "BADGE"], "riskStrategy": "PLATFORM_MANAGED",
    "riskTolerance": "MEDIUM", "fallbackDecision": "USE_RECOMMENDATION",
    "qrPattern": "^EG1\\.[A-Za-z0-9_-]+\\.[0-9]+\\.[A-Za-z0-9_-]+$", "badgeFormats": ["H10301", "H10304", "CSN"],
    "maxPartySize": 4, "antiPassback": "SOFT", "maxTripMinutes": 180, "preauthReleaseHours": 24, "country": "US",
    "connectors": {"identity": {"url": "https://retailer.example/entry", "timeoutMs": 800},
                   "shopperAuthorization": {"url": "https://retailer.example/entry", "timeoutMs": 800}},
}
_STORE_404 = {404: "NOT_FOUND: no such store."}
_STORE_ERRORS = {403: "FORBIDDEN: a gate key, or the store of another retailer.", **_STORE_404}


@router.post("/v1/admin/retailers", status_code=201, summary="Create a retailer", response_model=RetailerCreatedOut,
             openapi_extra=secured(KeyKind.OPERATOR) | body(RetailerIn, example={"name": "Acme Markets"}))
async def create_retailer(request: Request) -> FastJSONResponse:
    """The operator creates a retailer and gets its API key, shown once."""
    who = principal(request, KeyKind.OPERATOR)
    body = await _body(request, RetailerIn)
    created = await run_in_threadpool(container(request).admin.create_retailer, who, name=body.name)
    return FastJSONResponse({"retailerId": created.id, "apiKey": created.api_key}, status_code=201)


@router.post("/v1/admin/retailers/{retailerId}/users", status_code=201, summary="Create a console login",
             response_model=UserOut,
             openapi_extra=secured(*ADMINS, errors={404: "NOT_FOUND: no such retailer.",
                                                    409: "CONFLICT: a user with this email exists already."})
             | body(UserIn, example={"email": "ops@acme.example", "password": "correct horse battery staple"}))
async def create_user(retailerId: str, request: Request) -> FastJSONResponse:
    who = principal(request, *ADMINS)
    body = await _body(request, UserIn)
    user = await run_in_threadpool(container(request).users.create, who, retailerId,
                                   email=body.email, password=body.password, role=body.role)
    return FastJSONResponse(user_view(user), status_code=201)


@router.post("/v1/admin/stores", status_code=201, summary="Create a store", response_model=StoreOut,
             openapi_extra=secured(*ADMINS, errors={404: "NOT_FOUND: no such retailer.",
                                                    409: "CONFLICT: a store with this storeId exists already."})
             | body(StoreIn, example=_STORE_EXAMPLE))
async def create_store(request: Request) -> FastJSONResponse:
    """A connector given without a secret gets a generated one, shown in this answer only."""
    who = principal(request, *ADMINS)
    body = await _body(request, StoreIn)
    retailer_id = body.retailerId or who.retailer_id
    if retailer_id is None:
        raise InvalidRequest("retailerId: is required with an operator token", fields=["retailerId"])
    saved = await run_in_threadpool(container(request).admin.add_store, who, draft_from_input(body, retailer_id))
    return FastJSONResponse(store_view(saved.store, generated_secrets=saved.generated_secrets), status_code=201)


@router.get("/v1/admin/stores", summary="List stores", response_model=StoreListOut, openapi_extra=secured(*ADMINS))
async def list_stores(request: Request) -> FastJSONResponse:
    """Every store (operator), or the retailer's own."""
    who = principal(request, *ADMINS)
    stores = await run_in_threadpool(container(request).admin.list_stores, who)
    return FastJSONResponse({"stores": [store_view(s) for s in stores]})


@router.get("/v1/admin/stores/{storeId}", summary="Get a store", response_model=StoreOut,
            openapi_extra=secured(*ADMINS, errors=_STORE_ERRORS))
async def get_store(storeId: str, request: Request) -> FastJSONResponse:
    who = principal(request, *ADMINS)
    return FastJSONResponse(store_view(await run_in_threadpool(container(request).admin.get_store, who, storeId)))


@router.patch("/v1/admin/stores/{storeId}", summary="Change a store", response_model=StoreOut,
              openapi_extra=secured(*ADMINS, errors=_STORE_ERRORS)
              | body(StorePatch, example={"timezone": "Europe/Paris", "riskStrategy": "NONE", "maxPartySize": 2}))
async def update_store(storeId: str, request: Request) -> FastJSONResponse:
    who = principal(request, *ADMINS)
    body = await _body(request, StorePatch)
    saved = await run_in_threadpool(container(request).admin.update_store, who, storeId, change_from_patch(body))
    return FastJSONResponse(store_view(saved.store, generated_secrets=saved.generated_secrets))


@router.post("/v1/admin/stores/{storeId}/gates", status_code=201, summary="Create a gate", response_model=GateCreatedOut,
             openapi_extra=secured(*ADMINS, errors={**_STORE_ERRORS,
                                                    409: "CONFLICT: the store has a gate with this gateId already."})
             | body(GateIn, example={"gateId": "lane-1", "direction": "ENTRY"}))
async def create_gate(storeId: str, request: Request) -> FastJSONResponse:
    """The gate's API key is in this answer only."""
    who = principal(request, *ADMINS)
    body = await _body(request, GateIn)
    created = await run_in_threadpool(container(request).admin.add_gate, who, storeId, gate_id=body.gateId,
                                      direction=body.direction)
    return FastJSONResponse({"gateId": created.id, "apiKey": created.api_key, "direction": body.direction.value},
                            status_code=201)


@router.get("/v1/admin/stores/{storeId}/gates", summary="List a store's gates", response_model=GateListOut,
            openapi_extra=secured(*ADMINS, errors=_STORE_ERRORS))
async def list_gates(storeId: str, request: Request) -> FastJSONResponse:
    who = principal(request, *ADMINS)
    gates = await run_in_threadpool(container(request).admin.list_gates, who, storeId)
    return FastJSONResponse({"gates": [_gate(g) for g in gates]})


@router.patch("/v1/admin/stores/{storeId}/gates/{gateId}", summary="Enable or disable a gate", response_model=GateOut,
              openapi_extra=secured(*ADMINS, errors={**_STORE_ERRORS, 404: "NOT_FOUND: no such store or gate."})
              | body(GatePatch, example={"enabled": False}))
async def update_gate(storeId: str, gateId: str, request: Request) -> FastJSONResponse:
    who = principal(request, *ADMINS)
    body = await _body(request, GatePatch)
    gate = await run_in_threadpool(container(request).admin.set_gate_enabled, who, storeId, gateId,
                                   enabled=body.enabled)
    return FastJSONResponse(_gate(gate))


def _gate(gate) -> dict[str, Any]:  # noqa: ANN001
    return {"gateId": gate.gate_id, "direction": gate.direction.value, "enabled": gate.enabled}
