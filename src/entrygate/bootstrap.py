"""The composition root: builds engines, clients and services from settings. Nothing connects at
import time; ``build`` is called by the CLI, the API factory and the tests."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from entrygate.adapters.db.engine import make_engine
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.adapters.metrics import PrometheusObserver
from entrygate.adapters.passwords import Argon2Passwords
from entrygate.adapters.processor import SandboxProcessor
from entrygate.domain.channels import Channel
from entrygate.services.admin import AdminService
from entrygate.services.auth import Authenticator
from entrygate.services.card_entry import CardHandler
from entrygate.services.catalog import Catalog
from entrygate.services.clock import SystemClock
from entrygate.services.entries import EntryService
from entrygate.services.exits import ExitService
from entrygate.services.feedback import FeedbackService
from entrygate.services.ports import Clock
from entrygate.services.queries import QueryService
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
    extras: dict[str, Any] = field(default_factory=dict)
    _closers: list[Any] = field(default_factory=list)

    def close(self) -> None:
        for closer in reversed(self._closers):
            closer()
        self.engine.dispose()


def build(settings: Settings, *, clock: Clock | None = None) -> Container:
    engine = make_engine(settings.sqlalchemy_url, pool_size=settings.db_pool_size)
    uow = SqlUnitOfWorkFactory(engine)
    clock = clock or SystemClock()
    catalog = Catalog(uow, ttl_s=settings.cache_ttl_s)
    passwords = Argon2Passwords()
    observer = PrometheusObserver()
    processor = SandboxProcessor(timeout_s=settings.processor_timeout_ms / 1000)
    handlers = {Channel.CREDIT_CARD: CardHandler(secret=settings.secret_bytes)}
    entries = EntryService(uow=uow, catalog=catalog, clock=clock, processor=processor, handlers=handlers,
                           observer=observer)
    return Container(
        settings=settings, engine=engine, uow=uow, clock=clock, catalog=catalog,
        auth=Authenticator(uow, ttl_s=settings.cache_ttl_s),
        admin=AdminService(uow, clock, catalog, passwords),
        entries=entries,
        exits=ExitService(uow=uow, catalog=catalog, clock=clock, handlers=handlers),
        queries=QueryService(uow), feedback=FeedbackService(uow, clock), observer=observer, passwords=passwords)
