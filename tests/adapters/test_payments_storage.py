"""Migration 0005 and what the payments storage shares with the gate's trips, on both databases."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text

from entrygate.adapters.db.engine import alembic_config, make_engine, upgrade
from entrygate.adapters.db.payments import SqlPaymentsUnitOfWorkFactory
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.adapters.memory.storage import MemoryStore
from entrygate.domain.channels import TripStatus
from entrygate.domain.records import ApiKeyRecord, Retailer, Trip
from entrygate.domain.trips import ClosedBy, TripPolicy
from entrygate.services.ports.storage import TripAlreadyOpen
from support.factories import NOW, card, store_config

TRIP = ("INSERT INTO shopping_trips (trip_id, store_id, entry_gate_id, channel, visitor_id, party_size, status, "
        "entered_at, currency, exit_gate_id, exited_at) VALUES (:id, :store, 'lane-1', 'CREDIT_CARD', 'v1', 1, "
        ":status, :at, 'USD', :gate, :exited)")


def test_upgrade_backfills_who_closed_trips_and_the_stores_clocks_and_downgrade_goes_back(db_url):
    command.downgrade(alembic_config(db_url), "0004_decision_facts")
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO retailers (retailer_id, name, key_id, secret_hash, created_at) "
                              "VALUES ('r1', 'R', 'k1', 'h', :at)"), {"at": NOW})
            conn.execute(text("INSERT INTO stores VALUES ('s1', 'r1', 'S', :cfg, :at, :at)"),
                         {"cfg": '{"currency": "USD"}', "at": NOW})
            conn.execute(text("INSERT INTO stores VALUES ('s2', 'r1', 'S', :cfg, :at, :at)"),
                         {"cfg": '{"maxTripMinutes": 30}', "at": NOW})
            conn.execute(text(TRIP), {"id": "t1", "store": "s1", "status": "CLOSED", "at": NOW, "gate": "exit-1",
                                      "exited": NOW})
            conn.execute(text(TRIP), {"id": "t2", "store": "s1", "status": "OPEN", "at": NOW, "gate": None,
                                      "exited": None})
        upgrade(db_url, "0005_holds")
        with engine.begin() as conn:
            rows = conn.execute(text("SELECT trip_id, closed_by, passback_violation FROM shopping_trips "
                                     "ORDER BY trip_id")).all()
            assert [(r[0], r[1], bool(r[2])) for r in rows] == [("t1", "EXIT_GATE", False), ("t2", None, False)]
        payments = SqlPaymentsUnitOfWorkFactory(SqlUnitOfWorkFactory(engine))
        with payments() as u:
            assert u.trip_policies.list() == [TripPolicy("s1", 180, 24), TripPolicy("s2", 30, 24)]
            assert u.trips.get_state("t1").closed_by is ClosedBy.EXIT_GATE
        assert {"preauthorizations", "preauthorization_operations"} <= set(inspect(engine).get_table_names())
        command.downgrade(alembic_config(db_url), "0004_decision_facts")
        inspector = inspect(engine)
        assert "preauthorizations" not in inspector.get_table_names()
        columns = {c["name"] for c in inspector.get_columns("shopping_trips")}
        assert columns.isdisjoint({"closed_by", "passback_violation", "hold_settled"})
        assert "uq_trips_open_passback" in {i["name"] for i in inspector.get_indexes("shopping_trips")}
        upgrade(db_url)
        with payments() as u:  # a store's own setting survives the way down and up
            assert u.trip_policies.list() == [TripPolicy("s1", 180, 24), TripPolicy("s2", 30, 24)]
    finally:
        engine.dispose()


@pytest.fixture
def sql(db_url):
    engine = make_engine(db_url)
    units = SqlUnitOfWorkFactory(engine)
    yield units, SqlPaymentsUnitOfWorkFactory(units)
    engine.dispose()


def _seed(units, *, retailers=("r1",), stores=(("s1", "r1"),)) -> None:  # noqa: ANN001
    with units(write=True) as u:
        for rid in retailers:
            u.retailers.add(Retailer(rid, "R", NOW), ApiKeyRecord("k-" + rid, "h", rid))
        for sid, rid in stores:
            u.stores.add(store_config(rid, store_id=sid), at=NOW)
        u.commit()


def _trip(trip_id: str, *, store_id: str = "s1", visitor: str = "v1", **over) -> Trip:  # noqa: ANN003
    return Trip(trip_id=trip_id, store_id=store_id, entry_gate_id="lane-1", channel="CREDIT_CARD", visitor_id=visitor,
                instrument_id=None, party_size=1, status=TripStatus.OPEN, entered_at=NOW, currency="USD", **over)


def test_closing_a_trip_from_the_payments_side_ends_hard_anti_passback(sql):
    units, payments = sql
    _seed(units)
    with units(write=True) as u:
        u.trips.add(_trip("t1", passback_key="v1"))
        u.commit()
    with units(write=True) as u, pytest.raises(TripAlreadyOpen):
        u.trips.add(_trip("t2", passback_key="v1"))
    with payments(write=True) as u:
        assert u.trips.close("t1", at=NOW + timedelta(hours=3), closed_by=ClosedBy.TIMEOUT)
        u.commit()
    with units(write=True) as u:
        u.trips.add(_trip("t3", passback_key="v1"))
        u.commit()
    with units() as u:
        assert u.trips.get("t1").closed_by is ClosedBy.TIMEOUT and u.trips.get("t3").status is TripStatus.OPEN


def test_a_gate_trip_keeps_its_soft_passback_flag_and_an_exit_says_who_closed_it(sql):
    units, payments = sql
    _seed(units)
    with units(write=True) as u:
        u.trips.add(_trip("t1", passback_violation=True))
        u.trips.add(_trip("t2", visitor="v2"))
        assert u.trips.close("t1", at=NOW, gate_id="exit-1")
        u.commit()
    with units() as u:
        t1, t2 = u.trips.get("t1"), u.trips.get("t2")
    assert (t1.passback_violation, t1.closed_by, t1.exit_gate_id) == (True, ClosedBy.EXIT_GATE, "exit-1")
    assert (t2.passback_violation, t2.closed_by) == (False, None)
    with payments() as u:
        assert u.trips.get_state("t1").closed_by is ClosedBy.EXIT_GATE


def _balances(units) -> tuple[dict, dict, dict]:  # noqa: ANN001
    """One card's unpaid trips at two retailers; what each retailer, and a third, sees it owe."""
    _seed(units, retailers=("r1", "r2", "r3"), stores=(("s1", "r1"), ("s2", "r1"), ("s3", "r2")))
    with units(write=True) as u:
        u.instruments.record_seen("inst-1", card(), at=NOW)
        for trip_id, store_id, currency, total in [("t1", "s1", "USD", "18.40"), ("t2", "s2", "USD", "1.60"),
                                                   ("t3", "s2", "USD", "0"), ("t4", "s3", "EUR", "5")]:
            u.trips.add(replace(_trip(trip_id, store_id=store_id, visitor=trip_id), instrument_id="inst-1",
                                currency=currency))
            u.trips.report_payment(trip_id, total=Decimal(total), settled=Decimal(0), status_time=NOW, at=NOW)
        u.commit()
    with units() as u:
        return tuple(u.trips.outstanding_balance("inst-1", retailer_id=r) for r in ("r1", "r2", "r3"))


def test_the_balance_that_denies_entry_is_the_one_owed_to_the_stores_retailer(sql):
    units, _ = sql
    assert _balances(units) == ({"USD": Decimal("20.00")}, {"EUR": Decimal(5)}, {})


def test_the_balance_is_scoped_the_same_way_in_memory():
    assert _balances(MemoryStore()) == ({"USD": Decimal("20.00")}, {"EUR": Decimal(5)}, {})


def test_the_schema_of_tables_py_is_the_one_the_migrations_make(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from entrygate.adapters.db.tables import metadata

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    finally:
        engine.dispose()
    mine = ("preauthorization", "closed_by", "passback_violation", "hold_settled", "unsettled_holds")
    assert [d for d in diffs if any(name in repr(d) for name in mine)] == []


def test_the_release_sweep_reads_the_unsettled_trips_through_their_partial_index(db_url):
    """SQLite takes a partial index only when the query states its predicate as the index does."""
    if not db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's planner picks by table size; SQLite's choice is fixed by the query's form")
    from sqlalchemy import event

    from entrygate.adapters.db.payments import SqlHoldRepository

    engine = make_engine(db_url)
    statements: list[tuple[str, object]] = []
    try:
        with engine.connect() as conn:
            event.listen(conn, "before_cursor_execute", lambda c, cur, stmt, params, ctx, many:
                         statements.append((stmt, params)))
            SqlHoldRepository(conn).list_to_release("s1", closed_before=NOW, now=NOW, limit=10, after="t")
            (stmt, params), = [(s, p) for s, p in statements if s.lstrip().upper().startswith("SELECT")]
            plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + stmt, params))
    finally:
        engine.dispose()
    assert "USING INDEX ix_trips_unsettled_holds" in plan, plan


def test_a_storage_fault_in_a_payments_unit_of_work_is_a_storage_error(sql):
    from entrygate.services.ports.storage import StorageError

    units, payments = sql
    with units.engine.begin() as conn:
        conn.execute(text("DROP TABLE preauthorization_operations"))
    with pytest.raises(StorageError), payments() as u:
        u.holds.get_intent("platform", "k")
    with pytest.raises(StorageError), payments() as u:
        u.commit()  # a reading unit of work cannot commit
    unreachable = SqlPaymentsUnitOfWorkFactory(SqlUnitOfWorkFactory(make_engine("postgresql+psycopg://nobody@127.0.0.1:9/none")))
    with pytest.raises(StorageError), unreachable():
        pass
    unreachable.units.engine.dispose()
