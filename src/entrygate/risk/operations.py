"""Which model version is current and which is the shadow: the one place that changes either.

The roles live in the platform database (``adapters/db/risk_models.py``), so every process, on
any host, sees a change at its next periodic check (``adapters/risk_model.py``, every few
seconds), without a query per decision. ``ModelOperations`` is what the CLI (``entrygate risk
promote`` / ``shadow``) and the console's model page call: it refuses a version the model store
does not hold before anything is written, so an unknown version changes nothing.
"""
from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from entrygate.domain.audit import Actor, ActorType, AuditEntry, Target
from entrygate.risk.model_store import ModelStore

# Who changed the model when the change came from a command on the platform's host, not a signed-in user.
LOCAL_COMMAND = Actor(ActorType.OPERATOR, "cli", "entrygate risk (command line)")


class UnknownModelVersion(LookupError):
    """A version the model store holds no file for."""


class NotACandidate(ValueError):
    """A shadow of the version that is already current: it would compare the model with itself."""


class RiskRecordsUnavailable(RuntimeError):
    """The platform database could not be read or written (missing, unreachable, not migrated)."""


@dataclass(frozen=True, slots=True)
class ModelRoles:
    """The versions recorded as current and as shadow (None: nothing recorded / no shadow)."""

    current: str | None = None
    shadow: str | None = None
    current_since: datetime | None = None
    shadow_since: datetime | None = None


NO_ROLES = ModelRoles()


class ModelRoleStore(Protocol):
    """Where the roles are recorded (the platform database)."""

    def read(self) -> ModelRoles:
        """The roles as recorded now."""
        ...

    def set_current(self, version: str, *, at: datetime, audit: AuditEntry | None = None) -> None:
        """Record ``version`` as current; a shadow of that same version ends (it is no candidate any more).
        ``audit`` is written in the same transaction (DESIGN 15)."""
        ...

    def set_shadow(self, version: str | None, *, at: datetime, audit: AuditEntry | None = None) -> None:
        """Record ``version`` as the shadow; None ends the shadow."""
        ...


@dataclass(frozen=True, slots=True)
class ServedVersions:
    """What every process serves: the recorded roles resolved against the store."""

    current: str | None
    shadow: str | None
    recorded: ModelRoles


class ModelOperations:
    """Promote a version, start or stop a shadow: checked against the store, recorded in the database."""

    def __init__(self, store: ModelStore, roles: ModelRoleStore, *, now: Callable[[], datetime]) -> None:
        self.store = store
        self.roles = roles
        self._now = now

    def served(self) -> ServedVersions:
        """The current version (the recorded one, else the store's default) and the shadow."""
        recorded = self.roles.read()
        return ServedVersions(current=recorded.current or self.store.default_version(), shadow=recorded.shadow,
                              recorded=recorded)

    def promote(self, version: str, *, by: Actor = LOCAL_COMMAND) -> None:
        """Make ``version`` current in every process (within the check interval); ``by`` goes in the audit log."""
        self._require(version)
        served, at = self.served(), self._now()
        after = {"current": version, "shadow": None if served.shadow == version else served.shadow}  # see set_current
        self.roles.set_current(version, at=at, audit=self._entry(by, "riskModel.promoted", at, before=served, after=after))

    def start_shadow(self, version: str, *, by: Actor = LOCAL_COMMAND) -> None:
        """Make every process also score live decisions with ``version``, without letting it decide."""
        self._require(version)
        served, at = self.served(), self._now()
        if version == served.current:
            raise NotACandidate(f"{version} is the current model already: shadow another version")
        self.roles.set_shadow(version, at=at, audit=self._entry(by, "riskModel.shadowStarted", at, before=served,
                                                               after={"shadow": version}))

    def stop_shadow(self, *, by: Actor = LOCAL_COMMAND) -> None:
        """End the shadow; decisions from then on carry no shadow score."""
        served, at = self.served(), self._now()
        self.roles.set_shadow(None, at=at, audit=self._entry(by, "riskModel.shadowStopped", at, before=served,
                                                            after={"shadow": None}))

    @staticmethod
    def _entry(by: Actor, action: str, at: datetime, *, before: ServedVersions, after: dict) -> AuditEntry:
        """A platform-wide change (the model serves every retailer): operators read it in the audit log."""
        was = {"current": before.current, "shadow": before.shadow}
        return AuditEntry(at=at, actor=by, action=action, target=Target("riskModel", "platform"), retailer_id=None,
                          store_id=None, before=was, after={**was, **after})

    def _require(self, version: str) -> None:
        if not self.store.has(version):
            raise UnknownModelVersion(f"no risk model version {version!r} in {self.store.directory} "
                                      f"(known: {', '.join(self.store.versions()) or 'none'})")


class RiskRecords(Protocol):
    """What ``entrygate risk`` reads and keeps in the platform database (``adapters/db/risk_models.py``)."""

    roles: ModelRoleStore

    def shadow_pairs(self, version: str) -> list: ...  # list[shadow_report.ShadowPair]

    def backtest_entries(self, *, since: datetime | None = None) -> list: ...  # list[backtest.BacktestEntry]

    def add_backtest(self, *, candidate: str, figures: dict, plot_png: bytes | None, at: datetime) -> None: ...


# A database URL (None: the configured one) -> a context manager holding the records open.
RiskRecordsFactory = Callable[[str | None], AbstractContextManager[RiskRecords]]
