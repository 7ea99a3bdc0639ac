"""The current and shadow risk model versions

``risk_model_roles`` records which model version every process serves as current and which one
it scores in shadow; the decisions gain the shadow's version, score and level (a partial index
keeps the shadowed decisions together for the shadow report); ``risk_backtests`` keeps each
backtest's figures and plot for the console. No row in ``risk_model_roles``: the model store's
default (its old ``current`` pointer, else the bundled model) stays current, as before.

Revision ID: 0012_risk_models
Revises: 0011_risk_lists_rules
"""
import sqlalchemy as sa
from alembic import op

import entrygate.adapters.db.tables

revision = '0012_risk_models'
down_revision = '0011_risk_lists_rules'
branch_labels = None
depends_on = None

SHADOWED = "shadow_model_version IS NOT NULL"  # tables.SHADOWED, written out


def upgrade() -> None:
    op.create_table(
        'risk_model_roles',
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('version', sa.String(length=64), nullable=True),
        sa.Column('changed_at', entrygate.adapters.db.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('role', name=op.f('pk_risk_model_roles')),
    )
    op.add_column('decisions', sa.Column('shadow_model_version', sa.String(length=64), nullable=True))
    op.add_column('decisions', sa.Column('shadow_score', sa.Integer(), nullable=True))
    op.add_column('decisions', sa.Column('shadow_level', sa.String(length=8), nullable=True))
    op.create_index('ix_decisions_shadowed', 'decisions', ['shadow_model_version', 'decision_id'],
                    sqlite_where=sa.text(SHADOWED), postgresql_where=sa.text(SHADOWED))
    op.create_table(
        'risk_backtests',
        sa.Column('backtest_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True,
                  nullable=False),
        sa.Column('ran_at', entrygate.adapters.db.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column('candidate', sa.String(length=64), nullable=False),
        sa.Column('figures', sa.JSON(), nullable=False),
        sa.Column('plot_png', sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint('backtest_id', name=op.f('pk_risk_backtests')),
    )


def downgrade() -> None:
    op.drop_table('risk_backtests')
    op.drop_index('ix_decisions_shadowed', table_name='decisions')
    with op.batch_alter_table('decisions') as batch_op:
        batch_op.drop_column('shadow_level')
        batch_op.drop_column('shadow_score')
        batch_op.drop_column('shadow_model_version')
    op.drop_table('risk_model_roles')
