"""HARD anti-passback kept by the database; the hold a decision obtained

A trip opened under HARD anti-passback carries its visitor id in ``passback_key``; a partial
unique index allows one open trip per (store, passback key), whichever gate or process inserts
it. Trips already stored keep NULL: the gate's read of the open trip still covers them.
``decisions.preauth_id`` keeps the hold each decision obtained, so a denied race loser's hold
stays on record until it is released.

Revision ID: 0003_passback
Revises: 0002_console
Create Date: 2026-11-28 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0003_passback'
down_revision = '0002_console'
branch_labels = None
depends_on = None

# The index's predicate as this revision creates it (tables.OPEN_PASSBACK, written out: a
# migration must not change when the code does).
OPEN_PASSBACK = "status = 'OPEN' AND passback_key IS NOT NULL"


def upgrade() -> None:
    op.add_column('shopping_trips', sa.Column('passback_key', sa.String(length=255), nullable=True))
    op.create_index('uq_trips_open_passback', 'shopping_trips', ['store_id', 'passback_key'], unique=True,
                    sqlite_where=sa.text(OPEN_PASSBACK), postgresql_where=sa.text(OPEN_PASSBACK))
    op.add_column('decisions', sa.Column('preauth_id', sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_index('uq_trips_open_passback', table_name='shopping_trips')
    with op.batch_alter_table('decisions') as batch_op:
        batch_op.drop_column('preauth_id')
    with op.batch_alter_table('shopping_trips') as batch_op:
        batch_op.drop_column('passback_key')
