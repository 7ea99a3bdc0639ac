"""A denied tap's hold is released on record: ``decisions.preauth_released_at``

A tap that loses the HARD anti-passback race is stored as DENY with the hold it had obtained
(``decisions.preauth_id``, revision 0003). ``preauth_released_at`` says when that hold was
released; a partial index covers the denied decisions whose hold is not released yet, so the
sweep that releases them reads those alone. Decisions stored before this revision keep NULL:
the sweep releases their holds once more, under the key the gate used, which changes nothing
at the processor for a hold already released.

Revision ID: 0006_orphan_holds
Revises: 0005_holds
"""
import sqlalchemy as sa
from alembic import op

import entrygate.adapters.db.tables

revision = '0006_orphan_holds'
down_revision = '0005_holds'
branch_labels = None
depends_on = None

# The index's predicate as this revision creates it (tables.ORPHAN_HOLD, written out: a migration
# must not change when the code does).
ORPHAN_HOLD = "preauth_id IS NOT NULL AND preauth_released_at IS NULL AND outcome = 'DENY'"


def upgrade() -> None:
    op.add_column('decisions', sa.Column('preauth_released_at', entrygate.adapters.db.tables.UTCDateTime(timezone=True),
                                         nullable=True))
    op.create_index('ix_decisions_orphan_holds', 'decisions', ['decided_at', 'gate_pk', 'event_id'],
                    sqlite_where=sa.text(ORPHAN_HOLD), postgresql_where=sa.text(ORPHAN_HOLD))


def downgrade() -> None:
    op.drop_index('ix_decisions_orphan_holds', table_name='decisions')
    with op.batch_alter_table('decisions') as batch_op:
        batch_op.drop_column('preauth_released_at')
