"""The one model store the platform and ``entrygate risk`` share: the versions a process may serve.

A store is a directory (``ENTRYGATE_MODEL_DIR``, default ``./models``) of versioned model files
(``store.py`` writes them) plus the model shipped with entrygate, which is always its first
version: a fresh install can score, promote and shadow before anyone trains, and the directory
may not exist yet. Which version is current, and which one is the shadow, is recorded in the
platform database (``risk/operations.py``), not here; the directory's old ``current`` pointer
file is read only when the database has recorded nothing yet (a store trained before that).
"""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from entrygate.risk.model import TrainedModel
from entrygate.risk.store import POINTER, ModelNotFound, list_versions, load_model, model_path

BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"
_LOADED: dict[tuple[str, int, int], TrainedModel] = {}  # (file, mtime, size) -> model
_LOADED_LOCK = threading.Lock()
DEFAULT_MODEL_DIR = Path("models")


class ModelStore:
    """The versions in ``directory`` and the bundled one; loads and describes them by version."""

    def __init__(self, directory: Path | str | None = None, *, bundled: Path | str = BUNDLED_DIR) -> None:
        self.directory = Path(directory) if directory is not None else DEFAULT_MODEL_DIR
        self.bundled_dir = Path(bundled)

    @property
    def bundled_version(self) -> str | None:
        """The version shipped with entrygate (the store's first)."""
        versions = list_versions(self.bundled_dir)
        return versions[0] if versions else None

    def versions(self) -> list[str]:
        """Every version, the bundled one first, then the directory's oldest first."""
        bundled = list_versions(self.bundled_dir)
        own = list_versions(self.directory) if self.directory.is_dir() else []
        return [*bundled, *(v for v in own if v not in bundled)]

    def has(self, version: str) -> bool:
        """True when ``version`` has a model file here."""
        return self._path(version) is not None

    def load(self, version: str) -> TrainedModel:
        """The model of ``version``; raises ``ModelNotFound`` for a version the store does not hold.

        A file once loaded is kept for the process (versions are immutable: a new model is a new
        file), so the console, a backtest and a shadow read each version once; treat it as read-only.
        """
        path = self._path(version)
        if path is None:
            raise ModelNotFound(f"no risk model {version!r} in {self.directory} (nor bundled)")
        stat = path.stat()
        key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
        with _LOADED_LOCK:
            model = _LOADED.get(key)
        if model is None:
            model = load_model(path)
            with _LOADED_LOCK:
                _LOADED[key] = model
        return model

    def metadata(self, version: str) -> dict[str, Any]:
        """The version's metadata from its ``.json`` (cheap: no booster is loaded); {} when unreadable."""
        path = self._path(version)
        if path is None:
            return {}
        try:
            return json.loads(path.with_suffix(".json").read_text())
        except (OSError, ValueError):
            return {}

    def default_version(self) -> str | None:
        """The version served while the database records none: the directory's old pointer, else the bundled."""
        try:
            pointer = (self.directory / POINTER).read_text().strip()
        except OSError:
            pointer = ""
        if pointer and self.has(pointer):
            return pointer
        return self.bundled_version

    def _path(self, version: str) -> Path | None:
        if not version or "/" in version or "\\" in version or version.startswith("."):
            return None
        for directory in (self.directory, self.bundled_dir):
            path = model_path(directory, version)
            if path.is_file():
                return path
        return None


__all__ = ["BUNDLED_DIR", "DEFAULT_MODEL_DIR", "ModelNotFound", "ModelStore"]
