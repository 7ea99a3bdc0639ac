"""``entrygate risk train`` and ``entrygate risk evaluate`` (DESIGN 7); the model operations
(``versions``, ``promote``, ``shadow``, ``backtest``, DESIGN 14) are in ``cli_ops.py``.

Where the labelled entries come from, the first that applies:

1. ``--simulated N``: a simulated history of N payment instruments (``simulate.py``);
2. a ``training_source`` given to ``make_app``: a callable returning ``TrainingData`` (embedding, tests);
3. a ``database_source`` given to ``make_app``: the recorded decisions and feedback of the platform
   database at ``--database-url`` (``entrygate`` wires ``adapters/db/training.py``). When it holds
   too little labelled history (``NotEnoughHistory``), the command says so and trains on the
   simulated history instead;
4. otherwise the simulated history, and the command says so.

Models go to ``--model-dir`` (``ENTRYGATE_MODEL_DIR``, the model store the platform serves from;
default ``./models``): a new versioned file, which ``train`` then promotes (``--no-promote``: not)
by recording it as current in the platform database (``records``, wired by ``entrygate``); it
prints ``version: <VERSION>`` last. Run standalone (no database) with ``python -m
entrygate.risk.cli``: there the directory's ``current`` pointer file records the promotion.
"""
from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from entrygate.risk.cli_ops import register as register_operations
from entrygate.risk.model_store import DEFAULT_MODEL_DIR, ModelStore
from entrygate.risk.operations import ModelOperations, RiskRecordsFactory, RiskRecordsUnavailable, UnknownModelVersion
from entrygate.risk.sources import DatabaseSource, NotEnoughHistory, TrainingData, TrainingSource, TrainingSourceError

DEFAULT_SIMULATED = 20_000
DEFAULT_EVALUATION_SIMULATED = 8_000
EVALUATION_SEED_OFFSET = 1_000  # why: evaluate on a population the model was not trained on


class Calibration(str, Enum):
    isotonic = "isotonic"
    sigmoid = "sigmoid"


ModelDir = Annotated[Path, typer.Option(
    "--model-dir", envvar="ENTRYGATE_MODEL_DIR", show_envvar=True,
    help="Directory of versioned model files and the current pointer (the one the platform serves from).")]
DatabaseUrl = Annotated[str | None, typer.Option(
    "--database-url", envvar="ENTRYGATE_DATABASE_URL", show_envvar=True,
    help="Platform database to read recorded decisions and feedback from (default sqlite:///./entrygate.db).")]
Simulated = Annotated[int | None, typer.Option("--simulated", min=100,
                                               help="Use a simulated history of N payment instruments.")]
Seed = Annotated[int, typer.Option("--seed", help="Seed of the simulation and the training split.")]


def _progress(console: Console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=False)


def _simulated(n: int, seed: int, console: Console) -> TrainingData:
    from entrygate.risk.simulate import simulate_history

    with _progress(console) as progress:
        task = progress.add_task(f"simulating {n:,} instruments", total=n)
        history = simulate_history(n, seed=seed, progress=lambda k: progress.advance(task, k))
    console.print(f"simulated history: {len(history):,} entries, {int(history.y.sum()):,} ended in a loss")
    return TrainingData(history.X, history.y, history.losses, groups=history.instruments,
                        trip_values=history.trip_values,
                        provenance={"source": "simulated", "instruments": n, "seed": seed,
                                    "rows": len(history), "losses": int(history.y.sum())})


def _recorded(source: DatabaseSource, database_url: str | None, since: datetime | None,
              console: Console) -> TrainingData:
    with _progress(console) as progress:
        task = progress.add_task("replaying recorded decisions", total=None)
        data = TrainingData(*source(database_url, since=since,
                                    progress=lambda done, total: progress.update(task, completed=done, total=total)))
    info = data.provenance or {}
    console.print(f"recorded history in {escape(str(info.get('database', 'the database')))}: "
                  f"{len(data.y):,} labelled entries, {int(np.sum(data.y)):,} ended in a loss "
                  f"({info.get('unreported', 0):,} trips without a payment report left out)")
    return data


def metrics_table(summary: dict, *, title: str) -> Table:
    """A rich table of an evaluation summary: one column per store tolerance."""
    table = Table(title=title)
    table.add_column("at the model's thresholds")
    tolerances = summary["tolerances"]
    for name in tolerances:
        table.add_column(f"{name} tolerance", justify="right")
    rows = (("adjust from probability", "adjust_at", "{:.3f}"), ("deny from probability", "deny_at", "{:.3f}"),
            ("precision of denials", "precision", "{:.2f}"), ("bad entries denied", "recall", "{:.2f}"),
            ("bad entries denied or adjusted", "adjust_recall", "{:.2f}"),
            ("good shoppers denied", "denied_good", "{:,}"), ("good shoppers adjusted", "adjusted_good", "{:,}"),
            ("loss avoided", "loss_avoided", "{:,.0f}"), ("margin lost", "lost_margin", "{:,.0f}"))
    for label, key, fmt in rows:
        table.add_row(label, *(fmt.format(t[key]) for t in tolerances.values()))
    table.caption = (f"{summary['rows']:,} entries, base rate {summary['base_rate']:.3f}, "
                     f"ROC AUC {summary['roc_auc']:.3f}, PR AUC {summary['pr_auc']:.3f}, "
                     f"Brier {summary['brier']:.4f} (base rate alone {summary['brier_base_rate']:.4f}), "
                     f"total loss {summary['total_loss']:,.0f}")
    return table


def make_app(*, training_source: TrainingSource | None = None,
             database_source: DatabaseSource | None = None,
             records: RiskRecordsFactory | None = None) -> typer.Typer:
    """The ``risk`` sub-app; ``database_source`` reads labelled entries from the platform database,
    ``records`` opens the platform database's model roles, shadow scores and backtests."""
    app = typer.Typer(name="risk", help="Train, evaluate, promote, shadow and backtest the risk model.",
                      no_args_is_help=True)
    register_operations(app, records)

    def served_current(store: ModelStore, database_url: str | None, console: Console) -> str | None:
        """The version the platform serves: the database's record, else the store's default."""
        if records is None:
            return store.default_version()
        try:
            with records(database_url) as db:
                return ModelOperations(store, db.roles, now=lambda: datetime.now(UTC)).served().current
        except RiskRecordsUnavailable as exc:
            console.print(f"[yellow]cannot read the current version from the database ({escape(str(exc))}); "
                          "using the model store's default[/yellow]")
            return store.default_version()

    def labelled(*, simulated: int | None, default_simulated: int, seed: int, database_url: str | None,
                 since: datetime | None, console: Console) -> TrainingData:
        if simulated is not None:
            return _simulated(simulated, seed, console)
        try:
            if training_source is not None:
                console.print("reading recorded decisions and feedback")
                return TrainingData(*training_source())
            if database_source is not None:
                return _recorded(database_source, database_url, since, console)
        except NotEnoughHistory as exc:
            console.print(f"[yellow]not enough labelled history: {escape(str(exc))}.\nUsing the simulated "
                          f"history of {default_simulated:,} instruments instead (docs/risk-model.md; choose "
                          "its size with --simulated N).[/yellow]")
            return _simulated(default_simulated, seed, console)
        except TrainingSourceError as exc:
            console.print(f"[red]{escape(str(exc))}[/red]")
            raise typer.Exit(1) from exc
        console.print("[yellow]no recorded-decision source is wired into this command; using a simulated "
                      f"history of {default_simulated:,} instruments (run it as `entrygate risk` to read the "
                      "database; choose the size with --simulated N)[/yellow]")
        return _simulated(default_simulated, seed, console)

    @app.command()
    def train(model_dir: ModelDir = DEFAULT_MODEL_DIR, database_url: DatabaseUrl = None,
              simulated: Simulated = None, seed: Seed = 0,
              calibration: Annotated[Calibration, typer.Option(help="Margin-to-probability map.")
                                     ] = Calibration.isotonic,
              promote: Annotated[bool, typer.Option(help="Point 'current' at the new version.")] = True,
              ) -> None:
        """Train a model from recorded decisions and feedback (or a simulated history)."""
        from entrygate.risk.train import MAX_ROUNDS, save_model
        from entrygate.risk.train import train as train_model

        console = Console()
        data = labelled(simulated=simulated, default_simulated=DEFAULT_SIMULATED, seed=seed,
                        database_url=database_url, since=None, console=console)
        rounds = [0]

        def advance(i: int, total: int) -> None:
            rounds[0] = i
            progress.update(task, completed=i)

        with _progress(console) as progress:
            task = progress.add_task("boosting rounds (early stopping)", total=MAX_ROUNDS)
            model = train_model(data.X, data.y, losses=data.losses, groups=data.groups, seed=seed,
                                calibration=calibration.value, progress=advance)
            progress.update(task, total=rounds[0], completed=rounds[0])  # stopped early: the bar ends full
        model.metadata["training_data"] = data.provenance or {"source": "wired", "rows": int(len(data.y))}
        # Standalone (no platform database) the directory's pointer file is the record of what is current.
        path = save_model(model, model_dir, make_current=promote and records is None)
        version = str(model.version)
        console.print(metrics_table(model.metadata["metrics"], title=f"held-out test split, {version}"))
        failed = None
        if promote and records is not None:
            try:
                with records(database_url) as db:
                    ModelOperations(ModelStore(model_dir), db.roles, now=lambda: datetime.now(UTC)).promote(version)
            except (RiskRecordsUnavailable, UnknownModelVersion) as exc:
                failed = exc
        state = "saved, not current" if not promote or failed else "now current in every process within 10 s"
        console.print(f"{model.metadata['trees']} trees; wrote [bold]{escape(str(path))}[/bold] ({state})")
        if failed is not None:
            console.print(f"[red]not promoted: {escape(str(failed))}; `entrygate risk promote {version}` "
                          "makes it current[/red]")
        typer.echo(f"version: {version}")
        if failed is not None:
            raise typer.Exit(1)

    @app.command()
    def evaluate(model_dir: ModelDir = DEFAULT_MODEL_DIR, database_url: DatabaseUrl = None,
                 simulated: Simulated = None, seed: Seed = 0,
                 since: Annotated[datetime | None, typer.Option(
                     "--since", help="Evaluate on the recorded entries from then on (UTC).")] = None,
                 plots: Annotated[Path | None, typer.Option("--plots", help="Write PNG plots here.")] = None,
                 ) -> None:
        """Report the current model's quality on labelled entries; optionally write plots."""
        from entrygate.risk.evaluate import evaluate as evaluate_model
        from entrygate.risk.evaluate import plot_report
        from entrygate.risk.store import ModelNotFound

        console = Console()
        store = ModelStore(model_dir)
        version = served_current(store, database_url, console)
        if version is not None and version == store.bundled_version:
            console.print(f"[yellow]no trained model is current for {escape(str(model_dir))}; "
                          "evaluating the bundled model[/yellow]")
        try:
            if version is None:
                raise ModelNotFound(f"no risk model in {model_dir} and none bundled")
            model = store.load(version)
        except ModelNotFound as exc:
            console.print(f"[red]{escape(str(exc))}[/red]")
            raise typer.Exit(1) from exc
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        data = labelled(simulated=simulated, default_simulated=DEFAULT_EVALUATION_SIMULATED,
                        seed=seed + EVALUATION_SEED_OFFSET, database_url=database_url, since=since,
                        console=console)
        trained_on = model.metadata.get("training_data") or {}
        if (since is None and (data.provenance or {}).get("source") == "database"
                and trained_on.get("source") == "database"):
            console.print(f"[yellow]this model was trained on recorded entries up to {trained_on.get('last_entry')}: "
                          "those are in-sample here (its held-out figures are in its metadata); --since "
                          "evaluates on later entries only[/yellow]")
        with console.status("scoring"):
            report = evaluate_model(model, data.X, data.y, data.losses, trip_values=data.trip_values)
        console.print(metrics_table(report.summary(), title=f"risk model {model.version}"))
        if plots is not None:
            try:
                written = plot_report(report, plots)
            except ImportError:
                console.print("[yellow]plots need matplotlib: pip install 'entrygate[plots]'[/yellow]")
                written = []
            for path in written:
                console.print(f"wrote {escape(str(path))}")

    return app


app = make_app()

if __name__ == "__main__":
    app()
