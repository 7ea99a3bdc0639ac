import pytest
from typer.testing import CliRunner

from entrygate.risk import cli
from entrygate.risk.cli import make_app
from entrygate.risk.sources import TrainingData
from entrygate.risk.store import current_version, list_versions, load_model, model_path

runner = CliRunner()


def test_train_on_simulated_history_then_evaluate_with_plots(tmp_path, monkeypatch):
    from entrygate.risk import evaluate

    plotted = []
    monkeypatch.setattr(evaluate, "plot_report", lambda report, out: plotted.append(out) or [])  # drawn elsewhere
    models, plots = tmp_path / "models", tmp_path / "plots"
    result = runner.invoke(cli.app, ["train", "--simulated", "800", "--seed", "2", "--model-dir", str(models)])
    assert result.exit_code == 0, result.output
    version = current_version(models)  # standalone: the directory's pointer file records the promotion
    assert version and "ROC AUC" in result.output and result.stdout.strip().splitlines()[-1] == f"version: {version}"
    result = runner.invoke(cli.app, ["evaluate", "--simulated", "400", "--model-dir", str(models),
                                     "--plots", str(plots)])
    assert result.exit_code == 0, result.output
    assert version in result.output and plotted == [plots]


def test_train_reads_the_wired_source(history, tmp_path):
    calls = []

    def source() -> TrainingData:
        calls.append(1)
        return TrainingData(history.X, history.y, history.losses, groups=history.instruments)

    app = make_app(training_source=source)
    result = runner.invoke(app, ["train", "--model-dir", str(tmp_path), "--no-promote", "--calibration", "sigmoid"])
    assert result.exit_code == 0, result.output
    assert calls == [1] and "simulated" not in result.output
    versions = list_versions(tmp_path)
    assert len(versions) == 1 and current_version(tmp_path) is None
    assert load_model(model_path(tmp_path, versions[0])).calibrator.kind == "sigmoid"


def test_without_a_source_it_says_it_falls_back_to_simulation(tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "DEFAULT_SIMULATED", 600)
    result = runner.invoke(cli.app, ["train", "--model-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "no recorded-decision source" in result.output


def test_evaluate_without_a_model_uses_the_bundled_one(tmp_path):
    result = runner.invoke(cli.app, ["evaluate", "--simulated", "300", "--model-dir", str(tmp_path / "none")])
    assert result.exit_code == 0, result.output
    assert "bundled model" in result.output


def test_a_plain_tuple_source_is_accepted(history, tmp_path):
    app = make_app(training_source=lambda: (history.X, history.y, history.losses))
    result = runner.invoke(app, ["evaluate", "--model-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "reading recorded decisions" in result.output


@pytest.mark.parametrize("args", [["train", "--simulated", "5"], ["nonsense"]])
def test_bad_arguments_are_refused(args):
    assert runner.invoke(cli.app, args).exit_code != 0


def test_train_against_the_platform_database_promotes_there_unless_told_not_to(db_url, tmp_path):
    from entrygate.adapters.db.engine import make_engine
    from entrygate.adapters.db.risk_models import SqlModelRoles
    from entrygate.cli.main import app as entrygate_cli

    models = tmp_path / "models"
    args = ["risk", "train", "--simulated", "300", "--database-url", db_url, "--model-dir", str(models)]
    kept = runner.invoke(entrygate_cli, [*args, "--no-promote"])
    assert kept.exit_code == 0, kept.output
    saved = kept.stdout.strip().splitlines()[-1].removeprefix("version: ")
    engine = make_engine(db_url, pool_size=1)
    try:
        roles = SqlModelRoles(engine)
        assert saved in list_versions(models) and roles.read().current is None
        promoted = runner.invoke(entrygate_cli, args)
        assert promoted.exit_code == 0, promoted.output
        version = promoted.stdout.strip().splitlines()[-1].removeprefix("version: ")
        assert roles.read().current == version and current_version(models) is None
    finally:
        engine.dispose()
