"""Migration 0011 on both databases: policy refusals marked, fraud labels become FEEDBACK block items, and the
schema it makes is tables.py's."""
from __future__ import annotations

import json
from datetime import UTC, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from entrygate.adapters.db.engine import alembic_config, upgrade
from entrygate.adapters.db.tables import metadata

AT = datetime(2026, 11, 1, tzinfo=UTC).replace(tzinfo=None)
MINE = ("risk_list_items", "store_rules", "reviews", "model_version", "risk_detail", "policy_denied")


def _seed(conn) -> None:  # noqa: ANN001
    # Keys live in gate_keys and retailer_keys from 0007 on, not on these rows.
    conn.execute(text("INSERT INTO retailers (retailer_id, name, created_at) VALUES ('r1', 'R', :at)"), {"at": AT})
    conn.execute(text("INSERT INTO stores VALUES ('s1', 'r1', 'S', :cfg, :at, :at)"), {"cfg": json.dumps({}), "at": AT})
    conn.execute(text("INSERT INTO gates (gate_pk, gate_id, store_id, direction, enabled, created_at) "
                      "VALUES ('g1', 'lane-1', 's1', 'ENTRY', true, :at)"), {"at": AT})
    for iid, reason in (("ins_fraud", "customer_fraud"), ("ins_stolen", "lost_stolen")):
        conn.execute(text("INSERT INTO payment_instruments VALUES (:iid, 'VISA', '4242', 12, 2030, 'credit', 'US', "
                          "true, :reason, :at, :at)"), {"iid": iid, "reason": reason, "at": AT})
    for _ in range(2):  # two labels of one retailer: one item
        conn.execute(text("INSERT INTO instrument_labels (instrument_id, store_id, trip_id, risk, note, created_at) "
                          "VALUES ('ins_fraud', 's1', 't', 'CustomerFraud', NULL, :at)"), {"at": AT})
    for n, (outcome, reasons) in enumerate([("DENY", ["OUTSTANDING_BALANCE"]), ("DENY", ["PREAUTH_DECLINED"]),
                                            ("OPEN", []), ("DENY", ["ALREADY_INSIDE"])]):
        conn.execute(text(
            "INSERT INTO decisions (gate_pk, gate_id, store_id, event_id, request_hash, channel, outcome, reasons, "
            "decided_by, instrument_id, party_size, latency_ms, event_time, decided_at) VALUES ('g1', 'lane-1', 's1', "
            ":e, 'h', 'CREDIT_CARD', :o, :r, 'PLATFORM', 'ins_x', 1, 1.0, :at, :at)"),
            {"e": f"e{n}", "o": outcome, "r": json.dumps(reasons), "at": AT})


def test_upgrade_marks_policy_refusals_and_turns_fraud_labels_into_feedback_blocks(db_url):
    engine = create_engine(db_url)
    try:
        command.downgrade(alembic_config(db_url), "0010_decision_feed")
        with engine.begin() as conn:
            _seed(conn)
        upgrade(db_url)
        with engine.connect() as conn:
            marked = dict(conn.execute(text("SELECT event_id, policy_denied FROM decisions")).all())
            assert {k: bool(v) for k, v in marked.items()} == {"e0": True, "e1": False, "e2": False, "e3": True}
            items = conn.execute(text("SELECT retailer_id, list_name, item_type, value, source FROM risk_list_items"))
            assert items.all() == [("r1", "BLOCK", "INSTRUMENT", "ins_fraud", "FEEDBACK")]
            blocked = dict(conn.execute(text("SELECT instrument_id, blocked FROM payment_instruments")).all())
            assert {k: bool(v) for k, v in blocked.items()} == {"ins_fraud": False, "ins_stolen": True}
        command.downgrade(alembic_config(db_url), "0010_decision_feed")
        with engine.connect() as conn:
            blocked = dict(conn.execute(text("SELECT instrument_id, blocked FROM payment_instruments")).all())
            assert {k: bool(v) for k, v in blocked.items()} == {"ins_fraud": True, "ins_stolen": True}
        upgrade(db_url)
    finally:
        engine.dispose()


def test_the_schema_of_tables_py_is_the_one_the_migrations_make(db_url):
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    finally:
        engine.dispose()
    assert [d for d in diffs if any(name in repr(d) for name in MINE)] == []
