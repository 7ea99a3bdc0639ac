"""Webhook endpoints and deliveries as JSON (DESIGN 13): the request body and the answers' models."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from entrygate.services.events.endpoints import CreatedEndpoint
from entrygate.services.ports.events import DeliveryView, WebhookEndpoint
from entrygate.wire.answers import Answer
from entrygate.wire.schemas import Model


def _when(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at is not None else None


EVENT_TYPES_TEXT = "decision.created, trip.opened, trip.closed, preauthorization.updated, instrument.blocked"


class WebhookEndpointIn(Model):
    url: Annotated[str, StringConstraints(min_length=1, max_length=2048)] = Field(
        description="Where the events are posted: https to a public address (docs/webhooks.md; "
                    "ENTRYGATE_ALLOW_PRIVATE_URLS=true lifts this for development).")
    events: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=20, description=f"The event types to receive: {EVENT_TYPES_TEXT}.")
    retailerId: str | None = Field(default=None, description="With the operator's token: whose endpoint this is. "
                                                             "A retailer key needs none.")


class EndpointQuery(Model):
    retailerId: str | None = Field(default=None, description="With the operator's token: only this retailer's "
                                                             "endpoints.")


class DeliveryQuery(Model):
    limit: int = Field(default=100, ge=1, le=200, description="At most this many deliveries, newest first.")


class WebhookEndpointCreatedOut(Answer):
    id: str = Field(description="The endpoint's id.")
    secret: str = Field(description="whsec_ and base64: the signing key, shown only in this answer")


class WebhookEndpointOut(Answer):
    id: str = Field(description="The endpoint's id.")
    url: str = Field(description="Where the events are posted.")
    events: list[str] = Field(description=f"The event types it receives ({EVENT_TYPES_TEXT}).")
    createdAt: datetime = Field(description="When it was registered (UTC).")
    disabled: bool = Field(description="True once it failed without a single 2xx for 5 days; a retry enables it again.")
    disabledReason: str | None = Field(description="Why it was disabled, in words; null while enabled.")


class WebhookEndpointListOut(Answer):
    endpoints: list[WebhookEndpointOut] = Field(description="The retailer's endpoints, oldest first.")


class DeliveryOut(Answer):
    deliveryId: str = Field(description="This delivery of one event to one endpoint.")
    eventId: str = Field(description="The event's id (the body's id).")
    eventType: str = Field(description=f"One of {EVENT_TYPES_TEXT}.")
    webhookId: str = Field(description="The webhook-id header: the same on every attempt, for deduplication.")
    status: Literal["PENDING", "DELIVERED", "FAILED", "DISABLED"] = Field(
        description="PENDING (to be tried, or again), DELIVERED (a 2xx came back), FAILED (24 hours of retries "
                    "ran out), DISABLED (the endpoint was disabled first).")
    attempts: int = Field(description="How many times it was sent.")
    lastResponseCode: int | None = Field(description="The HTTP status of the last attempt; null when none answered.")
    lastError: str | None = Field(description="Why the last attempt failed without an answer (timeout, refused).")
    lastAttemptAt: datetime | None = Field(description="When it was last sent (UTC).")
    nextAttemptAt: datetime | None = Field(description="When it is sent next (UTC); null when it is not.")
    createdAt: datetime = Field(description="When the event was recorded (UTC).")


class DeliveryListOut(Answer):
    deliveries: list[DeliveryOut] = Field(description="Newest first.")


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
