"""The current and shadow risk model versions

Revision ID: 0012_risk_models
Revises: 0011_risk_lists_rules
"""

revision = '0012_risk_models'
down_revision = '0011_risk_lists_rules'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
