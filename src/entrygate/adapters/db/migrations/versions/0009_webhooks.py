"""Webhook endpoints, the outbox and delivery attempts

Revision ID: 0009_webhooks
Revises: 0008_audit_users
"""

revision = '0009_webhooks'
down_revision = '0008_audit_users'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
