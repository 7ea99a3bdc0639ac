"""Palm enrollment (DESIGN 4.2): a retailer's kiosk links a palm to a payment card."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import Field, StrictBool
from starlette.concurrency import run_in_threadpool

from entrygate.api.body import read_json
from entrygate.api.deps import container, principal
from entrygate.api.openapi import body, secured
from entrygate.api.responses import FastJSONResponse
from entrygate.domain.keys import KeyKind
from entrygate.wire.answers import PalmEnrolledOut
from entrygate.wire.credentials import to_domain
from entrygate.wire.parse import parse
from entrygate.wire.schemas import CardCredentialIn, Model

router = APIRouter(tags=["palm"])


class PalmEnrollmentIn(Model):
    signature: str = Field(description="The reader's palm signature: base64 of little-endian float32 values.")
    card: CardCredentialIn = Field(description="The card the palm pays with, as a payment terminal reports it.")
    consent: Annotated[StrictBool, Field(description="The shopper's consent to store a palm template; must be true.")]


_EXAMPLE = {"signature": "<base64 of 128 little-endian float32 values>",
            "card": {"paymentToken": "tok_visa_approve", "par": "V0010013022298169667504271781", "brand": "VISA",
                     "last4": "4242", "expMonth": 12, "expYear": 2030, "funding": "credit", "issuerCountry": "US"},
            "consent": True}


@router.post("/v1/palm/enrollments", status_code=201, summary="Enroll a palm on a card",
             response_model=PalmEnrolledOut,
             openapi_extra=secured(KeyKind.RETAILER, errors={409: "CONFLICT: this palm is enrolled already."})
             | body(PalmEnrollmentIn, example=_EXAMPLE))
async def enroll(request: Request) -> FastJSONResponse:
    c = container(request)
    who = principal(request, KeyKind.RETAILER)
    data = await read_json(request, max_bytes=c.settings.max_body_bytes, refuse_pan=True)
    model = parse(PalmEnrollmentIn, data)
    palm_id = await run_in_threadpool(c.palm.enroll, who, signature=model.signature, card=to_domain(model.card),
                                      consent=model.consent)
    return FastJSONResponse({"palmId": palm_id}, status_code=201)


@router.delete("/v1/palm/enrollments/{palmId}", status_code=204, summary="Delete a palm enrollment for good",
               response_class=Response,
               openapi_extra=secured(KeyKind.RETAILER, KeyKind.OPERATOR, errors={
                   404: "NOT_FOUND: no such enrollment, or one another retailer enrolled."}))
async def delete_enrollment(palmId: str, request: Request) -> Response:
    c = container(request)
    who = principal(request, KeyKind.RETAILER, KeyKind.OPERATOR)
    await run_in_threadpool(c.palm.delete, who, palmId)
    return Response(status_code=204)
