"""Risk model operations in the platform database: the roles, the shadow's scores, the backtests.

``SqlModelRoles`` records which model version is current and which is the shadow (one row per
role, written by an upsert; promoting the shadow's own version ends the shadow in the same
transaction, by a conditional UPDATE). Every process reads both rows every few seconds
(``adapters/risk_model.py``). ``SqlRiskRecords`` reads the shadowed decisions for the shadow
report, the recorded entries with a payment outcome for the backtest (the training replay of
``training.py``, with each store's tolerance and amount), and keeps each backtest's figures and
plot for the console. Each method is its own short transaction; none takes part in a decision.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, and_, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from entrygate.adapters.db import tables as t
from entrygate.adapters.db.audit import SqlAudit
from entrygate.adapters.db.faults import EngineStore
from entrygate.adapters.db.mapping import store_from_json
from entrygate.adapters.db.training import replay_entries
from entrygate.domain.audit import AuditEntry
from entrygate.domain.risk_policy import HardFacts
from entrygate.risk.backtest import BacktestEntry
from entrygate.risk.features import to_vector
from entrygate.risk.operations import ModelRoles
from entrygate.risk.shadow_report import ShadowPair
from entrygate.services.ports.risk_models import BacktestRun

CURRENT, SHADOW = "current", "shadow"
MAX_SHADOW_PAIRS = 200_000  # the report reads the newest this many shadowed decisions


class _Store(EngineStore):
    what = "risk model storage"


class SqlModelRoles(_Store):
    """The ``ModelRoleStore`` of ``risk/operations.py`` on the platform database."""

    def read(self) -> ModelRoles:
        c = t.risk_model_roles.c
        with self._tx(write=False) as conn:
            rows = {r.role: r for r in conn.execute(select(c.role, c.version, c.changed_at))}
        current, shadow = rows.get(CURRENT), rows.get(SHADOW)
        return ModelRoles(current=current.version if current else None, shadow=shadow.version if shadow else None,
                          current_since=current.changed_at if current else None,
                          shadow_since=shadow.changed_at if shadow and shadow.version else None)

    def set_current(self, version: str, *, at: datetime, audit: AuditEntry | None = None) -> None:
        c = t.risk_model_roles.c
        with self._tx(write=True) as conn:
            self._upsert(conn, CURRENT, version, at)
            if audit is not None:
                SqlAudit(conn).add(audit)
            # A promoted candidate is no candidate any more: its shadow ends with the promotion.
            conn.execute(update(t.risk_model_roles).where(and_(c.role == SHADOW, c.version == version))
                         .values(version=None, changed_at=at))

    def set_shadow(self, version: str | None, *, at: datetime, audit: AuditEntry | None = None) -> None:
        with self._tx(write=True) as conn:
            self._upsert(conn, SHADOW, version, at)
            if audit is not None:
                SqlAudit(conn).add(audit)

    @staticmethod
    def _upsert(conn: Connection, role: str, version: str | None, at: datetime) -> None:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(t.risk_model_roles).values(role=role, version=version, changed_at=at)
        conn.execute(stmt.on_conflict_do_update(index_elements=["role"],
                                                set_={"version": version, "changed_at": at}))


class SqlRiskRecords(_Store):
    """What the shadow report, the backtest and the console's model page read and keep."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.roles = SqlModelRoles(engine)

    def shadow_pairs(self, version: str, *, limit: int = MAX_SHADOW_PAIRS) -> list[ShadowPair]:
        """The newest ``limit`` decisions the shadow ``version`` scored, with the scores that decided them."""
        d = t.decisions.c
        stmt = (select(d.risk_score, d.risk_level, d.shadow_score, d.shadow_level)
                .where(d.shadow_model_version == version, d.risk_score.is_not(None))
                .order_by(d.decision_id.desc()).limit(limit))
        with self._tx(write=False) as conn:
            rows = conn.execute(stmt).all()
        return [ShadowPair(r.risk_score, r.risk_level, r.shadow_score, r.shadow_level) for r in reversed(rows)]

    def backtest_entries(self, *, since: datetime | None = None) -> list[BacktestEntry]:
        """The admitted card and palm entries whose payment outcome is known, from ``since`` on."""
        with self._tx(write=False) as conn:
            s = t.stores.c
            stores = {row.store_id: store_from_json(row.store_id, row.retailer_id, row.name, row.config)
                      for row in conn.execute(select(s.store_id, s.retailer_id, s.name, s.config))}
            out = []
            for entry in replay_entries(conn):
                if entry.outcome is None or entry.features is None or entry.trip_id is None:
                    continue
                if since is not None and entry.decided_at < since:
                    continue
                store = stores.get(entry.store_id)
                if store is None:
                    continue  # a store since deleted: its tolerance and amount are unknown
                out.append(BacktestEntry(
                    decision_id=entry.decision_id, store_id=entry.store_id,
                    # The store's configuration now: the backtest asks what today's settings would do.
                    tolerance=store.risk_tolerance, authorized_amount=store.authorized_amount,
                    features=to_vector(entry.features),
                    facts=HardFacts(outstanding_balance=Decimal(str(entry.history.outstanding_balance)),
                                    fraud_label=entry.history.fraud_labels > 0),
                    loss=entry.outcome.loss,
                    uncollected=Decimal(str(round(entry.outcome.uncollected, 4))) if entry.outcome.loss else Decimal(0)))
        return out

    def add_backtest(self, *, candidate: str, figures: dict[str, Any], plot_png: bytes | None, at: datetime) -> None:
        with self._tx(write=True) as conn:
            conn.execute(insert(t.risk_backtests).values(ran_at=at, candidate=candidate, figures=figures,
                                                         plot_png=plot_png))

    def latest_backtest(self) -> BacktestRun | None:
        b = t.risk_backtests.c
        stmt = (select(b.backtest_id, b.ran_at, b.candidate, b.figures, b.plot_png.is_not(None).label("has_plot"))
                .order_by(b.backtest_id.desc()).limit(1))
        with self._tx(write=False) as conn:
            row = conn.execute(stmt).first()
        return BacktestRun(row.backtest_id, row.ran_at, row.candidate, dict(row.figures), bool(row.has_plot)) if row else None

    def latest_plot(self) -> bytes | None:
        b = t.risk_backtests.c
        with self._tx(write=False) as conn:
            return conn.execute(select(b.plot_png).order_by(b.backtest_id.desc()).limit(1)).scalar()
