"""Webhook endpoints and their deliveries (DESIGN 13): a retailer key for its own, the operator for any."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Request, Response
from starlette.concurrency import run_in_threadpool

from entrygate.api.body import read_json
from entrygate.api.deps import container, principal
from entrygate.api.openapi import body, query, secured
from entrygate.api.responses import FastJSONResponse
from entrygate.domain.keys import KeyKind
from entrygate.wire.parse import parse
from entrygate.wire.webhooks import (
    DeliveryListOut,
    DeliveryOut,
    DeliveryQuery,
    EndpointQuery,
    WebhookEndpointCreatedOut,
    WebhookEndpointIn,
    WebhookEndpointListOut,
    WebhookEndpointOut,
    created_view,
    delivery_view,
    endpoint_view,
)

router = APIRouter(tags=["webhooks"])
_ENDPOINT = Path(description="The endpoint's id, from `POST /v1/webhook-endpoints`.")
_DELIVERY = Path(description="The delivery's id, from the endpoint's delivery log.")
MANAGERS = (KeyKind.RETAILER, KeyKind.OPERATOR)
_EXAMPLE = {"url": "https://retailer.example/webhooks", "events": ["decision.created", "trip.closed"]}


@router.post("/v1/webhook-endpoints", status_code=201, summary="Register a webhook endpoint",
             response_model=WebhookEndpointCreatedOut,
             openapi_extra=secured(*MANAGERS) | body(WebhookEndpointIn, example=_EXAMPLE))
async def create_endpoint(request: Request) -> FastJSONResponse:
    """The answer carries the endpoint's signing secret, this once."""
    who = principal(request, *MANAGERS)
    given = parse(WebhookEndpointIn, await read_json(request, max_bytes=container(request).settings.max_body_bytes))
    created = await run_in_threadpool(container(request).webhooks.create, who, url=given.url, events=given.events,
                                      retailer_id=given.retailerId)
    return FastJSONResponse(created_view(created), status_code=201)


@router.get("/v1/webhook-endpoints", summary="List the retailer's webhook endpoints",
            response_model=WebhookEndpointListOut,
            openapi_extra=secured(*MANAGERS) | query(EndpointQuery))
async def list_endpoints(request: Request) -> dict[str, Any]:
    who = principal(request, *MANAGERS)
    q = parse(EndpointQuery, dict(request.query_params))
    found = await run_in_threadpool(container(request).webhooks.list, who, retailer_id=q.retailerId)
    return {"endpoints": [endpoint_view(e) for e in found]}


@router.get("/v1/webhook-endpoints/{endpointId}", summary="A webhook endpoint (never its secret)",
            response_model=WebhookEndpointOut,
            openapi_extra=secured(*MANAGERS))
async def get_endpoint(request: Request, endpointId: str = _ENDPOINT) -> dict[str, Any]:
    who = principal(request, *MANAGERS)
    return endpoint_view(await run_in_threadpool(container(request).webhooks.get, who, endpointId))


@router.delete("/v1/webhook-endpoints/{endpointId}", status_code=204, summary="Delete a webhook endpoint",
               response_class=Response,
               openapi_extra=secured(*MANAGERS))
async def delete_endpoint(request: Request, endpointId: str = _ENDPOINT) -> Response:
    who = principal(request, *MANAGERS)
    await run_in_threadpool(container(request).webhooks.delete, who, endpointId)
    return Response(status_code=204)


@router.get("/v1/webhook-endpoints/{endpointId}/deliveries", summary="An endpoint's delivery log, newest first",
            response_model=DeliveryListOut,
            openapi_extra=secured(*MANAGERS) | query(DeliveryQuery))
async def list_deliveries(request: Request, endpointId: str = _ENDPOINT) -> dict[str, Any]:
    who = principal(request, *MANAGERS)
    q = parse(DeliveryQuery, dict(request.query_params))
    found = await run_in_threadpool(container(request).webhooks.deliveries, who, endpointId, limit=q.limit)
    return {"deliveries": [delivery_view(d) for d in found]}


@router.post("/v1/webhook-endpoints/{endpointId}/deliveries/{deliveryId}/retry",
             summary="Send a delivery again now", response_model=DeliveryOut,
             openapi_extra=secured(*MANAGERS))
async def retry_delivery(request: Request, endpointId: str = _ENDPOINT, deliveryId: str = _DELIVERY) -> dict[str, Any]:
    """Due at once, with a new retry window; on a disabled endpoint this enables it again."""
    who = principal(request, *MANAGERS)
    return delivery_view(await run_in_threadpool(container(request).webhooks.retry, who, endpointId, deliveryId))
