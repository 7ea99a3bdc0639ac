"""Migration 0003 on both databases: it upgrades a database that already holds open trips, and goes back."""
from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect, text

from entrygate.adapters.db.engine import alembic_config, current_revision, upgrade

TRIP = ("INSERT INTO shopping_trips (trip_id, store_id, entry_gate_id, channel, visitor_id, party_size, status, "
        "entered_at, currency{extra}) VALUES (:id, 's1', 'lane-1', 'QR_CODE', 'v1', 1, 'OPEN', :at, 'USD'{value})")


def test_upgrade_keeps_existing_open_trips_and_downgrade_removes_the_rule(db_url):
    command.downgrade(alembic_config(db_url), "0002_console")
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:  # two open trips of one visitor, from before the rule
            conn.execute(text("INSERT INTO retailers (retailer_id, name, key_id, secret_hash, created_at) "
                              "VALUES ('r1', 'R', 'k1', 'h', :at)"), {"at": "2026-11-27"})
            conn.execute(text("INSERT INTO stores VALUES ('s1', 'r1', 'S', '{}', :at, :at)"), {"at": "2026-11-27"})
            for trip_id in ("t1", "t2"):
                conn.execute(text(TRIP.format(extra="", value="")), {"id": trip_id, "at": "2026-11-27"})
        upgrade(db_url, "0003_passback")
        assert current_revision(db_url) == "0003_passback"
        columns = {c["name"] for c in inspect(engine).get_columns("shopping_trips")}
        assert "passback_key" in columns
        assert "preauth_id" in {c["name"] for c in inspect(engine).get_columns("decisions")}
        with engine.begin() as conn:
            keys = conn.execute(text("SELECT passback_key FROM shopping_trips ORDER BY trip_id")).scalars().all()
            assert keys == [None, None]
            keyed = TRIP.format(extra=", passback_key", value=", 'v1'")
            conn.execute(text(keyed), {"id": "t3", "at": "2026-11-27"})
        with engine.connect() as conn:
            try:
                conn.execute(text(keyed), {"id": "t4", "at": "2026-11-27"})
            except Exception as exc:  # noqa: BLE001 - the driver's integrity error
                assert "unique" in str(exc).lower()
            else:
                raise AssertionError("a second open trip with the same key was stored")
            conn.rollback()
        command.downgrade(alembic_config(db_url), "0002_console")
        assert "passback_key" not in {c["name"] for c in inspect(engine).get_columns("shopping_trips")}
        upgrade(db_url)
    finally:
        engine.dispose()
