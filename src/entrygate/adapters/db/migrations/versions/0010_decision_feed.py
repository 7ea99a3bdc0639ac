"""The decisions feed cursor

Revision ID: 0010_decision_feed
Revises: 0009_webhooks
"""

revision = '0010_decision_feed'
down_revision = '0009_webhooks'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
