"""The webhook tables (DESIGN 13, migration 0009), on the platform's one ``metadata``.

``tables`` imports this module at its end and names its tables, so callers keep using ``tables``.
"""
from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, LargeBinary, Numeric, String, Table, text

from entrygate.adapters.db.tables import UTCDateTime, metadata

# -- Webhooks (DESIGN 13): endpoints, their subscriptions, the outbox of events, deliveries and their
# attempts (migration 0009). A delivery is one event for one endpoint; its lease keeps two processes
# from sending it at once.
PENDING_DELIVERY = "status = 'PENDING'"

webhook_endpoints = Table(
    "webhook_endpoints", metadata,
    Column("endpoint_id", String(40), primary_key=True),
    Column("retailer_id", String(64), ForeignKey("retailers.retailer_id"), nullable=False, index=True),
    Column("url", String(2048), nullable=False),
    Column("secret", String(200), nullable=False),  # signs every attempt, so kept as given, like connector secrets
    Column("created_at", UTCDateTime, nullable=False),
    Column("failing_since", UTCDateTime),  # the first failed attempt since the last 2xx
    Column("disabled_at", UTCDateTime),
    Column("disabled_reason", String(500)),
)

webhook_subscriptions = Table(
    "webhook_subscriptions", metadata,
    Column("endpoint_id", String(40), ForeignKey("webhook_endpoints.endpoint_id"),
           primary_key=True),
    Column("event_type", String(40), primary_key=True),
)

webhook_events = Table(
    "webhook_events", metadata,
    Column("event_id", String(40), primary_key=True),
    Column("event_type", String(40), nullable=False),
    Column("store_id", String(255), nullable=False),
    Column("ordering_key", String(64)),
    Column("body", LargeBinary, nullable=False),  # the exact bytes every attempt sends
    Column("created_at", UTCDateTime, nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries", metadata,
    Column("delivery_id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("endpoint_id", String(40), ForeignKey("webhook_endpoints.endpoint_id"), nullable=False),
    Column("event_id", String(40), ForeignKey("webhook_events.event_id"), nullable=False),
    Column("webhook_id", String(100), nullable=False, unique=True),
    Column("ordering_key", String(64)),
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_response_code", Integer),
    Column("last_error", String(500)),
    Column("last_attempt_at", UTCDateTime),
    Column("next_attempt_at", UTCDateTime),
    Column("window_started_at", UTCDateTime, nullable=False),
    Column("lease_token", String(40)),
    Column("lease_until", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_webhook_deliveries_endpoint", "endpoint_id", "delivery_id"),
    # What the delivery worker reads: the pending deliveries by due time, and a trip's earlier pending ones.
    Index("ix_webhook_deliveries_due", "next_attempt_at", sqlite_where=text(PENDING_DELIVERY),
          postgresql_where=text(PENDING_DELIVERY)),
    Index("ix_webhook_deliveries_order", "endpoint_id", "ordering_key", "delivery_id",
          sqlite_where=text(PENDING_DELIVERY), postgresql_where=text(PENDING_DELIVERY)),
)

webhook_attempts = Table(
    "webhook_attempts", metadata,
    Column("attempt_id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("delivery_id", BigInteger().with_variant(Integer, "sqlite"),
           ForeignKey("webhook_deliveries.delivery_id"), nullable=False, index=True),
    Column("attempted_at", UTCDateTime, nullable=False),
    Column("duration_ms", Numeric(10, 1, asdecimal=False), nullable=False),
    Column("status_code", Integer),
    Column("error", String(500)),
)
