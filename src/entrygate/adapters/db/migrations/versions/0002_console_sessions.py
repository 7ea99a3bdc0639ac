"""console sessions and sign-in backoff

Revision ID: 0002_console
Revises: 0001
Create Date: 2026-11-27 19:30:00
"""
import sqlalchemy as sa
from alembic import op

import entrygate.adapters.db.tables

revision = '0002_console'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('console_sessions',
    sa.Column('session_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('retailer_id', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('created_at', entrygate.adapters.db.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', entrygate.adapters.db.tables.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['retailer_users.user_id'],
                            name=op.f('fk_console_sessions_user_id_retailer_users')),
    sa.PrimaryKeyConstraint('session_hash', name=op.f('pk_console_sessions'))
    )
    op.create_index('ix_console_sessions_expires_at', 'console_sessions', ['expires_at'], unique=False)
    op.create_table('console_sign_in_failures',
    sa.Column('throttle_key', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failed_at', entrygate.adapters.db.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('locked_until', entrygate.adapters.db.tables.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('throttle_key', name=op.f('pk_console_sign_in_failures'))
    )
    op.create_index('ix_console_sign_in_failures_last_failed_at', 'console_sign_in_failures', ['last_failed_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_console_sign_in_failures_last_failed_at', table_name='console_sign_in_failures')
    op.drop_table('console_sign_in_failures')
    op.drop_index('ix_console_sessions_expires_at', table_name='console_sessions')
    op.drop_table('console_sessions')
