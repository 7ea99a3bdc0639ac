"""``entrygate risk versions | promote | shadow | backtest`` (DESIGN 14): model operations.

Which version is current and which is the shadow is recorded in the platform database
(``--database-url``, env ``ENTRYGATE_DATABASE_URL``), so these commands need it wired in
(``entrygate`` does, in ``cli/main.py``); every running process picks a change up within its
check interval (``ENTRYGATE_MODEL_CHECK_S``, at most 10 s). The versions come from the model
store (``--model-dir``, env ``ENTRYGATE_MODEL_DIR``; the bundled model is its first version).
An unknown version exits 1 and changes nothing.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from entrygate.risk.model_store import DEFAULT_MODEL_DIR, ModelStore
from entrygate.risk.operations import (
    ModelOperations,
    NotACandidate,
    RiskRecords,
    RiskRecordsFactory,
    RiskRecordsUnavailable,
    UnknownModelVersion,
)

ModelDir = Annotated[Path, typer.Option(
    "--model-dir", envvar="ENTRYGATE_MODEL_DIR", show_envvar=True,
    help="The model store: versioned model files (the bundled model is always its first version).")]
DatabaseUrl = Annotated[str | None, typer.Option(
    "--database-url", envvar="ENTRYGATE_DATABASE_URL", show_envvar=True,
    help="Platform database where the current and shadow versions are recorded (default sqlite:///./entrygate.db).")]
TOLERANCES = ("LOW", "MEDIUM", "HIGH")


def _now() -> datetime:
    return datetime.now(UTC)


def register(app: typer.Typer, records: RiskRecordsFactory | None) -> None:
    """Add the model-operation commands to the ``risk`` sub-app."""

    def opened(database_url: str | None, console: Console):  # noqa: ANN202 - the factory's context manager
        if records is None:
            console.print("[red]this command needs the platform database: run it as `entrygate risk ...`[/red]")
            raise typer.Exit(2)
        return records(database_url)

    def fail(console: Console, message: str, code: int = 1) -> NoReturn:
        console.print(f"[red]{escape(message)}[/red]")
        raise typer.Exit(code)

    @app.command()
    def versions(model_dir: ModelDir = DEFAULT_MODEL_DIR, database_url: DatabaseUrl = None) -> None:
        """List the model store's versions, with the current and shadow ones marked."""
        console = Console()
        store = ModelStore(model_dir)
        with _guard(console), opened(database_url, console) as db:
            served = ModelOperations(store, db.roles, now=_now).served()
        table = Table(title=f"risk models in {model_dir} (and bundled)")
        for column in ("version", "role", "ROC AUC", "PR AUC", "trained on"):
            table.add_column(column)
        for version in store.versions():
            meta = store.metadata(version)
            metrics = meta.get("metrics") or {}
            role = "current" if version == served.current else "shadow" if version == served.shadow else ""
            source = (meta.get("training_data") or {}).get("source") or "simulated (bundled)"
            table.add_row(version, role, _fmt(metrics.get("roc_auc")), _fmt(metrics.get("pr_auc")), str(source))
        console.print(table)

    @app.command()
    def promote(version: Annotated[str, typer.Argument(help="The version to make current.")],
                model_dir: ModelDir = DEFAULT_MODEL_DIR, database_url: DatabaseUrl = None) -> None:
        """Make VERSION the current model of every process (within 10 s)."""
        console = Console()
        with _guard(console), opened(database_url, console) as db:
            try:
                ModelOperations(ModelStore(model_dir), db.roles, now=_now).promote(version)
            except UnknownModelVersion as exc:
                fail(console, str(exc))
        console.print(f"current: {escape(version)} (every process within its check interval)")

    @app.command()
    def shadow(version: Annotated[str | None, typer.Argument(help="The candidate version to score in shadow.")] = None,
               stop: Annotated[bool, typer.Option("--stop", help="End the shadow.")] = False,
               report: Annotated[bool, typer.Option("--report", help="Compare the shadow with the current model on "
                                                    "the decisions it scored (VERSION: an earlier shadow).")] = False,
               as_json: Annotated[bool, typer.Option("--json", help="The report as JSON.")] = False,
               model_dir: ModelDir = DEFAULT_MODEL_DIR, database_url: DatabaseUrl = None) -> None:
        """Score live decisions with VERSION too, without letting it decide; --stop ends it; --report compares."""
        console = Console()
        if sum((version is not None and not report, stop, report)) != 1:
            fail(console, "give VERSION, --stop or --report [VERSION]", 2)
        with _guard(console), opened(database_url, console) as db:
            ops = ModelOperations(ModelStore(model_dir), db.roles, now=_now)
            if stop:
                ops.stop_shadow()
                console.print("shadow stopped")
                return
            if not report:
                try:
                    ops.start_shadow(version)  # type: ignore[arg-type] - checked above
                except (UnknownModelVersion, NotACandidate) as exc:
                    fail(console, str(exc))
                console.print(f"shadow: {escape(str(version))} (every process within its check interval)")
                return
            served = ops.served()
            target = version or served.shadow
            if target is None:
                fail(console, "no shadow is running: name the version to report on (entrygate risk shadow --report V)")
            _print_report(console, db, target, served.current, as_json=as_json)

    @app.command()
    def backtest(candidate: Annotated[str, typer.Option("--candidate", help="A model version, or LOW, MEDIUM or HIGH "
                                                        "(that tolerance at every store, with the current model).")],
                 since: Annotated[datetime | None, typer.Option("--since", help="Replay entries from then on (UTC).")
                                  ] = None,
                 plot: Annotated[Path | None, typer.Option("--plot", help="Where to write the plot "
                                                           "(default ./backtest-<CANDIDATE>.png).")] = None,
                 as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
                 model_dir: ModelDir = DEFAULT_MODEL_DIR, database_url: DatabaseUrl = None) -> None:
        """Replay recorded decisions with a payment outcome under the current configuration and the candidate."""
        from entrygate.domain.channels import RiskTolerance
        from entrygate.risk.backtest import Candidate, amount_text, run_backtest
        from entrygate.risk.backtest_plot import PlottingUnavailable, plot_backtest

        console = Console(stderr=as_json)
        store = ModelStore(model_dir)
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        with _guard(console), opened(database_url, console) as db:
            served = ModelOperations(store, db.roles, now=_now).served()
            if candidate.upper() in TOLERANCES:
                chosen = Candidate(candidate.upper(), tolerance=RiskTolerance(candidate.upper()))
            elif store.has(candidate):
                chosen = Candidate(candidate, model=store.load(candidate))
            else:
                fail(console, f"unknown candidate {candidate!r}: not LOW, MEDIUM or HIGH, and no such model version "
                              f"(known: {', '.join(store.versions())})")
            if served.current is None:
                fail(console, "no current model")
            current = store.load(served.current)
            with console.status("replaying recorded decisions"):
                entries = db.backtest_entries(since=since)
            result = run_backtest(entries, current=current, candidate=chosen,
                                  since=since.isoformat() if since else None)
            path = plot or Path(f"backtest-{chosen.label}.png")
            png = None
            try:
                png = plot_backtest(result, path)
            except PlottingUnavailable as exc:
                console.print(f"[yellow]{escape(str(exc))}[/yellow]")
            figures = {**result.figures(), "plot": str(path) if png else None}
            db.add_backtest(candidate=chosen.label, figures=figures, plot_png=png, at=_now())
        if as_json:
            typer.echo(json.dumps(figures, sort_keys=True))
            return
        console.print(f"current {escape(result.current_version)} against candidate {escape(result.candidate)}: "
                      f"{result.entries:,} entries with a payment outcome, {result.losses:,} of them a loss")
        typer.echo(f"flips: {result.open_to_deny} open→deny, {result.deny_to_open} deny→open")
        typer.echo(f"unpaid avoided: {amount_text(result.unpaid_avoided)}")
        typer.echo(f"good shoppers turned away: {result.good_turned_away}")
        if png:
            typer.echo(f"plot: {path}")


def _print_report(console: Console, db: RiskRecords, version: str, current: str | None, *, as_json: bool) -> None:
    from entrygate.risk.shadow_report import shadow_report

    report = shadow_report(version, db.shadow_pairs(version))
    if as_json:
        typer.echo(json.dumps(report.figures(), sort_keys=True))
        return
    console.print(f"shadow {escape(version)} beside current {escape(str(current))}: "
                  f"{report.decisions:,} decisions scored by both")
    typer.echo(f"agreement: {report.agreement:.1%} on the risk level")
    typer.echo(f"flips: {report.open_to_deny} open→deny, {report.deny_to_open} deny→open")
    table = Table(title="score distributions")
    for column in ("", "LOW", "MEDIUM", "HIGH", "p50", "p90", "p99"):
        table.add_column(column, justify="right")
    for side in ("current", "shadow"):
        levels, q = report.levels[side], report.quantiles[side]
        table.add_row(side, *(f"{levels.get(k, 0):,}" for k in ("LOW", "MEDIUM", "HIGH")),
                      *(str(q[k]) for k in ("p50", "p90", "p99")))
    table.caption = f"mean score difference (shadow - current): {report.mean_difference:+.2f}"
    console.print(table)


class _guard:
    """A storage failure becomes a one-line message and exit 1, not a traceback."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:  # noqa: ANN001
        if isinstance(exc, RiskRecordsUnavailable):
            self.console.print(f"[red]cannot use the platform database: {escape(str(exc))} "
                               "(does it exist? `entrygate db upgrade` creates its tables)[/red]")
            raise typer.Exit(1) from exc
        return False


def _fmt(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, (int, float)) else "-"
