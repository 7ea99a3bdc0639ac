"""The model loader: every process serves the version the model directory's ``current`` names.

``entrygate risk train`` writes a new version and moves the pointer last; each process notices
within ``check_every_s`` and swaps the new scorer in between two requests. With no directory
configured, the model shipped with entrygate serves.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from entrygate.risk.scorer import RiskScorer

log = structlog.get_logger("entrygate.risk")


class ModelProvider:
    def __init__(self, directory: Path | None = None, *, check_every_s: float = 5.0) -> None:
        self._directory = Path(directory) if directory else None
        self._check_every = check_every_s
        self._lock = threading.Lock()
        self._pointer = ""
        self._scorer: RiskScorer | None = None  # loaded on first use: CLI commands that never score skip it
        self._checked = 0.0

    @property
    def directory(self) -> Path:
        if self._directory is None:
            from entrygate.risk.scorer import default_model_dir  # LightGBM loads only when scoring

            self._directory = default_model_dir()
        return self._directory

    def _read_pointer(self) -> str:
        try:
            return (self.directory / "current").read_text().strip()
        except OSError:
            return ""

    def _load(self) -> RiskScorer:
        from entrygate.risk.scorer import RiskScorer

        scorer = RiskScorer.from_directory(self.directory)
        log.info("risk_model_loaded", version=scorer.version, directory=str(self.directory))
        return scorer

    def __call__(self) -> RiskScorer:
        now = time.monotonic()
        if self._scorer is not None and now - self._checked < self._check_every:
            return self._scorer
        with self._lock:
            if self._scorer is None:
                self._pointer, self._scorer, self._checked = self._read_pointer(), self._load(), now
                return self._scorer
            if now - self._checked >= self._check_every:
                self._checked = now
                pointer = self._read_pointer()
                if pointer and pointer != self._pointer:
                    try:
                        self._scorer, self._pointer = self._load(), pointer
                    except Exception as exc:  # noqa: BLE001 - keep serving the model we have
                        log.error("risk_model_reload_failed", version=pointer, error=str(exc))
        return self._scorer

    @property
    def version(self) -> str | None:
        return self().version
