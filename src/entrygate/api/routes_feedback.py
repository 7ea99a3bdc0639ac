"""Retailer feedback (DESIGN 4.2). These two endpoints speak the seed system's format on purpose, so a
retailer's existing back end works unchanged: money as ``{"amount", "code"}``, times in epoch
milliseconds, answers ``{"status": "Accepted" | "Rejected"}`` (a ``Rejected`` adds ``reason``), and
a 400 in the connector family's shape, ``{"errorType": "BadRequestException", "errorMsg": "…"}``.
A missing or wrong key is answered as everywhere else (401, 403 with the error body)."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints, ValidationInfo, field_validator
from starlette.concurrency import run_in_threadpool

from entrygate.api.body import read_json
from entrygate.api.deps import container, principal
from entrygate.api.openapi import body, secured, seed_bad_request
from entrygate.api.responses import FastJSONResponse
from entrygate.domain.channels import ShopperRisk
from entrygate.domain.keys import KeyKind
from entrygate.services.errors import InvalidRequest
from entrygate.services.payments.feedback import FeedbackOutcome, PaymentReport
from entrygate.wire.answers import FeedbackOut
from entrygate.wire.parse import parse
from entrygate.wire.schemas import Currency, within_minor_units

router = APIRouter(tags=["feedback"])

Id = Annotated[str, StringConstraints(pattern=r"^[0-9a-zA-Z_-]{1,255}$")]
# Epoch milliseconds between 2000-01-01 and 2100-01-01.
EpochMs = Annotated[StrictInt, Field(ge=946_684_800_000, le=4_102_444_800_000)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Amount(_Model):
    """Money in the seed system's format: ``{"amount": 18.4, "code": "USD"}``."""

    code: Currency = Field(description="ISO 4217 code, three capital letters.")  # first: the amount's check sees it
    amount: Decimal = Field(ge=0, le=Decimal("10000000"), allow_inf_nan=False, decimal_places=4,
                            description="In the currency's major unit, at most its minor units' decimals.")

    @field_validator("amount")
    @classmethod
    def _precision(cls, amount: Decimal, info: ValidationInfo) -> Decimal:
        return within_minor_units(amount, info.data.get("code"))


class PaymentStatusIn(_Model):
    """How a trip's payment ended, as the retailer's back end reports it."""

    storeId: Id = Field(description="The trip's store.", examples=["store-001"])
    shoppingTripId: Id = Field(description="The trip, as the entry's answer gave it.")
    totalAmount: Amount = Field(description="The basket's total.")
    settledAmount: Amount = Field(description="What was collected of it; total - settled is the shopper's debt, "
                                              "which denies entry under the platform strategies until paid.")
    paymentStatusTime: EpochMs = Field(description="When the payment reached this state, in epoch milliseconds; a "
                                                   "report replaces an older one of the same trip, never a newer.")


class ShopperRiskIn(_Model):
    """A risk label on the trip's payment instrument; labels feed the risk model's training."""

    storeId: Id = Field(description="The trip's store.", examples=["store-001"])
    shoppingTripId: Id = Field(description="The trip whose instrument is labelled.")
    risk: Literal["CustomerFraud", "BadDebt", "InvalidCard"] = Field(description="CustomerFraud blocks the instrument "
                                                                                 "platform-wide.")
    note: Annotated[str, StringConstraints(max_length=2000)] | None = Field(default=None,
                                                                           description="Free text for people.")


_SECURED = secured(KeyKind.RETAILER, KeyKind.OPERATOR, errors={400: seed_bad_request()})
_PAYMENT_EXAMPLE = {"storeId": "store-001", "shoppingTripId": "trip_dmdgtwdckcujjmjzxlerefuf",
                    "totalAmount": {"amount": 18.4, "code": "USD"}, "settledAmount": {"amount": 0, "code": "USD"},
                    "paymentStatusTime": 1764266400000}
_RISK_EXAMPLE = {"storeId": "store-001", "shoppingTripId": "trip_dmdgtwdckcujjmjzxlerefuf", "risk": "BadDebt",
                 "note": "chargeback after 30 days"}


def _answer(outcome: FeedbackOutcome) -> FastJSONResponse:
    answer = {"status": outcome.status}
    if outcome.reason is not None:
        answer["reason"] = outcome.reason
    return FastJSONResponse(answer)


def bad_request(message: str) -> FastJSONResponse:
    return FastJSONResponse({"errorType": "BadRequestException", "errorMsg": message}, status_code=400)


async def _parse(request: Request, model):  # noqa: ANN001, ANN202
    return parse(model, await read_json(request, max_bytes=container(request).settings.max_body_bytes))


@router.post("/v1/feedback/payment-status", summary="Report how a trip's payment ended", response_model=FeedbackOut,
             openapi_extra=_SECURED | body(PaymentStatusIn, example=_PAYMENT_EXAMPLE))
async def payment_status(request: Request) -> FastJSONResponse:
    who = principal(request, KeyKind.RETAILER, KeyKind.OPERATOR)
    try:
        body = await _parse(request, PaymentStatusIn)
        report = PaymentReport(
            store_id=body.storeId, trip_id=body.shoppingTripId, total=body.totalAmount.amount,
            total_currency=body.totalAmount.code, settled=body.settledAmount.amount,
            settled_currency=body.settledAmount.code,
            status_time=datetime.fromtimestamp(body.paymentStatusTime / 1000, tz=UTC))
        outcome = await run_in_threadpool(container(request).feedback.report_payment, who, report)
    except InvalidRequest as exc:
        return bad_request(exc.message)
    return _answer(outcome)


@router.post("/v1/feedback/shopper-risk", summary="Label a trip's payment instrument", response_model=FeedbackOut,
             openapi_extra=_SECURED | body(ShopperRiskIn, example=_RISK_EXAMPLE))
async def shopper_risk(request: Request) -> FastJSONResponse:
    who = principal(request, KeyKind.RETAILER, KeyKind.OPERATOR)
    try:
        body = await _parse(request, ShopperRiskIn)
        outcome = await run_in_threadpool(container(request).feedback.label, who, store_id=body.storeId,
                                          trip_id=body.shoppingTripId, risk=ShopperRisk(body.risk), note=body.note)
    except InvalidRequest as exc:
        return bad_request(exc.message)
    return _answer(outcome)
