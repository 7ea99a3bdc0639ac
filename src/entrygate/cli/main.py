"""The ``entrygate`` command line."""
from __future__ import annotations

import os
from typing import Optional

import typer

from entrygate.settings import Settings, SettingsError

app = typer.Typer(help="entrygate: entry decisions for checkout-free stores.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
admin_app = typer.Typer(help="Operator administration.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(admin_app, name="admin")


@app.callback()
def _logging() -> None:
    """Logs go to stderr, so a command's own output (a token, a table) is all that stdout carries."""
    from entrygate.logs import configure

    configure(level=os.environ.get("ENTRYGATE_LOG_LEVEL", "INFO"),
              json=os.environ.get("ENTRYGATE_LOG_JSON", "true").lower() not in ("0", "false", "no"))


def _settings(database_url: Optional[str] = None) -> Settings:
    if database_url:
        os.environ["ENTRYGATE_DATABASE_URL"] = database_url
    return Settings()


@app.command()
def serve(host: str = typer.Option("127.0.0.1", help="Address to listen on."),
          port: int = typer.Option(8000, help="Port to listen on."),
          database_url: Optional[str] = typer.Option(None, help="Overrides ENTRYGATE_DATABASE_URL."),
          workers: int = typer.Option(1, min=1, max=64, help="Worker processes.")) -> None:
    """Run the platform; applies pending migrations first."""
    import uvicorn

    from entrygate.adapters.db.engine import upgrade

    settings = _settings(database_url)
    try:
        settings.require_real_secret()
    except SettingsError as exc:
        typer.echo(f"entrygate: {exc}", err=True)
        raise typer.Exit(2) from None
    upgrade(settings.sqlalchemy_url)
    uvicorn.run("entrygate.api.asgi:create", factory=True, host=host, port=port, workers=workers,
                log_level="warning", access_log=False)


@db_app.command("upgrade")
def db_upgrade(database_url: Optional[str] = typer.Option(None, help="Overrides ENTRYGATE_DATABASE_URL.")) -> None:
    """Apply pending migrations."""
    from entrygate.adapters.db.engine import current_revision, upgrade

    settings = _settings(database_url)
    upgrade(settings.sqlalchemy_url)
    typer.echo(f"database at revision {current_revision(settings.sqlalchemy_url)}")


@admin_app.command("create-token")
def create_token(database_url: Optional[str] = typer.Option(None, help="Overrides ENTRYGATE_DATABASE_URL.")) -> None:
    """Print a new operator token (shown once; stored only as a hash)."""
    from entrygate.adapters.db.engine import upgrade
    from entrygate.bootstrap import build

    settings = _settings(database_url)
    upgrade(settings.sqlalchemy_url)
    container = build(settings)
    try:
        typer.echo(container.admin.create_operator_token())
    finally:
        container.close()


def _recorded_history(database_url: Optional[str], **options):  # noqa: ANN003, ANN202 - risk.cli.DatabaseSource
    """Labelled entries from the platform database; imported on use, so ``entrygate --help`` stays fast."""
    from entrygate.adapters.db.training import read_training_data

    settings = Settings(database_url=database_url) if database_url else Settings()
    return read_training_data(settings.sqlalchemy_url, **options)


def _register_optional() -> None:
    """Sub-commands that live with their features."""
    from entrygate.cli import demo, simulate

    app.command("demo")(demo.demo)
    app.command("simulate")(simulate.simulate)
    try:
        from entrygate.risk.cli import make_app as make_risk_app
        app.add_typer(make_risk_app(database_source=_recorded_history), name="risk")
    except ImportError:
        pass
    try:
        from entrygate.retailer.cli import app as retailer_app
        app.add_typer(retailer_app, name="retailer")
    except ImportError:
        pass


_register_optional()

if __name__ == "__main__":
    app()
