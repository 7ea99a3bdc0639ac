import json
import re
import stat
from dataclasses import replace
from datetime import UTC, datetime

import joblib
import numpy as np
import pytest

from entrygate.risk.store import (
    IncompatibleModel,
    ModelNotFound,
    current_version,
    list_versions,
    load_current,
    load_model,
    model_path,
    save_model,
    set_current,
)


def unsaved(model):
    """A copy of the session's model that has no version yet (saving one gives it a version)."""
    return replace(model, metadata={k: v for k, v in model.metadata.items() if k != "version"})


def test_save_and_load_round_trip(model, holdout, tmp_path):
    model = unsaved(model)
    path = save_model(model, tmp_path)
    version = current_version(tmp_path)
    assert re.fullmatch(r"v\d{8}T\d{6}Z-[0-9a-f]{8}", version)
    assert path == model_path(tmp_path, version) and path.name == f"risk-model-{version}.joblib"
    loaded = load_current(tmp_path)
    assert loaded.version == version
    np.testing.assert_array_equal(loaded.predict_proba(holdout.X[:500]), model.predict_proba(holdout.X[:500]))
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["version"] == version and meta["feature_names"] == list(model.feature_names)
    assert meta["thresholds"]["MEDIUM"]["denyAt"] == model.thresholds.medium.deny_at
    assert "roc_auc" in meta["metrics"] and meta["training_size"] > 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_current_pointer_moves_only_when_asked(model, tmp_path):
    first = save_model(unsaved(model), tmp_path, now=datetime(2026, 1, 1, tzinfo=UTC))
    second = save_model(unsaved(model), tmp_path, make_current=False, now=datetime(2026, 2, 1, tzinfo=UTC))
    versions = list_versions(tmp_path)
    assert [model_path(tmp_path, v) for v in versions] == [first, second]
    assert current_version(tmp_path) == versions[0]
    set_current(tmp_path, versions[1])
    assert (tmp_path / "current").read_text() == f"{versions[1]}\n"
    assert load_current(tmp_path).version == versions[1]


def test_missing_models_are_reported(tmp_path):
    with pytest.raises(ModelNotFound):
        load_current(tmp_path)
    with pytest.raises(ModelNotFound):
        set_current(tmp_path, "v20260101T000000Z-deadbeef")
    with pytest.raises(ModelNotFound):
        load_model(tmp_path / "nope.joblib")


def test_a_model_of_other_features_is_refused(model, tmp_path):
    path = save_model(unsaved(model), tmp_path)
    payload = joblib.load(path)
    payload["feature_names"] = payload["feature_names"][:-1] + ["something_new"]
    joblib.dump(payload, path)
    with pytest.raises(IncompatibleModel):
        load_model(path)
    joblib.dump({"format": 99}, path)
    with pytest.raises(IncompatibleModel):
        load_model(path)
