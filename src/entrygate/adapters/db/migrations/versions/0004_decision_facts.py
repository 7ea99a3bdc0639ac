"""Decisions and exits keep their facts, not a copy of the answer

The gate's answer is rendered from the stored facts, for a first answer and a replay alike, so
``decisions.response`` and ``exits.response`` go. Every fact of a decision's answer already has
its column; an exit's result (``CLOSED``, ``ALREADY_CLOSED``, ``NO_OPEN_TRIP``) did not, so
``exits.result`` is added and filled from the answer each exit stored.

Going back restores both ``response`` columns (nullable) and fills them from the facts, in the
shape this revision's predecessor answered with, so that release replays what it finds.

Revision ID: 0004_decision_facts
Revises: 0003_passback
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from entrygate.domain.reasons import ReasonCode

revision = '0004_decision_facts'
down_revision = '0003_passback'
branch_labels = None
depends_on = None

# The exit answers' sentences as the predecessor wrote them (written out: a migration must not
# change when the code does). Reason sentences come from the one closed set of reasons.
EXIT_MESSAGES = {
    "CLOSED": "The trip is closed.",
    "ALREADY_CLOSED": "The trip was already closed; nothing changed.",
    "NO_OPEN_TRIP": "This credential has no open trip at this store.",
}
# The stored answer's result; an answer without one (none is known) reads as what its trip says.
_STORED_RESULT = {"sqlite": "json_extract(response, '$.result')", "postgresql": "response ->> 'result'"}
_PAGE = 1000

_decisions = sa.table(
    'decisions', sa.column('decision_id', sa.Integer), sa.column('event_id', sa.String),
    sa.column('outcome', sa.String), sa.column('trip_id', sa.String), sa.column('visitor_id', sa.String),
    sa.column('visitor_type', sa.String), sa.column('reasons', sa.JSON), sa.column('risk_score', sa.Integer),
    sa.column('risk_level', sa.String), sa.column('authorized_amount', sa.Numeric(18, 4)),
    sa.column('currency', sa.String), sa.column('decided_by', sa.String),
    sa.column('latency_ms', sa.Numeric(10, 3, asdecimal=False)), sa.column('party_size', sa.Integer),
    sa.column('response', sa.JSON))
_exits = sa.table('exits', sa.column('exit_id', sa.Integer), sa.column('event_id', sa.String),
                  sa.column('trip_id', sa.String), sa.column('result', sa.String), sa.column('response', sa.JSON))


def upgrade() -> None:
    op.add_column('exits', sa.Column('result', sa.String(length=16), nullable=True))
    stored = _STORED_RESULT[op.get_bind().dialect.name]
    op.execute(f"UPDATE exits SET result = COALESCE({stored}, "
               "CASE WHEN trip_id IS NULL THEN 'NO_OPEN_TRIP' ELSE 'CLOSED' END)")
    with op.batch_alter_table('exits') as batch_op:
        batch_op.alter_column('result', existing_type=sa.String(length=16), nullable=False)
        batch_op.drop_column('response')
    with op.batch_alter_table('decisions') as batch_op:
        batch_op.drop_column('response')


def downgrade() -> None:
    op.add_column('decisions', sa.Column('response', sa.JSON(), nullable=True))
    op.add_column('exits', sa.Column('response', sa.JSON(), nullable=True))
    _refill(_decisions, _decisions.c.decision_id, _decision_answer)
    _refill(_exits, _exits.c.exit_id, _exit_answer)
    with op.batch_alter_table('exits') as batch_op:
        batch_op.drop_column('result')


def _refill(table: sa.TableClause, key: sa.ColumnClause, answer: Any) -> None:
    """Write each row's answer into ``response``, a page of rows at a time."""
    conn = op.get_bind()
    last = None
    while True:
        query = sa.select(table).order_by(key).limit(_PAGE)
        rows = conn.execute(query if last is None else query.where(key > last)).mappings().all()
        if not rows:
            return
        conn.execute(table.update().where(key == sa.bindparam('row_key')).values(response=sa.bindparam('answer')),
                     [{'row_key': r[key.name], 'answer': answer(r)} for r in rows])
        last = rows[-1][key.name]


def _decision_answer(r: Any) -> dict[str, Any]:
    amount = r['authorized_amount']
    return {
        "eventId": r['event_id'], "decision": r['outcome'], "shoppingTripId": r['trip_id'],
        "visitor": {"id": r['visitor_id'], "type": r['visitor_type']} if r['visitor_type'] else None,
        "reasons": [{"code": c, "message": ReasonCode(c).message} for c in r['reasons']],
        "risk": {"score": r['risk_score'], "level": r['risk_level']} if r['risk_score'] is not None else None,
        "authorizedAmount": {"value": float(amount), "currencyCode": r['currency']} if amount is not None else None,
        "decidedBy": r['decided_by'], "latencyMs": float(r['latency_ms']), "partySize": r['party_size'],
    }


def _exit_answer(r: Any) -> dict[str, Any]:
    return {"eventId": r['event_id'], "shoppingTripId": r['trip_id'], "result": r['result'],
            "message": EXIT_MESSAGES[r['result']], "tripStatus": "CLOSED" if r['trip_id'] else None}
