"""The reference retailer's engine and migrations (Alembic, under ``retailer/migrations``)."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from entrygate.adapters.db.engine import make_engine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Apply the retailer's pending migrations (idempotent)."""
    command.upgrade(alembic_config(url), revision)


def connect(url: str, *, pool_size: int = 8) -> Engine:
    """A migrated database's engine (SQLite in WAL mode, as the platform's)."""
    upgrade(url)
    return make_engine(url, pool_size=pool_size)
