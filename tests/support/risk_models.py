"""Model versions for the model-operation tests: the bundled model, and a candidate that denies everyone."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from entrygate.risk.model import Calibrator, TrainedModel
from entrygate.risk.model_store import ModelStore
from entrygate.risk.store import load_model, model_path, save_model

ALWAYS_HIGH_PROBABILITY = 0.99


def bundled_version() -> str:
    version = ModelStore().bundled_version
    assert version is not None
    return version


def save_always_high(directory: Path) -> str:
    """Save, without promoting, a version of the bundled trees whose calibration says 0.99 for every entry.

    A real model file through the real store: only its calibrator differs, so its content hash
    (and version) differ, and every entry it scores is HIGH (score 99) under any tolerance.
    """
    global _saved
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if _saved is not None:  # made once per test run; each directory gets a copy of the same files
        version, files = _saved
        for name, data in files.items():
            (directory / name).write_bytes(data)
        return version
    bundled = load_model(model_path(ModelStore().bundled_dir, bundled_version()))
    metadata = {k: v for k, v in bundled.metadata.items() if k not in ("version", "created_at")}
    metadata["training_data"] = {"source": "test: every entry scores 0.99"}
    model = TrainedModel(booster=bundled.booster, metadata=metadata,
                         calibrator=Calibrator("isotonic", x=np.array([-1e6, 1e6]),
                                               y=np.array([ALWAYS_HIGH_PROBABILITY] * 2)))
    path = save_model(model, directory, make_current=False)
    version = path.name[len("risk-model-"):-len(".joblib")]
    _saved = version, {p.name: p.read_bytes() for p in (path, path.with_suffix(".json"))}
    return version


_saved: tuple[str, dict[str, bytes]] | None = None
