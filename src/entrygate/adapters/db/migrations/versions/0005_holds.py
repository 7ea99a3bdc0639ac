"""Trips end and their holds settle (DESIGN 10): who closed a trip, its SOFT passback flag, the holds

Store settings live in the ``stores.config`` JSON, so ``maxTripMinutes`` (180) and
``preauthReleaseHours`` (24) are written there for the stores that exist; a store saved without
them reads the same defaults. ``shopping_trips`` gains ``closed_by`` (trips closed at an exit gate
before this revision are ``EXIT_GATE``: no other way to close one existed) and
``passback_violation``, and ``hold_settled`` with a partial index of the closed trips whose hold
is neither captured nor released, so the release sweep reads those alone, however many trips
ended before. ``preauthorizations`` keeps each trip's hold once an operation has touched
it; ``preauthorization_operations`` the intents written before each processor call, unique per
caller scope and idempotency key.

Revision ID: 0005_holds
Revises: 0004_decision_facts
"""
import sqlalchemy as sa
from alembic import op

import entrygate.adapters.db.tables

revision = '0005_holds'
down_revision = '0004_decision_facts'
branch_labels = None
depends_on = None

# The defaults as this revision writes them (domain/trips.py, written out: a migration must not
# change when the code does).
TRIP_DEFAULTS = {"maxTripMinutes": 180, "preauthReleaseHours": 24}
UNSETTLED_HOLD = "status = 'CLOSED' AND preauth_id IS NOT NULL AND hold_settled = false"  # tables.UNSETTLED_HOLD
_UTC = entrygate.adapters.db.tables.UTCDateTime(timezone=True)
_AMOUNT = sa.Numeric(18, 4, asdecimal=True)


def upgrade() -> None:
    _store_defaults()
    op.add_column('shopping_trips', sa.Column('closed_by', sa.String(length=16), nullable=True))
    op.add_column('shopping_trips', sa.Column('passback_violation', sa.Boolean(), nullable=False,
                                              server_default=sa.false()))
    op.add_column('shopping_trips', sa.Column('hold_settled', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE shopping_trips SET closed_by = 'EXIT_GATE' WHERE exit_gate_id IS NOT NULL")
    op.create_index('ix_trips_unsettled_holds', 'shopping_trips', ['store_id', 'trip_id'],
                    sqlite_where=sa.text(UNSETTLED_HOLD), postgresql_where=sa.text(UNSETTLED_HOLD))
    op.create_table(
        'preauthorizations',
        sa.Column('trip_id', sa.String(length=64), nullable=False),
        sa.Column('preauth_id', sa.String(length=64), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('held_amount', _AMOUNT, nullable=False),
        sa.Column('authorized_amount', _AMOUNT, nullable=False),
        sa.Column('captured_amount', _AMOUNT, nullable=False),
        sa.Column('refunded_amount', _AMOUNT, nullable=False),
        sa.Column('captured_at', _UTC, nullable=True),
        sa.Column('history', sa.JSON(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('pending_operation_id', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['trip_id'], ['shopping_trips.trip_id'],
                                name=op.f('fk_preauthorizations_trip_id_shopping_trips')),
        sa.PrimaryKeyConstraint('trip_id', name=op.f('pk_preauthorizations')),
    )
    op.create_index('ix_preauthorizations_pending', 'preauthorizations', ['trip_id'],
                    sqlite_where=sa.text("pending_operation_id IS NOT NULL"),
                    postgresql_where=sa.text("pending_operation_id IS NOT NULL"))
    op.create_table(
        'preauthorization_operations',
        sa.Column('operation_id', sa.String(length=64), nullable=False),
        sa.Column('trip_id', sa.String(length=64), nullable=False),
        sa.Column('scope', sa.String(length=80), nullable=False),
        sa.Column('idempotency_key', sa.String(length=255), nullable=False),
        sa.Column('request_hash', sa.String(length=64), nullable=False),
        sa.Column('operation', sa.String(length=10), nullable=False),
        sa.Column('amount', _AMOUNT, nullable=True),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('raise_to', _AMOUNT, nullable=True),
        sa.Column('release', sa.Boolean(), nullable=False),
        sa.Column('processor_key', sa.String(length=64), nullable=False),
        sa.Column('created_at', _UTC, nullable=False),
        sa.Column('lease_until', _UTC, nullable=False),
        sa.Column('completed_at', _UTC, nullable=True),
        sa.Column('result_status', sa.String(length=10), nullable=True),
        sa.Column('result_held', _AMOUNT, nullable=True),
        sa.Column('result_captured', _AMOUNT, nullable=True),
        sa.Column('result_refunded', _AMOUNT, nullable=True),
        sa.Column('outcome_total', _AMOUNT, nullable=True),
        sa.Column('outcome_settled', _AMOUNT, nullable=True),
        sa.Column('declined', sa.String(length=10), nullable=True),
        sa.Column('refusal', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['trip_id'], ['preauthorizations.trip_id'],
                                name=op.f('fk_preauthorization_operations_trip_id_preauthorizations')),
        sa.PrimaryKeyConstraint('operation_id', name=op.f('pk_preauthorization_operations')),
        sa.UniqueConstraint('scope', 'idempotency_key', name='uq_preauth_operations_scope_key'),
    )
    op.create_index('ix_preauthorization_operations_trip_id', 'preauthorization_operations', ['trip_id'])


def downgrade() -> None:
    op.drop_index('ix_preauthorization_operations_trip_id', table_name='preauthorization_operations')
    op.drop_table('preauthorization_operations')
    op.drop_index('ix_preauthorizations_pending', table_name='preauthorizations')
    op.drop_table('preauthorizations')
    op.drop_index('ix_trips_unsettled_holds', table_name='shopping_trips')
    with op.batch_alter_table('shopping_trips') as batch_op:
        batch_op.drop_column('hold_settled')
        batch_op.drop_column('passback_violation')
        batch_op.drop_column('closed_by')
    # The stores keep the two settings: the code before this revision ignores keys it does not know.


def _store_defaults() -> None:
    """Write the two trip clocks into every store's config that lacks them."""
    stores = sa.table('stores', sa.column('store_id', sa.String), sa.column('config', sa.JSON))
    conn = op.get_bind()
    for store_id, config in conn.execute(sa.select(stores.c.store_id, stores.c.config)).all():
        config = dict(config or {})
        changed = {**TRIP_DEFAULTS, **config}
        if changed != config:
            conn.execute(stores.update().where(stores.c.store_id == store_id).values(config=changed))
