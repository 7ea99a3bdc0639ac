"""retailer schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-27 18:55:34.126588
"""
import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('balances',
    sa.Column('shopper_id', sa.String(length=255), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('shopper_id', name=op.f('pk_balances'))
    )
    op.create_table('deny_list',
    sa.Column('shopper_id', sa.String(length=255), nullable=False),
    sa.Column('risk', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('shopper_id', name=op.f('pk_deny_list'))
    )
    op.create_table('loyalty_members',
    sa.Column('shopper_id', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('shopper_id', name=op.f('pk_loyalty_members'))
    )
    op.create_table('qr_claims',
    sa.Column('qr_token', sa.String(length=64), nullable=False),
    sa.Column('step', sa.BigInteger(), nullable=False),
    sa.Column('claimed_at', sa.Float(), nullable=False),
    sa.Column('expires_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('qr_token', 'step', name=op.f('pk_qr_claims'))
    )
    with op.batch_alter_table('qr_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_qr_claims_expires_at'), ['expires_at'], unique=False)

    op.create_table('visitors',
    sa.Column('visitor_id', sa.String(length=255), nullable=False),
    sa.Column('visitor_type', sa.String(length=9), nullable=False),
    sa.Column('qr_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('visitor_id', name=op.f('pk_visitors')),
    sa.UniqueConstraint('qr_token', name=op.f('uq_visitors_qr_token'))
    )
    op.create_table('badges',
    sa.Column('badge_id', sa.String(length=64), nullable=False),
    sa.Column('visitor_id', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['visitor_id'], ['visitors.visitor_id'], name=op.f('fk_badges_visitor_id_visitors')),
    sa.PrimaryKeyConstraint('badge_id', name=op.f('pk_badges'))
    )
    with op.batch_alter_table('badges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_badges_visitor_id'), ['visitor_id'], unique=False)

    op.create_table('identity_keys',
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('visitor_id', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['visitor_id'], ['visitors.visitor_id'], name=op.f('fk_identity_keys_visitor_id_visitors')),
    sa.PrimaryKeyConstraint('key_hash', name=op.f('pk_identity_keys'))
    )
    with op.batch_alter_table('identity_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_keys_visitor_id'), ['visitor_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('identity_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_keys_visitor_id'))

    op.drop_table('identity_keys')
    with op.batch_alter_table('badges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_badges_visitor_id'))

    op.drop_table('badges')
    op.drop_table('visitors')
    with op.batch_alter_table('qr_claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_qr_claims_expires_at'))

    op.drop_table('qr_claims')
    op.drop_table('loyalty_members')
    op.drop_table('deny_list')
    op.drop_table('balances')
