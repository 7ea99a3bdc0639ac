"""Contract tests: one set of rules per port, held against its in-memory fake and its SQL adapter.

Here ``backend`` is ``memory``, ``sqlite`` or ``postgres``. A SQL backend's database is made once
per session (a fresh PostgreSQL database costs seconds) and emptied before each test, so every
test starts from nothing on every backend. When a rule fails on the fake only, the fake is wrong.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, MetaData, Table, delete

from entrygate.adapters.db.engine import make_engine
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.adapters.memory.storage import MemoryStore
from entrygate.services.ports.storage import UnitOfWorkFactory
from support.databases import drop_database, fresh_database

PORT_BACKENDS = ["memory", "sqlite", "postgres"]


@pytest.fixture(scope="session", params=PORT_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@dataclass(frozen=True)
class _Database:
    engine: Engine
    tables: list[Table]  # children first, so emptying them in order breaks no foreign key


@pytest.fixture(scope="session")
def contract_database(backend: str, tmp_path_factory: pytest.TempPathFactory):
    """One migrated database per SQL backend for the whole session; None for ``memory``."""
    if backend == "memory":
        yield None
        return
    url = fresh_database(backend, tmp_path_factory.mktemp(f"contracts-{backend}"), name="contracts")
    engine = make_engine(url, pool_size=8)
    schema = MetaData()
    schema.reflect(engine)
    yield _Database(engine, [t for t in reversed(schema.sorted_tables) if t.name != "alembic_version"])
    engine.dispose()
    drop_database(url)


@pytest.fixture
def engine(contract_database: _Database | None) -> Engine | None:
    """The SQL backend's engine over an empty database (None for ``memory``)."""
    if contract_database is None:
        return None
    with contract_database.engine.begin() as conn:
        for table in contract_database.tables:
            conn.execute(delete(table))
    return contract_database.engine


@pytest.fixture
def storage(backend: str, engine: Engine | None) -> UnitOfWorkFactory:
    """The storage unit of work under test: ``MemoryStore`` or the SQL one."""
    return MemoryStore() if engine is None else SqlUnitOfWorkFactory(engine)
