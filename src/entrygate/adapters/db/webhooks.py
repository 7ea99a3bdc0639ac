"""``services/ports/events.WebhookStore`` on the database (the outbox itself is ``outbox.py``).

``SqlWebhookStore`` serves the API, the console and the delivery worker. A delivery is claimed by
a conditional ``UPDATE … WHERE status = 'PENDING' AND`` its lease is free, so of two processes
claiming at once one wins and the other changes nothing; on PostgreSQL the candidates are first
read ``FOR UPDATE SKIP LOCKED``, so claimers pass each other by instead of queueing on the same
rows. An attempt is recorded only ``WHERE lease_token`` is still the claimer's.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, exists, insert, or_, select, update
from sqlalchemy.orm import aliased

from entrygate.adapters.db import tables as t
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.domain.audit import AuditEntry
from entrygate.domain.events import DeliveryStatus
from entrygate.services.ports.events import AttemptResult, ClaimedDelivery, DeliveryView, WebhookEndpoint

_ep, _sub, _ev = t.webhook_endpoints.c, t.webhook_subscriptions.c, t.webhook_events.c
_dl, _at, _st = t.webhook_deliveries.c, t.webhook_attempts.c, t.stores.c
_PENDING = DeliveryStatus.PENDING.value
_ERROR_LENGTH = 500


class SqlWebhookStore:
    """``WebhookStore``: endpoints, deliveries and the delivery worker's claims, in units of work of their own."""

    def __init__(self, units: SqlUnitOfWorkFactory) -> None:
        self.units = units

    def subscriptions(self) -> dict[str, frozenset[str]]:
        by_retailer: dict[str, set[str]] = defaultdict(set)
        with self.units() as u:
            for retailer_id, event_type in u.conn.execute(
                    select(_ep.retailer_id, _sub.event_type)
                    .select_from(t.webhook_endpoints.join(t.webhook_subscriptions, _sub.endpoint_id == _ep.endpoint_id))
                    .where(_ep.disabled_at.is_(None))):
                by_retailer[retailer_id].add(event_type)
            stores = list(u.conn.execute(select(_st.store_id, _st.retailer_id)))
        kinds = {retailer_id: frozenset(types) for retailer_id, types in by_retailer.items()}
        return {store_id: kinds.get(retailer_id, frozenset()) for store_id, retailer_id in stores}

    def create_endpoint(self, endpoint: WebhookEndpoint, *, secret: str, audit: AuditEntry | None = None) -> None:
        with self.units(write=True) as u:
            if audit is not None:
                u.audit.add(audit)
            u.conn.execute(insert(t.webhook_endpoints).values(
                endpoint_id=endpoint.endpoint_id, retailer_id=endpoint.retailer_id, url=endpoint.url, secret=secret,
                created_at=endpoint.created_at))
            u.conn.execute(insert(t.webhook_subscriptions),
                           [{"endpoint_id": endpoint.endpoint_id, "event_type": e} for e in endpoint.events])
            u.commit()

    def list_endpoints(self, *, retailer_id: str | None) -> list[WebhookEndpoint]:
        return self._endpoints(None if retailer_id is None else _ep.retailer_id == retailer_id)

    def get_endpoint(self, endpoint_id: str) -> WebhookEndpoint | None:
        found = self._endpoints(_ep.endpoint_id == endpoint_id)
        return found[0] if found else None

    def _endpoints(self, condition: Any) -> list[WebhookEndpoint]:
        stmt = select(t.webhook_endpoints).order_by(_ep.created_at, _ep.endpoint_id)
        if condition is not None:
            stmt = stmt.where(condition)
        with self.units() as u:
            rows = list(u.conn.execute(stmt))
            ids = [r.endpoint_id for r in rows]
            types: dict[str, list[str]] = defaultdict(list)
            if ids:
                for endpoint_id, event_type in u.conn.execute(
                        select(_sub.endpoint_id, _sub.event_type).where(_sub.endpoint_id.in_(ids))
                        .order_by(_sub.event_type)):
                    types[endpoint_id].append(event_type)
        return [WebhookEndpoint(r.endpoint_id, r.retailer_id, r.url, tuple(types[r.endpoint_id]), r.created_at,
                                r.disabled_at, r.disabled_reason) for r in rows]

    def delete_endpoint(self, endpoint_id: str, *, audit: AuditEntry | None = None) -> bool:
        with self.units(write=True) as u:
            deliveries = select(_dl.delivery_id).where(_dl.endpoint_id == endpoint_id)
            events = list(u.conn.execute(select(_dl.event_id).where(_dl.endpoint_id == endpoint_id)).scalars())
            u.conn.execute(delete(t.webhook_attempts).where(_at.delivery_id.in_(deliveries)))
            u.conn.execute(delete(t.webhook_deliveries).where(_dl.endpoint_id == endpoint_id))
            for start in range(0, len(events), 500):  # the events no other endpoint still has a delivery of
                others = select(_dl.event_id).where(_dl.event_id.in_(events[start:start + 500]))
                u.conn.execute(delete(t.webhook_events).where(and_(_ev.event_id.in_(events[start:start + 500]),
                                                                   _ev.event_id.not_in(others))))
            u.conn.execute(delete(t.webhook_subscriptions).where(_sub.endpoint_id == endpoint_id))
            gone = u.conn.execute(delete(t.webhook_endpoints).where(_ep.endpoint_id == endpoint_id)).rowcount
            if gone and audit is not None:
                u.audit.add(audit)
            u.commit()
        return gone == 1

    def list_deliveries(self, endpoint_id: str, *, limit: int) -> list[DeliveryView]:
        return self._deliveries(_dl.endpoint_id == endpoint_id, limit=limit)

    def get_delivery(self, endpoint_id: str, delivery_id: str) -> DeliveryView | None:
        if not delivery_id.isdigit():
            return None
        found = self._deliveries(and_(_dl.endpoint_id == endpoint_id, _dl.delivery_id == int(delivery_id)), limit=1)
        return found[0] if found else None

    def _deliveries(self, condition: Any, *, limit: int) -> list[DeliveryView]:
        with self.units() as u:
            rows = u.conn.execute(
                select(t.webhook_deliveries, _ev.event_type)
                .select_from(t.webhook_deliveries.join(t.webhook_events, _ev.event_id == _dl.event_id))
                .where(condition).order_by(_dl.delivery_id.desc()).limit(limit))
            return [DeliveryView(str(r.delivery_id), r.event_id, r.event_type, r.webhook_id, DeliveryStatus(r.status),
                                 r.attempts, r.last_response_code, r.last_error, r.last_attempt_at,
                                 r.next_attempt_at, r.created_at) for r in rows]

    def retry(self, endpoint_id: str, delivery_id: str, *, now: datetime) -> bool:
        if not delivery_id.isdigit():
            return False
        with self.units(write=True) as u:
            done = u.conn.execute(update(t.webhook_deliveries)
                                  .where(and_(_dl.delivery_id == int(delivery_id), _dl.endpoint_id == endpoint_id))
                                  .values(status=_PENDING, next_attempt_at=now, window_started_at=now)).rowcount
            if done != 1:
                return False
            enabled = u.conn.execute(update(t.webhook_endpoints)
                                     .where(and_(_ep.endpoint_id == endpoint_id, _ep.disabled_at.is_not(None)))
                                     .values(disabled_at=None, disabled_reason=None, failing_since=None)).rowcount
            if enabled:
                u.conn.execute(update(t.webhook_deliveries)
                               .where(and_(_dl.endpoint_id == endpoint_id,
                                           _dl.status == DeliveryStatus.DISABLED.value))
                               .values(status=_PENDING, next_attempt_at=now, window_started_at=now))
            u.commit()
        return True

    def claim(self, *, now: datetime, limit: int, lease_token: str, lease_until: datetime) -> list[ClaimedDelivery]:
        earlier = aliased(t.webhook_deliveries)
        free = or_(_dl.lease_until.is_(None), _dl.lease_until <= now)
        blocked = exists().where(and_(earlier.c.endpoint_id == _dl.endpoint_id, earlier.c.status == _PENDING,
                                      earlier.c.ordering_key == _dl.ordering_key,
                                      earlier.c.delivery_id < _dl.delivery_id))
        due = (select(_dl.delivery_id)
               .select_from(t.webhook_deliveries.join(t.webhook_endpoints, _ep.endpoint_id == _dl.endpoint_id))
               .where(and_(_dl.status == _PENDING, _dl.next_attempt_at <= now, free, _ep.disabled_at.is_(None),
                           or_(_dl.ordering_key.is_(None), ~blocked)))
               .order_by(_dl.next_attempt_at, _dl.delivery_id).limit(limit))
        postgres = self.units.engine.dialect.name == "postgresql"
        if not postgres:
            # SQLite: look in a reading transaction first, so an idle worker never queues for the write lock
            # that the gates' decisions take; the conditional UPDATE below settles any race.
            with self.units() as u:
                if not list(u.conn.execute(due).scalars()):
                    return []
        with self.units(write=True) as u:
            if postgres:
                due = due.with_for_update(skip_locked=True, of=t.webhook_deliveries)
            ids = list(u.conn.execute(due).scalars())
            if not ids:
                return []
            u.conn.execute(update(t.webhook_deliveries)
                           .where(and_(_dl.delivery_id.in_(ids), _dl.status == _PENDING, free))
                           .values(lease_token=lease_token, lease_until=lease_until))
            rows = list(u.conn.execute(
                select(_dl.delivery_id, _dl.endpoint_id, _dl.webhook_id, _dl.attempts, _dl.window_started_at,
                       _ep.url, _ep.secret, _ev.body)
                .select_from(t.webhook_deliveries.join(t.webhook_endpoints, _ep.endpoint_id == _dl.endpoint_id)
                             .join(t.webhook_events, _ev.event_id == _dl.event_id))
                .where(and_(_dl.delivery_id.in_(ids), _dl.lease_token == lease_token))
                .order_by(_dl.delivery_id)))
            u.commit()
        return [ClaimedDelivery(str(r.delivery_id), r.endpoint_id, r.url, r.secret, r.webhook_id, bytes(r.body),
                                r.attempts, r.window_started_at, lease_token) for r in rows]

    def record_attempt(self, claimed: ClaimedDelivery, result: AttemptResult, *, at: datetime,
                       next_attempt_at: datetime | None) -> datetime | None | bool:
        if result.delivered:
            status = DeliveryStatus.DELIVERED
        else:
            status = DeliveryStatus.PENDING if next_attempt_at is not None else DeliveryStatus.FAILED
        error = result.error[:_ERROR_LENGTH] if result.error else None
        delivery_id = int(claimed.delivery_id)
        with self.units(write=True) as u:
            kept = u.conn.execute(update(t.webhook_deliveries)
                                  .where(and_(_dl.delivery_id == delivery_id, _dl.lease_token == claimed.lease_token))
                                  .values(status=status.value, attempts=_dl.attempts + 1,
                                          last_response_code=result.status_code, last_error=error, last_attempt_at=at,
                                          next_attempt_at=None if result.delivered else next_attempt_at,
                                          lease_token=None, lease_until=None)).rowcount
            if kept != 1:
                return False
            u.conn.execute(insert(t.webhook_attempts).values(delivery_id=delivery_id, attempted_at=at,
                                                             duration_ms=round(result.duration_ms, 1),
                                                             status_code=result.status_code, error=error))
            endpoint = t.webhook_endpoints.update().where(_ep.endpoint_id == claimed.endpoint_id)
            if result.delivered:
                u.conn.execute(endpoint.values(failing_since=None))
                failing_since = None
            else:
                u.conn.execute(endpoint.where(_ep.failing_since.is_(None)).values(failing_since=at))
                failing_since = u.conn.execute(select(_ep.failing_since)
                                               .where(_ep.endpoint_id == claimed.endpoint_id)).scalar()
            u.commit()
        return failing_since

    def disable_endpoint(self, endpoint_id: str, *, reason: str, at: datetime) -> bool:
        with self.units(write=True) as u:
            done = u.conn.execute(update(t.webhook_endpoints)
                                  .where(and_(_ep.endpoint_id == endpoint_id, _ep.disabled_at.is_(None)))
                                  .values(disabled_at=at, disabled_reason=reason[:_ERROR_LENGTH])).rowcount
            if done:
                u.conn.execute(update(t.webhook_deliveries)
                               .where(and_(_dl.endpoint_id == endpoint_id, _dl.status == _PENDING))
                               .values(status=DeliveryStatus.DISABLED.value, next_attempt_at=None))
            u.commit()
        return done == 1
