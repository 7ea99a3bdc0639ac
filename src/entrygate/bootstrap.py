"""The composition root: builds engines, clients and services from settings. Nothing connects at
import time; ``build`` is called by the CLI, the API factory and the tests."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from entrygate.adapters.cel_rules import CelRuleCompiler
from entrygate.adapters.clock import SystemClock
from entrygate.adapters.db.api_keys import SqlApiKeys
from entrygate.adapters.db.console_store import SqlConsoleSessions, SqlSignInFailures
from entrygate.adapters.db.dashboard_queries import SqlDashboardQueries
from entrygate.adapters.db.decision_feed import SqlDecisionFeed
from entrygate.adapters.db.engine import make_engine
from entrygate.adapters.db.group_commit import GroupCommitLog
from entrygate.adapters.db.hold_summaries import SqlHoldSummaries
from entrygate.adapters.db.investigation_queries import SqlInvestigationQueries
from entrygate.adapters.db.palm_store import SqlPalmStore
from entrygate.adapters.db.payments import SqlPaymentsUnitOfWorkFactory
from entrygate.adapters.db.risk_models import SqlRiskRecords
from entrygate.adapters.db.secret_keys import SqlSecretKeys, SqlTemplateKeys
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.adapters.db.webhooks import SqlWebhookStore
from entrygate.adapters.http.connectors import ConnectorClient, ConnectorMetrics
from entrygate.adapters.http.webhooks import HttpWebhookSender
from entrygate.adapters.keyring import KeyRing
from entrygate.adapters.metrics import PrometheusObserver
from entrygate.adapters.palm_index import PalmIndex
from entrygate.adapters.palm_keys import KeyedTemplateCipher
from entrygate.adapters.palm_snapshot import PalmSnapshotFile, binding_for, snapshot_key
from entrygate.adapters.passwords import Argon2Passwords
from entrygate.adapters.processors.registry import load_processor
from entrygate.adapters.rate_limits import KeyRateLimits
from entrygate.adapters.risk_model import ModelProvider
from entrygate.domain.channels import Channel
from entrygate.domain.keys import KeyKind
from entrygate.risk.model_store import ModelStore
from entrygate.risk.operations import ModelOperations
from entrygate.services.admin.api_keys import ApiKeyService
from entrygate.services.admin.audit import AuditTrail
from entrygate.services.admin.connectivity import ConnectivityService
from entrygate.services.admin.key_uses import KeyUseFlusher
from entrygate.services.admin.secrets import SecretsService
from entrygate.services.admin.service import AdminService
from entrygate.services.admin.users import UserAdmin
from entrygate.services.auth import Authenticator
from entrygate.services.catalog import Catalog
from entrygate.services.console.auth import ConsoleAuthService
from entrygate.services.console.dashboard import DashboardService
from entrygate.services.console.investigation import InvestigationService
from entrygate.services.events.delivery import DeliveryWorker
from entrygate.services.events.endpoints import WebhookEndpointService
from entrygate.services.events.feed import DecisionFeedService
from entrygate.services.events.recorder import EventRecorder, Subscriptions
from entrygate.services.gate.admit import EntryService
from entrygate.services.gate.card import CardHandler
from entrygate.services.gate.decision_log import DirectDecisionLog
from entrygate.services.gate.exits import ExitService
from entrygate.services.gate.qr_badge import BadgeHandler, QrHandler
from entrygate.services.gate.risk_ops_step import RulesStep
from entrygate.services.gate.strategies import StrategyAssessor
from entrygate.services.palm.gate import PalmHandler
from entrygate.services.palm.service import PalmService
from entrygate.services.payments.closing import TripClosingService
from entrygate.services.payments.feedback import FeedbackService
from entrygate.services.payments.holds import HoldService
from entrygate.services.payments.sweep_thread import SweepThread
from entrygate.services.payments.sweeps import TripSweeper
from entrygate.services.ports.clock import Clock
from entrygate.services.risk_models.page import ModelPageService
from entrygate.services.risk_ops.lists import ListService
from entrygate.services.risk_ops.reviews import ReviewService
from entrygate.services.risk_ops.rules import RuleBook, RuleService
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
    rate_limits: KeyRateLimits  # the budgets of retailer and gate keys (ENTRYGATE_RATE_LIMIT_*)
    audit: AuditTrail  # reading the audit log (changes record themselves: services/admin/audit.record)
    users: UserAdmin  # a retailer's console users and their roles
    lists: ListService  # allow and block lists per retailer (DESIGN 14)
    rules: RuleService  # store rules in CEL, and their test
    reviews: ReviewService  # the review queue and its verdicts
    risk_records: SqlRiskRecords  # the shadow's scores, the backtests, the model roles (DESIGN 14)
    model_operations: ModelOperations  # promote a model version, start or stop its shadow
    model_page: ModelPageService  # the console's model page, and who may change the model from it
    decision_feed: DecisionFeedService  # the decisions feed: every decision once, in commit order (DESIGN 13)
    investigation: InvestigationService  # the console's decision detail, search, exports, silent gates
    keyring: KeyRing  # every purpose's keys (docs/security.md); the console's session keys
    api_keys: ApiKeyService  # gate keys that rotate, named retailer keys (DESIGN 15)
    secrets: SecretsService  # rotating the secrets per purpose: `entrygate keys rotate|status`
    webhooks: WebhookEndpointService  # the retailers' webhook endpoints and delivery logs (DESIGN 13)
    delivery: DeliveryWorker  # sends the outbox's deliveries; runs in the background when started
    _closers: list[Any] = field(default_factory=list)

    def close(self) -> None:
        for closer in reversed(self._closers):
            closer()
        self.engine.dispose()


def palm_snapshot(settings: Settings) -> PalmSnapshotFile | None:
    """The file this process keeps its palm index in between restarts (None: it rebuilds each time)."""
    path = settings.palm_snapshot_path()
    if path is None:
        return None
    return PalmSnapshotFile(path, key=snapshot_key(settings.secret_bytes),
                            binding=binding_for(settings.database_identity, settings.palm_dimension))


def build(settings: Settings, *, clock: Clock | None = None, background_sweep: bool = True,
          palm_index: bool = True, background_delivery: bool | None = None) -> Container:
    """The platform on ``settings``; ``background_sweep`` False: no sweep thread (a one-off command);
    ``palm_index`` False: the palm index is not loaded (a command that identifies no palm);
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
    risk_records = SqlRiskRecords(engine)
    model_store = ModelStore(settings.model_path())
    risk_model = ModelProvider(model_store, roles=risk_records.roles.read, check_every_s=settings.model_check_s)
    model_operations = ModelOperations(model_store, risk_records.roles, now=clock.now)
    keyring = KeyRing(SqlSecretKeys(uow), settings.secret_bytes, clock=clock, refresh_s=settings.key_refresh_s)
    templates = KeyedTemplateCipher(keyring)
    api_key_store = SqlApiKeys(uow)
    auth = Authenticator(uow, ttl_s=settings.cache_ttl_s, clock=clock, uses=api_key_store)
    palm = PalmService(store=SqlPalmStore(uow), index=PalmIndex(dimension=settings.palm_dimension),
                       cipher=lambda: templates, clock=clock,
                       secret=keyring.instrument_secret, dimension=settings.palm_dimension,
                       match_threshold=settings.palm_match_threshold,
                       liveness_threshold=settings.palm_liveness_threshold,
                       sync_interval_s=settings.palm_sync_interval_s, snapshot=palm_snapshot(settings))
    handlers = {
        Channel.CREDIT_CARD: CardHandler(secret=keyring.instrument_secret),
        Channel.PALM: PalmHandler(palm),
        Channel.QR_CODE: QrHandler(identity=connectors),
        Channel.BADGE: BadgeHandler(identity=connectors),
    }
    risk = StrategyAssessor(uow=uow, scorer=risk_model, connector=connectors, shadow=risk_model.shadow)
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
    admin = AdminService(uow, clock, catalog, passwords, allow_private_urls=settings.allow_private_urls)
    rule_compiler = CelRuleCompiler()
    rule_book = RuleBook(uow, rule_compiler, ttl_s=settings.cache_ttl_s)
    sender = HttpWebhookSender(allow_private_urls=settings.allow_private_urls)
    container = Container(
        settings=settings, engine=engine, uow=uow, clock=clock, catalog=catalog,
        auth=auth, admin=admin, audit=AuditTrail(uow), users=admin.users,
        entries=EntryService(uow=uow, catalog=catalog, clock=clock, processor=processor, handlers=handlers,
                             risk=risk, observer=observer, decision_log=decision_log, payments=payments,
                             rules=RulesStep(uow, rule_book)),
        exits=ExitService(uow=uow, catalog=catalog, clock=clock, handlers=handlers, events=events),
        queries=queries, feedback=FeedbackService(uow, clock, events=events), observer=observer, passwords=passwords,
        connectors=connectors, connectivity=ConnectivityService(uow=uow, probe=connectors),
        console_auth=ConsoleAuthService(uow=uow, clock=clock, passwords=passwords,
                                        sessions=SqlConsoleSessions(engine), failures=SqlSignInFailures(engine)),
        dashboard=DashboardService(uow=uow, queries=SqlDashboardQueries(engine), clock=clock),
        risk_model=risk_model, palm=palm, holds=holds, trip_closing=TripClosingService(payments, clock, events=events),
        sweeper=TripSweeper(payments, holds, clock, processor=processor, events=events),
        trip_views=TripViews(queries, SqlHoldSummaries(uow)),
        rate_limits=rate_limits_from(settings),
        lists=ListService(uow, clock), rules=RuleService(uow, clock, rule_compiler, rule_book),
        reviews=ReviewService(uow, clock), risk_records=risk_records, model_operations=model_operations,
        model_page=ModelPageService(model_operations, risk_records, admins=frozenset(settings.model_admin_emails.split(","))),
        decision_feed=DecisionFeedService(uow=uow, feed=SqlDecisionFeed(engine), secret=settings.secret_bytes),
        investigation=InvestigationService(uow=uow, queries=SqlInvestigationQueries(engine), clock=clock),
        keyring=keyring, api_keys=ApiKeyService(uow=uow, keys=api_key_store, clock=clock, auth=auth),
        secrets=SecretsService(ring=keyring, templates=SqlTemplateKeys(uow), recipher=templates,
                               settle_s=2 * settings.key_refresh_s + 0.5),
        webhooks=WebhookEndpointService(uow, webhook_store, clock, subscriptions,
                                        allow_private_urls=settings.allow_private_urls),
        delivery=DeliveryWorker(webhook_store, sender, clock, backoff_scale=settings.webhook_backoff_scale,
                                subscriptions=subscriptions, poll_interval_s=settings.webhook_poll_interval_s))
    container._closers.append(connectors.close)
    container._closers.append(container.rate_limits.close)
    container._closers.append(risk_model.close)
    container._closers.append(sender.close)
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
    if background_sweep if background_delivery is None else background_delivery:
        container.delivery.start()
        container._closers.append(container.delivery.stop)  # before the sender and the engine close
    return container


def rate_limits_from(settings: Settings) -> KeyRateLimits:
    """The key budgets of ``settings``; operator tokens have none."""
    return KeyRateLimits({KeyKind.RETAILER: settings.rate_limit_retailer, KeyKind.GATE: settings.rate_limit_gate},
                         storage_url=settings.rate_limit_storage)
