"""Webhook endpoints and their delivery logs (DESIGN 13): the retailer's own, or any for the operator.

An endpoint's URL follows the Outbound addresses rules as written (https, no literal private
address); the address a name resolves to is checked again at every attempt. Its secret is made
here, shown once in the answer to the creation and never again.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from entrygate.domain import webhooks as signatures
from entrygate.domain.audit import Target
from entrygate.domain.events import EVENT_TYPES
from entrygate.domain.keys import KeyKind
from entrygate.domain.outbound import url_refusal
from entrygate.services.admin import audit
from entrygate.services.auth import Principal
from entrygate.services.errors import Forbidden, InvalidRequest, NotFound
from entrygate.services.events.recorder import Subscriptions
from entrygate.services.ports.clock import Clock
from entrygate.services.ports.events import DeliveryView, WebhookEndpoint, WebhookStore
from entrygate.services.ports.storage import UnitOfWorkFactory

MAX_URL_LENGTH = 2048
MAX_DELIVERIES = 200


@dataclass(frozen=True, slots=True)
class CreatedEndpoint:
    endpoint: WebhookEndpoint
    secret: str  # shown once


def check_events(events: list[str]) -> tuple[str, ...]:
    """The subscribed types in a stable order; an unknown or missing one is a 400 naming ``events``."""
    if not events:
        raise InvalidRequest("events: subscribe to at least one event type", fields=["events"])
    unknown = sorted({e for e in events if e not in EVENT_TYPES})
    if unknown:
        raise InvalidRequest(f"events: unknown event type {', '.join(unknown)}; known: {', '.join(sorted(EVENT_TYPES))}",
                             fields=["events"])
    return tuple(sorted(set(events)))


def check_url(url: str, *, allow_private: bool) -> str:
    url = url.strip()
    if not url or len(url) > MAX_URL_LENGTH:
        raise InvalidRequest(f"url: 1 to {MAX_URL_LENGTH} characters", fields=["url"])
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host = None
    if not url.lower().startswith(("https://", "http://")) or not host or any(c.isspace() for c in url):
        raise InvalidRequest("url: must be an https:// URL with a host", fields=["url"])
    refusal = url_refusal(url, allow_private=allow_private)
    if refusal is not None:
        raise InvalidRequest(f"url: {refusal}", fields=["url"])
    return url


class WebhookEndpointService:
    def __init__(self, uow: UnitOfWorkFactory, store: WebhookStore, clock: Clock, subscriptions: Subscriptions, *,
                 allow_private_urls: bool = False) -> None:
        self._uow = uow
        self._store = store
        self._clock = clock
        self._subscriptions = subscriptions
        self._allow_private = allow_private_urls

    def create(self, principal: Principal, *, url: str, events: list[str],
               retailer_id: str | None = None) -> CreatedEndpoint:
        owner = self._owner(principal, retailer_id)
        endpoint = WebhookEndpoint("we_" + uuid.uuid4().hex[:20], owner,
                                   check_url(url, allow_private=self._allow_private), check_events(events),
                                   self._clock.now())
        secret = signatures.new_secret()
        change = audit.entry(principal, "webhookEndpoint.created", Target("webhookEndpoint", endpoint.endpoint_id),
                             retailer_id=owner, at=endpoint.created_at, after=_view(endpoint))
        self._store.create_endpoint(endpoint, secret=secret, audit=change)
        self._subscriptions.invalidate()
        return CreatedEndpoint(endpoint, secret)

    def list(self, principal: Principal, *, retailer_id: str | None = None) -> list[WebhookEndpoint]:
        _require_reader(principal)
        if not principal.is_operator:
            retailer_id = principal.retailer_id
        return self._store.list_endpoints(retailer_id=retailer_id)

    def get(self, principal: Principal, endpoint_id: str) -> WebhookEndpoint:
        _require_reader(principal)
        endpoint = self._store.get_endpoint(endpoint_id)
        if endpoint is None or not principal.may_manage(endpoint.retailer_id):
            raise NotFound(f"webhook endpoint {endpoint_id} not found")
        return endpoint

    def delete(self, principal: Principal, endpoint_id: str) -> None:
        endpoint = self.get(principal, endpoint_id)
        change = audit.entry(principal, "webhookEndpoint.deleted", Target("webhookEndpoint", endpoint_id),
                             retailer_id=endpoint.retailer_id, at=self._clock.now(), before=_view(endpoint))
        if not self._store.delete_endpoint(endpoint_id, audit=change):
            raise NotFound(f"webhook endpoint {endpoint_id} not found")
        self._subscriptions.invalidate()

    def deliveries(self, principal: Principal, endpoint_id: str, *, limit: int = 100) -> list[DeliveryView]:
        self.get(principal, endpoint_id)
        return self._store.list_deliveries(endpoint_id, limit=min(max(limit, 1), MAX_DELIVERIES))

    def retry(self, principal: Principal, endpoint_id: str, delivery_id: str) -> DeliveryView:
        """Send the delivery again now (a disabled endpoint is enabled again by it); the delivery as it now stands."""
        self.get(principal, endpoint_id)
        if not self._store.retry(endpoint_id, delivery_id, now=self._clock.now()):
            raise NotFound(f"delivery {delivery_id} not found")
        self._subscriptions.invalidate()
        found = self._store.get_delivery(endpoint_id, delivery_id)
        if found is None:
            raise NotFound(f"delivery {delivery_id} not found")
        return found

    def _owner(self, principal: Principal, retailer_id: str | None) -> str:
        _require_reader(principal)
        if not principal.is_operator:
            assert principal.retailer_id is not None
            if retailer_id is not None and retailer_id != principal.retailer_id:
                raise Forbidden("this key may not act for that retailer")
            return principal.retailer_id
        if retailer_id is None:
            raise InvalidRequest("retailerId: is required with an operator token", fields=["retailerId"])
        with self._uow() as uow:
            if uow.retailers.get(retailer_id) is None:
                raise InvalidRequest(f"retailerId: unknown retailer {retailer_id}", fields=["retailerId"])
        return retailer_id


def _require_reader(principal: Principal) -> None:
    if principal.kind not in (KeyKind.RETAILER, KeyKind.OPERATOR):
        raise Forbidden("only a retailer key or the operator may manage webhook endpoints")


def _view(endpoint: WebhookEndpoint) -> dict[str, object]:
    """The endpoint as the audit log shows it (its secret never)."""
    return {"id": endpoint.endpoint_id, "url": endpoint.url, "events": list(endpoint.events),
            "createdAt": endpoint.created_at.isoformat().replace("+00:00", "Z")}
