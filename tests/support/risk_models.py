"""Model versions for the model-operation tests: the bundled model, and a candidate that denies everyone."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

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


MODEL_ADMIN = "model-admin@example.com"  # named in ENTRYGATE_MODEL_ADMIN_EMAILS of the server below


@dataclass
class ModelPlatform:
    """A real server with its own database and model store (the bundled model and the always-high one)."""

    platform: object  # support.server.Platform
    models: Path
    candidate: str
    roles: object  # adapters.db.risk_models.SqlModelRoles on the server's database


@pytest.fixture(scope="session")
def model_platform(backend, tmp_path_factory):
    """One per backend, shared by the e2e and console tests of model operations; the roles are platform-wide,
    so it has a database of its own. Each test leaves the bundled model current and no shadow."""
    from entrygate.adapters.db.engine import make_engine
    from entrygate.adapters.db.risk_models import SqlModelRoles
    from support.databases import drop_database, fresh_database
    from support.server import Platform, operator_token, start_server, stop_server

    tmp = tmp_path_factory.mktemp(f"risk-models-{backend}")
    models = tmp / "models"
    candidate = save_always_high(models)
    url = fresh_database(backend, tmp, name="models")
    # A 1 s check keeps the tests short; the default (5 s) and the ceiling (10 s) are the settings' own.
    base, proc = start_server(url, env={"ENTRYGATE_MODEL_DIR": str(models), "ENTRYGATE_MODEL_CHECK_S": "1",
                                        "ENTRYGATE_MODEL_ADMIN_EMAILS": f"someone@example.com, {MODEL_ADMIN.upper()}"})
    platform = Platform(base, operator_token(url), url, proc)
    engine = make_engine(url, pool_size=1)
    yield ModelPlatform(platform, models, candidate, SqlModelRoles(engine))
    engine.dispose()
    platform.http.close()
    stop_server(proc)
    drop_database(url)
