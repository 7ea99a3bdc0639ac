"""The gate API: entries and exits (DESIGN 4.1)."""
from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from entrygate.api.body import read_json
from entrygate.api.deps import container, principal
from entrygate.api.openapi import body, secured
from entrygate.api.responses import FastJSONResponse
from entrygate.domain.decision import EntryEvent
from entrygate.domain.keys import KeyKind
from entrygate.services.gate.exits import ExitEvent
from entrygate.wire.answers import DecisionOut, ExitOut
from entrygate.wire.credentials import entry_event, parse_credential
from entrygate.wire.decisions import decision_answer, exit_answer
from entrygate.wire.gate_bodies import EntryRequest, ExitRequest
from entrygate.wire.parse import parse, request_hash
from entrygate.wire.schemas import ExitIn

router = APIRouter(tags=["gates"])

_WHEN = "2026-11-27T18:00:00Z"
_CARD = {"paymentToken": "tok_visa_approve", "par": "V0010013022298169667504271781", "brand": "VISA", "last4": "4242",
         "expMonth": 12, "expYear": 2030, "funding": "credit", "issuerCountry": "US"}
_ENTRY_EXAMPLES = {
    "card": ("A card tapped at the terminal (sandbox: tok_visa_approve approves)", {
        "eventId": "3f0c8a0e-7d7f-4e52-9d3f-2b9a0f4b8c11", "timestamp": _WHEN, "channel": "CREDIT_CARD",
        "interactionType": "TAP", "partySize": 1, "credential": _CARD}),
    "palm": ("A palm read: the reader's signature and liveness score", {
        "eventId": "8d2c7c1e-3a55-4b2e-9a61-0f6f2b7d9e20", "timestamp": _WHEN, "channel": "PALM",
        "interactionType": "HOVER", "credential": {"signature": "<base64 of 128 little-endian float32 values>",
                                                   "liveness": 0.97}}),
    "qr": ("A code from the retailer's app, as scanned", {
        "eventId": "c4a1f0d2-6b3e-4f7a-8e90-1d2c3b4a5f60", "timestamp": _WHEN, "channel": "QR_CODE",
        "interactionType": "SCAN", "credential": {"scanValue": "EG1.shopper-7.117636544.q7mZ3R1cM1Xo"}}),
    "badge": ("A 26-bit badge (H10301, facility 123, card 4567) as hex and bit length", {
        "eventId": "0b9e8d7c-6f5a-4e3d-2c1b-0a9f8e7d6c5b", "timestamp": _WHEN, "channel": "BADGE",
        "interactionType": "TAP", "credential": {"hex": "2006f623ae", "bitLength": 26}}),
    "badge-bits": ("A badge as its Wiegand frame's bits", {
        "eventId": "5e4d3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c", "timestamp": _WHEN, "channel": "BADGE",
        "interactionType": "TAP", "credential": {"bits": "00110010100000101001110011"}}),
}
_EXIT_EXAMPLES = {
    "trip": ("By the trip's id, as the entry's answer gave it", {
        "eventId": "7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d", "timestamp": "2026-11-27T18:25:00Z",
        "shoppingTripId": "trip_dmdgtwdckcujjmjzxlerefuf"}),
    "card": ("By the card the shopper entered with", {
        "eventId": "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a", "timestamp": "2026-11-27T18:25:00Z",
        "channel": "CREDIT_CARD", "credential": _CARD}),
}
_ENTRY_ERRORS = {404: "NOT_FOUND: no gate with this id.",
                 409: "CONFLICT: the eventId was used before with another body, or the gate is an EXIT gate."}
_EXIT_ERRORS = {404: "NOT_FOUND: no gate with this id, or no such trip at the gate's store.",
                409: "CONFLICT: the eventId was used before with another body."}


@router.post("/v1/gates/{gateId}/entries", summary="Decide an entry", response_model=DecisionOut,
             openapi_extra=secured(KeyKind.GATE, errors=_ENTRY_ERRORS) | body(EntryRequest, examples=_ENTRY_EXAMPLES))
async def entry(gateId: str, request: Request) -> FastJSONResponse:
    """Decide whether the gate opens: 200 for every decision, OPEN or DENY, with the reasons. A retry with the same
    eventId and body answers the first decision again and creates nothing new."""
    c = container(request)
    who = principal(request, KeyKind.GATE)
    event = entry_event(await read_json(request, max_bytes=c.settings.max_body_bytes, refuse_pan=True))
    return FastJSONResponse(decision_answer(await run_in_threadpool(c.entries.admit, who, gateId, event)))


@router.post("/v1/gates/{gateId}/exits", summary="Record an exit", response_model=ExitOut,
             openapi_extra=secured(KeyKind.GATE, errors=_EXIT_ERRORS) | body(ExitRequest, examples=_EXIT_EXAMPLES))
async def exit_(gateId: str, request: Request) -> FastJSONResponse:
    """Close the visitor's trip, by its id or by the credential it was entered with. People are always let out; a
    second exit for a closed trip changes nothing and says so."""
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
    return FastJSONResponse(exit_answer(await run_in_threadpool(c.exits.exit, who, gateId, event)))
