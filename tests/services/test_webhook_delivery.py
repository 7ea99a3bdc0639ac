"""The webhook use cases on the database (both backends): the outbox, claims, the retry schedule,
disabling a failing endpoint, and retrying by hand. The clock is a fixed one moved by the test;
the sender is a fake that answers as told, so no test waits for a real delay."""
from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from entrygate.adapters.clock import FixedClock
from entrygate.adapters.db import tables as t
from entrygate.adapters.db.engine import make_engine
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.adapters.db.webhooks import SqlWebhookStore
from entrygate.adapters.memory.security import PlainPasswords
from entrygate.domain.events import DISABLE_AFTER, RETRY_WINDOW, DeliveryStatus, EventType
from entrygate.domain.holds import HoldStatus, HoldSummary
from entrygate.domain.keys import KeyKind
from entrygate.domain.money import Money
from entrygate.domain.webhooks import verify
from entrygate.services.admin.service import AdminService
from entrygate.services.auth import Principal
from entrygate.services.catalog import Catalog
from entrygate.services.errors import InvalidRequest, NotFound
from entrygate.services.events.delivery import DeliveryWorker
from entrygate.services.events.endpoints import WebhookEndpointService
from entrygate.services.events.recorder import EventRecorder, Subscriptions
from entrygate.services.ports.events import AttemptResult
from entrygate.wire.events import WireEventBodies
from support.factories import NOW, OPERATOR, store_config


class FakeSender:
    """Answers every attempt with ``status`` (None: a connection error), and remembers what it was sent."""

    def __init__(self) -> None:
        self.status: int | None = 500
        self.sent: list[tuple[str, bytes, dict[str, str]]] = []

    def send(self, url, body, headers):  # noqa: ANN001, ANN201
        self.sent.append((url, body, dict(headers)))
        error = None if self.status and 200 <= self.status < 300 else f"answered {self.status}"
        return AttemptResult(self.status, error, 1.0)


class Hooks:
    def __init__(self, db_url: str) -> None:
        self.engine = make_engine(db_url)
        self.uow = SqlUnitOfWorkFactory(self.engine)
        self.clock = FixedClock(NOW)
        admin = AdminService(self.uow, self.clock, Catalog(self.uow, ttl_s=0), PlainPasswords())
        self.retailer_id = admin.create_retailer(OPERATOR, name="R").id
        self.store_id = admin.create_store(OPERATOR, store_config(self.retailer_id)).store_id
        self.other_retailer = admin.create_retailer(OPERATOR, name="Other").id
        self.store = SqlWebhookStore(self.uow)
        self.subscriptions = Subscriptions(self.store.subscriptions, ttl_s=0)
        self.recorder = EventRecorder(self.subscriptions, WireEventBodies(), self.clock)
        self.endpoints = WebhookEndpointService(self.uow, self.store, self.clock, self.subscriptions,
                                                allow_private_urls=True)
        self.sender = FakeSender()
        self.worker = self.new_worker(self.store)
        self.me = Principal(KeyKind.RETAILER, retailer_id=self.retailer_id)

    def new_worker(self, store: SqlWebhookStore, *, scale: float = 1.0) -> DeliveryWorker:
        return DeliveryWorker(store, self.sender, self.clock, backoff_scale=scale, rng=lambda: 1.0)

    def endpoint(self, events: list[str] | None = None) -> tuple[str, str]:
        created = self.endpoints.create(self.me, url="https://hooks.example/in", events=events or ["trip.closed",
                                        "preauthorization.updated", "instrument.blocked"])
        return created.endpoint.endpoint_id, created.secret

    def hold_event(self, trip_id: str = "trip_1", *, commit: bool = True) -> None:
        hold = HoldSummary("pa_1", HoldStatus.CAPTURED, Money(Decimal(0), "USD"), Money(Decimal("18.4"), "USD"),
                           Money(Decimal(0), "USD"))
        with self.uow(write=True) as u:
            self.recorder.hold_updated(u, trip_id=trip_id, store_id=self.store_id, hold=hold)
            if commit:
                u.commit()

    def deliveries(self, endpoint_id: str):  # noqa: ANN201
        return sorted(self.store.list_deliveries(endpoint_id, limit=1000), key=lambda d: int(d.delivery_id))

    def count(self, table) -> int:  # noqa: ANN001
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(table)).scalar()


@pytest.fixture
def hooks(db_url):
    h = Hooks(db_url)
    yield h
    h.engine.dispose()


def test_an_event_is_stored_only_for_subscribers_and_only_when_its_transaction_commits(hooks):
    hooks.hold_event()  # no endpoint yet: nothing stored
    assert hooks.count(t.webhook_events) == 0
    endpoint_id, _ = hooks.endpoint(["trip.closed"])
    hooks.hold_event()  # not a subscribed type
    assert hooks.count(t.webhook_events) == 0
    endpoint_id, _ = hooks.endpoint(["preauthorization.updated"])
    hooks.hold_event(commit=False)  # rolled back with its change
    assert hooks.count(t.webhook_events) == 0
    hooks.hold_event()
    [delivery] = hooks.deliveries(endpoint_id)
    assert delivery.status is DeliveryStatus.PENDING and delivery.event_type == "preauthorization.updated"


def test_each_attempt_is_signed_afresh_with_the_same_id_and_body_and_backs_off_until_the_window_closes(hooks):
    endpoint_id, secret = hooks.endpoint()
    hooks.hold_event()
    waits = []
    while True:
        assert hooks.worker.run_once() == 1
        [d] = hooks.deliveries(endpoint_id)
        if d.next_attempt_at is None:
            break
        waits.append(d.next_attempt_at - hooks.clock.now())
        assert hooks.worker.run_once() == 0  # not due yet
        hooks.clock.at = d.next_attempt_at
    assert d.status is DeliveryStatus.FAILED and d.attempts == len(waits) + 1 and d.last_response_code == 500
    assert waits[:3] == [timedelta(seconds=5), timedelta(seconds=10), timedelta(seconds=20)]  # jitter at its top
    assert all(b >= a for a, b in zip(waits, waits[1:])) and max(waits) == timedelta(hours=2)
    assert hooks.clock.now() - NOW <= RETRY_WINDOW
    assert hooks.count(t.webhook_attempts) == d.attempts
    bodies = {body for _, body, _ in hooks.sender.sent}
    ids = {h["webhook-id"] for _, _, h in hooks.sender.sent}
    stamps = [int(h["webhook-timestamp"]) for _, _, h in hooks.sender.sent]
    assert len(bodies) == 1 and ids == {d.webhook_id} and stamps == sorted(set(stamps))
    for _, body, headers in hooks.sender.sent[-1:]:
        verify(secret, headers, body, now=hooks.clock.now().timestamp())

    # Sent again by hand: due at once, with a new window; a 2xx ends it.
    hooks.sender.status = 204
    again = hooks.endpoints.retry(hooks.me, endpoint_id, d.delivery_id)
    assert again.status is DeliveryStatus.PENDING and again.next_attempt_at == hooks.clock.now()
    assert hooks.worker.run_once() == 1
    [d] = hooks.deliveries(endpoint_id)
    assert d.status is DeliveryStatus.DELIVERED and d.last_response_code == 204 and d.next_attempt_at is None


def test_a_trips_later_event_waits_for_its_earlier_one(hooks):
    endpoint_id, _ = hooks.endpoint()
    hooks.hold_event("trip_a")
    hooks.hold_event("trip_a")
    hooks.hold_event("trip_b")
    first = hooks.worker.claim(10)
    assert [c.delivery_id for c in first] == [hooks.deliveries(endpoint_id)[i].delivery_id for i in (0, 2)]
    hooks.clock.advance(seconds=5)  # the leases are still held, and the first attempt still pending
    assert hooks.worker.claim(10) == []
    hooks.sender.status = 200
    for claimed in first:
        hooks.worker.attempt(claimed)
    [second] = hooks.worker.claim(10)
    assert second.delivery_id == hooks.deliveries(endpoint_id)[1].delivery_id


def test_a_claim_left_by_a_dead_process_is_taken_again_when_its_lease_runs_out(hooks):
    endpoint_id, _ = hooks.endpoint()
    hooks.hold_event()
    dead = hooks.new_worker(SqlWebhookStore(hooks.uow))
    [lost] = dead.claim(1)
    assert hooks.worker.claim(1) == []
    hooks.clock.advance(seconds=16)
    [taken] = hooks.worker.claim(1)
    assert taken.webhook_id == lost.webhook_id
    hooks.sender.status = 200
    hooks.worker.attempt(taken)
    assert dead._store.record_attempt(lost, AttemptResult(500, "late", 1.0), at=hooks.clock.now(),
                                      next_attempt_at=None) is False  # its lease is gone: it changes nothing
    assert hooks.deliveries(endpoint_id)[0].status is DeliveryStatus.DELIVERED


def test_two_processes_claiming_at_once_never_get_the_same_delivery(hooks, db_url):
    endpoint_id, _ = hooks.endpoint()
    for i in range(40):
        hooks.hold_event(f"trip_{i}")
    engines = [make_engine(db_url) for _ in range(2)]
    workers = [hooks.new_worker(SqlWebhookStore(SqlUnitOfWorkFactory(e))) for e in engines]
    got: list[list[str]] = [[], []]
    start = threading.Barrier(2)

    def run(i: int) -> None:
        start.wait()
        while claimed := workers[i].claim(3):
            got[i].extend(c.delivery_id for c in claimed)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for e in engines:
        e.dispose()
    assert not set(got[0]) & set(got[1])
    assert sorted(got[0] + got[1], key=int) == [d.delivery_id for d in hooks.deliveries(endpoint_id)]


def test_an_endpoint_is_disabled_after_five_days_without_a_2xx_never_by_a_count_of_attempts(hooks):
    endpoint_id, _ = hooks.endpoint()
    scale = 0.001  # five days are 432 s
    worker = hooks.new_worker(hooks.store, scale=scale)
    for i in range(60):  # many failures in under five days: still enabled
        hooks.hold_event(f"trip_{i}")
        worker.run_once()
        hooks.clock.advance(seconds=5)
    assert not hooks.endpoints.get(hooks.me, endpoint_id).disabled
    hooks.clock.at = NOW + DISABLE_AFTER * scale
    hooks.hold_event()
    hooks.hold_event("trip_other")
    worker.run_once()
    endpoint = hooks.endpoints.get(hooks.me, endpoint_id)
    assert endpoint.disabled and "no 2xx answer since" in endpoint.disabled_reason
    assert {d.status for d in hooks.deliveries(endpoint_id)} <= {DeliveryStatus.FAILED, DeliveryStatus.DISABLED,
                                                                  DeliveryStatus.PENDING}
    assert any(d.status is DeliveryStatus.DISABLED for d in hooks.deliveries(endpoint_id))
    assert worker.run_once() == 0  # a disabled endpoint is sent nothing
    hooks.hold_event()
    assert len(hooks.deliveries(endpoint_id)) == 62  # and gets no new deliveries
    # A retry by hand enables it again and resumes what the disabling stopped.
    hooks.sender.status = 200
    stopped = [d for d in hooks.deliveries(endpoint_id) if d.status is DeliveryStatus.DISABLED]
    hooks.endpoints.retry(hooks.me, endpoint_id, stopped[0].delivery_id)
    assert not hooks.endpoints.get(hooks.me, endpoint_id).disabled
    while worker.run_once():
        pass
    assert all(d.status is not DeliveryStatus.DISABLED for d in hooks.deliveries(endpoint_id))


def test_endpoints_belong_to_their_retailer_and_refuse_bad_input(hooks):
    endpoint_id, secret = hooks.endpoint()
    assert secret.startswith("whsec_")
    other = Principal(KeyKind.RETAILER, retailer_id=hooks.other_retailer)
    for call in (lambda: hooks.endpoints.get(other, endpoint_id), lambda: hooks.endpoints.delete(other, endpoint_id),
                 lambda: hooks.endpoints.deliveries(other, endpoint_id),
                 lambda: hooks.endpoints.retry(hooks.me, endpoint_id, "999")):
        with pytest.raises(NotFound):
            call()
    assert hooks.endpoints.list(other) == [] and len(hooks.endpoints.list(hooks.me)) == 1
    assert len(hooks.endpoints.list(OPERATOR)) == 1
    with pytest.raises(InvalidRequest) as refused:
        hooks.endpoints.create(hooks.me, url="https://hooks.example/in", events=["trip.closed", "trip.teleported"])
    assert refused.value.fields == ["events"]
    guarded = WebhookEndpointService(hooks.uow, hooks.store, hooks.clock, hooks.subscriptions)
    for url in ("http://hooks.example/in", "https://127.0.0.1/in", "https://10.0.0.7/in", "https://169.254.169.254/",
                "https://localhost/in", "ftp://hooks.example/"):
        with pytest.raises(InvalidRequest) as refused:
            guarded.create(hooks.me, url=url, events=["trip.closed"])
        assert refused.value.fields == ["url"], url
    with pytest.raises(InvalidRequest) as refused:
        hooks.endpoints.create(OPERATOR, url="https://hooks.example/in", events=["trip.closed"])
    assert refused.value.fields == ["retailerId"]
    hooks.hold_event()
    assert hooks.count(t.webhook_events) == 1
    hooks.endpoints.delete(hooks.me, endpoint_id)
    assert hooks.endpoints.list(hooks.me) == []
    assert hooks.count(t.webhook_events) == 0  # its events went with it
    hooks.hold_event()
    assert hooks.count(t.webhook_events) == 0


def test_the_recorders_subscriptions_follow_new_endpoints(hooks):
    assert EventType.TRIP_CLOSED.value not in hooks.subscriptions.types_for(hooks.store_id)
    hooks.endpoint(["trip.closed"])
    assert hooks.recorder.wants(hooks.store_id, EventType.TRIP_CLOSED)
    assert not hooks.recorder.wants(hooks.store_id, EventType.DECISION_CREATED)
