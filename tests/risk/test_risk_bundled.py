from entrygate.domain.channels import RiskTolerance
from entrygate.domain.money import Money
from entrygate.risk.evaluate import evaluate
from entrygate.risk.features import FEATURE_NAMES
from entrygate.risk.scorer import RiskScorer, default_model_dir
from entrygate.risk.store import current_version, load_current, model_path


def test_a_fresh_install_can_score(make_features):
    scorer = RiskScorer.bundled()
    assert scorer.version == current_version(default_model_dir())
    estimate = scorer.score(make_features())
    assert 0 <= estimate.score <= 100 and estimate.model_version == scorer.version
    rec = scorer.recommend(make_features(), tolerance=RiskTolerance.MEDIUM,
                           authorized_amount=Money.of("25.00", "USD"))
    assert rec.shopper_authorized


def test_bundled_model_is_small_and_evaluated(holdout):
    directory = default_model_dir()
    path = model_path(directory, current_version(directory))
    assert path.stat().st_size < 400_000
    model = load_current(directory)
    assert model.feature_names == FEATURE_NAMES
    assert model.thresholds.source == "model"
    assert 0.85 < model.metadata["metrics"]["roc_auc"] < 0.99
    assert evaluate(model, holdout.X, holdout.y).roc_auc > 0.85
