"""Events out (DESIGN 13) as ports: the outbox inside a unit of work, the webhook store, the sender.

``EventOutbox`` is a repository of the unit of work (``uow.events``): an event is stored in the
same transaction as the change it reports, with one delivery per endpoint of the retailer
subscribed to its type, so a crash between the change and its event loses neither.
``WebhookStore`` holds the endpoints and their deliveries for the API, the console and the
delivery worker; every write a second process could race is conditional (a delivery is claimed
``WHERE`` its lease is free, an attempt is recorded ``WHERE`` the lease is still the claimer's).
``WebhookSender`` makes one HTTP attempt; ``EventBodies`` renders what an event's ``data`` says,
the way the API shows the same resource.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from entrygate.domain.audit import AuditEntry
from entrygate.domain.events import DeliveryStatus, EventType
from entrygate.domain.holds import HoldSummary
from entrygate.domain.records import DecisionRecord, Trip


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to store: its body is final (every attempt sends these bytes)."""

    event_id: str
    event_type: EventType
    store_id: str
    ordering_key: str | None  # the trip it concerns: its events are sent in order
    body: bytes
    created_at: datetime


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    endpoint_id: str
    retailer_id: str
    url: str
    events: tuple[str, ...]
    created_at: datetime
    disabled_at: datetime | None = None
    disabled_reason: str | None = None

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None


@dataclass(frozen=True, slots=True)
class DeliveryView:
    """A delivery as the delivery log shows it."""

    delivery_id: str
    event_id: str
    event_type: str
    webhook_id: str
    status: DeliveryStatus
    attempts: int
    last_response_code: int | None
    last_error: str | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A delivery this process holds the lease on, with what an attempt needs."""

    delivery_id: str
    endpoint_id: str
    url: str
    secret: str
    webhook_id: str
    body: bytes
    attempts: int
    window_started_at: datetime
    lease_token: str


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """What one attempt got: a status code, or the error that kept it from one."""

    status_code: int | None
    error: str | None
    duration_ms: float

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class EventOutbox(Protocol):
    """The outbox inside a unit of work; reads see that transaction's own writes."""

    def add(self, event: NewEvent) -> int:
        """Store the event and a delivery for each enabled endpoint of the store's retailer subscribed
        to its type; the number of deliveries created."""
        ...

    def trip(self, trip_id: str) -> Trip | None: ...

    def hold(self, trip_id: str) -> HoldSummary | None:
        """The trip's stored hold; None when no operation has touched it since the gate."""
        ...


class EventBodies(Protocol):
    """An event's ``data``, rendered as the API renders the same resource."""

    def decision(self, record: DecisionRecord) -> dict[str, Any]: ...
    def trip(self, trip: Trip, hold: HoldSummary | None) -> dict[str, Any]: ...
    def preauthorization(self, trip_id: str, hold: HoldSummary) -> dict[str, Any]: ...


class WebhookStore(Protocol):
    def subscriptions(self) -> dict[str, frozenset[str]]:
        """Every store's id -> the event types some enabled endpoint of its retailer subscribes to (maybe none)."""
        ...

    def create_endpoint(self, endpoint: WebhookEndpoint, *, secret: str, audit: AuditEntry | None = None) -> None: ...
    def list_endpoints(self, *, retailer_id: str | None) -> list[WebhookEndpoint]: ...
    def get_endpoint(self, endpoint_id: str) -> WebhookEndpoint | None: ...
    def delete_endpoint(self, endpoint_id: str, *, audit: AuditEntry | None = None) -> bool: ...
    def list_deliveries(self, endpoint_id: str, *, limit: int) -> list[DeliveryView]:
        """Newest first."""
        ...

    def get_delivery(self, endpoint_id: str, delivery_id: str) -> DeliveryView | None: ...

    def retry(self, endpoint_id: str, delivery_id: str, *, now: datetime) -> bool:
        """Make the delivery due now, with a new retry window; a disabled endpoint is enabled again and
        the deliveries its disabling stopped resume. False when the delivery is not the endpoint's."""
        ...

    def claim(self, *, now: datetime, limit: int, lease_token: str, lease_until: datetime) -> list[ClaimedDelivery]:
        """Take the lease on up to ``limit`` due deliveries: pending, due, not leased, of an enabled
        endpoint, with no earlier pending delivery of the same trip to the same endpoint."""
        ...

    def record_attempt(self, claimed: ClaimedDelivery, result: AttemptResult, *, at: datetime,
                       next_attempt_at: datetime | None) -> datetime | None | bool:
        """Store the attempt and the delivery's new state, if the lease is still ``claimed``'s.

        Delivered: the endpoint's failure streak ends. Failed: pending again at ``next_attempt_at``,
        or FAILED when that is None. Returns False when the lease was lost (nothing written), else
        the start of the endpoint's failure streak (None after a 2xx).
        """
        ...

    def disable_endpoint(self, endpoint_id: str, *, reason: str, at: datetime) -> bool:
        """Disable an enabled endpoint and stop its pending deliveries; True when this call did."""
        ...
