"""Versioned risk model files in a directory, and the ``current`` pointer every process reads.

A directory holds, per version ``v<UTC timestamp>-<short hash>``:

- ``risk-model-<version>.joblib``: the booster as LightGBM's text model, the calibrator's
  arrays and the metadata; plain strings, arrays and dicts, no pickled classes, so a file
  outlives library upgrades;
- ``risk-model-<version>.json``: the metadata alone, for people and dashboards;

and one ``current`` file naming the version in service. Files are written to a temporary name
and renamed (``os.replace`` is atomic on POSIX and Windows), model first, pointer last, so a
reader never sees a half-written model or a pointer to a missing one (DESIGN 8: stateless
processes share versioned model files).

joblib files are pickles: load models only from directories you control.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import lightgbm as lgb
import numpy as np

from entrygate.risk.features import FEATURE_NAMES
from entrygate.risk.model import Calibrator, TrainedModel


class RiskModelError(Exception):
    """Base of the model store's errors."""


class ModelNotFound(RiskModelError):
    """No model file, or no ``current`` pointer, where one was expected."""


class IncompatibleModel(RiskModelError):
    """The file is not a risk model this code can score with (format or feature names differ)."""


FORMAT = 1
POINTER = "current"
PREFIX = "risk-model-"
_VERSION = re.compile(r"^v\d{8}T\d{6}Z-[0-9a-f]{8}$")


def model_hash(model: TrainedModel) -> str:
    """A short content hash of the booster and calibrator: the version's suffix."""
    digest = hashlib.sha256(model.model_string().encode())
    for key, value in sorted(model.calibrator.as_dict().items()):
        data = value.encode() if isinstance(value, str) else np.asarray(value, dtype=np.float64).tobytes()
        digest.update(key.encode() + data)
    return digest.hexdigest()[:8]


def new_version(model: TrainedModel, *, now: datetime | None = None) -> str:
    """``v<UTC timestamp>-<short hash>``: sorts by time, and names the content."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"v{stamp}-{model_hash(model)}"


def model_path(directory: Path | str, version: str) -> Path:
    """Where the model file of ``version`` lives in ``directory``."""
    return Path(directory) / f"{PREFIX}{version}.joblib"


def save_model(model: TrainedModel, directory: Path | str, *, make_current: bool = True,
               now: datetime | None = None) -> Path:
    """Write ``model`` as a new version in ``directory``; point ``current`` at it unless told not to."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    version = model.version if model.version and _VERSION.match(model.version) else new_version(model, now=now)
    model.metadata["version"] = version
    model.metadata.setdefault("created_at", (now or datetime.now(UTC)).astimezone(UTC).isoformat())
    payload = {"format": FORMAT, "version": version, "feature_names": list(model.feature_names),
               "booster": model.model_string(), "calibrator": model.calibrator.as_dict(),
               "metadata": model.metadata}
    path = model_path(directory, version)
    _atomic_write(path, lambda f: joblib.dump(payload, f, compress=("zlib", 6)))
    meta = {"version": version, "file": path.name, "feature_names": list(model.feature_names),
            **{k: v for k, v in model.metadata.items() if k != "version"}}
    text = json.dumps(meta, indent=2, sort_keys=True, default=_json_default) + "\n"
    _atomic_write(path.with_suffix(".json"), lambda f: f.write(text.encode()))
    if make_current:
        set_current(directory, version)
    return path


def set_current(directory: Path | str, version: str) -> None:
    """Point ``current`` at ``version`` (which must exist), atomically."""
    if not model_path(directory, version).is_file():
        raise ModelNotFound(f"no model file for {version} in {directory}")
    _atomic_write(Path(directory) / POINTER, lambda f: f.write(f"{version}\n".encode()))


def current_version(directory: Path | str) -> str | None:
    """The version ``current`` names, or None when there is no pointer."""
    try:
        text = (Path(directory) / POINTER).read_text().strip()
    except FileNotFoundError:
        return None
    return text or None


def list_versions(directory: Path | str) -> list[str]:
    """Every version with a model file in ``directory``, oldest first."""
    names = (p.name[len(PREFIX):-len(".joblib")] for p in Path(directory).glob(f"{PREFIX}*.joblib"))
    return sorted(v for v in names if _VERSION.match(v))


def load_current(directory: Path | str) -> TrainedModel:
    """The model the ``current`` pointer of ``directory`` names."""
    version = current_version(directory)
    if version is None:
        raise ModelNotFound(f"no current risk model in {directory}")
    return load_model(model_path(directory, version))


def load_model(path: Path | str) -> TrainedModel:
    """Load one model file and check it fits this code's features."""
    path = Path(path)
    if not path.is_file():
        raise ModelNotFound(f"no risk model file at {path}")
    payload: Any = joblib.load(path)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise IncompatibleModel(f"{path.name}: not a format-{FORMAT} risk model file")
    names = tuple(payload["feature_names"])
    if names != FEATURE_NAMES:
        raise IncompatibleModel(f"{path.name}: trained on other features than this code computes")
    metadata = dict(payload["metadata"])
    metadata["version"] = payload["version"]
    return TrainedModel(booster=lgb.Booster(model_str=payload["booster"]),
                        calibrator=Calibrator.from_dict(payload["calibrator"]),
                        metadata=metadata, feature_names=names)


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; every entrygate process must read models
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # not possible on every platform (Windows); the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")
