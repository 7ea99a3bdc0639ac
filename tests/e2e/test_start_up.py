"""What the command line says when it starts (DESIGN 15, docs/deploy.md): the version, where `serve`
listens, its database and processor; settings and databases that would surprise are refused plainly."""
from __future__ import annotations

import os
import subprocess
import time
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner

from entrygate.adapters.db.locations import describe_database, sqlite_file
from entrygate.cli.main import app
from support.server import TEST_SECRET, entrygate_exe


def run(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    """The command as an operator runs it, in a process of its own."""
    full = {**os.environ, "ENTRYGATE_SECRET_KEY": TEST_SECRET, **env}
    return subprocess.run([*entrygate_exe(), *args], cwd=cwd, env=full, capture_output=True, text=True, timeout=60)


def run_here(monkeypatch, *args: str, cwd: Path, **env: str):  # noqa: ANN201 - click's Result
    """The command in this process (faster), from ``cwd``, with these variables."""
    monkeypatch.chdir(cwd)
    for name, value in {"ENTRYGATE_SECRET_KEY": TEST_SECRET, **env}.items():
        monkeypatch.setenv(name, value)
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def started_lines(output: Path) -> list[str]:
    deadline = time.monotonic() + 10
    while True:
        lines = [x for x in output.read_text().splitlines() if not x.startswith("{")]
        if any(x.startswith("listening on ") for x in lines) or time.monotonic() > deadline:
            return lines


def test_the_version_is_the_package_metadata_and_the_one_openapi_gives(ops_platform):
    printed = run("--version")
    assert printed.returncode == 0 and printed.stdout == f"entrygate {version('entrygate')}\n"
    assert ops_platform.http.get("/openapi.json").json()["info"]["version"] == version("entrygate")


def test_serve_says_where_it_listens_its_database_and_processor(ops_platform):
    lines = started_lines(ops_platform.output)
    assert f"listening on {ops_platform.url}" in lines
    assert "processor: sandbox" in lines
    assert f"entrygate {version('entrygate')}" in lines
    database = ops_platform.database_url.replace("+psycopg", "")
    if database.startswith("sqlite"):
        path = Path(database.removeprefix("sqlite:///"))
        assert path.is_absolute() and f"database: SQLite {path}" in lines
    else:
        assert f"database: PostgreSQL {database}" in lines
    assert "rate limits: retailer keys 5 per 1 minute, gate keys 20 per 1 second (per process, memory://)" in lines


def test_a_database_is_described_by_absolute_path_or_without_its_password(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert describe_database("sqlite:///./entrygate.db") == f"SQLite {tmp_path.resolve() / 'entrygate.db'}"
    assert sqlite_file("sqlite:///:memory:") is None and describe_database("sqlite://") == "SQLite in memory"
    shown = describe_database("postgresql+psycopg://eg:s3cret-pass@db.internal:5433/entrygate?sslmode=require")
    assert shown == "PostgreSQL postgresql://eg@db.internal:5433/entrygate?sslmode=require"


@pytest.mark.parametrize("command", [("admin", "create-token"), ("trips", "sweep"), ("db", "backup", "copy.db")])
def test_a_command_that_would_create_an_empty_sqlite_database_refuses_with_a_hint(tmp_path, monkeypatch, command):
    where = tmp_path / "elsewhere"
    where.mkdir()
    r = run_here(monkeypatch, *command, cwd=where, ENTRYGATE_DATABASE_URL="sqlite:///./entrygate.db")
    assert r.exit_code == 1, r.output
    assert f"there is no database at {where.resolve() / 'entrygate.db'}" in r.stderr
    assert "relative path, read from the current directory" in r.stderr and "entrygate db upgrade" in r.stderr
    assert list(where.iterdir()) == []  # nothing created


def test_db_upgrade_creates_a_missing_sqlite_database_and_says_so(tmp_path, monkeypatch):
    r = run_here(monkeypatch, "db", "upgrade", cwd=tmp_path, ENTRYGATE_DATABASE_URL="sqlite:///./fresh.db")
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[0] == f"creating a new database: {tmp_path.resolve() / 'fresh.db'}"
    assert (tmp_path / "fresh.db").exists()
    token = run_here(monkeypatch, "admin", "create-token", cwd=tmp_path, ENTRYGATE_DATABASE_URL="sqlite:///./fresh.db")
    assert token.exit_code == 0 and token.stdout.startswith("egop_"), token.output


@pytest.mark.parametrize(("variable", "value"), [("ENTRYGATE_RATE_LIMIT_GATE", "20/sec0nd"),
                                                 ("ENTRYGATE_RATE_LIMIT_RETAILER", "fifty a second"),
                                                 ("ENTRYGATE_RATE_LIMIT_STORAGE", "memcached://cache:11211")])
def test_serve_refuses_a_rate_limit_setting_it_cannot_use_before_it_starts(tmp_path, monkeypatch, variable, value):
    r = run_here(monkeypatch, "serve", cwd=tmp_path, ENTRYGATE_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
                 **{variable: value})
    assert r.exit_code == 2
    shown = "" if variable.endswith("STORAGE") else f"={value!r}"  # a storage URL may hold a password
    assert r.stderr.startswith(f"entrygate: {variable}{shown}: "), r.stderr
    assert "STORAGE" not in variable or value not in r.stderr
    assert not (tmp_path / "x.db").exists()
