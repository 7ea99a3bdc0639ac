"""Gate keys that rotate, named retailer keys, secrets per purpose

Revision ID: 0007_keys_secrets
Revises: 0006_orphan_holds
"""

revision = '0007_keys_secrets'
down_revision = '0006_orphan_holds'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
