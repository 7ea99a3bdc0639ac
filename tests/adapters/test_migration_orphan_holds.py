"""Migration 0006: a denied tap's hold is noted released on its decision, on both databases."""
from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect

from entrygate.adapters.db.engine import alembic_config, upgrade


def _decisions(engine) -> tuple[set[str], set[str]]:  # noqa: ANN001
    inspector = inspect(engine)
    return ({c["name"] for c in inspector.get_columns("decisions")},
            {i["name"] for i in inspector.get_indexes("decisions")})


def test_upgrade_adds_the_release_note_and_its_index_and_downgrade_takes_them_away(db_url):
    engine = create_engine(db_url)
    try:
        columns, indexes = _decisions(engine)
        assert "preauth_released_at" in columns and "ix_decisions_orphan_holds" in indexes
        command.downgrade(alembic_config(db_url), "0005_holds")
        columns, indexes = _decisions(engine)
        assert "preauth_released_at" not in columns and "ix_decisions_orphan_holds" not in indexes
        assert {"preauth_id", "decided_at"} <= columns and "ix_decisions_store_time" in indexes
        upgrade(db_url)
        columns, indexes = _decisions(engine)
        assert "preauth_released_at" in columns and "ix_decisions_orphan_holds" in indexes
    finally:
        engine.dispose()
