"""The gate API: entries and exits (DESIGN 4.1)."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from entrygate.api.body import read_json
from entrygate.api.deps import container, principal
from entrygate.api.openapi import body, declare
from entrygate.domain.decision import EntryEvent
from entrygate.domain.keys import KeyKind
from entrygate.services.gate.exits import ExitEvent
from entrygate.wire.credentials import entry_event, parse_credential
from entrygate.wire.decisions import decision_answer, exit_answer
from entrygate.wire.parse import parse, request_hash
from entrygate.wire.schemas import CREDENTIAL_MODELS, EntryIn, ExitIn

router = APIRouter(tags=["gates"])
declare(*CREDENTIAL_MODELS.values())

_ENTRY_EXAMPLE = {"eventId": "3f0c8a0e-7d7f-4e52-9d3f-2b9a0f4b8c11", "timestamp": "2026-11-27T18:00:00Z",
                  "channel": "CREDIT_CARD", "interactionType": "TAP", "partySize": 1,
                  "credential": {"paymentToken": "tok_visa_approve", "par": "V0010013022298169667504271781",
                                 "brand": "VISA", "last4": "4242", "expMonth": 12, "expYear": 2030,
                                 "funding": "credit", "issuerCountry": "US"}}


@router.post("/v1/gates/{gateId}/entries", summary="Decide an entry",
             openapi_extra=body(EntryIn, example=_ENTRY_EXAMPLE))
async def entry(gateId: str, request: Request) -> dict[str, Any]:
    c = container(request)
    who = principal(request, KeyKind.GATE)
    event = entry_event(await read_json(request, max_bytes=c.settings.max_body_bytes, refuse_pan=True))
    return decision_answer(await run_in_threadpool(c.entries.admit, who, gateId, event))


@router.post("/v1/gates/{gateId}/exits", summary="Record an exit", openapi_extra=body(ExitIn))
async def exit_(gateId: str, request: Request) -> dict[str, Any]:
    c = container(request)
    who = principal(request, KeyKind.GATE)
    data = await read_json(request, max_bytes=c.settings.max_body_bytes, refuse_pan=True)
    body = parse(ExitIn, data)
    entry_event, parts = None, [body.model_copy(update={"credential": None})]
    if body.shoppingTripId is None:
        assert body.channel is not None
        cred_model, credential = parse_credential(body.channel, body.credential)
        parts.append(cred_model)
        entry_event = EntryEvent(event_id=body.eventId, timestamp=body.timestamp, channel=body.channel,
                                 interaction_type=body.interactionType.value, party_size=1,
                                 credential=credential, request_hash="")
    event = ExitEvent(event_id=body.eventId, timestamp=body.timestamp, request_hash=request_hash(*parts),
                      trip_id=body.shoppingTripId, entry=entry_event)
    return exit_answer(await run_in_threadpool(c.exits.exit, who, gateId, event))
