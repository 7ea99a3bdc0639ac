"""Migration 0004 on both databases: decisions and exits stored with their answers keep answering the same.

Rows are written as revision 0003 wrote them, answer copy included. After the upgrade the copy
is gone and the answer rendered from the facts is byte for byte the one stored; going back
restores the copies from the facts.
"""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import command
from sqlalchemy import create_engine, inspect

from entrygate.adapters.db import tables as t
from entrygate.adapters.db.engine import alembic_config, current_revision, make_engine, upgrade
from entrygate.adapters.db.uow import SqlUnitOfWorkFactory
from entrygate.domain.decision import ExitOutcome, GateDecision
from entrygate.domain.reasons import ReasonCode
from entrygate.wire.decisions import decision_answer, exit_answer

AT = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
_TYPES = {'party_size': sa.Integer, 'risk_score': sa.Integer, 'authorized_amount': t.Amount,
          'latency_ms': sa.Numeric(10, 3, asdecimal=False), 'event_time': t.UTCDateTime,
          'decided_at': t.UTCDateTime, 'reasons': sa.JSON, 'response': sa.JSON}


def _table(name: str, *columns: str) -> sa.TableClause:
    """The table as revision 0003 had it, with the column types its rows need."""
    return sa.table(name, *(sa.column(c, _TYPES.get(c, sa.String)) for c in columns))


DECISIONS = _table('decisions', 'gate_pk', 'gate_id', 'store_id', 'event_id', 'request_hash', 'channel', 'outcome',
                   'reasons', 'decided_by', 'visitor_id', 'visitor_type', 'instrument_id', 'trip_id', 'party_size',
                   'risk_score', 'risk_level', 'authorized_amount', 'currency', 'latency_ms', 'response',
                   'event_time', 'decided_at')
EXITS = _table('exits', 'gate_pk', 'event_id', 'request_hash', 'trip_id', 'response', 'decided_at')


def decision(event_id: str, **over: Any) -> dict[str, Any]:
    row = dict(gate_pk='gpk_1', gate_id='lane-1', store_id='s1', event_id=event_id, request_hash='h',
               channel='CREDIT_CARD', outcome='OPEN', reasons=[], decided_by='PLATFORM', visitor_id=None,
               visitor_type=None, instrument_id=None, trip_id=None, party_size=1, risk_score=None, risk_level=None,
               authorized_amount=None, currency=None, latency_ms=1.0, event_time=AT, decided_at=AT)
    row.update(over)
    amount = row['authorized_amount']
    row['response'] = {  # the answer as revision 0003's entry service built and stored it
        "eventId": event_id, "decision": row['outcome'], "shoppingTripId": row['trip_id'],
        "visitor": {"id": row['visitor_id'], "type": row['visitor_type']} if row['visitor_id'] else None,
        "reasons": [{"code": c, "message": ReasonCode(c).message} for c in row['reasons']],
        "risk": {"score": row['risk_score'], "level": row['risk_level']} if row['risk_score'] is not None else None,
        "authorizedAmount": {"value": float(amount), "currencyCode": row['currency']} if amount else None,
        "decidedBy": row['decided_by'], "latencyMs": row['latency_ms'], "partySize": row['party_size']}
    return row


def exit_row(event_id: str, trip_id: str | None, result: str, message: str) -> dict[str, Any]:
    return dict(gate_pk='gpk_x', event_id=event_id, request_hash='h', trip_id=trip_id, decided_at=AT,
                response={"eventId": event_id, "shoppingTripId": trip_id, "result": result, "message": message,
                          "tripStatus": "CLOSED" if trip_id else None})


STORED = [
    decision('e-adjusted', outcome='OPEN', reasons=['PREAUTH_ADJUSTED'], visitor_id='pi_1', visitor_type='SHOPPER',
             instrument_id='pi_1', trip_id='t1', party_size=2, risk_score=41, risk_level='MEDIUM',
             authorized_amount=Decimal('50.00'), currency='USD', latency_ms=3.217),
    decision('e-fallback', channel='QR_CODE', outcome='DENY', reasons=['CONNECTOR_UNAVAILABLE', 'FALLBACK_APPLIED'],
             decided_by='FALLBACK', latency_ms=12.5),
    decision('e-associate', channel='BADGE', decided_by='RETAILER', visitor_id='v-bob', visitor_type='ASSOCIATE',
             latency_ms=0.917),
    decision('e-yen', visitor_id='pi_2', visitor_type='SHOPPER', instrument_id='pi_2', trip_id='t2',
             authorized_amount=Decimal('500'), currency='JPY', latency_ms=2.0),
]
EXITS_STORED = [exit_row('x-1', 't1', 'CLOSED', "The trip is closed."),
                exit_row('x-2', 't1', 'ALREADY_CLOSED', "The trip was already closed; nothing changed."),
                exit_row('x-3', None, 'NO_OPEN_TRIP', "This credential has no open trip at this store.")]


def _columns(engine: sa.Engine, table: str) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns(table)}


def test_answers_stored_before_are_rendered_the_same_from_the_facts_and_restored_going_back(db_url):
    command.downgrade(alembic_config(db_url), "0003_passback")
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO retailers (retailer_id, name, key_id, secret_hash, created_at) "
                                 "VALUES ('r1', 'R', 'k1', 'h', :at)"), {"at": AT})
            conn.execute(sa.text("INSERT INTO stores VALUES ('s1', 'r1', 'S', '{}', :at, :at)"), {"at": AT})
            for pk, gate_id, direction in (('gpk_1', 'lane-1', 'ENTRY'), ('gpk_x', 'exit-1', 'EXIT')):
                conn.execute(sa.text("INSERT INTO gates (gate_pk, gate_id, store_id, direction, enabled, key_id, "
                                     "secret_hash, created_at) VALUES (:pk, :g, 's1', :d, true, :pk, 'h', :at)"),
                             {"pk": pk, "g": gate_id, "d": direction, "at": AT})
            conn.execute(DECISIONS.insert(), STORED)
            conn.execute(EXITS.insert(), EXITS_STORED)

        upgrade(db_url, "0004_decision_facts")
        assert current_revision(db_url) == "0004_decision_facts"
        assert "response" not in _columns(engine, "decisions")
        assert "response" not in _columns(engine, "exits") and "result" in _columns(engine, "exits")
        upgrade(db_url)
        sql = make_engine(db_url)
        try:
            uow = SqlUnitOfWorkFactory(sql)
            with uow() as u:
                for row in STORED:
                    record = u.decisions.get_by_event('gpk_1', row['event_id'])
                    assert orjson.dumps(decision_answer(GateDecision.of(record))) == orjson.dumps(row['response'])
                for row in EXITS_STORED:
                    record = u.exits.get_by_event('gpk_x', row['event_id'])
                    assert orjson.dumps(exit_answer(ExitOutcome.of(record))) == orjson.dumps(row['response'])
        finally:
            sql.dispose()

        command.downgrade(alembic_config(db_url), "0003_passback")
        assert "result" not in _columns(engine, "exits")
        with engine.connect() as conn:
            restored = dict(conn.execute(sa.select(DECISIONS.c.event_id, DECISIONS.c.response)).all())
            assert restored == {row['event_id']: row['response'] for row in STORED}
            restored = dict(conn.execute(sa.select(EXITS.c.event_id, EXITS.c.response)).all())
            assert restored == {row['event_id']: row['response'] for row in EXITS_STORED}
        upgrade(db_url)
    finally:
        engine.dispose()
