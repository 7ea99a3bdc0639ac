"""``entrygate keys``: rotate a secret's key, and see which keys are in use (DESIGN 15, docs/security.md)."""
from __future__ import annotations

import typer

from entrygate.domain.secrets import ROTATABLE, rotatable

app = typer.Typer(help="Secrets per purpose: rotate a key, see which keys are in use.", no_args_is_help=True)
PURPOSES = "|".join(p.value for p in ROTATABLE)


@app.command("rotate")
def rotate(purpose: str = typer.Option(..., "--purpose", help=f"The secret to rotate: {PURPOSES}."),
           database_url: str | None = typer.Option(None, help="Overrides ENTRYGATE_DATABASE_URL."),
           page_size: int = typer.Option(500, min=1, max=10_000, hidden=True,
                                         help="Palm templates re-encrypted per committed step.")) -> None:
    """Give a secret a new key, without losing what the old key made.

    palm re-encrypts every template (an interrupted run is resumed by running the command again);
    sessions keeps cookies and CSRF tokens made under the old key valid until they expire; offline
    keeps the old public key published until the bundles it signed expire. Every running process
    uses the new key within 10 s. The last line printed is ``key id: <id>``.
    """
    if rotatable(purpose) is None:
        typer.echo(f"entrygate: unknown purpose {purpose!r}: choose {PURPOSES} (instrument ids never change)",
                   err=True)
        raise typer.Exit(2)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from entrygate.bootstrap import build
    from entrygate.cli.main import _require_current_schema, _settings
    from entrygate.services.ports.storage import StorageError

    settings = _settings(database_url)
    try:
        settings.require_real_secret()
    except ValueError as exc:
        typer.echo(f"entrygate: {exc}", err=True)
        raise typer.Exit(2) from None
    _require_current_schema(settings.sqlalchemy_url)
    container = build(settings, background_sweep=False, palm_index=False)
    bar = Progress(TextColumn("re-encrypting palm templates"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True), transient=False)
    task = bar.add_task("palm", total=None)

    def progress(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    try:
        if purpose == "palm":
            with bar:
                result = container.secrets.rotate(purpose, progress=progress, page=page_size)
        else:
            result = container.secrets.rotate(purpose)
    except StorageError as exc:
        typer.echo(f"entrygate: the rotation stopped: {exc}; run the command again to finish it", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        typer.echo("entrygate: interrupted; what was re-encrypted is kept: run the command again to finish", err=True)
        raise typer.Exit(130) from None
    finally:
        container.close()
    if purpose == "palm":
        if result.resumed:
            typer.echo(f"resumed the unfinished re-encryption to {result.key_id}", err=True)
        if result.unreadable:
            typer.echo(f"entrygate: {result.unreadable} template(s) opened under no key and were left as they are",
                       err=True)
        typer.echo(f"re-encrypted: {result.reencrypted} of {result.templates}")
    typer.echo(f"key id: {result.key_id}")


@app.command("status")
def status(database_url: str | None = typer.Option(None, help="Overrides ENTRYGATE_DATABASE_URL.")) -> None:
    """Each purpose's active key id, and how many palm templates are still under an older key."""
    from entrygate.bootstrap import build
    from entrygate.cli.main import _require_current_schema, _settings

    settings = _settings(database_url)
    _require_current_schema(settings.sqlalchemy_url)
    container = build(settings, background_sweep=False, palm_index=False)
    try:
        rows = container.secrets.status()
    finally:
        container.close()
    for row in rows:
        if row.active_key_id is None:
            typer.echo(f"{row.purpose}: ENTRYGATE_SECRET_KEY (never rotates)")
        elif row.under_older_keys is not None:
            typer.echo(f"{row.purpose}: {row.active_key_id} (templates under older keys: {row.under_older_keys})")
        else:
            typer.echo(f"{row.purpose}: {row.active_key_id}")
