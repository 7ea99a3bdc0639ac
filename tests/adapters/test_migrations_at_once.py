"""Processes starting together on one database migrate it once, under a lock; `serve --no-migrate`
refuses a schema that is behind (DESIGN 15; issue 9, finding 4). On SQLite and PostgreSQL."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest

from entrygate.adapters.db.engine import current_revision, head_revision, upgrade
from support.databases import drop_database, postgres_admin_url
from support.server import TEST_SECRET, free_port, stop_server

# Each process loads everything, waits until all have, then runs the command: the migrations of
# both begin within a millisecond or two of each other, the moment the race needs.
LAUNCH = """
import os, sys, time
from entrygate.cli.main import app
import alembic.command, entrygate.adapters.db.engine, entrygate.adapters.db.tables
barrier, count = sys.argv[1], int(sys.argv[2])
open(os.path.join(barrier, str(os.getpid())), "w").close()
deadline = time.monotonic() + 60
while len(os.listdir(barrier)) < count and time.monotonic() < deadline:
    time.sleep(0.001)
sys.argv = ["entrygate", *sys.argv[3:]]
app()
"""


def empty_database(backend: str, tmp: Path) -> str:
    """A database with no schema at all, as an operator creates it."""
    if backend == "sqlite":
        return f"sqlite:///{tmp / ('fresh-' + uuid.uuid4().hex[:8] + '.db')}"
    admin = postgres_admin_url()
    if not admin:
        pytest.skip("ENTRYGATE_TEST_POSTGRES_URL is not set")
    name = f"eg_test_fresh_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{admin.rsplit('/', 1)[0]}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)


def env_for(url: str) -> dict[str, str]:
    return {**os.environ, "ENTRYGATE_DATABASE_URL": url, "ENTRYGATE_SECRET_KEY": TEST_SECRET,
            "ENTRYGATE_LOG_LEVEL": "WARNING"}


def launch_together(url: str, tmp: Path, *commands: list[str]) -> list[subprocess.Popen]:
    barrier = tmp / f"barrier-{uuid.uuid4().hex[:8]}"
    barrier.mkdir()
    return [subprocess.Popen([sys.executable, "-c", LAUNCH, str(barrier), str(len(commands)), *command],
                             env=env_for(url), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True) for command in commands]


def test_two_upgrades_started_at_the_same_moment_on_a_fresh_database_both_succeed(backend, tmp_path):
    for trial in range(3):
        url = empty_database(backend, tmp_path)
        try:
            procs = launch_together(url, tmp_path, ["db", "upgrade"], ["db", "upgrade"])
            outs = [p.communicate(timeout=60) for p in procs]
            assert [p.returncode for p in procs] == [0, 0], f"trial {trial}: {[err[-1500:] for _, err in outs]}"
            # the last line; on SQLite one or both may first say they create the file
            assert [out.strip().splitlines()[-1] for out, _ in outs] == [f"database at revision {head_revision()}"] * 2
        finally:
            drop_database(url)


def test_two_servers_started_at_the_same_moment_on_a_fresh_database_both_serve(backend, tmp_path):
    for trial in range(1):  # the race itself is repeated above; a server start costs seconds
        url = empty_database(backend, tmp_path)
        ports = [free_port(), free_port()]
        procs = launch_together(url, tmp_path, *(["serve", "--port", str(port)] for port in ports))
        try:
            for proc, port in zip(procs, ports):
                deadline = time.monotonic() + 60
                while True:
                    if proc.poll() is not None:
                        pytest.fail(f"trial {trial}: a server exited: {proc.stderr.read()[-1500:]}")
                    assert time.monotonic() < deadline, "a server did not come up"
                    try:
                        if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                            break
                    except httpx.HTTPError:
                        time.sleep(0.05)
            assert current_revision(url) == head_revision()
        finally:
            for proc in procs:
                stop_server(proc)
            drop_database(url)


def serve_no_migrate(url: str) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "entrygate.cli.main", "serve", "--no-migrate", "--port",
                           str(free_port())], env=env_for(url), capture_output=True, text=True, timeout=30)
    return done, time.monotonic() - started


def test_no_migrate_on_a_database_behind_exits_1_naming_both_revisions(backend, tmp_path):
    url = empty_database(backend, tmp_path)
    try:
        upgrade(url, "0001")
        done, took = serve_no_migrate(url)
        assert done.returncode == 1, done.stderr[-1500:]
        assert took < 10
        message = done.stderr.strip().splitlines()[-1]
        assert "revision 0001" in message and head_revision() in message and "entrygate db upgrade" in message
        assert current_revision(url) == "0001", "--no-migrate migrated"
    finally:
        drop_database(url)


def test_no_migrate_on_an_empty_database_exits_1(backend, tmp_path):
    url = empty_database(backend, tmp_path)
    try:
        done, took = serve_no_migrate(url)
        assert done.returncode == 1 and took < 10
        assert "none (empty database)" in done.stderr and "entrygate db upgrade" in done.stderr
    finally:
        drop_database(url)


def test_no_migrate_on_a_current_database_serves(backend, tmp_path):
    url = empty_database(backend, tmp_path)
    upgrade(url)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "entrygate.cli.main", "serve", "--no-migrate", "--port", str(port)],
                            env=env_for(url), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read().decode()[-1500:]
            assert time.monotonic() < deadline
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
    finally:
        stop_server(proc)
        drop_database(url)


def test_no_migrate_on_an_unreachable_database_exits_1_within_10_s():
    done, took = serve_no_migrate("postgresql+psycopg://postgres@127.0.0.1:1/nothing")
    assert done.returncode == 1 and took < 10
    assert "cannot read the database's schema revision" in done.stderr
