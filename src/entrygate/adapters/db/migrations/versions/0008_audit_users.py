"""The audit log and console user roles

Revision ID: 0008_audit_users
Revises: 0007_keys_secrets
"""

revision = '0008_audit_users'
down_revision = '0007_keys_secrets'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
