"""The outbox of events (``services/ports/events.EventOutbox``) on a unit of work's connection.

An event commits or rolls back with the change it reports (the SQLite group-commit writer's
savepoints included). One ``INSERT … SELECT`` fans an event out to the subscribed, enabled
endpoints of the store's retailer, so the subscription is checked by the database in the same
transaction; a caller whose cache of subscriptions is stale stores nothing more than that.
"""
from __future__ import annotations

from sqlalchemy import Connection, and_, delete, insert, literal, select

from entrygate.adapters.db import tables as t
from entrygate.adapters.db.repositories import SqlTrips
from entrygate.domain.events import DeliveryStatus
from entrygate.domain.holds import HoldStatus, HoldSummary
from entrygate.domain.money import Money
from entrygate.domain.records import Trip
from entrygate.services.ports.events import NewEvent

_ep, _sub, _ev, _st = t.webhook_endpoints.c, t.webhook_subscriptions.c, t.webhook_events.c, t.stores.c
_holds = t.preauthorizations.c
_PENDING = DeliveryStatus.PENDING.value


class SqlEventOutbox:
    """``EventOutbox`` on a unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, event: NewEvent) -> int:
        self.conn.execute(insert(t.webhook_events).values(
            event_id=event.event_id, event_type=event.event_type.value, store_id=event.store_id,
            ordering_key=event.ordering_key, body=event.body, created_at=event.created_at))
        at = literal(event.created_at, t.UTCDateTime)
        fan_out = (select(_ep.endpoint_id, literal(event.event_id),
                          literal(f"msg_{event.event_id.removeprefix('evt_')}.") + _ep.endpoint_id,
                          literal(event.ordering_key, t.webhook_deliveries.c.ordering_key.type),
                          literal(_PENDING), literal(0), at, at, at)
                   .select_from(t.webhook_endpoints
                                .join(t.webhook_subscriptions, _sub.endpoint_id == _ep.endpoint_id)
                                .join(t.stores, _st.retailer_id == _ep.retailer_id))
                   .where(and_(_st.store_id == event.store_id, _sub.event_type == event.event_type.value,
                               _ep.disabled_at.is_(None))))
        created = self.conn.execute(insert(t.webhook_deliveries).from_select(
            ["endpoint_id", "event_id", "webhook_id", "ordering_key", "status", "attempts", "next_attempt_at",
             "window_started_at", "created_at"], fan_out)).rowcount
        if not created:  # the subscription went away since the caller's cache looked: keep nothing
            self.conn.execute(delete(t.webhook_events).where(_ev.event_id == event.event_id))
        return created

    def trip(self, trip_id: str) -> Trip | None:
        return SqlTrips(self.conn).get(trip_id)

    def hold(self, trip_id: str) -> HoldSummary | None:
        row = self.conn.execute(select(_holds.preauth_id, _holds.currency, _holds.status, _holds.held_amount,
                                       _holds.captured_amount, _holds.refunded_amount)
                                .where(_holds.trip_id == trip_id)).first()
        if row is None:
            return None
        cur = row.currency
        return HoldSummary(row.preauth_id, HoldStatus(row.status), Money(row.held_amount, cur),
                           Money(row.captured_amount, cur), Money(row.refunded_amount, cur))
