"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-27 18:44:20.329787
"""
import sqlalchemy as sa
from alembic import op

import entrygate.adapters.db.tables

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('operator_tokens',
    sa.Column('key_id', sa.String(length=32), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', entrygate.adapters.db.tables.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key_id', name=op.f('pk_operator_tokens'))
    )
    op.create_table('palm_changes',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('palm_id', sa.String(length=64), nullable=False),
    sa.Column('op', sa.String(length=8), nullable=False),
    sa.Column('changed_at', entrygate.adapters.db.tables.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_palm_changes'))
    )
    op.create_table('payment_instruments',
    sa.Column('instrument_id', sa.String(length=64), nullable=False),
    sa.Column('brand', sa.String(length=20), nullable=False),
    sa.Column('last4', sa.String(length=4), nullable=False),
    sa.Column('exp_month', sa.Integer(), nullable=False),
    sa.Column('exp_year', sa.Integer(), nullable=False),
    sa.Column('funding', sa.String(length=16), nullable=True),
    sa.Column('issuer_country', sa.String(length=2), nullable=True),
    sa.Column('blocked', sa.Boolean(), nullable=False),
    sa.Column('blocked_reason', sa.String(length=40), nullable=True),
    sa.Column('first_seen_at', entrygate.adapters.db.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', entrygate.adapters.db.tables.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('instrument_id', name=op.f('pk_payment_instruments'))
    )
    op.create_table('retailers',
    sa.Column('retailer_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('key_id', sa.String(length=32), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', entrygate.adapters.db.tables.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('retailer_id', name=op.f('pk_retailers')),
    sa.UniqueConstraint('key_id', name=op.f('uq_retailers_key_id'))
    )
    op.create_table('instrument_labels',
    sa.Column('label_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('instrument_id', sa.String(length=64), nullable=False),
    sa.Column('store_id', sa.String(length=255), nullable=False),
    sa.Column('trip_id', sa.String(length=64), nullable=False),
    sa.Column('risk', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', entrygate.adapters.db.tables.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instrument_id'], ['payment_instruments.instrument_id'], name=op.f('fk_instrument_labels_instrument_id_payment_instruments')),
    sa.PrimaryKeyConstraint('label_id', name=op.f('pk_instrument_labels'))
    )
    with op.batch_alter_table('instrument_labels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instrument_labels_instrument_id'), ['instrument_id'], unique=False)

    op.create_table('palm_enrollments',
    sa.Column('palm_id', sa.String(length=64), nullable=False),
    sa.Column('instrument_id', sa.String(length=64), nullable=False),
    sa.Column('retailer_id', sa.String(length=64), nullable=False),
    sa.Column('template', sa.LargeBinary(), nullable=False),
    sa.Column('dimension', sa.Integer(), nullable=False),
    sa.Column('card', sa.JSON(), nullable=False),
    sa.Column('created_at', entrygate.adapters.db.tables.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instrument_id'], ['payment_instruments.instrument_id'], name=op.f('fk_palm_enrollments_instrument_id_payment_instruments')),
    sa.ForeignKeyConstraint(['retailer_id'], ['retailers.retailer_id'], name=op.f('fk_palm_enrollments_retailer_id_retailers')),
    sa.PrimaryKeyConstraint('palm_id', name=op.f('pk_palm_enrollments'))
    )
    op.create_table('retailer_users',
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('retailer_id', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('created_at', entrygate.adapters.db.tables.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['retailer_id'], ['retailers.retailer_id'], name=op.f('fk_retailer_users_retailer_id_retailers')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_retailer_users')),
    sa.UniqueConstraint('email', name=op.f('uq_retailer_users_email'))
    )
    op.create_table('stores',
    sa.Column('store_id', sa.String(length=255), nullable=False),
    sa.Column('retailer_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('config', sa.JSON(), nullable=False),
    sa.Column('created_at', entrygate.adapters.db.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', entrygate.adapters.db.tables.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['retailer_id'], ['retailers.retailer_id'], name=op.f('fk_stores_retailer_id_retailers')),
    sa.PrimaryKeyConstraint('store_id', name=op.f('pk_stores'))
    )
    with op.batch_alter_table('stores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stores_retailer_id'), ['retailer_id'], unique=False)

    op.create_table('gates',
    sa.Column('gate_pk', sa.String(length=64), nullable=False),
    sa.Column('gate_id', sa.String(length=255), nullable=False),
    sa.Column('store_id', sa.String(length=255), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('key_id', sa.String(length=32), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', entrygate.adapters.db.tables.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.store_id'], name=op.f('fk_gates_store_id_stores')),
    sa.PrimaryKeyConstraint('gate_pk', name=op.f('pk_gates')),
    sa.UniqueConstraint('key_id', name=op.f('uq_gates_key_id')),
    sa.UniqueConstraint('store_id', 'gate_id', name='uq_gates_store_gate')
    )
    with op.batch_alter_table('gates', schema=None) as batch_op:
        batch_op.create_index('ix_gates_gate_id', ['gate_id'], unique=False)

    op.create_table('shopping_trips',
    sa.Column('trip_id', sa.String(length=64), nullable=False),
    sa.Column('store_id', sa.String(length=255), nullable=False),
    sa.Column('entry_gate_id', sa.String(length=255), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('visitor_id', sa.String(length=255), nullable=False),
    sa.Column('instrument_id', sa.String(length=64), nullable=True),
    sa.Column('party_size', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('entered_at', entrygate.adapters.db.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('exited_at', entrygate.adapters.db.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('exit_gate_id', sa.String(length=255), nullable=True),
    sa.Column('authorized_amount', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('preauth_id', sa.String(length=64), nullable=True),
    sa.Column('total_amount', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('settled_amount', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('payment_status_time', entrygate.adapters.db.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('payment_reported_at', entrygate.adapters.db.tables.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['instrument_id'], ['payment_instruments.instrument_id'], name=op.f('fk_shopping_trips_instrument_id_payment_instruments')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.store_id'], name=op.f('fk_shopping_trips_store_id_stores')),
    sa.PrimaryKeyConstraint('trip_id', name=op.f('pk_shopping_trips'))
    )
    with op.batch_alter_table('shopping_trips', schema=None) as batch_op:
        batch_op.create_index('ix_trips_instrument', ['instrument_id'], unique=False)
        batch_op.create_index('ix_trips_store_status', ['store_id', 'status', 'entered_at'], unique=False)
        batch_op.create_index('ix_trips_visitor_store_status', ['visitor_id', 'store_id', 'status'], unique=False)

    op.create_table('decisions',
    sa.Column('decision_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('gate_pk', sa.String(length=64), nullable=False),
    sa.Column('gate_id', sa.String(length=255), nullable=False),
    sa.Column('store_id', sa.String(length=255), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=8), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('decided_by', sa.String(length=10), nullable=False),
    sa.Column('visitor_id', sa.String(length=255), nullable=True),
    sa.Column('visitor_type', sa.String(length=10), nullable=True),
    sa.Column('instrument_id', sa.String(length=64), nullable=True),
    sa.Column('trip_id', sa.String(length=64), nullable=True),
    sa.Column('party_size', sa.Integer(), nullable=False),
    sa.Column('risk_score', sa.Integer(), nullable=True),
    sa.Column('risk_level', sa.String(length=8), nullable=True),
    sa.Column('authorized_amount', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('latency_ms', sa.Numeric(precision=10, scale=3, asdecimal=False), nullable=False),
    sa.Column('response', sa.JSON(), nullable=False),
    sa.Column('event_time', entrygate.adapters.db.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', entrygate.adapters.db.tables.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['gate_pk'], ['gates.gate_pk'], name=op.f('fk_decisions_gate_pk_gates')),
    sa.PrimaryKeyConstraint('decision_id', name=op.f('pk_decisions')),
    sa.UniqueConstraint('gate_pk', 'event_id', name='uq_decisions_gate_event')
    )
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.create_index('ix_decisions_instrument_time', ['instrument_id', 'decided_at'], unique=False)
        batch_op.create_index('ix_decisions_store_time', ['store_id', 'decided_at'], unique=False)

    op.create_table('exits',
    sa.Column('exit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('gate_pk', sa.String(length=64), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('trip_id', sa.String(length=64), nullable=True),
    sa.Column('response', sa.JSON(), nullable=False),
    sa.Column('decided_at', entrygate.adapters.db.tables.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['gate_pk'], ['gates.gate_pk'], name=op.f('fk_exits_gate_pk_gates')),
    sa.PrimaryKeyConstraint('exit_id', name=op.f('pk_exits')),
    sa.UniqueConstraint('gate_pk', 'event_id', name='uq_exits_gate_event')
    )


def downgrade() -> None:
    op.drop_table('exits')
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_index('ix_decisions_store_time')
        batch_op.drop_index('ix_decisions_instrument_time')

    op.drop_table('decisions')
    with op.batch_alter_table('shopping_trips', schema=None) as batch_op:
        batch_op.drop_index('ix_trips_visitor_store_status')
        batch_op.drop_index('ix_trips_store_status')
        batch_op.drop_index('ix_trips_instrument')

    op.drop_table('shopping_trips')
    with op.batch_alter_table('gates', schema=None) as batch_op:
        batch_op.drop_index('ix_gates_gate_id')

    op.drop_table('gates')
    with op.batch_alter_table('stores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stores_retailer_id'))

    op.drop_table('stores')
    op.drop_table('retailer_users')
    op.drop_table('palm_enrollments')
    with op.batch_alter_table('instrument_labels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instrument_labels_instrument_id'))

    op.drop_table('instrument_labels')
    op.drop_table('retailers')
    op.drop_table('payment_instruments')
    op.drop_table('palm_changes')
    op.drop_table('operator_tokens')
