"""The model loader: every process serves the version the database records as current, and scores
the recorded shadow beside it (DESIGN 14).

The versions come from one model store (``risk/model_store.py``: ``ENTRYGATE_MODEL_DIR`` and the
bundled model). Which one is current and which is the shadow is read from the database by a
background thread every ``check_every_s`` (``ENTRYGATE_MODEL_CHECK_S``, at most 10 s): one small
query per process per check, never one per decision. A new version is loaded by that thread and
swapped in between two requests, so no gate waits for a model to load; a version that fails to
load is logged and the process keeps serving the model it has (a failing shadow is simply not
scored). With no roles recorded, the store's default serves (its old ``current`` pointer, else the
bundled model), as before the roles existed.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from entrygate.risk.model_store import ModelStore
from entrygate.risk.operations import NO_ROLES, ModelRoles

if TYPE_CHECKING:
    from entrygate.risk.scorer import RiskScorer

log = structlog.get_logger("entrygate.risk")

RolesReader = Callable[[], ModelRoles]


class ModelProvider:
    """The current scorer (``provider()``) and the shadow scorer (``provider.shadow()``) of this process."""

    def __init__(self, store: ModelStore | Path | str | None = None, *, roles: RolesReader | None = None,
                 check_every_s: float = 5.0) -> None:
        self.store = store if isinstance(store, ModelStore) else ModelStore(store)
        self._roles = roles or (lambda: NO_ROLES)
        self._check_every = check_every_s
        self._lock = threading.Lock()  # one refresh at a time
        self._scorer: RiskScorer | None = None  # loaded on first use: CLI commands that never score skip it
        self._shadow: RiskScorer | None = None
        self._failed_shadow: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def directory(self) -> Path:
        return self.store.directory

    def __call__(self) -> RiskScorer:
        scorer = self._scorer
        if scorer is not None:
            return scorer
        with self._lock:
            if self._scorer is None:
                self._refresh_locked(first=True)
                self._start()
            assert self._scorer is not None
            return self._scorer

    def shadow(self) -> RiskScorer | None:
        """The shadow model's scorer, when one is recorded and loaded; never loads on the caller's path."""
        return self._shadow

    @property
    def version(self) -> str | None:
        return self().version

    @property
    def shadow_version(self) -> str | None:
        shadow = self._shadow
        return shadow.version if shadow is not None else None

    def refresh(self) -> None:
        """Read the recorded roles now and load what changed (the background thread does this periodically)."""
        with self._lock:
            self._refresh_locked(first=self._scorer is None)

    def close(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=5)

    # -- the periodic check -----------------------------------------------------------------------

    def _start(self) -> None:
        if self._thread is None and self._check_every > 0:
            self._thread = threading.Thread(target=self._run, name="risk-model-check", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._check_every):
            try:
                self.refresh()
            except Exception as exc:  # noqa: BLE001 - the check must outlive any one failure
                log.error("risk_model_check_failed", error=str(exc))

    def _refresh_locked(self, *, first: bool) -> None:
        try:
            roles = self._roles()
        except Exception as exc:  # noqa: BLE001 - a database outage keeps the models we have
            if not first:
                log.warning("risk_model_roles_unreadable", error=str(exc))
                return
            roles = NO_ROLES
        wanted = roles.current or self.store.default_version()
        if wanted is None:
            raise FileNotFoundError(f"no risk model in {self.store.directory} and none bundled")
        if self._scorer is None or self._scorer.version != wanted:
            try:
                self._scorer = self._load(wanted, role="current")
            except Exception as exc:  # noqa: BLE001 - keep serving; every check tries the recorded version again
                log.error("risk_model_reload_failed", version=wanted, directory=str(self.store.directory),
                          error=str(exc))
                if self._scorer is None:
                    # A process that starts where the recorded version's file is missing (a model
                    # directory not yet synced to this host) serves the store's default rather than
                    # no gate at all, and switches as soon as the file is there.
                    fallback = self.store.default_version()
                    if fallback is None or fallback == wanted:
                        raise
                    self._scorer = self._load(fallback, role="current")
        self._refresh_shadow(roles.shadow)

    def _refresh_shadow(self, wanted: str | None) -> None:
        if wanted is None:
            if self._shadow is not None:
                log.info("risk_shadow_stopped", version=self._shadow.version)
            self._shadow, self._failed_shadow = None, None
            return
        if self._shadow is not None and self._shadow.version == wanted:
            return
        if self._failed_shadow == wanted:
            return  # logged once; a fixed file is picked up when the shadow is started again
        try:
            self._shadow = self._load(wanted, role="shadow")
            self._failed_shadow = None
        except Exception as exc:  # noqa: BLE001 - a failing shadow is skipped, never the decision
            self._shadow, self._failed_shadow = None, wanted
            log.error("risk_shadow_load_failed", version=wanted, error=str(exc))

    def _load(self, version: str, *, role: str) -> RiskScorer:
        from entrygate.risk.scorer import RiskScorer  # LightGBM loads only when scoring

        scorer = RiskScorer(self.store.load(version))
        log.info("risk_model_loaded", role=role, version=scorer.version, directory=str(self.store.directory))
        return scorer
