"""Migration 0008: console users get a role (the ones that exist become ADMIN) and the audit log its table."""
from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import create_engine, inspect, text

from entrygate.adapters.db.engine import alembic_config, upgrade

AT = datetime(2026, 11, 27, 18, 0, tzinfo=UTC).replace(tzinfo=None)


def test_existing_users_become_admins_and_downgrade_takes_it_all_away(db_url):
    engine = create_engine(db_url)
    try:
        command.downgrade(alembic_config(db_url), "0007_keys_secrets")
        assert "audit_entries" not in inspect(engine).get_table_names()
        assert "role" not in {c["name"] for c in inspect(engine).get_columns("retailer_users")}
        with engine.begin() as conn:
            # At 0007 a retailer's keys live in retailer_keys, not on its row.
            conn.execute(text("INSERT INTO retailers (retailer_id, name, created_at) VALUES ('ret_m', 'R', :at)"),
                         {"at": AT})
            conn.execute(text("INSERT INTO retailer_users (user_id, retailer_id, email, password_hash, created_at) "
                              "VALUES ('usr_m', 'ret_m', 'old@example.com', 'plain:x', :at)"), {"at": AT})
        upgrade(db_url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT role FROM retailer_users WHERE user_id = 'usr_m'")).scalar_one() == "ADMIN"
        indexes = {i["name"] for i in inspect(engine).get_indexes("audit_entries")}
        assert indexes == {"ix_audit_entries_at", "ix_audit_entries_retailer_at", "ix_audit_entries_store_at"}
    finally:
        engine.dispose()
