"""Webhook endpoints, the outbox and delivery attempts (DESIGN 13)

``webhook_endpoints`` are the retailers' endpoints (the signing secret, the failure streak that
disables one after five days, the reason it was disabled), ``webhook_subscriptions`` the event
types each one takes. ``webhook_events`` is the outbox: each event's exact body, written in the
transaction of the change it reports. ``webhook_deliveries`` is one event for one endpoint, with
its state, schedule and lease; two partial indexes cover the pending ones, by due time and by
trip, which is all the delivery worker reads. ``webhook_attempts`` records every attempt.

Revision ID: 0009_webhooks
Revises: 0008_audit_users
"""
import sqlalchemy as sa
from alembic import op

import entrygate.adapters.db.tables

revision = '0009_webhooks'
down_revision = '0008_audit_users'
branch_labels = None
depends_on = None

_UTC = entrygate.adapters.db.tables.UTCDateTime(timezone=True)
_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
PENDING_DELIVERY = "status = 'PENDING'"  # tables.PENDING_DELIVERY, written out


def upgrade() -> None:
    op.create_table(
        'webhook_endpoints',
        sa.Column('endpoint_id', sa.String(length=40), nullable=False),
        sa.Column('retailer_id', sa.String(length=64), nullable=False),
        sa.Column('url', sa.String(length=2048), nullable=False),
        sa.Column('secret', sa.String(length=200), nullable=False),
        sa.Column('created_at', _UTC, nullable=False),
        sa.Column('failing_since', _UTC, nullable=True),
        sa.Column('disabled_at', _UTC, nullable=True),
        sa.Column('disabled_reason', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['retailer_id'], ['retailers.retailer_id'],
                                name=op.f('fk_webhook_endpoints_retailer_id_retailers')),
        sa.PrimaryKeyConstraint('endpoint_id', name=op.f('pk_webhook_endpoints')),
    )
    op.create_index(op.f('ix_webhook_endpoints_retailer_id'), 'webhook_endpoints', ['retailer_id'])
    op.create_table(
        'webhook_subscriptions',
        sa.Column('endpoint_id', sa.String(length=40), nullable=False),
        sa.Column('event_type', sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoints.endpoint_id'],
                                name=op.f('fk_webhook_subscriptions_endpoint_id_webhook_endpoints')),
        sa.PrimaryKeyConstraint('endpoint_id', 'event_type', name=op.f('pk_webhook_subscriptions')),
    )
    op.create_table(
        'webhook_events',
        sa.Column('event_id', sa.String(length=40), nullable=False),
        sa.Column('event_type', sa.String(length=40), nullable=False),
        sa.Column('store_id', sa.String(length=255), nullable=False),
        sa.Column('ordering_key', sa.String(length=64), nullable=True),
        sa.Column('body', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', _UTC, nullable=False),
        sa.PrimaryKeyConstraint('event_id', name=op.f('pk_webhook_events')),
    )
    op.create_table(
        'webhook_deliveries',
        sa.Column('delivery_id', _ID, autoincrement=True, nullable=False),
        sa.Column('endpoint_id', sa.String(length=40), nullable=False),
        sa.Column('event_id', sa.String(length=40), nullable=False),
        sa.Column('webhook_id', sa.String(length=100), nullable=False),
        sa.Column('ordering_key', sa.String(length=64), nullable=True),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_response_code', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.Column('last_attempt_at', _UTC, nullable=True),
        sa.Column('next_attempt_at', _UTC, nullable=True),
        sa.Column('window_started_at', _UTC, nullable=False),
        sa.Column('lease_token', sa.String(length=40), nullable=True),
        sa.Column('lease_until', _UTC, nullable=True),
        sa.Column('created_at', _UTC, nullable=False),
        sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoints.endpoint_id'],
                                name=op.f('fk_webhook_deliveries_endpoint_id_webhook_endpoints')),
        sa.ForeignKeyConstraint(['event_id'], ['webhook_events.event_id'],
                                name=op.f('fk_webhook_deliveries_event_id_webhook_events')),
        sa.PrimaryKeyConstraint('delivery_id', name=op.f('pk_webhook_deliveries')),
        sa.UniqueConstraint('webhook_id', name=op.f('uq_webhook_deliveries_webhook_id')),
    )
    op.create_index('ix_webhook_deliveries_endpoint', 'webhook_deliveries', ['endpoint_id', 'delivery_id'])
    op.create_index('ix_webhook_deliveries_due', 'webhook_deliveries', ['next_attempt_at'],
                    sqlite_where=sa.text(PENDING_DELIVERY), postgresql_where=sa.text(PENDING_DELIVERY))
    op.create_index('ix_webhook_deliveries_order', 'webhook_deliveries', ['endpoint_id', 'ordering_key', 'delivery_id'],
                    sqlite_where=sa.text(PENDING_DELIVERY), postgresql_where=sa.text(PENDING_DELIVERY))
    op.create_table(
        'webhook_attempts',
        sa.Column('attempt_id', _ID, autoincrement=True, nullable=False),
        sa.Column('delivery_id', _ID, nullable=False),
        sa.Column('attempted_at', _UTC, nullable=False),
        sa.Column('duration_ms', sa.Numeric(10, 1, asdecimal=False), nullable=False),
        sa.Column('status_code', sa.Integer(), nullable=True),
        sa.Column('error', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['delivery_id'], ['webhook_deliveries.delivery_id'],
                                name=op.f('fk_webhook_attempts_delivery_id_webhook_deliveries')),
        sa.PrimaryKeyConstraint('attempt_id', name=op.f('pk_webhook_attempts')),
    )
    op.create_index(op.f('ix_webhook_attempts_delivery_id'), 'webhook_attempts', ['delivery_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_webhook_attempts_delivery_id'), table_name='webhook_attempts')
    op.drop_table('webhook_attempts')
    op.drop_index('ix_webhook_deliveries_order', table_name='webhook_deliveries')
    op.drop_index('ix_webhook_deliveries_due', table_name='webhook_deliveries')
    op.drop_index('ix_webhook_deliveries_endpoint', table_name='webhook_deliveries')
    op.drop_table('webhook_deliveries')
    op.drop_table('webhook_events')
    op.drop_table('webhook_subscriptions')
    op.drop_index(op.f('ix_webhook_endpoints_retailer_id'), table_name='webhook_endpoints')
    op.drop_table('webhook_endpoints')
