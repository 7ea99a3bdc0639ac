"""Decisions and exits keep their facts, not a copy of the answer (filled in by the typed-results change).

Revision ID: 0004_decision_facts
Revises: 0003_passback
"""
from __future__ import annotations

revision = '0004_decision_facts'
down_revision = '0003_passback'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
