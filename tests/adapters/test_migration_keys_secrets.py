"""Migration 0007: the keys that existed move to gate_keys and retailer_keys and keep working;
each rotatable purpose starts at its derived key; palm templates are under palm-0. Both databases."""
from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import create_engine, inspect, text

from entrygate.adapters.db.engine import alembic_config, make_engine, upgrade
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.domain.keys import KeyKind, new_key
from entrygate.services.auth import Authenticator


def _columns(engine, table: str) -> set[str]:  # noqa: ANN001
    return {c["name"] for c in inspect(engine).get_columns(table)}


def test_keys_from_before_the_migration_are_moved_with_their_hashes(db_url):
    engine = create_engine(db_url)
    retailer_key, gate_key = new_key(KeyKind.RETAILER), new_key(KeyKind.GATE)
    now = datetime(2026, 11, 1, tzinfo=UTC).replace(tzinfo=None) if "sqlite" in db_url else datetime(2026, 11, 1, tzinfo=UTC)
    try:
        command.downgrade(alembic_config(db_url), "0006_orphan_holds")
        assert {"key_id", "secret_hash"} <= _columns(engine, "gates")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO retailers (retailer_id, name, key_id, secret_hash, created_at) "
                              "VALUES ('ret_a', 'A', :k, :h, :t)"), {"k": retailer_key.key_id,
                                                                    "h": retailer_key.secret_hash, "t": now})
            conn.execute(text("INSERT INTO stores (store_id, retailer_id, name, config, created_at, updated_at) "
                              "VALUES ('s1', 'ret_a', 'S', '{}', :t, :t)"), {"t": now})
            conn.execute(text("INSERT INTO gates (gate_pk, gate_id, store_id, direction, enabled, key_id, secret_hash, "
                              "created_at) VALUES ('gpk_a', 'lane-1', 's1', 'ENTRY', true, :k, :h, :t)"),
                         {"k": gate_key.key_id, "h": gate_key.secret_hash, "t": now})
        upgrade(db_url)
        assert not {"key_id", "secret_hash"} & _columns(engine, "gates")
        assert not {"key_id", "secret_hash"} & _columns(engine, "retailers")
        assert "template_key_id" in _columns(engine, "palm_enrollments")
        with engine.connect() as conn:
            gate_rows = conn.execute(text("SELECT key_id, gate_pk, secret_hash, expires_at, revoked_at "
                                          "FROM gate_keys")).all()
            retailer_rows = conn.execute(text("SELECT key_id, retailer_id, name, secret_hash, revoked_at "
                                              "FROM retailer_keys")).all()
            secrets = dict(conn.execute(text("SELECT key_id, purpose FROM secret_keys "
                                             "WHERE retired_at IS NULL AND material IS NULL")).all())
        assert [tuple(r) for r in gate_rows] == [(gate_key.key_id, "gpk_a", gate_key.secret_hash, None, None)]
        assert [tuple(r) for r in retailer_rows] == [(retailer_key.key_id, "ret_a", "initial key",
                                                       retailer_key.secret_hash, None)]
        assert secrets == {"palm-0": "palm", "sessions-0": "sessions", "offline-0": "offline"}
        platform_engine = make_engine(db_url, pool_size=2)
        try:  # the keys handed out before the migration authenticate after it
            auth = Authenticator(SqlUnitOfWorkFactory(platform_engine))
            gate = auth.authenticate(f"Bearer {gate_key.plaintext}", allow={KeyKind.GATE})
            retailer = auth.authenticate(f"Bearer {retailer_key.plaintext}", allow={KeyKind.RETAILER})
            assert (gate.gate_pk, retailer.retailer_id, retailer.key_name) == ("gpk_a", "ret_a", "initial key")
        finally:
            platform_engine.dispose()
        command.downgrade(alembic_config(db_url), "0006_orphan_holds")
        with engine.connect() as conn:
            assert tuple(conn.execute(text("SELECT key_id, secret_hash FROM gates")).one()) == (
                gate_key.key_id, gate_key.secret_hash)
            assert tuple(conn.execute(text("SELECT key_id, secret_hash FROM retailers")).one()) == (
                retailer_key.key_id, retailer_key.secret_hash)
        upgrade(db_url)
    finally:
        engine.dispose()


def test_the_keys_tables_of_tables_py_are_the_ones_the_migration_makes(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from entrygate.adapters.db.tables import metadata

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    finally:
        engine.dispose()
    mine = ("gate_keys", "retailer_keys", "secret_keys", "template_key_id", "key_id", "secret_hash")
    assert [d for d in diffs if any(name in repr(d) for name in mine)] == []
