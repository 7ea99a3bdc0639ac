"""Keys in the console (DESIGN 15): each gate's keys with their last use, rotate and revoke; the
retailer's named API keys, created (the new key shown once) and revoked."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from starlette.datastructures import FormData

from entrygate.console.web import ConsoleRoute, Visit, call, checked_form, container, redirect, render, signed_in
from entrygate.services.admin.api_keys import DEFAULT_GRACE_SECONDS
from entrygate.services.errors import Conflict, InvalidRequest
from entrygate.wire.keys import RetailerKeyIn
from entrygate.wire.parse import parse

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

# The grace periods offered when a gate gets a new key: how long its current keys keep working.
GRACE_CHOICES = [(0, "Stop the current keys now"), (3600, "1 hour"), (DEFAULT_GRACE_SECONDS, "1 day"),
                 (7 * 86_400, "7 days")]


# -- a gate's keys ----------------------------------------------------------------------------------


async def _gate_keys(request: Request, visit: Visit, store_id: str, gate_id: str, *, status: int = 200,
                     **extra: Any) -> Response:
    c = container(request)
    store = await call(c.admin.get_store, visit.principal, store_id)
    keys = await call(c.api_keys.list_gate_keys, visit.principal, gate_id, store_id=store_id)
    return render(request, "gate_keys.html", {"store": store, "gate_id": gate_id, "keys": keys, "tab": "overview",
                                              "grace_choices": GRACE_CHOICES, "errors": {}, **extra}, status=status)


@router.get("/console/stores/{store_id}/gates/{gate_id}/keys")
async def gate_keys_page(store_id: str, gate_id: str, request: Request, visit: Visit = Depends(signed_in)) -> Response:
    return await _gate_keys(request, visit, store_id, gate_id)


@router.post("/console/stores/{store_id}/gates/{gate_id}/keys")
async def rotate_gate_key(store_id: str, gate_id: str, request: Request, visit: Visit = Depends(signed_in),
                          form: FormData = Depends(checked_form)) -> Response:
    raw = str(form.get("graceSeconds") or "")
    try:
        if not raw.isdigit():
            raise InvalidRequest("graceSeconds: choose how long the current keys keep working", fields=["graceSeconds"])
        rotated = await call(container(request).api_keys.rotate_gate_key, visit.principal, gate_id,
                             grace_seconds=int(raw), store_id=store_id)
    except InvalidRequest as exc:
        return await _gate_keys(request, visit, store_id, gate_id, status=400,
                                errors={"graceSeconds": exc.message.split(": ", 1)[-1].capitalize() + "."})
    return await _gate_keys(request, visit, store_id, gate_id, status=201, new_key=rotated)


@router.post("/console/stores/{store_id}/gates/{gate_id}/keys/{key_id}/revoke")
async def revoke_gate_key(store_id: str, gate_id: str, key_id: str, request: Request,
                          visit: Visit = Depends(signed_in), form: FormData = Depends(checked_form)) -> Response:
    await call(container(request).api_keys.revoke_gate_key, visit.principal, gate_id, key_id, store_id=store_id)
    return redirect(f"/console/stores/{quote(store_id)}/gates/{quote(gate_id)}/keys")


# -- the retailer's API keys ------------------------------------------------------------------------


async def _api_keys(request: Request, visit: Visit, *, status: int = 200, **extra: Any) -> Response:
    keys = await call(container(request).api_keys.list_retailer_keys, visit.principal, visit.user.retailer_id)
    return render(request, "api_keys.html", {"keys": keys, "errors": {}, "values": {}, **extra}, status=status)


@router.get("/console/keys")
async def api_keys_page(request: Request, visit: Visit = Depends(signed_in)) -> Response:
    return await _api_keys(request, visit)


@router.post("/console/keys")
async def create_api_key(request: Request, visit: Visit = Depends(signed_in),
                         form: FormData = Depends(checked_form)) -> Response:
    name = str(form.get("name") or "")
    try:
        body = parse(RetailerKeyIn, {"name": name})
        made = await call(container(request).api_keys.create_retailer_key, visit.principal, visit.user.retailer_id,
                          name=body.name)
    except InvalidRequest:
        return await _api_keys(request, visit, status=400, values={"name": name},
                               errors={"name": "Give the key a name of 1 to 100 characters."})
    return await _api_keys(request, visit, status=201, new_key=made)


@router.post("/console/keys/{key_id}/revoke")
async def revoke_api_key(key_id: str, request: Request, visit: Visit = Depends(signed_in),
                         form: FormData = Depends(checked_form)) -> Response:
    try:
        await call(container(request).api_keys.revoke_retailer_key, visit.principal, visit.user.retailer_id, key_id)
    except Conflict as exc:
        return await _api_keys(request, visit, status=409, refusal=exc.message[:1].upper() + exc.message[1:] + ".")
    return redirect("/console/keys")
