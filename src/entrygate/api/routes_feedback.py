"""Retailer feedback (DESIGN 4.2). These two endpoints answer errors in the connector family's
shape, ``{"errorType": "BadRequestException", "errorMsg": "…"}``, as the contract fixes."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints, ValidationInfo, field_validator
from starlette.concurrency import run_in_threadpool

from entrygate.api.body import read_json
from entrygate.api.deps import container, principal
from entrygate.api.openapi import body
from entrygate.api.responses import FastJSONResponse
from entrygate.domain.channels import ShopperRisk
from entrygate.domain.keys import KeyKind
from entrygate.services.errors import InvalidRequest
from entrygate.services.payments.feedback import PaymentReport
from entrygate.wire.parse import parse
from entrygate.wire.schemas import Currency, within_minor_units

router = APIRouter(tags=["feedback"])

Id = Annotated[str, StringConstraints(pattern=r"^[0-9a-zA-Z_-]{1,255}$")]
# Epoch milliseconds between 2000-01-01 and 2100-01-01.
EpochMs = Annotated[StrictInt, Field(ge=946_684_800_000, le=4_102_444_800_000)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Amount(_Model):
    code: Currency  # first, so that the amount's check can see it
    amount: Decimal = Field(ge=0, le=Decimal("10000000"), allow_inf_nan=False, decimal_places=4)

    @field_validator("amount")
    @classmethod
    def _precision(cls, amount: Decimal, info: ValidationInfo) -> Decimal:
        return within_minor_units(amount, info.data.get("code"))


class PaymentStatusIn(_Model):
    storeId: Id
    shoppingTripId: Id
    totalAmount: Amount
    settledAmount: Amount
    paymentStatusTime: EpochMs


class ShopperRiskIn(_Model):
    storeId: Id
    shoppingTripId: Id
    risk: Literal["CustomerFraud", "BadDebt", "InvalidCard"]
    note: Annotated[str, StringConstraints(max_length=2000)] | None = None


def bad_request(message: str) -> FastJSONResponse:
    return FastJSONResponse({"errorType": "BadRequestException", "errorMsg": message}, status_code=400)


async def _parse(request: Request, model):  # noqa: ANN001, ANN202
    return parse(model, await read_json(request, max_bytes=container(request).settings.max_body_bytes))


@router.post("/v1/feedback/payment-status", openapi_extra=body(PaymentStatusIn))
async def payment_status(request: Request) -> FastJSONResponse:
    who = principal(request, KeyKind.RETAILER, KeyKind.OPERATOR)
    try:
        body = await _parse(request, PaymentStatusIn)
        report = PaymentReport(
            store_id=body.storeId, trip_id=body.shoppingTripId, total=body.totalAmount.amount,
            total_currency=body.totalAmount.code, settled=body.settledAmount.amount,
            settled_currency=body.settledAmount.code,
            status_time=datetime.fromtimestamp(body.paymentStatusTime / 1000, tz=UTC))
        status = await run_in_threadpool(container(request).feedback.report_payment, who, report)
    except InvalidRequest as exc:
        return bad_request(exc.message)
    return FastJSONResponse({"status": status})


@router.post("/v1/feedback/shopper-risk", openapi_extra=body(ShopperRiskIn))
async def shopper_risk(request: Request) -> FastJSONResponse:
    who = principal(request, KeyKind.RETAILER, KeyKind.OPERATOR)
    try:
        body = await _parse(request, ShopperRiskIn)
        status = await run_in_threadpool(container(request).feedback.label, who, store_id=body.storeId,
                                         trip_id=body.shoppingTripId, risk=ShopperRisk(body.risk), note=body.note)
    except InvalidRequest as exc:
        return bad_request(exc.message)
    return FastJSONResponse({"status": status})
