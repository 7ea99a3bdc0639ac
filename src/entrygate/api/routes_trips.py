"""Ending a trip and settling its money (DESIGN 10): close, and capture, cancel, adjust, refund of its
pre-authorization. The trip's retailer (its API key) or the operator; another retailer's trip is 404.

Every settlement call carries an ``Idempotency-Key`` header: the same key and body answer as the
first time and move no more money (the answer then carries ``Idempotent-Replayed: true``); the
same key with another body is a 409.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from entrygate.api.body import read_bytes, read_json
from entrygate.api.deps import container, principal
from entrygate.api.openapi import OpenApiExtra, body, secured
from entrygate.api.responses import FastJSONResponse
from entrygate.domain.keys import KeyKind
from entrygate.domain.money import Money
from entrygate.services.auth import Principal
from entrygate.services.payments.holds import HoldService
from entrygate.services.ports.payments import HoldAnswer
from entrygate.wire.answers import CloseOut, HoldOut
from entrygate.wire.parse import parse, parse_json
from entrygate.wire.schemas import CancelIn, HoldAmountIn
from entrygate.wire.trips import close_answer, hold_answer

router = APIRouter(tags=["trips"])
SETTLERS = (KeyKind.RETAILER, KeyKind.OPERATOR)
IDEMPOTENCY_KEY = "Idempotency-Key"
_KEY_PARAMETER = {
    "name": IDEMPOTENCY_KEY, "in": "header", "required": True,
    "description": "Chosen by the caller, unique per operation: a retry with the same key and body moves no more "
                   "money and gets the first answer again; the same key with another body is a 409.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
_AMOUNT_EXAMPLE = {"amount": {"value": 18.4, "currencyCode": "USD"}}


_TRIP_404 = "NOT_FOUND: no such trip, one of another retailer, or a trip without a pre-authorization."
_SETTLE_409 = ("CONFLICT: what the hold's state forbids (`reason` says which: capture of a captured or released hold, "
               "refund before or above the capture, adjust of a closed trip), or the Idempotency-Key was used with "
               "another body.")


def _settlement(model: type[BaseModel], *, example: dict[str, Any] | None = None,
                required: bool = True) -> OpenApiExtra:
    """The OpenAPI extras of a settlement route: its keys and errors, its body, and the ``Idempotency-Key`` header."""
    return (secured(*SETTLERS, errors={404: _TRIP_404, 409: _SETTLE_409})
            | body(model, example=example, required=required) | OpenApiExtra(parameters=[_KEY_PARAMETER]))


async def _amount(request: Request) -> Money:
    data = await read_json(request, max_bytes=container(request).settings.max_body_bytes)
    given = parse(HoldAmountIn, data).amount
    return Money(given.value, given.currencyCode)


async def _answer(request: Request, who: Principal, call: Callable[..., HoldAnswer], trip_id: str,
                  **kwargs: Any) -> FastJSONResponse:
    answer = await run_in_threadpool(call, who, trip_id, idempotency_key=request.headers.get(IDEMPOTENCY_KEY),
                                     **kwargs)
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return FastJSONResponse(hold_answer(answer), headers=headers)


async def _settle_amount(request: Request, trip_id: str,
                         use_case: Callable[[HoldService], Callable[..., HoldAnswer]]) -> FastJSONResponse:
    """A settlement whose body is ``{"amount": money}``: capture, adjust, refund."""
    who = principal(request, *SETTLERS)  # a key outside its scope hears 401/403 before its body is judged
    amount = await _amount(request)
    return await _answer(request, who, use_case(container(request).holds), trip_id, amount=amount)


@router.post("/v1/trips/{shoppingTripId}/close", summary="Close a trip", response_model=CloseOut,
             openapi_extra=secured(*SETTLERS, errors={404: "NOT_FOUND: no such trip, or one of another retailer."}))
async def close_trip(shoppingTripId: str, request: Request) -> FastJSONResponse:
    """Close an open trip (``closedBy`` RETAILER, or OPERATOR for the operator's token); a closed one is
    ``ALREADY_CLOSED`` with who closed it."""
    who = principal(request, *SETTLERS)
    closed = await run_in_threadpool(container(request).trip_closing.close_trip, who, shoppingTripId)
    return FastJSONResponse(close_answer(closed))


@router.post("/v1/trips/{shoppingTripId}/preauthorization/capture", summary="Capture the trip's pre-authorization",
             response_model=HoldOut, openapi_extra=_settlement(HoldAmountIn, example=_AMOUNT_EXAMPLE))
async def capture(shoppingTripId: str, request: Request) -> FastJSONResponse:
    """Charge the shopper ``amount`` (open or closed trip); above the hold, the processor is first asked to raise it."""
    return await _settle_amount(request, shoppingTripId, lambda holds: holds.capture)


@router.post("/v1/trips/{shoppingTripId}/preauthorization/cancel", summary="Release the trip's hold",
             response_model=HoldOut, openapi_extra=_settlement(CancelIn, example={}, required=False))
async def cancel(shoppingTripId: str, request: Request) -> FastJSONResponse:
    """Release the hold: an empty basket; the trip's total and settled amounts become 0. No body needed."""
    who = principal(request, *SETTLERS)
    raw = await read_bytes(request, max_bytes=container(request).settings.max_body_bytes)
    if raw.strip():
        parse(CancelIn, parse_json(raw))  # a body is optional, but when given it must be a JSON object
    return await _answer(request, who, container(request).holds.cancel, shoppingTripId)


@router.post("/v1/trips/{shoppingTripId}/preauthorization/adjust", summary="Change the trip's hold",
             response_model=HoldOut, openapi_extra=_settlement(HoldAmountIn, example=_AMOUNT_EXAMPLE))
async def adjust(shoppingTripId: str, request: Request) -> FastJSONResponse:
    """Change the hold to ``amount``, up or down, while the trip is open."""
    return await _settle_amount(request, shoppingTripId, lambda holds: holds.adjust)


@router.post("/v1/trips/{shoppingTripId}/preauthorization/refund", summary="Refund a capture",
             response_model=HoldOut, openapi_extra=_settlement(HoldAmountIn, example=_AMOUNT_EXAMPLE))
async def refund(shoppingTripId: str, request: Request) -> FastJSONResponse:
    """Give back ``amount`` of the capture, within 30 days; a trip's refunds add up to at most the capture."""
    return await _settle_amount(request, shoppingTripId, lambda holds: holds.refund)
