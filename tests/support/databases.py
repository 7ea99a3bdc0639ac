"""Test databases: a fresh SQLite file and a fresh PostgreSQL database per test session."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import psycopg
import pytest

from entrygate.adapters.db.engine import upgrade

POSTGRES_ENV = "ENTRYGATE_TEST_POSTGRES_URL"


def postgres_admin_url() -> str | None:
    return os.environ.get(POSTGRES_ENV)


def fresh_database(backend: str, tmp: Path, *, name: str = "eg") -> str:
    """A new, migrated database of the given backend; returns its URL."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp / (name + '.db')}"
    else:
        admin = postgres_admin_url()
        if not admin:
            pytest.skip(f"{POSTGRES_ENV} is not set (make test sets it)")
        dbname = f"eg_test_{name}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        base = admin.rsplit("/", 1)[0]
        url = f"{base}/{dbname}".replace("postgresql://", "postgresql+psycopg://", 1)
    upgrade(url)
    return url


def drop_database(url: str) -> None:
    if "postgresql" not in url:
        return
    admin = postgres_admin_url()
    dbname = url.rsplit("/", 1)[1]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
