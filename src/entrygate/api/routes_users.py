"""A retailer's console users (DESIGN 15): list them, remove one. Adding one is in ``routes_admin``."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from entrygate.api.deps import container, principal
from entrygate.api.openapi import secured
from entrygate.domain.keys import KeyKind
from entrygate.domain.views import user_view
from entrygate.wire.users import UserListOut

router = APIRouter(tags=["administration"])


@router.get("/v1/admin/retailers/{retailerId}/users", response_model=UserListOut,
            summary="The retailer's console users and their roles (never a password)",
            openapi_extra=secured(KeyKind.OPERATOR, KeyKind.RETAILER))
async def list_users(retailerId: str, request: Request) -> dict[str, Any]:
    who = principal(request, KeyKind.OPERATOR, KeyKind.RETAILER)
    users = await run_in_threadpool(container(request).users.list, who, retailerId)
    return {"users": [user_view(u) for u in users]}


@router.delete("/v1/admin/retailers/{retailerId}/users/{userId}", status_code=204, response_class=Response,
               summary="Remove a console user; its sessions end at once (the last ADMIN stays: 409)",
               openapi_extra=secured(KeyKind.OPERATOR, KeyKind.RETAILER,
                                     errors={409: "CONFLICT: this is the retailer's last ADMIN."}))
async def remove_user(retailerId: str, userId: str, request: Request) -> Response:
    who = principal(request, KeyKind.OPERATOR, KeyKind.RETAILER)
    await run_in_threadpool(container(request).users.remove, who, retailerId, userId)
    return Response(status_code=204)
