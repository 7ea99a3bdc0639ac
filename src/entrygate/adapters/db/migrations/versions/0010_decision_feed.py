"""The decisions feed cursor, and what a decision keeps for investigating it

``decisions.feed_txid`` orders the feed (``adapters/db/decision_feed.py``). On PostgreSQL its
default is the id of the writing transaction, ``pg_current_xact_id()``: the feed hands out a row
only once every transaction with a lower id has ended, so one that took a lower number and commits
late is never skipped. On SQLite it stays 0: one writer at a time holds the write lock from its
``BEGIN IMMEDIATE`` to its commit, so decision ids are given out in commit order. Decisions stored
before this revision get 0 too, so the feed starts with them, in decision id order.

``gate_request`` and ``connector_calls`` (JSON, NULL on older decisions) keep what the gate sent,
minus its secrets, and the calls made to decide (``domain/decision_trace.py``).

Revision ID: 0010_decision_feed
Revises: 0009_webhooks
"""
import sqlalchemy as sa
from alembic import op

revision = '0010_decision_feed'
down_revision = '0009_webhooks'
branch_labels = None
depends_on = None

# Written out here (not imported): a migration must not change when the code does.
_PG_TXID = "(pg_current_xact_id()::text::bigint)"


def upgrade() -> None:
    # A constant default fills the existing rows without rewriting the table (PostgreSQL 11+); the
    # transaction id becomes the default only for rows written from now on.
    op.add_column('decisions', sa.Column('feed_txid', sa.BigInteger(), nullable=False, server_default=sa.text('0')))
    op.add_column('decisions', sa.Column('gate_request', sa.JSON(), nullable=True))
    op.add_column('decisions', sa.Column('connector_calls', sa.JSON(), nullable=True))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"ALTER TABLE decisions ALTER COLUMN feed_txid SET DEFAULT {_PG_TXID}")
    op.create_index('ix_decisions_feed', 'decisions', ['store_id', 'feed_txid', 'decision_id'])


def downgrade() -> None:
    op.drop_index('ix_decisions_feed', table_name='decisions')
    with op.batch_alter_table('decisions') as batch_op:
        batch_op.drop_column('connector_calls')
        batch_op.drop_column('gate_request')
        batch_op.drop_column('feed_txid')
