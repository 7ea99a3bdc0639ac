"""The composition root: builds engines, clients and services from settings. Nothing connects at
import time; ``build`` is called by the CLI, the API factory and the tests."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from entrygate.adapters.clock import SystemClock
from entrygate.adapters.db.console_store import SqlConsoleSessions, SqlSignInFailures
from entrygate.adapters.db.dashboard_queries import SqlDashboardQueries
from entrygate.adapters.db.engine import make_engine
from entrygate.adapters.db.group_commit import GroupCommitLog
from entrygate.adapters.db.hold_summaries import SqlHoldSummaries
from entrygate.adapters.db.palm_store import SqlPalmStore
from entrygate.adapters.db.payments import SqlPaymentsUnitOfWorkFactory
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.adapters.db.webhooks import SqlWebhookStore
from entrygate.adapters.http.connectors import ConnectorClient, ConnectorMetrics
from entrygate.adapters.http.webhooks import HttpWebhookSender
from entrygate.adapters.metrics import PrometheusObserver
from entrygate.adapters.palm_index import PalmIndex
from entrygate.adapters.passwords import Argon2Passwords
from entrygate.adapters.processors.registry import load_processor
from entrygate.adapters.risk_model import ModelProvider
from entrygate.adapters.template_crypto import TemplateCipher
from entrygate.domain.channels import Channel
from entrygate.services.admin.connectivity import ConnectivityService
from entrygate.services.admin.service import AdminService
from entrygate.services.auth import Authenticator
from entrygate.services.catalog import Catalog
from entrygate.services.console.auth import ConsoleAuthService
from entrygate.services.console.dashboard import DashboardService
from entrygate.services.events.delivery import DeliveryWorker
from entrygate.services.events.endpoints import WebhookEndpointService
from entrygate.services.events.recorder import EventRecorder, Subscriptions
from entrygate.services.gate.admit import EntryService
from entrygate.services.gate.card import CardHandler
from entrygate.services.gate.decision_log import DirectDecisionLog
from entrygate.services.gate.exits import ExitService
from entrygate.services.gate.qr_badge import BadgeHandler, QrHandler
from entrygate.services.gate.strategies import StrategyAssessor
from entrygate.services.palm.gate import PalmHandler
from entrygate.services.palm.service import PalmService
from entrygate.services.payments.closing import TripClosingService
from entrygate.services.payments.feedback import FeedbackService
from entrygate.services.payments.holds import HoldService
from entrygate.services.payments.sweep_thread import SweepThread
from entrygate.services.payments.sweeps import TripSweeper
from entrygate.services.ports.clock import Clock
from entrygate.services.trips.queries import QueryService
from entrygate.services.trips.views import TripViews
from entrygate.settings import Settings
from entrygate.wire.events import WireEventBodies


@dataclass
class Container:
    settings: Settings
    engine: Engine
    uow: SqlUnitOfWorkFactory
    clock: Clock
    catalog: Catalog
    auth: Authenticator
    admin: AdminService
    entries: EntryService
    exits: ExitService
    queries: QueryService
    feedback: FeedbackService
    observer: PrometheusObserver
    passwords: Argon2Passwords
    connectors: ConnectorClient  # the retailer connector client (identity, shopper authorization)
    connectivity: ConnectivityService  # the connectors' connectivity test
    console_auth: ConsoleAuthService  # console sign-in and sessions
    dashboard: DashboardService  # the console's live view and dashboard
    risk_model: ModelProvider  # the risk model every process serves (ENTRYGATE_MODEL_DIR, or the bundled one)
    palm: PalmService  # palm enrollment and 1:N identification; its index follows the database
    holds: HoldService  # a trip's pre-authorization: capture, cancel, adjust, refund (DESIGN 10)
    trip_closing: TripClosingService  # closing a trip by hand (its retailer or the operator)
    sweeper: TripSweeper  # the timeout and release sweeps; run in the background, or by `entrygate trips sweep`
    trip_views: TripViews  # the trip resource: trips with their holds
    webhooks: WebhookEndpointService  # the retailers' webhook endpoints and delivery logs (DESIGN 13)
    delivery: DeliveryWorker  # sends the outbox's deliveries; runs in the background when started
    _closers: list[Any] = field(default_factory=list)

    def close(self) -> None:
        for closer in reversed(self._closers):
            closer()
        self.engine.dispose()


def build(settings: Settings, *, clock: Clock | None = None, background_sweep: bool = True,
          background_delivery: bool | None = None) -> Container:
    """The platform on ``settings``; ``background_sweep`` False: no sweep thread (a one-off command);
    ``background_delivery`` (default: as ``background_sweep``) False: no webhook delivery thread."""
    engine = make_engine(settings.sqlalchemy_url, pool_size=settings.db_pool_size)
    uow = SqlUnitOfWorkFactory(engine)
    clock = clock or SystemClock()
    catalog = Catalog(uow, ttl_s=settings.cache_ttl_s)
    passwords = Argon2Passwords()
    observer = PrometheusObserver()
    processor = load_processor(settings.processor, settings)  # a missing or broken plugin fails here, at start
    connectors = ConnectorClient(metrics=ConnectorMetrics(observer.registry),
                                 allow_private_urls=settings.allow_private_urls)
    risk_model = ModelProvider(settings.model_path())
    palm = PalmService(store=SqlPalmStore(uow), index=PalmIndex(dimension=settings.palm_dimension),
                       cipher=lambda: TemplateCipher(settings.secret_key), clock=clock,
                       secret=settings.secret_bytes, dimension=settings.palm_dimension,
                       match_threshold=settings.palm_match_threshold,
                       liveness_threshold=settings.palm_liveness_threshold,
                       sync_interval_s=settings.palm_sync_interval_s)
    handlers = {
        Channel.CREDIT_CARD: CardHandler(secret=settings.secret_bytes),
        Channel.PALM: PalmHandler(palm),
        Channel.QR_CODE: QrHandler(identity=connectors),
        Channel.BADGE: BadgeHandler(identity=connectors),
    }
    risk = StrategyAssessor(uow=uow, scorer=risk_model, connector=connectors)
    webhook_store = SqlWebhookStore(uow)
    subscriptions = Subscriptions(webhook_store.subscriptions, ttl_s=max(settings.cache_ttl_s, 0.5))
    events = EventRecorder(subscriptions, WireEventBodies(), clock)
    # SQLite shares one fsync among concurrent decisions; PostgreSQL groups commits itself.
    decision_log = (GroupCommitLog(uow, on_written=events.decision_written) if settings.is_sqlite
                    else DirectDecisionLog(uow, events=events))
    # The payments use cases share the gate's units of work, so SQLite writers still queue in one line.
    payments = SqlPaymentsUnitOfWorkFactory(uow)
    queries = QueryService(uow)
    holds = HoldService(payments, processor, clock, events=events)
    sender = HttpWebhookSender(allow_private_urls=settings.allow_private_urls)
    container = Container(
        settings=settings, engine=engine, uow=uow, clock=clock, catalog=catalog,
        auth=Authenticator(uow, ttl_s=settings.cache_ttl_s),
        admin=AdminService(uow, clock, catalog, passwords, allow_private_urls=settings.allow_private_urls),
        entries=EntryService(uow=uow, catalog=catalog, clock=clock, processor=processor, handlers=handlers,
                             risk=risk, observer=observer, decision_log=decision_log, payments=payments),
        exits=ExitService(uow=uow, catalog=catalog, clock=clock, handlers=handlers, events=events),
        queries=queries, feedback=FeedbackService(uow, clock, events=events), observer=observer, passwords=passwords,
        connectors=connectors, connectivity=ConnectivityService(uow=uow, probe=connectors),
        console_auth=ConsoleAuthService(uow=uow, clock=clock, passwords=passwords,
                                        sessions=SqlConsoleSessions(engine), failures=SqlSignInFailures(engine)),
        dashboard=DashboardService(uow=uow, queries=SqlDashboardQueries(engine), clock=clock),
        risk_model=risk_model, palm=palm, holds=holds, trip_closing=TripClosingService(payments, clock, events=events),
        sweeper=TripSweeper(payments, holds, clock, processor=processor, events=events),
        trip_views=TripViews(queries, SqlHoldSummaries(uow)),
        webhooks=WebhookEndpointService(uow, webhook_store, clock, subscriptions,
                                        allow_private_urls=settings.allow_private_urls),
        delivery=DeliveryWorker(webhook_store, sender, clock, backoff_scale=settings.webhook_backoff_scale,
                                subscriptions=subscriptions, poll_interval_s=settings.webhook_poll_interval_s))
    container._closers.append(connectors.close)
    container._closers.append(sender.close)
    if isinstance(decision_log, GroupCommitLog):
        container._closers.append(decision_log.close)
    close_processor = getattr(processor, "close", None)
    if callable(close_processor):
        container._closers.append(close_processor)
    palm.start()  # loads the index in the background, then follows the change log
    container._closers.append(palm.stop)
    if background_sweep and settings.sweep_interval_s > 0:
        sweeps = SweepThread(container.sweeper.sweep, interval_s=settings.sweep_interval_s)
        sweeps.start()
        container._closers.append(sweeps.stop)
    if background_sweep if background_delivery is None else background_delivery:
        container.delivery.start()
        container._closers.append(container.delivery.stop)  # before the sender and the engine close
    return container
