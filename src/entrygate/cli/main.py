"""The ``entrygate`` command line."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from entrygate import __version__
from entrygate.settings import Settings

app = typer.Typer(help="entrygate: entry decisions for checkout-free stores.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
admin_app = typer.Typer(help="Operator administration.", no_args_is_help=True)
trips_app = typer.Typer(help="Trips and the money they hold.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(admin_app, name="admin")
app.add_typer(trips_app, name="trips")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"entrygate {__version__}")
        raise typer.Exit()


@app.callback()
def _logging(version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                          help="Print the version (the one /openapi.json gives) and exit.")) -> None:
    """Logs go to stderr, so a command's own output (a token, a table) is all that stdout carries."""
    from entrygate.logs import configure

    configure(level=os.environ.get("ENTRYGATE_LOG_LEVEL", "INFO"),
              json=os.environ.get("ENTRYGATE_LOG_JSON", "true").lower() not in ("0", "false", "no"))


_SECRET_WORDS = ("SECRET", "KEY", "PASSWORD", "URL", "STORAGE")


def _settings(database_url: str | None = None, **flags: object) -> Settings:
    """Settings from the environment, flags given on the command line taking precedence; a value that
    cannot run stops the command with exit 2, naming the setting."""
    from pydantic import ValidationError

    if database_url:
        os.environ["ENTRYGATE_DATABASE_URL"] = database_url  # the workers read it too
    try:
        return Settings(**{name: value for name, value in flags.items() if value is not None})
    except ValidationError as exc:
        for problem in exc.errors():
            name = "ENTRYGATE_" + "_".join(str(part) for part in problem["loc"]).upper()
            message = problem["msg"].removeprefix("Value error, ")
            # a URL may hold a password, a key is a secret: those values are not repeated
            shown = "" if any(word in name for word in _SECRET_WORDS) else f"={problem.get('input')!r}"
            typer.echo(f"entrygate: {name}{shown}: {message}", err=True)
        raise typer.Exit(2) from None


def _require_database_file(settings: Settings) -> None:
    """Exit 1 when the SQLite file does not exist: this command would otherwise create an empty database,
    most often because a relative ENTRYGATE_DATABASE_URL was read from another directory."""
    from entrygate.adapters.db.locations import sqlite_file

    path = sqlite_file(settings.database_url)
    if path is None or path.exists():
        return
    relative = "" if Path(settings.database_url.split("///", 1)[-1]).is_absolute() else \
        f" (a relative path, read from the current directory {Path.cwd()})"
    typer.echo(f"entrygate: there is no database at {path}{relative}. This command does not create one: point "
               "ENTRYGATE_DATABASE_URL (or --database-url) at the server's database, or create a new one with "
               "`entrygate db upgrade`.", err=True)
    raise typer.Exit(1)


def _announce(settings: Settings, *, created: bool) -> None:
    """The start-up lines of `serve` on stdout: version, database (absolute path, no password), processor, limits."""
    from entrygate.adapters.db.locations import describe_database
    from entrygate.bootstrap import rate_limits_from
    from entrygate.domain.keys import KeyKind

    database = describe_database(settings.database_url) + (" (new: it did not exist, created now)" if created else "")
    limits = rate_limits_from(settings)
    shared = "shared" if settings.rate_limit_storage.startswith("redis") else "per process"
    reachable = "" if limits.reachable() else "; NOT REACHABLE: requests pass unlimited until it answers"
    limits.close()
    for line in (f"entrygate {__version__}", f"database: {database}", f"processor: {settings.processor}",
                 f"rate limits: retailer keys {limits.budget(KeyKind.RETAILER)}, gate keys "
                 f"{limits.budget(KeyKind.GATE)} ({shared}, {settings.rate_limit_storage}{reachable})"):
        typer.echo(line)


@app.command()
def serve(host: str = typer.Option("127.0.0.1", help="Address to listen on."),
          port: int = typer.Option(8000, help="Port to listen on."),
          database_url: str | None = typer.Option(None, help="Overrides ENTRYGATE_DATABASE_URL."),
          workers: int = typer.Option(1, min=1, max=64, help="Worker processes."),
          migrate: bool = typer.Option(True, "--migrate/--no-migrate",
                                       help="Apply pending migrations first (--no-migrate: refuse a schema behind)."),
          header_timeout: float | None = typer.Option(
              None, help="Seconds for a request head to arrive (ENTRYGATE_HEADER_TIMEOUT_S, default 5)."),
          keep_alive_timeout: float | None = typer.Option(
              None, help="Seconds a connection may idle between requests (ENTRYGATE_KEEP_ALIVE_TIMEOUT_S, default 5)."),
          max_connections: int | None = typer.Option(
              None, help="Connections per worker; beyond, 503 at once (ENTRYGATE_MAX_CONNECTIONS, default 2048).")
          ) -> None:
    """Run the platform; applies pending migrations first."""
    from entrygate.adapters.db.engine import upgrade
    from entrygate.adapters.db.locations import sqlite_file
    from entrygate.cli import serving

    settings = _settings(database_url, header_timeout_s=header_timeout, keep_alive_timeout_s=keep_alive_timeout,
                         max_connections=max_connections)
    try:
        settings.require_real_secret()
    except ValueError as exc:
        typer.echo(f"entrygate: {exc}", err=True)
        raise typer.Exit(2) from None
    _require_processor(settings)
    path = sqlite_file(settings.database_url)
    created = migrate and path is not None and not path.exists()
    if migrate:
        upgrade(settings.sqlalchemy_url)
    else:  # an empty or missing database is "behind" too: exit 1, naming `entrygate db upgrade`, nothing created
        _require_current_schema(settings.sqlalchemy_url)
    _announce(settings, created=created)
    serving.run(settings, host=host, port=port, workers=workers, announce=typer.echo)


def _require_processor(settings: Settings) -> None:
    """Exit 2 at start when the configured processor plugin is missing or broken, never at the first shopper."""
    from entrygate.adapters.processors.registry import ProcessorPluginError, load_processor

    try:
        processor = load_processor(settings.processor, settings)
    except ProcessorPluginError as exc:
        typer.echo(f"entrygate: {exc}", err=True)
        raise typer.Exit(2) from None
    close = getattr(processor, "close", None)
    if callable(close):
        close()


def _require_current_schema(url: str) -> None:
    """Exit 1 when the schema is behind this version, naming both revisions and the command that fixes it."""
    from entrygate.adapters.db.engine import current_revision, head_revision, is_behind

    try:
        current = current_revision(url)
    except Exception as exc:  # noqa: BLE001 - any failure to read the revision stops the start
        typer.echo(f"entrygate: cannot read the database's schema revision: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(1) from None
    if is_behind(current):
        typer.echo(f"entrygate: the database schema is at revision {current or 'none (empty database)'}, "
                   f"this entrygate expects {head_revision()}; run `entrygate db upgrade` first", err=True)
        raise typer.Exit(1)


@db_app.command("upgrade")
def db_upgrade(database_url: str | None = typer.Option(None, help="Overrides ENTRYGATE_DATABASE_URL.")) -> None:
    """Apply pending migrations (on SQLite, creating the database file when there is none)."""
    from entrygate.adapters.db.engine import current_revision, upgrade
    from entrygate.adapters.db.locations import sqlite_file

    settings = _settings(database_url)
    path = sqlite_file(settings.database_url)
    if path is not None and not path.exists():
        typer.echo(f"creating a new database: {path}")
    upgrade(settings.sqlalchemy_url)
    typer.echo(f"database at revision {current_revision(settings.sqlalchemy_url)}")


@db_app.command("backup")
def db_backup(target: Path = typer.Argument(..., help="The file to write; it must not exist."),
              database_url: str | None = typer.Option(None, help="Overrides ENTRYGATE_DATABASE_URL.")) -> None:
    """Copy the database to TARGET while servers keep running (SQLite's online backup; pg_dump for PostgreSQL).

    Restore (docs/deploy.md): SQLite, stop the servers and put the file in the database's place;
    PostgreSQL, `pg_restore --no-owner --dbname <new database> TARGET`, then point the servers at it.
    """
    from entrygate.adapters.db.backup import BackupError, backup
    from entrygate.adapters.db.locations import describe_database

    settings = _settings(database_url)
    _require_database_file(settings)
    try:
        written = backup(settings.database_url, target)
    except BackupError as exc:
        typer.echo(f"entrygate: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"backed up {describe_database(settings.database_url)} to {written} ({written.stat().st_size} bytes)")


@admin_app.command("create-token")
def create_token(database_url: str | None = typer.Option(None, help="Overrides ENTRYGATE_DATABASE_URL.")) -> None:
    """Print a new operator token (shown once; stored only as a hash)."""
    from entrygate.adapters.db.engine import upgrade
    from entrygate.bootstrap import build

    settings = _settings(database_url)
    _require_database_file(settings)
    upgrade(settings.sqlalchemy_url)
    container = build(settings, background_sweep=False)
    try:
        typer.echo(container.admin.create_operator_token())
    finally:
        container.close()


@trips_app.command("sweep")
def trips_sweep(database_url: str | None = typer.Option(None, help="Overrides ENTRYGATE_DATABASE_URL.")) -> None:
    """Run the timeout and release sweeps once, now; prints what they did.

    Closes the open trips past their store's maxTripMinutes (closedBy TIMEOUT), then releases the
    holds nobody settled within preauthReleaseHours of their trip's close, and the holds of denied
    taps (HARD anti-passback race losers) that were not released. Safe beside running
    servers: each trip is closed and each hold released once, whoever gets there first.
    """
    from entrygate.bootstrap import build
    from entrygate.services.ports.storage import StorageError

    settings = _settings(database_url)
    _require_processor(settings)
    _require_database_file(settings)
    _require_current_schema(settings.sqlalchemy_url)
    container = build(settings, background_sweep=False)
    try:
        report = container.sweeper.sweep()
    except StorageError as exc:
        typer.echo(f"entrygate: the sweep stopped: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        container.close()
    typer.echo(f"closed: {report.closed}, released: {report.released}, orphans released: {report.orphans_released}")
    if report.deferred:
        typer.echo(f"entrygate: {report.deferred} release(s) could not be done now; the next sweep retries them",
                   err=True)


def _recorded_history(database_url: str | None, **options):  # noqa: ANN003, ANN202 - risk.cli.DatabaseSource
    """Labelled entries from the platform database; imported on use, so ``entrygate --help`` stays fast."""
    from entrygate.adapters.db.training import read_training_data

    settings = Settings(database_url=database_url) if database_url else Settings()
    return read_training_data(settings.sqlalchemy_url, **options)


@contextmanager
def _risk_records(database_url: str | None) -> Iterator[object]:  # risk.operations.RiskRecordsFactory
    """The platform database's model roles, shadow scores and backtests, for ``entrygate risk``."""
    from entrygate.adapters.db.engine import make_engine
    from entrygate.adapters.db.risk_models import SqlRiskRecords
    from entrygate.adapters.db.training import describe
    from entrygate.risk.operations import RiskRecordsUnavailable
    from entrygate.services.ports.storage import StorageError

    settings = Settings(database_url=database_url) if database_url else Settings()
    url = settings.sqlalchemy_url
    if settings.is_sqlite and not _sqlite_file_exists(url):
        raise RiskRecordsUnavailable(f"there is no database at {describe(url)}")
    engine = make_engine(url, pool_size=1)
    try:
        yield SqlRiskRecords(engine)
    except StorageError as exc:
        raise RiskRecordsUnavailable(f"{describe(url)}: {exc}") from exc
    finally:
        engine.dispose()


def _sqlite_file_exists(url: str) -> bool:
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    return database in (None, "", ":memory:") or Path(database).exists()


def _register_features() -> None:
    """Sub-commands that live with their features; none is optional, so a broken import fails loudly."""
    from entrygate.cli import demo, keys, simulate
    from entrygate.cli.agent import gate_app
    from entrygate.retailer.cli import app as retailer_app
    from entrygate.risk.cli import make_app as make_risk_app

    app.command("demo")(demo.demo)
    app.command("simulate")(simulate.simulate)
    app.add_typer(keys.app, name="keys")
    app.add_typer(make_risk_app(database_source=_recorded_history, records=_risk_records), name="risk")
    app.add_typer(retailer_app, name="retailer")
    app.add_typer(gate_app, name="gate")


_register_features()

if __name__ == "__main__":
    app()
