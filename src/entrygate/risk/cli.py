"""``entrygate risk train`` and ``entrygate risk evaluate`` (DESIGN 7).

``make_app(training_source=...)`` builds the sub-app; the composition root passes a
``TrainingSource`` that reads recorded decisions and feedback from the database. Without one (or
with ``--simulated N``) the commands use the simulated history (``simulate.py``) and say so.
Run standalone with ``python -m entrygate.risk.cli``.
"""
from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, NamedTuple, Protocol

import numpy as np
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

DEFAULT_MODEL_DIR = Path("models/risk")
DEFAULT_SIMULATED = 20_000
DEFAULT_EVALUATION_SIMULATED = 8_000
EVALUATION_SEED_OFFSET = 1_000  # why: evaluate on a population the model was not trained on


class Calibration(str, Enum):
    isotonic = "isotonic"
    sigmoid = "sigmoid"


class TrainingData(NamedTuple):
    """Labelled entries: feature rows, 1 = ended in a loss, the uncollected amount of each.

    ``groups`` (the instrument of each row) keeps one card's entries on one side of every split;
    ``trip_values`` (each basket) prices the good shoppers a threshold would turn away.
    """

    X: np.ndarray
    y: np.ndarray
    losses: np.ndarray
    groups: np.ndarray | None = None
    trip_values: np.ndarray | None = None


class TrainingSource(Protocol):
    """Where labelled entries come from (the database, wired by the composition root)."""

    def __call__(self) -> TrainingData: ...


ModelDir = Annotated[Path, typer.Option("--model-dir", envvar="ENTRYGATE_RISK_MODEL_DIR",
                                        help="Directory of versioned model files and the current pointer.")]
Simulated = Annotated[int | None, typer.Option("--simulated", min=100,
                                               help="Use a simulated history of N payment instruments.")]
Seed = Annotated[int, typer.Option("--seed", help="Seed of the simulation and the training split.")]


def _progress(console: Console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=False)


def _simulated(n: int, seed: int, console: Console):
    from entrygate.risk.simulate import simulate_history

    with _progress(console) as progress:
        task = progress.add_task(f"simulating {n:,} instruments", total=n)
        history = simulate_history(n, seed=seed, progress=lambda k: progress.advance(task, k))
    console.print(f"simulated history: {len(history):,} entries, {int(history.y.sum()):,} ended in a loss")
    return history


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


def make_app(*, training_source: TrainingSource | None = None) -> typer.Typer:
    """The ``risk`` sub-app; ``training_source`` reads labelled entries from the database."""
    app = typer.Typer(name="risk", help="Train and evaluate the risk model.", no_args_is_help=True)

    @app.command()
    def train(model_dir: ModelDir = DEFAULT_MODEL_DIR, simulated: Simulated = None, seed: Seed = 0,
              calibration: Annotated[Calibration, typer.Option(help="Margin-to-probability map.")
                                     ] = Calibration.isotonic,
              promote: Annotated[bool, typer.Option(help="Point 'current' at the new version.")] = True,
              ) -> None:
        """Train a model from recorded decisions and feedback (or a simulated history)."""
        from entrygate.risk.train import MAX_ROUNDS, save_model
        from entrygate.risk.train import train as train_model

        console = Console()
        groups = None
        if simulated is None and training_source is not None:
            console.print("reading recorded decisions and feedback")
            data = TrainingData(*training_source())
            X, y, losses, groups = data.X, data.y, data.losses, data.groups
        else:
            if simulated is None:
                console.print("[yellow]no recorded-decision source is wired into this command; training on "
                              f"a simulated history of {DEFAULT_SIMULATED:,} instruments "
                              "(choose the size with --simulated N)[/yellow]")
            history = _simulated(simulated or DEFAULT_SIMULATED, seed, console)
            X, y, losses, groups = history.X, history.y, history.losses, history.instruments
        rounds = [0]

        def advance(i: int, total: int) -> None:
            rounds[0] = i
            progress.update(task, completed=i)

        with _progress(console) as progress:
            task = progress.add_task("boosting rounds (early stopping)", total=MAX_ROUNDS)
            model = train_model(X, y, losses=losses, groups=groups, seed=seed,
                                calibration=calibration.value, progress=advance)
            progress.update(task, total=rounds[0], completed=rounds[0])  # stopped early: the bar ends full
        path = save_model(model, model_dir, make_current=promote)
        console.print(metrics_table(model.metadata["metrics"], title=f"held-out test split, {model.version}"))
        state = "now current" if promote else "saved, not current"
        console.print(f"{model.metadata['trees']} trees; wrote [bold]{path}[/bold] ({state})")

    @app.command()
    def evaluate(model_dir: ModelDir = DEFAULT_MODEL_DIR, simulated: Simulated = None, seed: Seed = 0,
                 plots: Annotated[Path | None, typer.Option("--plots", help="Write PNG plots here.")] = None,
                 ) -> None:
        """Report the current model's quality on labelled entries; optionally write plots."""
        from entrygate.risk.evaluate import evaluate as evaluate_model
        from entrygate.risk.evaluate import plot_report
        from entrygate.risk.scorer import default_model_dir
        from entrygate.risk.store import ModelNotFound, current_version, load_current

        console = Console()
        directory = model_dir
        if current_version(directory) is None:
            directory = default_model_dir()
            console.print(f"[yellow]no current model in {model_dir}; evaluating the bundled model[/yellow]")
        try:
            model = load_current(directory)
        except ModelNotFound as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from exc
        trip_values = None
        if simulated is None and training_source is not None:
            console.print("reading recorded decisions and feedback")
            data = TrainingData(*training_source())
            X, y, losses, trip_values = data.X, data.y, data.losses, data.trip_values
        else:
            if simulated is None:
                console.print("[yellow]no recorded-decision source is wired into this command; evaluating "
                              f"on a fresh simulated history of {DEFAULT_EVALUATION_SIMULATED:,} instruments[/yellow]")
            history = _simulated(simulated or DEFAULT_EVALUATION_SIMULATED, seed + EVALUATION_SEED_OFFSET, console)
            X, y, losses, trip_values = history.X, history.y, history.losses, history.trip_values
        with console.status("scoring"):
            report = evaluate_model(model, X, y, losses, trip_values=trip_values)
        console.print(metrics_table(report.summary(), title=f"risk model {model.version}"))
        if plots is not None:
            for path in plot_report(report, plots):
                console.print(f"wrote {path}")

    return app


app = make_app()

if __name__ == "__main__":
    app()
