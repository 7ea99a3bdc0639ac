"""The console's model page: the current and shadow versions, their figures, the shadow report and
the latest backtest; promotion and the shadow's start and stop.

A model serves every retailer on the platform, so changing it is the operator's: only console users
named in ``ENTRYGATE_MODEL_ADMIN_EMAILS`` may promote or shadow from the console (everyone else gets
``Forbidden`` and the page without its buttons), and only they see the shadow report and the
backtest, which are figures over every retailer's decisions. The evaluation figures of each version
describe the model, not anyone's data, and every console user sees them. The changes go through
``risk.operations.ModelOperations``, the same calls as ``entrygate risk promote`` / ``shadow``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from entrygate.domain.audit import Actor, ActorType
from entrygate.risk.operations import ModelOperations, NotACandidate, UnknownModelVersion
from entrygate.risk.shadow_report import ShadowReport, shadow_report
from entrygate.services.errors import Forbidden, InvalidRequest
from entrygate.services.ports.risk_models import BacktestRun, ModelRecords


@dataclass(frozen=True, slots=True)
class VersionCard:
    """One model version as the page shows it: its evaluation on held-out data and how it was trained."""

    version: str
    since: datetime | None
    created_at: str | None
    trained_on: str
    rows: int | None
    metrics: dict[str, Any]
    bundled: bool


@dataclass(frozen=True, slots=True)
class ModelPage:
    current: VersionCard
    shadow: VersionCard | None
    versions: list[str]
    may_change: bool
    report: ShadowReport | None  # only for those who may change the models
    backtest: BacktestRun | None


class ModelPageService:
    def __init__(self, operations: ModelOperations, records: ModelRecords, *, admins: frozenset[str]) -> None:
        self._ops = operations
        self._records = records
        self._admins = frozenset(a.strip().lower() for a in admins if a.strip())

    def may_change(self, email: str) -> bool:
        """True for a console user the operator named as a model administrator."""
        return email.strip().lower() in self._admins

    def page(self, email: str) -> ModelPage:
        served = self._ops.served()
        store = self._ops.store
        assert served.current is not None, "the model store always holds the bundled model"
        admin = self.may_change(email)
        shadow = served.shadow
        report = shadow_report(shadow, self._records.shadow_pairs(shadow)) if admin and shadow else None
        return ModelPage(
            current=self._card(served.current, served.recorded.current_since),
            shadow=self._card(shadow, served.recorded.shadow_since) if shadow else None,
            versions=store.versions(), may_change=admin, report=report,
            backtest=self._records.latest_backtest() if admin else None)

    def backtest_plot(self, email: str) -> bytes | None:
        self._require(email)
        return self._records.latest_plot()

    def promote(self, email: str, version: str, *, by: Actor | None = None) -> None:
        self._require(email)
        try:
            self._ops.promote(version, by=by or _console_user(email))
        except UnknownModelVersion as exc:
            raise InvalidRequest(str(exc)) from exc

    def start_shadow(self, email: str, version: str, *, by: Actor | None = None) -> None:
        self._require(email)
        try:
            self._ops.start_shadow(version, by=by or _console_user(email))
        except (UnknownModelVersion, NotACandidate) as exc:
            raise InvalidRequest(str(exc)) from exc

    def stop_shadow(self, email: str, *, by: Actor | None = None) -> None:
        self._require(email)
        self._ops.stop_shadow(by=by or _console_user(email))

    def _require(self, email: str) -> None:
        if not self.may_change(email):
            raise Forbidden("only the platform's model administrators change the risk model")

    def _card(self, version: str, since: datetime | None) -> VersionCard:
        store = self._ops.store
        meta = store.metadata(version)
        trained = meta.get("training_data") or {}
        bundled = version == store.bundled_version
        source = trained.get("source") or ("simulated history (bundled model)" if bundled else "unknown")
        return VersionCard(version=version, since=since, created_at=meta.get("created_at"), trained_on=str(source),
                           rows=trained.get("rows") or meta.get("rows"), metrics=meta.get("metrics") or {},
                           bundled=bundled)


def _console_user(email: str) -> Actor:
    return Actor(ActorType.CONSOLE_USER, email, email)
