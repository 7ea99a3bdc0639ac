"""The composition root: builds engines, clients and services from settings. Nothing connects at
import time; ``build`` is called by the CLI, the API factory and the tests."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from entrygate.adapters.clock import SystemClock
from entrygate.adapters.db.api_keys import SqlApiKeys
from entrygate.adapters.db.console_store import SqlConsoleSessions, SqlSignInFailures
from entrygate.adapters.db.dashboard_queries import SqlDashboardQueries
from entrygate.adapters.db.engine import make_engine
from entrygate.adapters.db.group_commit import GroupCommitLog
from entrygate.adapters.db.hold_summaries import SqlHoldSummaries
from entrygate.adapters.db.palm_store import SqlPalmStore
from entrygate.adapters.db.payments import SqlPaymentsUnitOfWorkFactory
from entrygate.adapters.db.secret_keys import SqlSecretKeys, SqlTemplateKeys
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.adapters.http.connectors import ConnectorClient, ConnectorMetrics
from entrygate.adapters.keyring import KeyRing
from entrygate.adapters.metrics import PrometheusObserver
from entrygate.adapters.palm_index import PalmIndex
from entrygate.adapters.palm_keys import KeyedTemplateCipher
from entrygate.adapters.passwords import Argon2Passwords
from entrygate.adapters.processors.registry import load_processor
from entrygate.adapters.risk_model import ModelProvider
from entrygate.domain.channels import Channel
from entrygate.services.admin.api_keys import ApiKeyService
from entrygate.services.admin.connectivity import ConnectivityService
from entrygate.services.admin.key_uses import KeyUseFlusher
from entrygate.services.admin.secrets import SecretsService
from entrygate.services.admin.service import AdminService
from entrygate.services.auth import Authenticator
from entrygate.services.catalog import Catalog
from entrygate.services.console.auth import ConsoleAuthService
from entrygate.services.console.dashboard import DashboardService
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
    keyring: KeyRing  # every purpose's keys (docs/security.md); the console's session keys
    api_keys: ApiKeyService  # gate keys that rotate, named retailer keys (DESIGN 15)
    secrets: SecretsService  # rotating the secrets per purpose: `entrygate keys rotate|status`
    _closers: list[Any] = field(default_factory=list)

    def close(self) -> None:
        for closer in reversed(self._closers):
            closer()
        self.engine.dispose()


def build(settings: Settings, *, clock: Clock | None = None, background_sweep: bool = True,
          palm_index: bool = True) -> Container:
    """The platform on ``settings``; ``background_sweep`` False: no sweep thread (a one-off command);
    ``palm_index`` False: the palm index is not loaded (a command that identifies no palm)."""
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
    keyring = KeyRing(SqlSecretKeys(uow), settings.secret_bytes, clock=clock, refresh_s=settings.key_refresh_s)
    templates = KeyedTemplateCipher(keyring)
    api_key_store = SqlApiKeys(uow)
    auth = Authenticator(uow, ttl_s=settings.cache_ttl_s, clock=clock, uses=api_key_store)
    palm = PalmService(store=SqlPalmStore(uow), index=PalmIndex(dimension=settings.palm_dimension),
                       cipher=lambda: templates, clock=clock,
                       secret=keyring.instrument_secret, dimension=settings.palm_dimension,
                       match_threshold=settings.palm_match_threshold,
                       liveness_threshold=settings.palm_liveness_threshold,
                       sync_interval_s=settings.palm_sync_interval_s)
    handlers = {
        Channel.CREDIT_CARD: CardHandler(secret=keyring.instrument_secret),
        Channel.PALM: PalmHandler(palm),
        Channel.QR_CODE: QrHandler(identity=connectors),
        Channel.BADGE: BadgeHandler(identity=connectors),
    }
    risk = StrategyAssessor(uow=uow, scorer=risk_model, connector=connectors)
    # SQLite shares one fsync among concurrent decisions; PostgreSQL groups commits itself.
    decision_log = GroupCommitLog(uow) if settings.is_sqlite else DirectDecisionLog(uow)
    # The payments use cases share the gate's units of work, so SQLite writers still queue in one line.
    payments = SqlPaymentsUnitOfWorkFactory(uow)
    queries = QueryService(uow)
    holds = HoldService(payments, processor, clock)
    container = Container(
        settings=settings, engine=engine, uow=uow, clock=clock, catalog=catalog,
        auth=auth,
        admin=AdminService(uow, clock, catalog, passwords, allow_private_urls=settings.allow_private_urls),
        entries=EntryService(uow=uow, catalog=catalog, clock=clock, processor=processor, handlers=handlers,
                             risk=risk, observer=observer, decision_log=decision_log, payments=payments),
        exits=ExitService(uow=uow, catalog=catalog, clock=clock, handlers=handlers),
        queries=queries, feedback=FeedbackService(uow, clock), observer=observer, passwords=passwords,
        connectors=connectors, connectivity=ConnectivityService(uow=uow, probe=connectors),
        console_auth=ConsoleAuthService(uow=uow, clock=clock, passwords=passwords,
                                        sessions=SqlConsoleSessions(engine), failures=SqlSignInFailures(engine)),
        dashboard=DashboardService(uow=uow, queries=SqlDashboardQueries(engine), clock=clock),
        risk_model=risk_model, palm=palm, holds=holds, trip_closing=TripClosingService(payments, clock),
        sweeper=TripSweeper(payments, holds, clock, processor=processor),
        trip_views=TripViews(queries, SqlHoldSummaries(uow)),
        keyring=keyring, api_keys=ApiKeyService(uow=uow, keys=api_key_store, clock=clock, auth=auth),
        secrets=SecretsService(ring=keyring, templates=SqlTemplateKeys(uow), recipher=templates,
                               settle_s=2 * settings.key_refresh_s + 0.5))
    container._closers.append(connectors.close)
    if isinstance(decision_log, GroupCommitLog):
        container._closers.append(decision_log.close)
    close_processor = getattr(processor, "close", None)
    if callable(close_processor):
        container._closers.append(close_processor)
    key_uses = KeyUseFlusher(auth, interval_s=settings.key_use_flush_s)
    key_uses.start()
    container._closers.append(key_uses.stop)
    if palm_index:
        palm.start()  # loads the index in the background, then follows the change log
        container._closers.append(palm.stop)
    if background_sweep and settings.sweep_interval_s > 0:
        sweeps = SweepThread(container.sweeper.sweep, interval_s=settings.sweep_interval_s)
        sweeps.start()
        container._closers.append(sweeps.stop)
    return container
