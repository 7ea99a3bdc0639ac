"""The audit log and console user roles

Revision ID: 0008_audit_users
Revises: 0007_keys_secrets
"""
import sqlalchemy as sa
from alembic import op

import entrygate.adapters.db.tables

revision = '0008_audit_users'
down_revision = '0007_keys_secrets'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every user made before roles existed is its retailer's admin: the server default fills them in.
    op.add_column('retailer_users', sa.Column('role', sa.String(length=16), nullable=False,
                                              server_default=sa.text("'ADMIN'")))
    op.create_table('audit_entries',
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', entrygate.adapters.db.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('retailer_id', sa.String(length=64), nullable=True),
    sa.Column('store_id', sa.String(length=255), nullable=True),
    sa.Column('actor_type', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.String(length=64), nullable=False),
    sa.Column('actor_name', sa.String(length=320), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target_type', sa.String(length=32), nullable=False),
    sa.Column('target_id', sa.String(length=255), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('entry_id', name=op.f('pk_audit_entries'))
    )
    op.create_index('ix_audit_entries_at', 'audit_entries', ['at', 'entry_id'], unique=False)
    op.create_index('ix_audit_entries_retailer_at', 'audit_entries', ['retailer_id', 'at'], unique=False)
    op.create_index('ix_audit_entries_store_at', 'audit_entries', ['store_id', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_audit_entries_store_at', table_name='audit_entries')
    op.drop_index('ix_audit_entries_retailer_at', table_name='audit_entries')
    op.drop_index('ix_audit_entries_at', table_name='audit_entries')
    op.drop_table('audit_entries')
    with op.batch_alter_table('retailer_users') as batch:
        batch.drop_column('role')
