"""The audit log (DESIGN 15): ``GET /v1/audit``, an operator's every entry, a retailer's own."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from entrygate.api.deps import container, principal
from entrygate.api.openapi import query, secured
from entrygate.domain.keys import KeyKind
from entrygate.wire.audit import AuditLogOut, AuditQuery, audit_entry_view
from entrygate.wire.parse import parse

router = APIRouter(tags=["administration"])


@router.get("/v1/audit", response_model=AuditLogOut,
            summary="Changes made through the administration API and the console, newest first",
            openapi_extra=secured(KeyKind.OPERATOR, KeyKind.RETAILER,
                                  errors={404: "NOT_FOUND: storeId is another retailer's store."}) | query(AuditQuery))
async def list_audit(request: Request) -> dict[str, Any]:
    """``since`` is inclusive; ``limit`` 1-1000 (100 by default). A retailer's key reads its own
    entries (another retailer's ``storeId`` is 404); an operator's, every retailer's."""
    who = principal(request, KeyKind.OPERATOR, KeyKind.RETAILER)
    q = parse(AuditQuery, dict(request.query_params))
    entries = await run_in_threadpool(container(request).audit.list, who, store_id=q.storeId, since=q.since,
                                      limit=q.limit)
    return {"entries": [audit_entry_view(e) for e in entries]}
