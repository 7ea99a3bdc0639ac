"""Webhook endpoints and deliveries as JSON (DESIGN 13): the request body and the answers' models."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from entrygate.services.events.endpoints import CreatedEndpoint
from entrygate.services.ports.events import DeliveryView, WebhookEndpoint
from entrygate.wire.schemas import Model


def _when(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at is not None else None


class WebhookEndpointIn(Model):
    url: Annotated[str, StringConstraints(min_length=1, max_length=2048)]
    events: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] = Field(min_length=1, max_length=20)
    retailerId: str | None = None  # the operator names the retailer; a retailer key needs none


class EndpointQuery(Model):
    retailerId: str | None = None  # the operator's filter


class DeliveryQuery(Model):
    limit: int = Field(default=100, ge=1, le=200)


class WebhookEndpointCreatedOut(BaseModel):
    id: str
    secret: str = Field(description="whsec_ and base64: the signing key, shown only in this answer")


class WebhookEndpointOut(BaseModel):
    id: str
    url: str
    events: list[str]
    createdAt: str
    disabled: bool
    disabledReason: str | None


class WebhookEndpointListOut(BaseModel):
    endpoints: list[WebhookEndpointOut]


class DeliveryOut(BaseModel):
    deliveryId: str
    eventId: str
    eventType: str
    webhookId: str
    status: Literal["PENDING", "DELIVERED", "FAILED", "DISABLED"]
    attempts: int
    lastResponseCode: int | None
    lastError: str | None
    lastAttemptAt: str | None
    nextAttemptAt: str | None
    createdAt: str


class DeliveryListOut(BaseModel):
    deliveries: list[DeliveryOut]


def created_view(created: CreatedEndpoint) -> dict:
    return {"id": created.endpoint.endpoint_id, "secret": created.secret}


def endpoint_view(e: WebhookEndpoint) -> dict:
    """An endpoint as the API shows it: never its secret."""
    return {"id": e.endpoint_id, "url": e.url, "events": list(e.events), "createdAt": _when(e.created_at),
            "disabled": e.disabled, "disabledReason": e.disabled_reason}


def delivery_view(d: DeliveryView) -> dict:
    return {"deliveryId": d.delivery_id, "eventId": d.event_id, "eventType": d.event_type, "webhookId": d.webhook_id,
            "status": d.status.value, "attempts": d.attempts, "lastResponseCode": d.last_response_code,
            "lastError": d.last_error, "lastAttemptAt": _when(d.last_attempt_at),
            "nextAttemptAt": _when(d.next_attempt_at), "createdAt": _when(d.created_at)}
